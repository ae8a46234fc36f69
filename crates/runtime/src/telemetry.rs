//! Logs through `tracing`, metrics on a Prometheus endpoint, and spans over OTLP when a
//! collector is configured.
//!
//! Traces: with `OTEL_EXPORTER_OTLP_ENDPOINT` (`--otlp-endpoint`) set, the `tracing` spans of the
//! newsflow crates (`newsflow_*` targets, `info` and above, whatever the log filter) are also
//! exported as OpenTelemetry spans, in batches, to that collector over `http/protobuf` or `grpc`
//! (`OTEL_EXPORTER_OTLP_PROTOCOL`), with the resource's `service.name` the service's own
//! (`newsflow-ingest`, ...) unless `OTEL_SERVICE_NAME` says otherwise. The exporter's other
//! standard variables (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`,
//! `OTEL_BSP_SCHEDULE_DELAY`, ...) apply as the OpenTelemetry SDK reads them. Without an
//! endpoint no exporter is built and the subscriber is what it was: logs only. How the spans of
//! one article link up across services is `newsflow_bus::trace`'s part. [`flush_traces`] sends
//! what is still queued; [`crate::block_on_main`] calls it once the service has stopped.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing::Level;
use tracing_subscriber::{EnvFilter, Layer, filter::Targets, fmt, prelude::*};

use crate::{
    RuntimeError,
    config::{LogFormat, OtlpProtocol, TelemetryArgs},
};

/// The span pipeline, once installed: kept to flush it at shutdown.
static TRACES: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Installs the log subscriber (exporting spans too when an OTLP endpoint is set) and the
/// metrics recorder, with its `/metrics` endpoint unless disabled. `service` is the name the
/// spans go under (`newsflow-ingest`). Call once, early, inside the tokio runtime. The handle
/// renders the metrics, for a service that also serves them on a port of its own (ingest's
/// HTTP API).
pub fn init(service: &str, args: &TelemetryArgs) -> Result<PrometheusHandle, RuntimeError> {
    let traces = tracer_provider(service, args)?;
    install_subscriber(args.log_format, &args.log, traces)?;
    if let Some(endpoint) = args.otlp_endpoint() {
        tracing::info!(
            endpoint,
            protocol = ?args.otlp_protocol,
            service = args.service_name(service),
            "exporting spans over OTLP"
        );
    }
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

/// Installs the log subscriber with a `tracing` filter (logs only, no spans exported).
pub fn init_logs(format: LogFormat, filter: &str) -> Result<(), RuntimeError> {
    install_subscriber(format, filter, None)
}

/// Whether spans are being exported (an OTLP endpoint was set when telemetry started).
pub fn exporting_traces() -> bool {
    TRACES.get().is_some()
}

/// Exports the spans still queued and stops the exporter, so that the spans of the last
/// messages are not lost: call once, after the service has stopped (and while its tokio runtime
/// still exists, which the gRPC transport runs on). Does nothing when no spans are exported.
pub fn flush_traces() {
    if let Some(provider) = TRACES.get()
        && let Err(error) = provider.shutdown()
    {
        eprintln!("exporting the last spans failed: {error}");
    }
}

/// The span pipeline for `args`: `None` without an OTLP endpoint, else a batch exporter to it.
/// Builds the exporter only; nothing is installed.
pub fn tracer_provider(
    service: &str,
    args: &TelemetryArgs,
) -> Result<Option<SdkTracerProvider>, RuntimeError> {
    let Some(endpoint) = args.otlp_endpoint() else {
        return Ok(None);
    };
    let exporter = match args.otlp_protocol {
        // As for OTEL_EXPORTER_OTLP_ENDPOINT in the specification: the signal's path is
        // appended to the base URL.
        OtlpProtocol::HttpProtobuf => SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
            .build(),
        OtlpProtocol::Grpc => SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build(),
    }
    .map_err(|e| RuntimeError::Config(format!("OTLP exporter to {endpoint:?}: {e}")))?;
    let resource = Resource::builder()
        .with_service_name(args.service_name(service).to_owned())
        .build();
    Ok(Some(
        SdkTracerProvider::builder()
            .with_resource(resource)
            .with_batch_exporter(exporter)
            .build(),
    ))
}

fn install_subscriber(
    format: LogFormat,
    filter: &str,
    traces: Option<SdkTracerProvider>,
) -> Result<(), RuntimeError> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| RuntimeError::Config(format!("log filter {filter:?}: {e}")))?;
    let logs = match format {
        LogFormat::Text => fmt::layer().boxed(),
        // Span fields (trace_id, message_id) go into every line, so one article can be followed
        // through every service by its trace id.
        LogFormat::Json => fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    };
    // Each layer has its own filter: the log filter decides what is printed, not which spans
    // are exported. Only the newsflow crates' spans are: the exporter's own work (HTTP, gRPC)
    // must not make spans of its own.
    let spans = traces.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("newsflow"))
            .with_filter(Targets::new().with_target("newsflow", Level::INFO))
    });
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(spans)
        .try_init()
        .map_err(|e| RuntimeError::Config(format!("logging already set up: {e}")))?;
    if let Some(provider) = traces {
        let _ = TRACES.set(provider);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OptionalAddr;

    fn args(endpoint: Option<&str>, protocol: OtlpProtocol) -> TelemetryArgs {
        TelemetryArgs {
            log_format: LogFormat::Text,
            log: "info".into(),
            metrics_addr: OptionalAddr(None),
            otlp_endpoint: endpoint.map(str::to_owned),
            otlp_protocol: protocol,
            service_name: None,
        }
    }

    #[test]
    fn without_an_endpoint_no_exporter_is_built() {
        for endpoint in [None, Some(""), Some("   ")] {
            let provider = tracer_provider("newsflow-test", &args(endpoint, OtlpProtocol::Grpc))
                .expect("no configuration to get wrong");
            assert!(provider.is_none(), "an exporter for {endpoint:?}");
        }
        assert!(!exporting_traces());
    }

    #[tokio::test]
    async fn an_endpoint_builds_an_exporter_for_either_protocol() {
        for protocol in [OtlpProtocol::HttpProtobuf, OtlpProtocol::Grpc] {
            let provider = tracer_provider(
                "newsflow-test",
                &args(Some("http://127.0.0.1:4318/"), protocol),
            )
            .expect("a valid endpoint")
            .expect("an exporter");
            // Nothing was recorded, so nothing is sent: shutting down does not need a collector.
            provider.shutdown().expect("shuts down");
        }
        // Not installed by building it.
        assert!(!exporting_traces());
    }

    #[test]
    fn a_malformed_endpoint_is_a_configuration_error() {
        let error = tracer_provider(
            "newsflow-test",
            &args(Some("not a url"), OtlpProtocol::HttpProtobuf),
        )
        .expect_err("refused");
        assert!(matches!(error, RuntimeError::Config(_)), "{error}");
    }
}
