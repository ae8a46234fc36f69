//! The whole analysis of an article, as the pipeline runs it.
//!
//! One [`Doc`](newsflow_nlp::Doc) goes through the `newsflow-nlp` stages: tokenize -> NER ->
//! fine types -> grouping -> statements -> stance. The pipeline splits them between two
//! services, and this crate is the one place that says how:
//!
//! - [`EntityAnalysis`], the extractor's part: tokenize, NER, fine types, grouping, then
//!   [`places`] (geocoding); it adds the entities to the `AnalyzedArticle`;
//! - [`StanceAnalysis`], the stance service's part: it rebuilds the document from the text and
//!   the entities the extractor found, then runs statements and stance; it adds statements,
//!   stances and per-entity summaries;
//! - [`Analysis`], both in one process (`newsflow analyze`, benchmarks), through the same
//!   two calls the services make, so its output is what the pipeline would produce.
//!
//! [`convert`] is the one conversion between the library's `Doc` and the contract's
//! `AnalyzedArticle`; [`models`] names every model's directory once ([`ModelArgs`], flags and
//! environment variables shared by the services and the command line) and loads them.
//!
//! No async runtime and no I/O beyond reading model files: the services run these calls on
//! their CPU slots.

mod batch;
mod budget;
pub mod convert;
mod entities;
mod error;
pub mod hostile;
pub mod models;
pub mod places;
mod stance;

pub use budget::{Budget, BudgetArgs};
pub use entities::EntityAnalysis;
pub use error::AnalysisError;
pub use models::{ModelArgs, ModelPaths, SpeakerStance};
pub use newsflow_nlp::{ner::NerMode, normalize::normalize, one_tensor_thread_by_default};
pub use stance::{Classified, StanceAnalysis};

use newsflow_proto::v1::AnalyzedArticle;

/// Both parts of the analysis, for running the whole of it in one process.
pub struct Analysis {
    /// The extractor's part.
    pub entities: EntityAnalysis,
    /// The stance service's part.
    pub stance: StanceAnalysis,
}

impl Analysis {
    /// Loads every model `models` names; `topics` are stance targets besides the entities;
    /// each part keeps to `budget`.
    pub fn load(
        models: &ModelArgs,
        topics: &[String],
        budget: Budget,
    ) -> Result<Self, AnalysisError> {
        Ok(Self {
            entities: EntityAnalysis::load(models, budget)?,
            stance: StanceAnalysis::load(models, topics, budget)?,
        })
    }

    /// Adds entities, then statements, stances and summaries to the article, as the extractor
    /// and the stance service would.
    pub fn apply(&self, article: &mut AnalyzedArticle) -> Result<(), AnalysisError> {
        self.entities.apply(article)?;
        self.stance.apply(article)
    }
}
