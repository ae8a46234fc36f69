//! The stage itself: find and group the entities of an article's body.

use std::path::Path;
use std::sync::Arc;

use newsflow_nlp::{
    Doc, NlpError, Pipeline, entity_pipeline,
    ner::{NerMode, NerPaths, NerTagger},
    types::FineTyper,
};
use newsflow_proto::v1::{AnalyzedArticle, Entity, StageRecord};
use tokio::sync::Semaphore;

use crate::convert;

/// Why an article could not be analyzed.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The input cannot be analyzed (no article, an empty body): retrying will not help.
    #[error("{0}")]
    Invalid(String),
    /// The analysis failed on this input.
    #[error("analysis failed: {0}")]
    Analysis(#[from] NlpError),
    /// The analysis task died (a bug): worth another try elsewhere.
    #[error("analysis task failed: {0}")]
    Task(String),
}

/// The entity model, loaded once, shared by the consumer and the gRPC service.
#[derive(Clone)]
pub struct Extractor {
    pipeline: Arc<Pipeline>,
    version: String,
    /// Analyses run on blocking threads, at most one per core: more would only queue for CPU.
    cpu: Arc<Semaphore>,
}

impl Extractor {
    /// Loads the NER models of `mode` (accurate: the perceptron and the MiniLM tagger over
    /// the base encoder; fast: the perceptron alone) and the fine-typing stage's gazetteers.
    pub fn load(mode: NerMode, paths: &NerPaths, gazetteers: &Path) -> Result<Self, NlpError> {
        let tagger = NerTagger::load_mode(mode, paths)?;
        let typer = FineTyper::load(gazetteers)?;
        let version = format!("ner-{mode}@{}", env!("CARGO_PKG_VERSION"));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Self {
            pipeline: Arc::new(entity_pipeline(tagger, typer)),
            version,
            cpu: Arc::new(Semaphore::new(cores)),
        })
    }

    /// The model version recorded in each article's stage record.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The entities of an already normalized text (spans index into it as given).
    pub async fn entities(&self, normalized: String) -> Result<Vec<Entity>, ExtractError> {
        let _permit = self
            .cpu
            .acquire()
            .await
            .map_err(|e| ExtractError::Task(e.to_string()))?;
        let pipeline = Arc::clone(&self.pipeline);
        tokio::task::spawn_blocking(move || {
            let mut doc = Doc::from_normalized(normalized);
            pipeline.process(&mut doc)?;
            Ok(convert::entities(&doc))
        })
        .await
        .map_err(|e| ExtractError::Task(e.to_string()))?
    }

    /// Adds the entities of the article's body to the document, with this stage's record.
    pub async fn extract(&self, document: &mut AnalyzedArticle) -> Result<(), ExtractError> {
        let body = match &document.article {
            Some(article) if !article.body.trim().is_empty() => article.body.clone(),
            Some(_) => return Err(ExtractError::Invalid("the article body is empty".into())),
            None => return Err(ExtractError::Invalid("the message has no article".into())),
        };
        let entities = self.entities(body).await?;
        document.analysis.get_or_insert_default().entities = entities;
        document.stages.push(StageRecord {
            stage: "extractor".into(),
            version: self.version.clone(),
            instance: std::env::var("HOSTNAME").unwrap_or_else(|_| "extractor".into()),
            finished_at: Some(std::time::SystemTime::now().into()),
        });
        Ok(())
    }
}
