//! Graceful shutdown: SIGTERM (what `docker stop` sends) or SIGINT (Ctrl-C) cancels one token;
//! consumers stop taking messages and finish those in flight, servers stop accepting requests
//! and drain, then the process exits.

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// A token cancelled at the first SIGTERM or SIGINT. Call inside the tokio runtime.
pub fn on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let signal = wait_for_signal().await;
        info!(signal, "shutting down");
        cancel.cancel();
    });
    token
}

async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(stream) => Some(stream),
        Err(error) => {
            warn!(%error, "cannot listen for SIGTERM; only Ctrl-C will stop the service");
            None
        }
    };
    tokio::select! {
        _ = async {
            match terminate.as_mut() {
                Some(stream) => { stream.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}
