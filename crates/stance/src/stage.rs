//! The stance stage: runs [`analyze::classify`](crate::analyze::classify) on blocking threads,
//! on the bus (`article.extracted` in, `article.classified` out) and for gRPC.

use std::sync::Arc;

use newsflow_bus::{Handler, Incoming, Outcome, Outgoing, Publisher, topology::ARTICLE_CLASSIFIED};
use newsflow_nlp::NlpError;
use newsflow_proto::v1::{AnalyzedArticle, Entity, StageRecord};
use tokio::sync::Semaphore;
use tracing::info;

use crate::analyze::{Classified, Models, classify};

/// Why an article could not be classified.
#[derive(Debug, thiserror::Error)]
pub enum StanceError {
    /// The input cannot be analyzed: retrying will not help.
    #[error("{0}")]
    Invalid(String),
    /// The analysis failed on this input.
    #[error("analysis failed: {0}")]
    Analysis(#[from] NlpError),
    /// The analysis task died (a bug): worth another try.
    #[error("analysis task failed: {0}")]
    Task(String),
}

/// The models, loaded once, and the topics an operator configured.
#[derive(Clone)]
pub struct Classifier {
    models: Arc<Models>,
    topics: Arc<Vec<String>>,
    version: String,
    /// One analysis per core at a time: more would only queue for the CPU.
    cpu: Arc<Semaphore>,
}

impl Classifier {
    /// A classifier over loaded models.
    pub fn new(models: Models, topics: Vec<String>, version: String) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            models: Arc::new(models),
            topics: Arc::new(topics),
            version,
            cpu: Arc::new(Semaphore::new(cores)),
        }
    }

    /// The configured topics.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// Statements, stances and summaries of `text` given its entities, toward them and the
    /// configured topics plus `extra_topics`.
    pub async fn classify(
        &self,
        text: String,
        entities: Vec<Entity>,
        extra_topics: Vec<String>,
    ) -> Result<Classified, StanceError> {
        let _permit = self
            .cpu
            .acquire()
            .await
            .map_err(|e| StanceError::Task(e.to_string()))?;
        let models = Arc::clone(&self.models);
        let mut topics: Vec<String> = self.topics.iter().cloned().collect();
        for topic in extra_topics {
            if !topic.trim().is_empty() && !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        tokio::task::spawn_blocking(move || Ok(classify(&models, &text, &entities, &topics)?))
            .await
            .map_err(|e| StanceError::Task(e.to_string()))?
    }

    /// Adds statements, stances and summaries to the document, with this stage's record.
    pub async fn apply(&self, document: &mut AnalyzedArticle) -> Result<(), StanceError> {
        let body = match &document.article {
            Some(article) if !article.body.trim().is_empty() => article.body.clone(),
            Some(_) => return Err(StanceError::Invalid("the article body is empty".into())),
            None => return Err(StanceError::Invalid("the message has no article".into())),
        };
        let analysis = document.analysis.get_or_insert_default();
        let classified = self
            .classify(body, analysis.entities.clone(), Vec::new())
            .await?;
        analysis.statements = classified.statements;
        analysis.stances = classified.stances;
        analysis.summaries = classified.summaries;
        document.stages.push(StageRecord {
            stage: "stance".into(),
            version: self.version.clone(),
            instance: std::env::var("HOSTNAME").unwrap_or_else(|_| "stance".into()),
            finished_at: Some(std::time::SystemTime::now().into()),
        });
        Ok(())
    }
}

/// Classifies each extracted article and passes it on; acked once the output is confirmed.
pub struct StanceStage {
    /// The models.
    pub classifier: Classifier,
    /// Where the output goes.
    pub publisher: Publisher,
}

impl Handler for StanceStage {
    async fn handle(&self, message: &Incoming) -> Outcome {
        let mut document: AnalyzedArticle = match message.decode() {
            Ok(document) => document,
            Err(error) => return Outcome::Reject(format!("undecodable AnalyzedArticle: {error}")),
        };
        match self.classifier.apply(&mut document).await {
            Ok(()) => {}
            Err(error @ StanceError::Task(_)) => return Outcome::Retry(error.to_string()),
            Err(error) => return Outcome::Reject(error.to_string()),
        }
        let id = document
            .article
            .as_ref()
            .map(|article| article.id.clone())
            .unwrap_or_default();
        let (statements, stances) = document
            .analysis
            .as_ref()
            .map_or((0, 0), |a| (a.statements.len(), a.stances.len()));
        let output = Outgoing::protobuf(ARTICLE_CLASSIFIED, &id, &document, message.trace.child());
        match self.publisher.publish(&output).await {
            Ok(()) => {
                info!(article_id = %id, statements, stances, "classified");
                Outcome::Done
            }
            Err(error) => Outcome::Retry(format!("publishing article.classified: {error}")),
        }
    }
}
