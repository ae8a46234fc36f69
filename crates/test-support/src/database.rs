//! The local PostgreSQL: a schema or a whole database of the test's own.

use std::str::FromStr;

use sqlx::{
    Connection, PgConnection, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

const START_HINT: &str = "start PostgreSQL with \
    `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, \
    or point DATABASE_URL at a running server";

/// The database the tests connect to first: `DATABASE_URL`, or the local `test` database.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Runs one administrative statement on the `DATABASE_URL` database.
pub async fn admin(sql: String) {
    let url = database_url();
    let mut connection = PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}; {START_HINT}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
        .execute(&mut connection)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    connection.close().await.ok();
}

/// A fresh schema in the `DATABASE_URL` database, first on the search path of the pool's
/// connections (then `public`, for extensions such as `pg_trgm`); dropped with everything in
/// it when the value is.
pub struct TestSchema {
    /// The schema's name.
    pub name: String,
    /// Connections that create and find their tables in it.
    pub pool: PgPool,
}

impl TestSchema {
    /// Creates the schema and a pool of up to `connections`.
    pub async fn new(connections: u32) -> Self {
        let name = crate::unique_name("nf_test", '_');
        admin(format!("CREATE SCHEMA {name}")).await;
        let url = database_url();
        let options = PgConnectOptions::from_str(&url)
            .expect("DATABASE_URL")
            .options([("search_path", format!("{name},public"))]);
        let pool = PgPoolOptions::new()
            .max_connections(connections)
            .connect_with(options)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}; {START_HINT}"));
        Self { name, pool }
    }
}

impl TestSchema {
    /// Rows of `table` in this schema.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("counting {table}: {e}"))
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        drop_later(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

/// A fresh, empty database on the `DATABASE_URL` server; dropped (connections and all) when
/// the value is, unless [`TestDatabase::keep`] was called.
pub struct TestDatabase {
    /// The database's name.
    pub name: String,
    /// Its URL.
    pub url: String,
    keep: bool,
}

impl TestDatabase {
    /// Creates the database, named after `prefix`.
    pub async fn new(prefix: &str) -> Self {
        let name = crate::unique_name(&format!("nf_{prefix}"), '_').replace('-', "_");
        admin(format!("CREATE DATABASE {name}")).await;
        let admin_url = database_url();
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("DATABASE_URL {admin_url} names no database"),
        };
        Self {
            name,
            url,
            keep: false,
        }
    }

    /// A pool of up to `connections` on it.
    pub async fn pool(&self, connections: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(connections)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}; {START_HINT}", self.url))
    }

    /// Leaves the database in place when the value is dropped (for a look after a failure).
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if !self.keep {
            // FORCE: pools and services may still hold connections to it.
            drop_later(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn drop_later(sql: String) {
    crate::block_on_cleanup(async move {
        let Ok(mut connection) = PgConnection::connect(&database_url()).await else {
            eprintln!("could not clean up: {sql}");
            return;
        };
        if sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut connection)
            .await
            .is_err()
        {
            eprintln!("could not clean up: {sql}");
        }
        connection.close().await.ok();
    });
}
