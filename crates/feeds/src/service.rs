//! The service: the follower's loop beside the management API (gRPC and HTTP).

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use newsflow_proto::v1::ingest_service_client::IngestServiceClient;
use newsflow_runtime::{GrpcServer, grpc::bind};
use tracing::{info, warn};

use crate::{
    config::{self, Config},
    fetch::Fetcher,
    follow::{Follower, Ingest},
    manage::{self, Feeds},
};

/// The binary's entry point.
pub fn main() -> ExitCode {
    newsflow_runtime::block_on_main("newsflow-feeds", run(Config::parse()))
}

/// Follows the feeds and serves their management until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let metrics = newsflow_runtime::telemetry::init("newsflow-feeds", &config.telemetry)?;
    let shutdown = newsflow_runtime::shutdown::on_signals();
    let database = &config.database;
    let store = database
        .connect()
        .await
        .with_context(|| format!("connecting to PostgreSQL at {}", database.redacted_url()))?;
    store.migrate().await.context("migrating the database")?;
    if let Some(path) = &config.feeds_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the feeds file {}", path.display()))?;
        for (url, source) in config::read_feeds_file(&text) {
            match Feeds::new(store.clone()).add(&url, &source).await {
                Ok(_) => info!(%url, "following (feeds file)"),
                Err(error) => warn!(%url, %error, "feeds file: not followed"),
            }
        }
    }

    let fetcher = Fetcher::new(config.fetch.clone()).context("the HTTP client")?;
    let channel = tonic::transport::Endpoint::from_shared(config.ingest_addr.clone())
        .with_context(|| format!("ingest address {:?}", config.ingest_addr))?
        .connect_lazy();
    let ingest = Ingest {
        client: IngestServiceClient::new(channel),
        api_key: config.api_key.clone(),
    };
    let follower = Follower::new(store.clone(), fetcher, ingest, config.follow.clone());
    let following = tokio::spawn(follower.run(shutdown.clone()));

    let keys = config.keys.keys("feeds")?;
    let feeds = Feeds::new(store);
    let grpc = GrpcServer::with(&config.grpc)
        .add_service(feeds.clone().grpc(keys.clone()))
        .serve(bind(config.grpc_addr).await?, shutdown.clone());
    let router = manage::router(manage::HttpState {
        feeds,
        keys,
        metrics,
    });
    let http = newsflow_runtime::http::serve(
        bind(config.http_addr).await?,
        router,
        config.http,
        shutdown.clone(),
    );
    let (grpc, http) = tokio::join!(grpc, http);
    shutdown.cancel();
    following.await.context("the follower's task")?;
    grpc.context("gRPC server")?;
    http.context("HTTP server")?;
    info!("stopped");
    Ok(())
}
