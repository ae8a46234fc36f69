//! The gRPC codec of every newsflow service: prost's, except that a request that does not
//! decode is the client's error.
//!
//! tonic's default answers INTERNAL for an undecodable message. newsflow answers
//! INVALID_ARGUMENT with prost's message, which names the field at fault (for example
//! `SubmitRequest.body: invalid string value: data is not UTF-8 encoded`), so a client that
//! sends invalid UTF-8 learns what to fix.

use std::marker::PhantomData;

use tonic::{
    Status,
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
};
use tonic_prost::ProstCodec;

/// prost encoding, decode errors as INVALID_ARGUMENT.
#[derive(Debug, Clone)]
pub struct InvalidArgumentCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for InvalidArgumentCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> Codec for InvalidArgumentCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = <ProstCodec<T, U> as Codec>::Encoder;
    type Decoder = RequestDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        RequestDecoder(PhantomData)
    }
}

/// Decodes with prost; a decode error is INVALID_ARGUMENT.
#[derive(Debug)]
pub struct RequestDecoder<U>(PhantomData<U>);

impl<U: prost::Message + Default> Decoder for RequestDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf)
            .map(Some)
            .map_err(|error| Status::invalid_argument(format!("malformed request: {error}")))
    }
}
