//! Logs through `tracing` and metrics on a Prometheus endpoint.

use metrics_exporter_prometheus::PrometheusBuilder;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::{
    RuntimeError,
    config::{LogFormat, TelemetryArgs},
};

/// Installs the log subscriber and, unless disabled, the `/metrics` endpoint. Call once, early,
/// inside the tokio runtime.
pub fn init(args: &TelemetryArgs) -> Result<(), RuntimeError> {
    init_logs(args.log_format, &args.log)?;
    if let Some(addr) = args.metrics_addr.0 {
        PrometheusBuilder::new()
            .with_http_listener(addr)
            .install()
            .map_err(|e| RuntimeError::Metrics(e.to_string()))?;
        tracing::info!(%addr, "serving Prometheus metrics");
    }
    Ok(())
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
