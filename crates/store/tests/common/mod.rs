//! Test support: a migrated store in a fresh schema per test on the local PostgreSQL; the
//! article fixtures are `newsflow_test_support::fixtures`.

#![allow(dead_code, unused_imports)] // Each test binary uses a different part of this module.

use newsflow_proto::v1::AnalyzedArticle;
use newsflow_store::Store;
use newsflow_test_support::database::{TestDatabase, TestSchema};
pub use newsflow_test_support::fixtures::*;

/// A migrated store in a schema (or a database) of its own, dropped when the value is.
pub struct TestDb {
    pub store: Store,
    pub schema: String,
    /// Drops the schema or database with the value.
    _place: Place,
}

enum Place {
    Schema(TestSchema),
    Database(TestDatabase),
}

impl TestDb {
    /// A fresh schema in the `DATABASE_URL` database.
    pub async fn new() -> Self {
        let schema = TestSchema::new(8).await;
        let store = Store::new(schema.pool.clone());
        store.migrate().await.expect("migrations apply");
        Self {
            store,
            schema: schema.name.clone(),
            _place: Place::Schema(schema),
        }
    }

    /// A fresh, empty database (no pg_trgm yet) on the `DATABASE_URL` server, used through
    /// its `public` schema.
    pub async fn new_database() -> Self {
        let database = TestDatabase::new("storage").await;
        let store = Store::new(database.pool(4).await);
        store.migrate().await.expect("migrations apply");
        Self {
            store,
            schema: "public".to_owned(),
            _place: Place::Database(database),
        }
    }

    /// Rows of `table` belonging to the test schema (or database).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(self.store.pool())
            .await
            .expect("count rows")
    }

    /// Row counts of every table, for comparing states.
    pub async fn counts(&self) -> [i64; 6] {
        [
            self.count("articles").await,
            self.count("identities").await,
            self.count("article_entities").await,
            self.count("mentions").await,
            self.count("statements").await,
            self.count("stances").await,
        ]
    }
}

pub async fn save_all(store: &Store, docs: &[AnalyzedArticle]) {
    for doc in docs {
        store.save(doc).await.expect("save fixture");
    }
}

pub fn ids(page: &newsflow_proto::v1::ListArticlesResponse) -> Vec<String> {
    page.articles
        .iter()
        .map(|a| a.article.as_ref().unwrap().id.clone())
        .collect()
}
