//! What every newsflow service shares, so that each service's `main` is only its own wiring:
//!
//! - [`config`]: the bus and telemetry settings, from flags and environment variables;
//! - [`telemetry`]: `tracing` logs (text or JSON), the Prometheus `/metrics` endpoint, and spans
//!   over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set;
//! - [`shutdown`]: one cancellation token for SIGTERM and SIGINT;
//! - [`grpc`]: the gRPC server with health and reflection, and its bounds;
//! - [`http`]: an HTTP server with timeouts on request heads and a cap on connections;
//! - [`stage`]: a pipeline stage on the bus (decode, process, publish, outcome), written once,
//!   and [`serve_stage`] to run one beside its gRPC server;
//! - [`cpu`]: CPU-bound work on blocking threads, one piece per core;
//! - [`auth`]: optional API keys (`Authorization: Bearer <key>`).

pub mod auth;
pub mod config;
pub mod cpu;
pub mod grpc;
pub mod http;
pub mod shutdown;
pub mod stage;
pub mod telemetry;

pub use auth::{ApiKeyArgs, ApiKeyCheck, ApiKeys};
pub use config::{AnalysisStageArgs, BusArgs, LogFormat, OtlpProtocol, ServiceArgs, TelemetryArgs};
pub use cpu::CpuSlots;
pub use grpc::GrpcServer;
pub use metrics_exporter_prometheus::PrometheusHandle;
pub use stage::{AnalysisStage, Stage, StageError};

/// A service that has started: logging and metrics set up, and the token SIGTERM and SIGINT
/// cancel.
pub struct Started {
    /// Cancelled on SIGTERM or SIGINT.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Renders the Prometheus metrics (for a service that serves `/metrics` itself).
    pub metrics: PrometheusHandle,
}

/// Sets up logs, metrics and traces as `service` says and listens for SIGTERM and SIGINT: the
/// first thing every service does. `name` is the service's (`newsflow-ingest`): its spans'
/// `service.name` unless `OTEL_SERVICE_NAME` says otherwise.
pub fn start(name: &str, service: &ServiceArgs) -> Result<Started, RuntimeError> {
    let metrics = telemetry::init(name, &service.telemetry)?;
    Ok(Started {
        shutdown: shutdown::on_signals(),
        metrics,
    })
}

/// Runs a pipeline stage until `shutdown`: its consumer on the stage's work queue
/// (`<prefix>.<name>`) beside its gRPC server, which serves health and reflection too.
pub async fn serve_stage<S: Stage>(
    bus: &BusArgs,
    stage: S,
    grpc: GrpcServer,
    grpc_addr: std::net::SocketAddr,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Result<(), RuntimeError> {
    let mut config = bus.config(stage.name());
    if let (None, Some(concurrency)) = (bus.prefetch, stage.concurrency()) {
        config.prefetch = concurrency.max(1);
    }
    let consumer = stage::consumer(config, bus.topology(), stage);
    let server = grpc.serve(grpc::bind(grpc_addr).await?, shutdown.clone());
    consume_and_serve(consumer.run(shutdown.clone()), server, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Runs a service's async entry point on a new multi-threaded runtime and turns its result into
/// the process's exit code, printing the error chain when it fails. Once it has returned (the
/// service shut down), the spans still queued for export are sent.
pub fn block_on_main<F, E>(name: &str, run: F) -> std::process::ExitCode
where
    F: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{name}: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run);
    // The runtime still runs: the gRPC exporter's connection lives on it.
    telemetry::flush_traces();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("{name}: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs a stage's consumer beside its gRPC server until shutdown. A consumer that stops on its
/// own (a broker refusing the topology) cancels `shutdown`, so the server stops with it.
pub async fn consume_and_serve(
    consuming: impl std::future::Future<Output = Result<(), newsflow_bus::BusError>>,
    serving: impl std::future::Future<Output = Result<(), RuntimeError>>,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Result<(), RuntimeError> {
    let consuming = async {
        let result = consuming.await;
        shutdown.cancel();
        result
    };
    let (consumed, served) = tokio::join!(consuming, serving);
    consumed?;
    served
}

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
    /// The consumer stopped: the broker refused the topology.
    #[error("consumer: {0}")]
    Bus(#[from] newsflow_bus::BusError),
    /// An I/O error.
    #[error(transparent)]
    Io(std::io::Error),
}
