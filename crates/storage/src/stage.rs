//! The storage stage on the bus: `article.classified` in, saved in one transaction, then
//! `article.processed` out; the input is acked only after both.

use std::time::Duration;

use newsflow_bus::{BusError, Outgoing, Publisher, TraceContext, topology::ARTICLE_PROCESSED};
use newsflow_proto::v1::{AnalyzedArticle, ArticleProcessed, ProcessedReason};
use newsflow_runtime::{Stage, StageError, stage::article_id};
use newsflow_store::{Store, StoreError, StoredArticle, time::to_proto};
use tracing::{info, warn};

/// Saves each classified article and announces it downstream.
pub struct StoreStage {
    store: Store,
}

impl StoreStage {
    /// The stage over the database.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

impl Stage for StoreStage {
    fn name(&self) -> &'static str {
        "storage"
    }

    async fn process(
        &self,
        article: AnalyzedArticle,
        trace: TraceContext,
    ) -> Result<Outgoing, StageError> {
        let outcome = self.save_when_the_database_answers(&article).await?;
        info!(article_id = %article_id(&article), status = ?outcome.status, "stored");
        // Announced on every delivery, an unchanged redelivery included: the first delivery
        // may have died between the commit and the publish. Consumers deduplicate by id.
        let stored = StoredArticle {
            article,
            stored_at: outcome.stored_at,
            revision: outcome.revision,
            duplicate_of: outcome.duplicate_of,
            story_id: outcome.story_id,
        };
        Ok(processed(&stored, ProcessedReason::Live, trace))
    }
}

impl StoreStage {
    /// Saves the article, waiting out a database that is down or busy for as long as it takes:
    /// the message stays with this consumer (which so takes no more than its prefetch) instead
    /// of spending its retries, and nothing is parked for an outage. An article that cannot be
    /// stored as it is fails at once.
    async fn save_when_the_database_answers(
        &self,
        article: &AnalyzedArticle,
    ) -> Result<newsflow_store::SaveOutcome, StageError> {
        let mut pause = Duration::from_secs(1);
        loop {
            match self.store.save(article).await {
                Ok(outcome) => return Ok(outcome),
                // The save itself ran too long: retry it later through the retry queues (and
                // park it if it keeps timing out) rather than wait on it here.
                Err(error @ StoreError::TimedOut(_)) => {
                    return Err(StageError::Transient(error.to_string()));
                }
                Err(error) if error.is_transient() => {
                    warn!(%error, ?pause, article_id = %article_id(article), "waiting for the database");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_DATABASE_PAUSE);
                }
                Err(error) => return Err(StageError::Permanent(error.to_string())),
            }
        }
    }
}

/// Longest pause between two tries while the database is down.
const MAX_DATABASE_PAUSE: Duration = Duration::from_secs(15);

/// A stored article as an `article.processed` event. Not mandatory: with no downstream queue
/// bound yet the event is simply not kept, as with any publish-subscribe event.
pub fn processed(stored: &StoredArticle, reason: ProcessedReason, trace: TraceContext) -> Outgoing {
    let id = article_id(&stored.article);
    let event = ArticleProcessed {
        article: Some(stored.article.clone()),
        stored_at: Some(to_proto(stored.stored_at)),
        reason: reason as i32,
        duplicate_of: stored.duplicate_of.clone().unwrap_or_default(),
        story_id: stored.story_id.unwrap_or(0),
    };
    Outgoing::protobuf(ARTICLE_PROCESSED, &id, &event, trace).not_mandatory()
}

/// Publishes a stored article as `article.processed`.
pub async fn publish_processed(
    publisher: &Publisher,
    stored: &StoredArticle,
    reason: ProcessedReason,
    trace: TraceContext,
) -> Result<(), BusError> {
    publisher.publish(&processed(stored, reason, trace)).await
}
