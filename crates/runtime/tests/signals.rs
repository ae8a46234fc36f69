//! SIGTERM cancels the shutdown token (this test binary signals itself).

use std::time::Duration;

#[tokio::test]
async fn sigterm_cancels_the_shutdown_token() {
    let token = newsflow_runtime::shutdown::on_signals();
    // Let the handler task install its signal listener before the signal is sent.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!token.is_cancelled());
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    tokio::time::timeout(Duration::from_secs(10), token.cancelled())
        .await
        .expect("token cancelled by SIGTERM");
}
