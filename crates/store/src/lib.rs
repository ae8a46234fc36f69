//! The database half of the storage stage: analyzed articles in PostgreSQL.
//!
//! - [`Store`] writes an [`AnalyzedArticle`](newsflow_proto::v1::AnalyzedArticle) in one
//!   transaction, idempotently by article id ([`Store::save`]), answers the
//!   `newsflow.v1.StorageService` queries, and streams stored articles for replay
//!   ([`Store::replay`]).
//! - The feed follower's state: followed feeds and the items seen of them ([`FeedRecord`],
//!   [`Store::claim_due_feed`], [`Store::claim_pending_items`]).
//! - [`MIGRATOR`] holds the schema (`migrations/`), applied by [`Store::migrate`].
//!
//! The whole `AnalyzedArticle` is stored as its protobuf bytes, so get and replay return
//! exactly what was saved; the analysis is also projected into tables (articles, entities,
//! per-article entities with their summaries, mentions, statements, stances) for the queries.
//! Saving also resolves each entity to an identity across articles (`identify`), links a
//! near-copy to its original, and places the article in the story of its event (`stories`).

mod browse;
mod error;
mod export;
mod feeds;
mod identify;
mod identities;
mod query;
mod replay;
mod save;
mod settings;
mod stories;
pub mod time;
mod token;

use std::sync::Arc;

use newsflow_knowledge::identity::{Country, Resolver};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

pub use browse::{
    ArticleFilter, EdgeFilter, EdgeTarget, EntityFacts, FoundStatement, MAX_EDGES, StanceEdge,
    StanceMatch, StatementFilter, StatementPage,
};
pub use error::StoreError;
pub use export::{
    ArticleRecord, EXPORT_BATCH, ExportBatch, ExportRows, MentionRecord, StanceRecord,
    StatementRecord,
};
pub use feeds::{FeedItem, FeedItemState, FeedRecord, ItemOutcome, PendingItem};
pub use identities::{IdentityChange, IdentityNames, MAX_LISTED_ALIASES};
pub use replay::{ReplayFilter, TimeBasis};
pub use save::{SaveOutcome, SaveStatus};
pub use settings::{DatabaseArgs, PoolSettings};

/// The schema migrations of `crates/storage/migrations`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Default page size of `ListArticles` when the request says 0.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page of `ListArticles`; larger requests are cut to it.
pub const MAX_PAGE_SIZE: u32 = 500;
/// Default number of `SearchEntities` results when the request says 0.
pub const DEFAULT_SEARCH_LIMIT: u32 = 20;
/// Most `SearchEntities` results; larger requests are cut to it.
pub const MAX_SEARCH_LIMIT: u32 = 100;
/// Most ids one `Exists` call may ask about.
pub const MAX_EXISTS_IDS: usize = 1_000;

/// A stored article as get and replay return it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredArticle {
    /// The document exactly as it was last saved.
    pub article: newsflow_proto::v1::AnalyzedArticle,
    /// When that save committed.
    pub stored_at: chrono::DateTime<chrono::Utc>,
    /// 1 for the first save, +1 for every save that changed the document.
    pub revision: i32,
    /// The stored article this one is a near-copy of, if any.
    pub duplicate_of: Option<String>,
    /// The story it is in, if any.
    pub story_id: Option<u64>,
}

/// Analyzed articles in PostgreSQL. Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
    /// The identity rules, with the country table when one was given.
    resolver: Arc<Resolver>,
}

impl Store {
    /// Wraps a pool the caller configured. Its connections must have the schema holding the
    /// tables, and the schema holding `pg_trgm` (normally `public`), on their search path.
    /// Identities are resolved without a country table until [`Store::with_countries`].
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            resolver: Arc::new(Resolver::new()),
        }
    }

    /// Resolves identities with this country table, so "Britain", "UK" and "British" are the
    /// United Kingdom ([`newsflow_knowledge::country_table`]). Every writer of one database
    /// must use the same table: the stored alias keys depend on it.
    pub fn with_countries(mut self, countries: &[Country]) -> Self {
        self.resolver = Arc::new(Resolver::with_countries(countries));
        self
    }

    /// Connects to `url` (`postgres://user@host:port/db`) with the default pool settings and
    /// checks the database answers.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, PoolSettings::default()).await
    }

    /// Connects to `url` with `settings` and checks the database answers.
    pub async fn connect_with(url: &str, settings: PoolSettings) -> Result<Self, StoreError> {
        let pool = settings
            .pool_options()
            .connect_with(settings.connect_options(url)?)
            .await?;
        Ok(Self::new(pool))
    }

    /// Like [`Store::connect`] but opens connections only when first needed, so a service can
    /// start while the database is down and answer UNAVAILABLE until it is back.
    pub fn connect_lazy(url: &str) -> Result<Self, StoreError> {
        Self::connect_lazy_with(url, PoolSettings::default())
    }

    /// [`Store::connect_lazy`] with `settings`.
    pub fn connect_lazy_with(url: &str, settings: PoolSettings) -> Result<Self, StoreError> {
        let pool = settings
            .pool_options()
            .connect_lazy_with(settings.connect_options(url)?);
        Ok(Self::new(pool))
    }

    /// Applies the pending migrations, then writes the alias keys of identities that have
    /// none of this version (the identities migration's, or all after a change of the key
    /// forms). Safe to call from several replicas at once: sqlx holds an advisory lock on the
    /// database while it migrates, and the keys are written under the identities' lock.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        identify::write_stale_keys(&self.pool, &self.resolver).await?;
        Ok(())
    }

    /// Checks that the database answers, for readiness and health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The underlying pool (for health checks and tests).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
