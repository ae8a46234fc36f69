//! Serving HTTP with the bounds a public port needs: a client gets a fixed time to send its
//! request head (so connections that trickle headers, slowloris-style, are closed), and the
//! number of open connections is capped (past the cap a new connection is closed at once).
//! Request bodies are the handlers' to bound, with [`HttpArgs::body_timeout`].

use std::{net::SocketAddr, sync::Arc, time::Duration};

use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::{info, warn};

use crate::{RuntimeError, config::parse_duration};

/// The bounds of an HTTP server, as flags and environment variables.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct HttpArgs {
    /// How long a client may take to send a request's head (line and headers), and the longest
    /// a kept-alive connection waits for the next one.
    #[arg(long, env = "NEWSFLOW_HTTP_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body.
    #[arg(long, env = "NEWSFLOW_HTTP_BODY_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub body_timeout: Duration,
    /// Most connections open at once; a connection past it is closed at once.
    #[arg(long, env = "NEWSFLOW_HTTP_MAX_CONNECTIONS", default_value_t = 2048)]
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown`, then lets the requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: HttpArgs,
    shutdown: CancellationToken,
) -> Result<(), RuntimeError> {
    let addr: SocketAddr = listener.local_addr().map_err(RuntimeError::Io)?;
    info!(%addr, "serving HTTP");
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let connections = TaskTracker::new();
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            warn!(
                max = limits.max_connections,
                "too many connections; closing a new one"
            );
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let _permit = permit;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    connections.close();
    connections.wait().await;
    Ok(())
}
