//! The web service's configuration: flags or environment variables (flags win).

use std::net::SocketAddr;

use clap::Parser;
use newsflow_runtime::ServiceArgs;
use newsflow_store::DatabaseArgs;

/// newsflow-web: the REST query API, exports, the live stream of processed articles and the
/// web page, over the articles storage keeps in PostgreSQL.
#[derive(Parser, Clone, Debug)]
#[command(name = "newsflow-web", version)]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// The database storage writes. The service has a pool of its own, so analysts' queries
    /// never take the writer's connections.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// HTTP listen address: the page, the API under `/api/v1`, `/openapi.json`.
    #[arg(long, env = "NEWSFLOW_WEB_HTTP_ADDR", default_value = "0.0.0.0:8090")]
    pub http_addr: SocketAddr,
    /// API keys (`NEWSFLOW_API_KEYS`, `NEWSFLOW_REQUIRE_API_KEYS`); when set, every request
    /// but `/healthz`, `/metrics`, the login form and the static files must carry
    /// `Authorization: Bearer <key>` (or the cookie the login form sets). None: open.
    #[command(flatten)]
    pub keys: newsflow_runtime::ApiKeyArgs,
}
