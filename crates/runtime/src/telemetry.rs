//! Logs through `tracing` and metrics on a Prometheus endpoint.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::{
    RuntimeError,
    config::{LogFormat, TelemetryArgs},
};

/// Installs the log subscriber and the metrics recorder, with its `/metrics` endpoint unless
/// disabled. Call once, early, inside the tokio runtime. The handle renders the metrics, for a
/// service that also serves them on a port of its own (ingest's HTTP API).
pub fn init(args: &TelemetryArgs) -> Result<PrometheusHandle, RuntimeError> {
    init_logs(args.log_format, &args.log)?;
    let metrics_error = |e: &dyn std::fmt::Display| RuntimeError::Metrics(e.to_string());
    let handle = match args.metrics_addr.0 {
        Some(addr) => {
            let (recorder, exporter) = PrometheusBuilder::new()
                .with_http_listener(addr)
                .build()
                .map_err(|e| metrics_error(&e))?;
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).map_err(|e| metrics_error(&e))?;
            tokio::spawn(async move {
                if let Err(error) = exporter.await {
                    tracing::error!(?error, "the metrics endpoint stopped");
                }
            });
            tracing::info!(%addr, "serving Prometheus metrics");
            handle
        }
        None => {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).map_err(|e| metrics_error(&e))?;
            handle
        }
    };
    Ok(handle)
}

/// Installs the log subscriber with a `tracing` filter.
pub fn init_logs(format: LogFormat, filter: &str) -> Result<(), RuntimeError> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| RuntimeError::Config(format!("log filter {filter:?}: {e}")))?;
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match format {
        LogFormat::Text => registry.with(fmt::layer()).try_init(),
        // Span fields (trace_id, message_id) go into every line, so one article can be followed
        // through every service by its trace id.
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
    installed.map_err(|e| RuntimeError::Config(format!("logging already set up: {e}")))
}
