//! The storage service binary: serve (consume, store, publish, answer queries) or replay.

use std::{net::SocketAddr, process::ExitCode};

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use futures::StreamExt;
use newsflow_bus::{Consumer, Outgoing, Publisher, TraceContext, topology::ARTICLE_INGESTED};
use newsflow_proto::v1::{Analysis, AnalyzedArticle, ProcessedReason};
use newsflow_runtime::{BusArgs, GrpcServer, TelemetryArgs, grpc::bind, shutdown, telemetry};
use tracing::{info, warn};

use crate::{
    ReplayFilter, Store, TimeBasis, grpc::StorageGrpc, stage::StoreStage, stage::publish_processed,
};

/// newsflow-storage: stores analyzed articles in PostgreSQL, publishes `article.processed`,
/// answers queries, replays.
#[derive(Parser, Clone, Debug)]
#[command(name = "newsflow-storage", version)]
pub struct Config {
    #[command(flatten)]
    pub bus: BusArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    /// PostgreSQL URL.
    #[arg(
        long,
        env = "NEWSFLOW_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/newsflow"
    )]
    pub database_url: String,
    /// gRPC listen address (StorageService, health, reflection).
    #[arg(
        long,
        env = "NEWSFLOW_STORAGE_GRPC_ADDR",
        default_value = "0.0.0.0:50054"
    )]
    pub grpc_addr: SocketAddr,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do; `serve` when none is given.
#[derive(Subcommand, Clone, Debug)]
pub enum Command {
    /// Consume `article.classified`, store, publish `article.processed`, answer queries.
    Serve,
    /// Re-publish stored articles, oldest first, then exit.
    Replay {
        /// `processed`: as `article.processed` events (reason REPLAY) for a new downstream
        /// consumer; `ingested`: as `article.ingested`, to run the analysis again (after a model
        /// upgrade); storage then replaces each article's analysis.
        #[arg(long = "as", value_enum, default_value_t = ReplayAs::Processed)]
        target: ReplayAs,
        /// Only articles at or after this time (RFC 3339).
        #[arg(long)]
        from: Option<DateTime<Utc>>,
        /// Only articles before this time (RFC 3339).
        #[arg(long)]
        to: Option<DateTime<Utc>>,
        /// Filter and order by ingested time instead of published time.
        #[arg(long)]
        by_ingested: bool,
    },
}

/// What stored articles are re-published as.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayAs {
    /// `article.processed` events.
    Processed,
    /// `article.ingested` messages: the pipeline analyzes them again.
    Ingested,
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    newsflow_runtime::block_on_main("newsflow-storage", run(Config::parse()))
}

/// Runs the chosen command.
pub async fn run(config: Config) -> anyhow::Result<()> {
    telemetry::init(&config.telemetry)?;
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| {
            format!(
                "connecting to PostgreSQL at {}",
                redact(&config.database_url)
            )
        })?;
    store.migrate().await.context("migrating the database")?;
    let bus = config.bus.config("storage");
    let publisher = Publisher::new(bus.clone(), config.bus.topology());
    match config.command.clone().unwrap_or(Command::Serve) {
        Command::Serve => serve(&config, store, publisher).await,
        Command::Replay {
            target,
            from,
            to,
            by_ingested,
        } => {
            let filter = ReplayFilter {
                basis: if by_ingested {
                    TimeBasis::Ingested
                } else {
                    TimeBasis::Article
                },
                from,
                to,
            };
            let count = replay(&store, &publisher, filter, target).await?;
            info!(count, ?target, "replayed");
            println!("replayed {count} articles as {target:?}");
            Ok(())
        }
    }
}

async fn serve(config: &Config, store: Store, publisher: Publisher) -> anyhow::Result<()> {
    let shutdown = shutdown::on_signals();
    let stage = StoreStage {
        store: store.clone(),
        publisher: publisher.clone(),
    };
    let consumer = Consumer::new(
        config.bus.config("storage"),
        config.bus.topology(),
        "storage",
        stage,
        publisher,
    );
    let server = GrpcServer::new()
        .add_service(StorageGrpc::new(store).into_server())
        .serve(bind(config.grpc_addr).await?, shutdown.clone());
    newsflow_runtime::consume_and_serve(consumer.run(shutdown.clone()), server, &shutdown).await?;
    info!("stopped");
    Ok(())
}

/// Re-publishes the stored articles `filter` selects; returns how many. Stops at the first
/// publish the broker does not confirm (run it again: replays are idempotent downstream).
pub async fn replay(
    store: &Store,
    publisher: &Publisher,
    filter: ReplayFilter,
    target: ReplayAs,
) -> anyhow::Result<usize> {
    let mut stored = store.replay(filter);
    let mut count = 0;
    while let Some(item) = stored.next().await {
        let article = match item {
            Ok(article) => article,
            Err(error @ crate::StoreError::Corrupt { .. }) => {
                warn!(%error, "skipping an article that no longer decodes");
                continue;
            }
            Err(error) => return Err(error).context("reading stored articles"),
        };
        let trace = TraceContext::new_root();
        match target {
            ReplayAs::Processed => {
                publish_processed(publisher, &article, ProcessedReason::Replay, trace).await?
            }
            ReplayAs::Ingested => {
                let id = crate::stage::article_id(&article.article);
                let fresh = AnalyzedArticle {
                    article: article.article.article.clone(),
                    analysis: Some(Analysis::default()),
                    stages: article
                        .article
                        .stages
                        .iter()
                        .filter(|record| record.stage == "ingest")
                        .cloned()
                        .collect(),
                };
                publisher
                    .publish(&Outgoing::protobuf(ARTICLE_INGESTED, &id, &fresh, trace))
                    .await?
            }
        }
        count += 1;
    }
    Ok(count)
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
