//! What every newsflow service shares, so that each service's `main` is only its own wiring:
//!
//! - [`config`]: the bus and telemetry settings, from flags and environment variables;
//! - [`telemetry`]: `tracing` logs (text or JSON) and the Prometheus `/metrics` endpoint;
//! - [`shutdown`]: one cancellation token for SIGTERM and SIGINT;
//! - [`grpc`]: the gRPC server with health and reflection.

pub mod config;
pub mod grpc;
pub mod shutdown;
pub mod telemetry;

pub use config::{BusArgs, LogFormat, TelemetryArgs};
pub use grpc::GrpcServer;
pub use metrics_exporter_prometheus::PrometheusHandle;

/// An error starting or running a service's shared parts.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A setting is invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The metrics endpoint could not be started.
    #[error("metrics endpoint: {0}")]
    Metrics(String),
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Grpc(String),
    /// An I/O error.
    #[error(transparent)]
    Io(std::io::Error),
}
