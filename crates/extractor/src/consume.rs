//! `article.ingested` in, `article.extracted` out.

use newsflow_bus::{Handler, Incoming, Outcome, Outgoing, Publisher, topology::ARTICLE_EXTRACTED};
use newsflow_proto::v1::AnalyzedArticle;
use tracing::info;

use crate::extract::{ExtractError, Extractor};

/// Adds entities to each article and passes it on; acked only once the output is confirmed.
pub struct ExtractStage {
    /// The model.
    pub extractor: Extractor,
    /// Where the output goes.
    pub publisher: Publisher,
}

impl Handler for ExtractStage {
    async fn handle(&self, message: &Incoming) -> Outcome {
        let mut document: AnalyzedArticle = match message.decode() {
            Ok(document) => document,
            Err(error) => return Outcome::Reject(format!("undecodable AnalyzedArticle: {error}")),
        };
        match self.extractor.extract(&mut document).await {
            Ok(()) => {}
            Err(error @ (ExtractError::Invalid(_) | ExtractError::Analysis(_))) => {
                return Outcome::Reject(error.to_string());
            }
            Err(error @ ExtractError::Task(_)) => return Outcome::Retry(error.to_string()),
        }
        let id = document
            .article
            .as_ref()
            .map(|article| article.id.clone())
            .unwrap_or_default();
        let entities = document
            .analysis
            .as_ref()
            .map_or(0, |analysis| analysis.entities.len());
        let output = Outgoing::protobuf(ARTICLE_EXTRACTED, &id, &document, message.trace.child());
        match self.publisher.publish(&output).await {
            Ok(()) => {
                info!(article_id = %id, entities, "extracted");
                Outcome::Done
            }
            Err(error) => Outcome::Retry(format!("publishing article.extracted: {error}")),
        }
    }
}
