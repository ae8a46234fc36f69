//! The storage service's configuration: flags or environment variables (flags win), and its
//! two commands, serve and replay.

use std::{net::SocketAddr, time::Duration};

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use newsflow_runtime::{ServiceArgs, config::parse_duration};
use newsflow_store::PoolSettings;

/// newsflow-storage: stores analyzed articles in PostgreSQL, publishes `article.processed`,
/// answers queries, replays.
#[derive(Parser, Clone, Debug)]
#[command(name = "newsflow-storage", version)]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// PostgreSQL URL.
    #[arg(
        long,
        env = "NEWSFLOW_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/newsflow"
    )]
    pub database_url: String,
    /// Connections of each of the service's two pools: one for the writer, one for the
    /// queries, so that neither starves the other.
    #[arg(long, env = "NEWSFLOW_DATABASE_CONNECTIONS", default_value_t = PoolSettings::default().max_connections)]
    pub database_connections: u32,
    /// How long one statement may run before PostgreSQL cancels it.
    #[arg(long, env = "NEWSFLOW_STATEMENT_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub statement_timeout: Duration,
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

impl Config {
    /// The settings of each database pool.
    pub fn pool(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.database_connections,
            statement_timeout: self.statement_timeout,
        }
    }
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
