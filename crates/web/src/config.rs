//! The web service's configuration: flags or environment variables (flags win).

use std::net::SocketAddr;

use clap::Parser;
use newsflow_runtime::ServiceArgs;

/// newsflow-web: the REST query API, exports, the live stream of processed articles and the
/// web page, over the articles storage keeps in PostgreSQL.
#[derive(Parser, Clone, Debug)]
#[command(name = "newsflow-web", version)]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// PostgreSQL URL (the database storage writes). The service has a pool of its own, so
    /// analysts' queries never take the writer's connections.
    #[arg(
        long,
        env = "NEWSFLOW_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/newsflow"
    )]
    pub database_url: String,
    /// HTTP listen address: the page, the API under `/api/v1`, `/openapi.json`.
    #[arg(long, env = "NEWSFLOW_WEB_HTTP_ADDR", default_value = "0.0.0.0:8090")]
    pub http_addr: SocketAddr,
    /// API keys, comma-separated; when set, every request but `/healthz`, `/metrics`, the
    /// login form and the static files must carry `Authorization: Bearer <key>` (or the cookie
    /// the login form sets). None: open.
    #[arg(
        long,
        env = "NEWSFLOW_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_keys: Vec<String>,
}
