//! The newsflow contracts as Rust types: messages, enums and the gRPC clients and servers of
//! the four services, generated from `proto/newsflow/v1`.

pub mod codec;
pub mod json;

/// `newsflow.v1`: every message and service of the pipeline.
pub mod v1 {
    tonic::include_proto!("newsflow.v1");
}

/// The encoded `FileDescriptorSet` of every newsflow proto, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/newsflow_descriptor.bin"));
