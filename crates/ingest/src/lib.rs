//! newsflow-ingest: the front door of the pipeline.
//!
//! A submitted article is validated and normalized and given an id derived from its content
//! (`newsflow_article`), checked for a duplicate ([`dedup`]), and published as
//! `article.ingested`; the client is answered only once the broker has confirmed ([`stage`]).
//! The same logic serves gRPC ([`grpc`]) and HTTP ([`http`]), behind optional API keys
//! (`newsflow_runtime::ApiKeys`), configured in [`config`].

pub mod config;
pub mod dedup;
pub mod error;
pub mod grpc;
pub mod http;
pub mod stage;

use std::{process::ExitCode, sync::Arc};

use anyhow::Context;
use clap::Parser;
use newsflow_bus::Publisher;
use newsflow_runtime::{GrpcServer, grpc::bind};
use tracing::{info, warn};

pub use config::Config;

/// The binary's entry point.
pub fn main() -> ExitCode {
    newsflow_runtime::block_on_main("newsflow-ingest", run(Config::parse()))
}

/// Serves gRPC and HTTP until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let newsflow_runtime::Started { shutdown, metrics } =
        newsflow_runtime::start("newsflow-ingest", &config.service)?;

    let bus = &config.service.bus;
    let publisher = Publisher::new(bus.config("ingest"), bus.topology());
    // Serve even when the broker is down: submissions get 503 until it is back.
    if let Err(error) = Publisher::connect(bus.config("ingest"), bus.topology()).await {
        warn!(%error, "the broker is not reachable yet; answering UNAVAILABLE until it is");
    }
    let dedup = dedup::Dedup::new(
        config.dedup_cache,
        config.storage_addr.as_deref(),
        config.storage_timeout,
    )
    .map_err(anyhow::Error::msg)?;
    let policy = config.policy();
    let ingestor = Arc::new(stage::Ingestor::new(publisher, policy, dedup));
    let keys = config.keys.keys("ingest")?;

    let grpc_listener = bind(config.grpc_addr).await?;
    let http_listener = bind(config.http_addr).await?;
    let grpc = GrpcServer::with(&config.service.grpc)
        .add_service(grpc::IngestGrpc::server(
            Arc::clone(&ingestor),
            keys.clone(),
            config.max_request_bytes,
        ))
        .serve(grpc_listener, shutdown.clone());
    let router = http::router(http::HttpState {
        ingestor,
        keys,
        metrics,
        max_request_bytes: config.max_request_bytes,
        max_items: config.max_bulk_items,
        body_timeout: config.http.body_timeout,
    });
    let http = newsflow_runtime::http::serve(http_listener, router, config.http, shutdown);
    let (grpc, http) = tokio::join!(grpc, http);
    grpc.context("gRPC server")?;
    http.context("HTTP server")?;
    info!("stopped");
    Ok(())
}
