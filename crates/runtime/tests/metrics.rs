//! The Prometheus endpoint serves what the code records.

use std::time::Duration;

use newsflow_runtime::{LogFormat, TelemetryArgs, config::OptionalAddr, telemetry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn metrics_endpoint_serves_recorded_metrics() {
    // A free port: bind, note it, release it for the exporter.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    telemetry::init(&TelemetryArgs {
        log_format: LogFormat::Json,
        log: "info".into(),
        metrics_addr: OptionalAddr(Some(addr)),
    })
    .expect("telemetry starts");
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
