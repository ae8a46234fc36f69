//! Where the database is and how a service's pools use it, as flags and environment variables
//! shared by every service that reads or writes it.

use std::{str::FromStr, time::Duration};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{Store, StoreError};

/// The database settings of a service.
#[derive(clap::Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// PostgreSQL URL.
    #[arg(
        long,
        env = "NEWSFLOW_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/newsflow"
    )]
    pub database_url: String,
    /// Connections of each pool a service keeps (storage: one for the writer, one for the
    /// queries, so that neither starves the other; web: one).
    #[arg(long, env = "NEWSFLOW_DATABASE_CONNECTIONS", default_value_t = PoolSettings::default().max_connections)]
    pub database_connections: u32,
    /// How long one statement may run before PostgreSQL cancels it.
    #[arg(long, env = "NEWSFLOW_STATEMENT_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub statement_timeout: Duration,
}

impl DatabaseArgs {
    /// The settings of each pool.
    pub fn pool(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.database_connections,
            statement_timeout: self.statement_timeout,
        }
    }

    /// Connects a pool and checks the database answers.
    pub async fn connect(&self) -> Result<Store, StoreError> {
        Store::connect_with(&self.database_url, self.pool()).await
    }

    /// A pool that connects only when first used, so a service can start while the database
    /// is down.
    pub fn connect_lazy(&self) -> Result<Store, StoreError> {
        Store::connect_lazy_with(&self.database_url, self.pool())
    }

    /// The URL without its password, for messages.
    pub fn redacted_url(&self) -> String {
        let url = &self.database_url;
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
}

/// How a store's connection pool behaves. A service keeps one pool per kind of work (the
/// writer's, the queries'), so neither can take all the connections from the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// Connections the pool opens at most.
    pub max_connections: u32,
    /// How long one statement may run before the database cancels it.
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            statement_timeout: Duration::from_secs(30),
        }
    }
}

impl PoolSettings {
    pub(crate) fn pool_options(&self) -> PgPoolOptions {
        // A short acquire timeout turns a database that is down into a prompt UNAVAILABLE
        // instead of a request hanging for the default 30 s.
        PgPoolOptions::new()
            .max_connections(self.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5))
    }

    /// The connection options of `url` with the statement timeout set for every session.
    pub(crate) fn connect_options(&self, url: &str) -> Result<PgConnectOptions, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(StoreError::from)?;
        let timeout = format!("{}ms", self.statement_timeout.as_millis());
        Ok(options.options([("statement_timeout", timeout)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Service {
        #[command(flatten)]
        database: DatabaseArgs,
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        let service = Service::parse_from([
            "svc",
            "--database-url",
            "postgres://newsflow:secret@db:5432/newsflow",
            "--statement-timeout",
            "5s",
        ]);
        assert_eq!(
            service.database.redacted_url(),
            "postgres://newsflow:***@db:5432/newsflow"
        );
        assert_eq!(
            service.database.pool().statement_timeout,
            Duration::from_secs(5)
        );
    }
}
