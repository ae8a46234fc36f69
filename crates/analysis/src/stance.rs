//! The stance service's part of the analysis: statements, stances, affiliations and summaries,
//! over the entities the extractor found, and the article's sentence embedding.
//!
//! The embedding is computed here rather than in the extractor because this stage holds the
//! base encoder whatever the NER mode (the fast extractor loads none): one more forward pass of
//! at most 130 positions per article, over weights already in memory.

use newsflow_nlp::{
    Doc, Stage,
    embedding::{SentenceEmbedder, article_text},
    stance::StanceStage,
    statements::StatementFinder,
};
use newsflow_proto::v1::{
    Affiliation, AnalyzedArticle, ArticleEmbedding, Entity, EntitySummary, Stance, Statement,
};

use crate::{
    AnalysisError, Budget, ModelArgs, SpeakerStance, batch::together_or_alone, convert,
    entities::body,
};

/// Statements then stances, with the models loaded once and the operator's topics.
pub struct StanceAnalysis {
    statements: StatementFinder,
    stance: StanceStage,
    embedder: SentenceEmbedder,
    embedding_model: String,
    topics: Vec<String>,
    version: String,
    budget: Budget,
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
    /// Whose side each entity is on.
    pub affiliations: Vec<Affiliation>,
}

impl StanceAnalysis {
    /// Loads the statement and stance models; `topics` are targets besides the entities in
    /// every article (blank ones are dropped); every article's analysis keeps to `budget`.
    pub fn load(
        models: &ModelArgs,
        topics: &[String],
        budget: Budget,
    ) -> Result<Self, AnalysisError> {
        let topics: Vec<String> = topics
            .iter()
            .map(|topic| topic.trim().to_owned())
            .filter(|topic| !topic.is_empty())
            .collect();
        check_topics(&budget, &topics, "the configured topics")?;
        let name = |dir: &std::path::Path, or: &str| {
            dir.file_name()
                .map_or_else(|| or.to_string(), |n| n.to_string_lossy().into_owned())
        };
        let mut version = name(&models.stance_model, "stance");
        if models.speaker_stance == SpeakerStance::Holder {
            version = format!("{version}+{}", name(&models.holder_model, "holder"));
        }
        let version = format!("{version}@{}", env!("CARGO_PKG_VERSION"));
        let stance = models.stance_stage()?;
        // Over the stance model's base encoder: the same weights, not another copy.
        let embedder =
            SentenceEmbedder::over(stance.classifier().encoder().clone(), &models.base_model)
                .map_err(|source| AnalysisError::Load {
                    model: "sentence embedder's tokenizer",
                    path: models.base_model.clone(),
                    hint: ", run scripts/fetch-base-model.sh",
                    source,
                })?;
        Ok(Self {
            statements: models.statement_finder()?,
            stance,
            embedder,
            embedding_model: name(&models.base_model, "base"),
            topics,
            version,
            budget,
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
        let mut doc = self.statements_of(text, entities, extra_topics)?;
        self.stance.process(&mut doc)?;
        Ok(classified(&doc, entities))
    }

    /// [`StanceAnalysis::classify`] of several articles (text and entities), no extra topics,
    /// with the stance models reading all their targets together
    /// ([`Stage::process_many`]): the same results, fuller batches. One article's error
    /// fails them all.
    pub fn classify_many(
        &self,
        articles: &[(String, &[Entity])],
    ) -> Result<Vec<Classified>, AnalysisError> {
        let mut docs = articles
            .iter()
            .map(|(text, entities)| self.statements_of(text.clone(), entities, &[]))
            .collect::<Result<Vec<_>, _>>()?;
        self.stance.process_many(&mut docs)?;
        Ok(docs
            .iter()
            .zip(articles)
            .map(|(doc, (_, entities))| classified(doc, entities))
            .collect())
    }

    /// The document of `text` with its entities, the topics, and its statements found.
    fn statements_of(
        &self,
        text: String,
        entities: &[Entity],
        extra_topics: &[String],
    ) -> Result<Doc, AnalysisError> {
        let mut doc = convert::doc_with_entities(self.budget.doc(text), entities)?;
        doc.topics = self.topics.clone();
        for topic in extra_topics {
            if !topic.trim().is_empty() && !doc.topics.contains(topic) {
                doc.topics.push(topic.clone());
            }
        }
        check_topics(&self.budget, &doc.topics, "topics")?;
        self.statements.process(&mut doc)?;
        Ok(doc)
    }

    /// The sentence embedding of an article's title and lead.
    pub fn embed(&self, title: &str, body: &str) -> Result<ArticleEmbedding, AnalysisError> {
        let values = self
            .embedder
            .embed(&article_text(title, body))
            .map_err(AnalysisError::Stage)?;
        Ok(ArticleEmbedding {
            model: self.embedding_model.clone(),
            values,
        })
    }

    /// Adds statements, stances and summaries to the article, over its entities, and its
    /// sentence embedding.
    pub fn apply(&self, article: &mut AnalyzedArticle) -> Result<(), AnalysisError> {
        let mut results = self.apply_many(std::slice::from_mut(article));
        results.pop().unwrap_or(Ok(()))
    }

    /// [`StanceAnalysis::apply`] of several articles, their targets in shared batches
    /// ([`StanceAnalysis::classify_many`]); one result per article ([`together_or_alone`]).
    pub fn apply_many(&self, articles: &mut [AnalyzedArticle]) -> Vec<Result<(), AnalysisError>> {
        together_or_alone(
            articles,
            |article| {
                let text = body(article)?.to_owned();
                let title = article.article.as_ref().map_or("", |a| a.title.as_str());
                let entities = article
                    .analysis
                    .as_ref()
                    .map(|analysis| analysis.entities.clone())
                    .unwrap_or_default();
                Ok((title.to_owned(), text, entities))
            },
            |inputs| {
                let embeddings = inputs
                    .iter()
                    .map(|(title, text, _)| self.embed(title, text))
                    .collect::<Result<Vec<_>, _>>()?;
                let articles: Vec<(String, &[Entity])> = inputs
                    .iter()
                    .map(|(_, text, entities)| (text.clone(), entities.as_slice()))
                    .collect();
                Ok(embeddings
                    .into_iter()
                    .zip(self.classify_many(&articles)?)
                    .collect())
            },
            |article, (embedding, classified)| {
                let analysis = article.analysis.get_or_insert_default();
                analysis.embedding = Some(embedding);
                analysis.statements = classified.statements;
                analysis.stances = classified.stances;
                analysis.summaries = classified.summaries;
                analysis.affiliations = classified.affiliations;
            },
        )
    }
}

/// The statements, stances, summaries and affiliations of a processed document, with its
/// entities' ids.
fn classified(doc: &Doc, entities: &[Entity]) -> Classified {
    let ids: Vec<String> = entities.iter().map(|entity| entity.id.clone()).collect();
    Classified {
        statements: convert::statements(doc, &ids),
        stances: convert::stances(doc, &ids),
        summaries: convert::summaries(doc, &ids),
        affiliations: convert::affiliations(doc, &ids),
    }
}

/// Refuses more topics, or longer ones, than the budget allows: each topic is searched for in
/// every sentence.
fn check_topics(budget: &Budget, topics: &[String], what: &str) -> Result<(), AnalysisError> {
    if topics.len() > budget.max_topics {
        return Err(AnalysisError::Invalid(format!(
            "{what}: {} of them; the limit is {}",
            topics.len(),
            budget.max_topics
        )));
    }
    if let Some(long) = topics
        .iter()
        .find(|topic| topic.chars().count() > budget.max_topic_chars)
    {
        return Err(AnalysisError::Invalid(format!(
            "{what}: {:?}... is longer than {} characters",
            long.chars().take(20).collect::<String>(),
            budget.max_topic_chars
        )));
    }
    Ok(())
}
