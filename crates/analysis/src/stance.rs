//! The stance service's part of the analysis: statements, stances and summaries, over the
//! entities the extractor found.

use newsflow_nlp::{Stage, stance::StanceStage, statements::StatementFinder};
use newsflow_proto::v1::{AnalyzedArticle, Entity, EntitySummary, Stance, Statement};

use crate::{AnalysisError, ModelArgs, convert, entities::body};

/// Statements then stances, with the models loaded once and the operator's topics.
pub struct StanceAnalysis {
    statements: StatementFinder,
    stance: StanceStage,
    topics: Vec<String>,
    version: String,
}

/// What the stance part adds to an article.
#[derive(Debug, Default, PartialEq)]
pub struct Classified {
    /// Who said what.
    pub statements: Vec<Statement>,
    /// Who stands for or against what.
    pub stances: Vec<Stance>,
    /// Per entity: mentions, stances toward it, statements it made.
    pub summaries: Vec<EntitySummary>,
}

impl StanceAnalysis {
    /// Loads the statement and stance models; `topics` are targets besides the entities in
    /// every article (blank ones are dropped).
    pub fn load(models: &ModelArgs, topics: &[String]) -> Result<Self, AnalysisError> {
        let version = format!(
            "{}@{}",
            models
                .stance_model
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_else(|| "stance".into()),
            env!("CARGO_PKG_VERSION")
        );
        Ok(Self {
            statements: models.statement_finder()?,
            stance: StanceStage::new(models.stance_classifier()?),
            topics: topics
                .iter()
                .map(|topic| topic.trim().to_owned())
                .filter(|topic| !topic.is_empty())
                .collect(),
            version,
        })
    }

    /// The configured topics.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    /// The models' version, as the stage record gives it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Statements, stances and summaries of `text` (normalized; the entities' spans index into
    /// it) toward its entities, the configured topics and `extra_topics`.
    pub fn classify(
        &self,
        text: String,
        entities: &[Entity],
        extra_topics: &[String],
    ) -> Result<Classified, AnalysisError> {
        let mut doc = convert::doc_with_entities(text, entities)?;
        doc.topics = self.topics.clone();
        for topic in extra_topics {
            if !topic.trim().is_empty() && !doc.topics.contains(topic) {
                doc.topics.push(topic.clone());
            }
        }
        self.statements.process(&mut doc)?;
        self.stance.process(&mut doc)?;
        let ids: Vec<String> = entities.iter().map(|entity| entity.id.clone()).collect();
        Ok(Classified {
            statements: convert::statements(&doc, &ids),
            stances: convert::stances(&doc, &ids),
            summaries: convert::summaries(&doc, &ids),
        })
    }

    /// Adds statements, stances and summaries to the article, over its entities.
    pub fn apply(&self, article: &mut AnalyzedArticle) -> Result<(), AnalysisError> {
        let text = body(article)?.to_owned();
        let analysis = article.analysis.get_or_insert_default();
        let classified = self.classify(text, &analysis.entities, &[])?;
        analysis.statements = classified.statements;
        analysis.stances = classified.stances;
        analysis.summaries = classified.summaries;
        Ok(())
    }
}
