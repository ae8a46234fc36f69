//! Ingest under hostile clients, through the real binary: a request with millions of items, and
//! hundreds of connections that send their headers a byte at a time. Memory stays bounded and
//! `/healthz` keeps answering; the figures are printed (`--nocapture`).

mod support;

use std::time::{Duration, Instant};

use support::{Ingest, amqp_url};
use tokio::{io::AsyncReadExt, io::AsyncWriteExt, net::TcpStream};

/// Memory ingest may reach in these tests, in KiB: its own few tens of MB plus one request
/// body of at most 64 MiB (`NEWSFLOW_MAX_REQUEST_BYTES`) held twice at worst.
const MEMORY_BOUND_KIB: u64 = 256 * 1024;

#[tokio::test]
async fn eight_million_items_are_refused_without_holding_them() {
    let ingest = Ingest::start("items", &amqp_url(), &[]).await;
    let before = ingest.peak_memory_kib();
    let body = format!("[{}{{}}]", "{},".repeat(8_000_000));
    let response = ingest
        .post(&[("Content-Type", "application/json")], body.as_bytes())
        .await;
    assert_eq!(response.status, 413, "{}", response.body);
    assert!(
        response.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than 1000 articles"),
        "{}",
        response.body
    );
    let peak = ingest.peak_memory_kib();
    eprintln!(
        "8,000,000 items ({} MB): 413; peak memory {} MiB (before {} MiB)",
        body.len() / 1_000_000,
        peak / 1024,
        before / 1024
    );
    assert!(peak < MEMORY_BOUND_KIB, "peak memory {peak} KiB");
    assert!(ingest.drain().await.is_empty(), "nothing was published");
}

#[tokio::test]
async fn slow_headers_are_cut_off_and_health_keeps_answering() {
    let ingest = Ingest::start(
        "slowloris",
        &amqp_url(),
        &[("NEWSFLOW_HTTP_HEADER_TIMEOUT", "2s")],
    )
    .await;
    let mut slow = Vec::new();
    for _ in 0..500 {
        let mut stream = TcpStream::connect(ingest.http).await.expect("connects");
        stream
            .write_all(b"POST /v1/articles HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("writes");
        slow.push(stream);
    }
    // A header byte every half second: never a whole head.
    let started = Instant::now();
    let mut health_times = Vec::new();
    while started.elapsed() < Duration::from_secs(4) {
        for stream in &mut slow {
            let _ = stream.write_all(b"X").await;
        }
        let asked = Instant::now();
        let health = ingest
            .request("GET", "/healthz", &[], b"")
            .await
            .expect("answers");
        assert_eq!(health.status, 200);
        health_times.push(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Past the header timeout every slow connection has been closed by ingest.
    let mut closed = 0;
    for stream in &mut slow {
        let mut buffer = [0u8; 256];
        match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buffer)).await {
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
            Err(_) => {}
        }
    }
    let peak = ingest.peak_memory_kib();
    let slowest = health_times.iter().max().copied().unwrap_or_default();
    eprintln!(
        "500 slow connections: {closed} closed by the header timeout; /healthz slowest {slowest:?}; peak memory {} MiB",
        peak / 1024
    );
    assert_eq!(closed, 500, "every slow connection is closed");
    assert!(peak < MEMORY_BOUND_KIB, "peak memory {peak} KiB");
}
