//! A response body collected under a size bound, decoded (gzip) chunk by chunk as it arrives,
//! so neither the bytes on the wire nor the decoded bytes ever go past the bound in memory.

use std::io::{self, Write};

use flate2::write::MultiGzDecoder;

/// Why a body could not be collected.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Over the bound; what fitted is kept (robots.txt is cut there rather than refused).
    TooLarge(Vec<u8>),
    /// Not valid for its `Content-Encoding`, or an encoding we did not ask for.
    Decode(String),
}

/// A body being collected.
pub(crate) struct BoundedBody {
    /// Bytes received on the wire (compressed or not).
    received: usize,
    limit: usize,
    sink: Sink,
}

enum Sink {
    Identity(Capped),
    Gzip(Box<MultiGzDecoder<Capped>>),
}

impl BoundedBody {
    /// A body of the given `Content-Encoding` (`None`: not encoded), bounded to `limit`
    /// bytes both as received and as decoded.
    pub(crate) fn new(content_encoding: Option<&str>, limit: usize) -> Result<Self, BodyError> {
        let capped = Capped {
            buf: Vec::new(),
            limit,
            over: false,
        };
        let sink = match content_encoding
            .map(|e| e.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("" | "identity") => Sink::Identity(capped),
            Some("gzip" | "x-gzip") => Sink::Gzip(Box::new(MultiGzDecoder::new(capped))),
            Some(other) => {
                return Err(BodyError::Decode(format!(
                    "content encoding {other:?} was not asked for"
                )));
            }
        };
        Ok(Self {
            received: 0,
            limit,
            sink,
        })
    }

    /// Adds the next chunk as received.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<(), BodyError> {
        self.received += chunk.len();
        let result = match &mut self.sink {
            Sink::Identity(capped) => capped.write_all(chunk),
            Sink::Gzip(decoder) => decoder.write_all(chunk),
        };
        if self.received > self.limit || self.capped().over {
            return Err(BodyError::TooLarge(self.take()));
        }
        result.map_err(|e| BodyError::Decode(e.to_string()))
    }

    /// The whole body, decoded.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, BodyError> {
        if let Sink::Gzip(decoder) = &mut self.sink {
            let result = decoder.try_finish();
            if decoder.get_ref().over {
                return Err(BodyError::TooLarge(self.take()));
            }
            result.map_err(|e| BodyError::Decode(e.to_string()))?;
        }
        Ok(self.take())
    }

    fn capped(&self) -> &Capped {
        match &self.sink {
            Sink::Identity(capped) => capped,
            Sink::Gzip(decoder) => decoder.get_ref(),
        }
    }

    fn take(&mut self) -> Vec<u8> {
        let capped = match &mut self.sink {
            Sink::Identity(capped) => capped,
            Sink::Gzip(decoder) => decoder.get_mut(),
        };
        std::mem::take(&mut capped.buf)
    }
}

/// A buffer that keeps up to `limit` bytes and fails a write past it.
struct Capped {
    buf: Vec<u8>,
    limit: usize,
    over: bool,
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.limit - self.buf.len();
        if data.len() > room {
            self.buf.extend_from_slice(&data[..room]);
            self.over = true;
            return Err(io::Error::other("body over the size bound"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use flate2::{Compression, write::GzEncoder};

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn plain_bodies_are_kept_up_to_the_bound() {
        let mut body = BoundedBody::new(None, 10).unwrap();
        body.push(b"hello").unwrap();
        body.push(b"world").unwrap();
        assert_eq!(body.finish().unwrap(), b"helloworld");

        let mut body = BoundedBody::new(Some("identity"), 10).unwrap();
        body.push(b"hello").unwrap();
        match body.push(b"world!") {
            Err(BodyError::TooLarge(kept)) => assert_eq!(kept, b"helloworld"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn gzip_is_decoded_in_pieces() {
        let text = b"<rss>".repeat(1000);
        let packed = gzip(&text);
        let mut body = BoundedBody::new(Some("gzip"), 10_000).unwrap();
        for piece in packed.chunks(7) {
            body.push(piece).unwrap();
        }
        assert_eq!(body.finish().unwrap(), text);
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_bound() {
        let packed = gzip(&vec![0u8; 10_000_000]);
        assert!(packed.len() < 100_000);
        let mut body = BoundedBody::new(Some("gzip"), 100_000).unwrap();
        let outcome = packed.chunks(4096).try_for_each(|piece| body.push(piece));
        match outcome {
            Err(BodyError::TooLarge(kept)) => assert_eq!(kept.len(), 100_000),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_gzip_and_unknown_encodings_are_decode_errors() {
        let mut body = BoundedBody::new(Some("gzip"), 1000).unwrap();
        let pushed = body.push(b"this is not gzip at all");
        assert!(matches!(pushed, Err(BodyError::Decode(_))) || body.finish().is_err());
        assert!(matches!(
            BoundedBody::new(Some("br"), 1000),
            Err(BodyError::Decode(_))
        ));
    }
}
