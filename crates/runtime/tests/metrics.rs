//! The Prometheus endpoint serves what the code records; without an OTLP endpoint no span
//! exporter is installed.

use std::time::Duration;

use newsflow_bus::TraceContext;
use newsflow_runtime::{LogFormat, OtlpProtocol, TelemetryArgs, config::OptionalAddr, telemetry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn metrics_endpoint_serves_recorded_metrics() {
    let port = newsflow_test_support::free_port();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    telemetry::init(
        "newsflow-test",
        &TelemetryArgs {
            log_format: LogFormat::Json,
            log: "info".into(),
            metrics_addr: OptionalAddr(Some(addr)),
            otlp_endpoint: None,
            otlp_protocol: OtlpProtocol::HttpProtobuf,
            service_name: None,
        },
    )
    .expect("telemetry starts");
    // No endpoint, no exporter: spans carry no OpenTelemetry context, and trace ids are drawn
    // by the bus as they always were.
    assert!(!telemetry::exporting_traces());
    let span = tracing::info_span!("probe");
    assert_eq!(TraceContext::of_span(&span), None);
    let parent = TraceContext::new_root();
    let own = TraceContext::start(&span, Some(parent));
    assert_eq!(own.trace_id(), parent.trace_id());
    assert_ne!(own.span_id(), parent.span_id());
    metrics::counter!("newsflow_test_events_total", "kind" => "probe").increment(3);

    let mut body = String::new();
    for _ in 0..50 {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await {
            stream
                .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            body.clear();
            stream.read_to_string(&mut body).await.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(
        body.contains("newsflow_test_events_total{kind=\"probe\"} 3"),
        "{body}"
    );
}
