//! newsflow-web: newsflow for analysts, over what storage keeps.
//!
//! - [`api`]: the REST query API under `/api/v1` (articles by any filter, one article with its
//!   analysis, entities, an entity's timeline, statements by or about an entity, stance
//!   edges), the CSV and NDJSON exports, the live stream (Server-Sent Events), and its OpenAPI
//!   document at `/openapi.json`, generated from the handlers;
//! - [`page`]: the web page, server-rendered HTML with a little embedded JavaScript (the live
//!   feed, the timeline chart through Chart.js), no build step;
//! - [`live`]: `article.processed` from a queue of the service's own, fanned out to every
//!   open stream;
//! - [`auth`]: optional API keys, as a Bearer header or the login form's cookie;
//! - [`config`]: flags and environment variables.
//!
//! A service of its own, not a side of storage: analysts' reads scale and fail apart from the
//! writer, with a database pool of their own. It reads through `newsflow-store` and writes
//! nothing.

pub mod api;
pub mod auth;
pub mod config;
pub mod live;
pub mod page;

use std::{process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{Router, routing::get};
use clap::Parser;
use newsflow_runtime::{ApiKeys, PrometheusHandle, grpc::bind};
use newsflow_store::Store;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use config::Config;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The database, through a pool of this service's own.
    pub store: Store,
    /// API keys (none: open).
    pub keys: ApiKeys,
    /// Processed articles as they are stored.
    pub live: live::Live,
    /// The OpenAPI document, rendered once.
    pub openapi: Arc<String>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Cancelled at shutdown: ends the open streams so the server can stop.
    pub shutdown: CancellationToken,
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    newsflow_runtime::block_on_main("newsflow-web", run(Config::parse()))
}

/// Serves until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let newsflow_runtime::Started { shutdown, metrics } =
        newsflow_runtime::start("newsflow-web", &config.service)?;
    // Serve even when the database is down: pages and the API say so until it is back.
    let store = config.database.connect_lazy().context("the database URL")?;
    tokio::spawn(migrate_when_reachable(store.clone(), shutdown.clone()));

    let live = live::Live::new();
    let consuming = tokio::spawn(
        live.clone()
            .follow(config.service.bus.clone(), shutdown.clone()),
    );

    let keys = config.keys.keys("the web service")?;
    let (api, openapi) = api::router();
    let state = AppState {
        store,
        keys,
        live,
        openapi: Arc::new(
            openapi
                .to_json()
                .context("rendering the OpenAPI document")?,
        ),
        metrics,
        shutdown: shutdown.clone(),
    };
    let app = app(api, state);

    let listener = bind(config.http_addr).await?;
    info!(addr = %config.http_addr, "serving HTTP");
    let stop = shutdown.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
        .context("HTTP server")?;
    shutdown.cancel();
    let _ = consuming.await;
    info!("stopped");
    Ok(())
}

/// The whole service: the API, the page, the static files, behind the API keys.
pub fn app(api: Router<AppState>, state: AppState) -> Router {
    api.merge(page::router())
        .route("/openapi.json", get(api::openapi_json))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(api::metrics))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_key,
        ))
        .with_state(state)
}

/// Applies the schema migrations (storage applies the same ones) once the database answers,
/// so the service also works against a database storage has not set up yet.
async fn migrate_when_reachable(store: Store, shutdown: CancellationToken) {
    let mut delay = Duration::from_millis(500);
    loop {
        match store.migrate().await {
            Ok(()) => return,
            Err(error) => warn!(%error, "the database is not ready; migrating again later"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}
