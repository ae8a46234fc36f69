//! The storage stage on the bus: `article.classified` in, saved in one transaction, then
//! `article.processed` out; the input is acked only after both.

use newsflow_bus::{
    Handler, Incoming, Outcome, Outgoing, Publisher, TraceContext, topology::ARTICLE_PROCESSED,
};
use newsflow_proto::v1::{AnalyzedArticle, ArticleProcessed, ProcessedReason};
use tracing::info;

use crate::{Store, StoredArticle, time::to_proto};

/// Saves each classified article and announces it downstream.
pub struct StoreStage {
    /// The database.
    pub store: Store,
    /// Where `article.processed` goes.
    pub publisher: Publisher,
}

impl Handler for StoreStage {
    async fn handle(&self, message: &Incoming) -> Outcome {
        let document: AnalyzedArticle = match message.decode() {
            Ok(document) => document,
            Err(error) => return Outcome::Reject(format!("undecodable AnalyzedArticle: {error}")),
        };
        let outcome = match self.store.save(&document).await {
            Ok(outcome) => outcome,
            Err(error) if error.is_transient() => return Outcome::Retry(error.to_string()),
            Err(error) => return Outcome::Reject(error.to_string()),
        };
        // Published on every delivery, an unchanged redelivery included: the first delivery may
        // have died between the commit and this publish. Consumers deduplicate by article id.
        let stored = StoredArticle {
            article: document,
            stored_at: outcome.stored_at,
            revision: outcome.revision,
        };
        match publish_processed(
            &self.publisher,
            &stored,
            ProcessedReason::Live,
            message.trace.child(),
        )
        .await
        {
            Ok(()) => {
                info!(article_id = %article_id(&stored.article), status = ?outcome.status, "stored");
                Outcome::Done
            }
            Err(error) => Outcome::Retry(format!("publishing article.processed: {error}")),
        }
    }
}

/// Publishes a stored article as `article.processed`. Not mandatory: with no downstream queue
/// bound yet the event is simply not kept, as with any publish-subscribe event.
pub async fn publish_processed(
    publisher: &Publisher,
    stored: &StoredArticle,
    reason: ProcessedReason,
    trace: TraceContext,
) -> Result<(), newsflow_bus::BusError> {
    let id = article_id(&stored.article);
    let event = ArticleProcessed {
        article: Some(stored.article.clone()),
        stored_at: Some(to_proto(stored.stored_at)),
        reason: reason as i32,
    };
    let message = Outgoing::protobuf(ARTICLE_PROCESSED, &id, &event, trace).not_mandatory();
    publisher.publish(&message).await
}

pub(crate) fn article_id(document: &AnalyzedArticle) -> String {
    document
        .article
        .as_ref()
        .map(|article| article.id.clone())
        .unwrap_or_default()
}
