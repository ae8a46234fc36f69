//! The ingest service's configuration: flags or environment variables (flags win).

use std::{net::SocketAddr, time::Duration};

use newsflow_runtime::{ServiceArgs, config::parse_duration};

use newsflow_article::{
    html::HtmlPolicy,
    language::LanguagePolicy,
    validate::{DEFAULT_LANGUAGES, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_TITLE_CHARS, Policy},
};

/// newsflow-ingest: the front door. Validates, normalizes and deduplicates articles and
/// publishes them to the pipeline, over gRPC and HTTP.
#[derive(clap::Parser, Clone, Debug)]
#[command(name = "newsflow-ingest", version)]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// gRPC listen address (IngestService, health, reflection).
    #[arg(
        long,
        env = "NEWSFLOW_INGEST_GRPC_ADDR",
        default_value = "0.0.0.0:50051"
    )]
    pub grpc_addr: SocketAddr,
    /// HTTP listen address (`POST /v1/articles`, `/healthz`, `/metrics`).
    #[arg(
        long,
        env = "NEWSFLOW_INGEST_HTTP_ADDR",
        default_value = "0.0.0.0:8080"
    )]
    pub http_addr: SocketAddr,
    /// Largest article body, in bytes.
    #[arg(long, env = "NEWSFLOW_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Most articles one HTTP request may carry (a JSON array or NDJSON); more is refused
    /// with 413.
    #[arg(long, env = "NEWSFLOW_MAX_BULK_ITEMS", default_value_t = 1000)]
    pub max_bulk_items: usize,
    /// How the HTTP server bounds slow and many clients.
    #[command(flatten)]
    pub http: newsflow_runtime::http::HttpArgs,
    /// Largest request (one HTTP body or one gRPC message), in bytes.
    #[arg(long, env = "NEWSFLOW_MAX_REQUEST_BYTES", default_value_t = 64 << 20)]
    pub max_request_bytes: usize,
    /// Longest title, in characters.
    #[arg(long, env = "NEWSFLOW_MAX_TITLE_CHARS", default_value_t = DEFAULT_MAX_TITLE_CHARS)]
    pub max_title_chars: usize,
    /// What to do with HTML bodies: `main-text` keeps a page's article and drops the page
    /// around it (a fragment is kept whole), `strip` keeps all of the text, `reject` refuses them.
    #[arg(long, env = "NEWSFLOW_HTML", value_enum, default_value_t = HtmlPolicy::MainText)]
    pub html: HtmlPolicy,
    /// Languages the models serve (ISO 639-1, comma-separated).
    #[arg(
        long,
        env = "NEWSFLOW_LANGUAGES",
        value_delimiter = ',',
        default_value = DEFAULT_LANGUAGES
    )]
    pub languages: Vec<String>,
    /// Refuse articles in other languages instead of tagging and passing them on.
    #[arg(long, env = "NEWSFLOW_REFUSE_UNSUPPORTED_LANGUAGES")]
    pub refuse_unsupported_languages: bool,
    /// API keys (`NEWSFLOW_API_KEYS`, `NEWSFLOW_REQUIRE_API_KEYS`).
    #[command(flatten)]
    pub keys: newsflow_runtime::ApiKeyArgs,
    /// Storage's gRPC address (`http://storage:50054`), asked whether an article is stored
    /// already; without it only the recent-ids cache spots duplicates.
    #[arg(long, env = "NEWSFLOW_STORAGE_ADDR")]
    pub storage_addr: Option<String>,
    /// How long to wait for storage's answer before treating an article as new.
    #[arg(long, env = "NEWSFLOW_STORAGE_TIMEOUT", default_value = "2s", value_parser = parse_duration)]
    pub storage_timeout: Duration,
    /// How many recently accepted ids to remember for spotting duplicates.
    #[arg(long, env = "NEWSFLOW_DEDUP_CACHE", default_value_t = 100_000)]
    pub dedup_cache: usize,
}

impl Config {
    /// What ingest accepts, from the limits and policies configured.
    pub fn policy(&self) -> Policy {
        Policy {
            max_body_bytes: self.max_body_bytes,
            max_title_chars: self.max_title_chars,
            html: self.html,
            languages: LanguagePolicy {
                supported: self.languages.clone(),
                refuse_unsupported: self.refuse_unsupported_languages,
            },
        }
    }
}
