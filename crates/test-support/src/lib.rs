//! What newsflow's tests share, so each test file holds only its own checks.
//!
//! - [`broker`]: the local RabbitMQ under a topology of the test's own, deleted when the test
//!   ends; taking and counting messages; closing connections from the broker's side.
//! - [`database`]: a fresh schema or database on the local PostgreSQL, dropped when the test
//!   ends.
//! - [`fixtures`]: analysed articles to store and query.
//! - [`http`]: a small HTTP client, whole responses or streamed bodies.
//! - [`workspace`]: the workspace root, the committed models, the shared example article.
//! - [`run_ok`], [`free_port`], [`unique_name`], [`eventually`].
//!
//! Every test runs against the real services; one that is missing fails with a message that
//! says how to start it, never passes without it. `AMQP_URL` and `DATABASE_URL` point the
//! tests elsewhere.

pub mod broker;
pub mod database;
pub mod fixtures;
pub mod http;
pub mod workspace;

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// A name no other test, in this process or another, is using: `prefix`, the process id, a
/// counter and the clock's nanoseconds, joined by `sep` (`-` for broker names, `_` for SQL).
pub fn unique_name(prefix: &str, sep: char) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}{sep}{}{sep}{}{sep}{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `command` to its end and returns what it printed; fails the test, with the command's
/// standard error, unless it exits 0.
pub fn run_ok(command: &mut std::process::Command) -> std::process::Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} does not run: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A TCP port on 127.0.0.1 that nothing listens on right now, for a service the test starts.
///
/// Not the kernel's pick (`bind(0)`): that comes from the ephemeral range, where the kernel
/// also takes the source ports of outgoing connections, so between this call and the
/// service's own bind a connection to the broker or the database could take it (CI saw a
/// service exit on a port taken that way). These ports lie just below the ephemeral range,
/// which outgoing connections never use; each process walks them from an offset of its own
/// and never hands out one port twice.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    const SPAN: u32 = 12_000;
    let low = ephemeral_low.saturating_sub(SPAN).max(1_024);
    let span = ephemeral_low.saturating_sub(low).max(1);
    let start = std::process::id().wrapping_mul(7_919) % span;
    for _ in 0..span {
        let port = low + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let Ok(port) = u16::try_from(port) else {
            continue;
        };
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {low}..{ephemeral_low}")
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
pub async fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}

/// Runs async cleanup from a `Drop`: on a thread with a runtime of its own (the test's may be
/// shutting down), joined so the next test starts clean.
pub(crate) fn block_on_cleanup<F: std::future::Future<Output = ()> + Send + 'static>(work: F) {
    let _ = std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(work);
        }
    })
    .join();
}
