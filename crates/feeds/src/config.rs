//! The feeds service's configuration: flags or environment variables (flags win).

use std::{net::SocketAddr, path::PathBuf};

use newsflow_runtime::{TelemetryArgs, grpc::GrpcArgs};
use newsflow_store::DatabaseArgs;

use crate::{fetch::FetchSettings, follow::FollowSettings};

/// newsflow-feeds: follows RSS, Atom and JSON feeds, extracts each new item's main text and
/// submits it to ingest.
#[derive(clap::Parser, Clone, Debug)]
#[command(name = "newsflow-feeds", version)]
pub struct Config {
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    #[command(flatten)]
    pub grpc: GrpcArgs,
    /// Where the feeds and their items are kept.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// gRPC listen address (FeedsService, health, reflection).
    #[arg(
        long,
        env = "NEWSFLOW_FEEDS_GRPC_ADDR",
        default_value = "0.0.0.0:50055"
    )]
    pub grpc_addr: SocketAddr,
    /// HTTP listen address (`/v1/feeds`, `/healthz`, `/metrics`).
    #[arg(long, env = "NEWSFLOW_FEEDS_HTTP_ADDR", default_value = "0.0.0.0:8085")]
    pub http_addr: SocketAddr,
    /// How the HTTP server bounds slow and many clients.
    #[command(flatten)]
    pub http: newsflow_runtime::http::HttpArgs,
    /// Ingest's gRPC address, where extracted articles are submitted.
    #[arg(
        long,
        env = "NEWSFLOW_INGEST_ADDR",
        default_value = "http://127.0.0.1:50051"
    )]
    pub ingest_addr: String,
    /// The key sent to ingest when it requires API keys.
    #[arg(long, env = "NEWSFLOW_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// API keys this service requires of its own callers (`NEWSFLOW_API_KEYS`,
    /// `NEWSFLOW_REQUIRE_API_KEYS`).
    #[command(flatten)]
    pub keys: newsflow_runtime::ApiKeyArgs,
    /// A file of feeds to follow, added at start: one URL a line, optionally followed by the
    /// outlet's name; blank lines and `#` comments are skipped.
    #[arg(long, env = "NEWSFLOW_FEEDS_FILE")]
    pub feeds_file: Option<PathBuf>,
    #[command(flatten)]
    pub fetch: FetchSettings,
    #[command(flatten)]
    pub follow: FollowSettings,
}

/// The feeds a feeds file lists: `(url, source)`.
pub fn read_feeds_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| match line.split_once(char::is_whitespace) {
            Some((url, source)) => (url.to_owned(), source.trim().to_owned()),
            None => (line.to_owned(), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn feeds_file_lines() {
        let feeds = super::read_feeds_file(
            "# world news\nhttps://a.test/rss.xml  The A Times\n\nhttps://b.test/atom\n",
        );
        assert_eq!(
            feeds,
            [
                ("https://a.test/rss.xml".into(), "The A Times".into()),
                ("https://b.test/atom".into(), String::new())
            ]
        );
    }
}
