//! The extractor's part of the analysis: entities, and where the places among them are.

use newsflow_nlp::{Pipeline, geo::Gazetteer, group::EntityGrouper, tokenize::Tokenizer};
use newsflow_proto::v1::{AnalyzedArticle, Entity};

use crate::{AnalysisError, Budget, ModelArgs, batch::together_or_alone, convert, places};

/// Tokenize, NER, fine types, grouping, geocoding: the entities of an article, with the models
/// loaded once.
pub struct EntityAnalysis {
    pipeline: Pipeline,
    gazetteer: Gazetteer,
    version: String,
    budget: Budget,
}

impl EntityAnalysis {
    /// Loads the NER models of the configured mode and the gazetteers (fine types and places);
    /// every article's analysis keeps to `budget`.
    pub fn load(models: &ModelArgs, budget: Budget) -> Result<Self, AnalysisError> {
        let pipeline = Pipeline::new()
            .with(Tokenizer)
            .with(models.ner_tagger()?)
            .with(models.fine_typer()?)
            .with(EntityGrouper);
        Ok(Self {
            pipeline,
            gazetteer: models.geo_gazetteer()?,
            version: format!("ner-{}@{}", models.ner_mode, env!("CARGO_PKG_VERSION")),
            budget,
        })
    }

    /// The models' version, as the stage record gives it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The entities of an already normalized text (spans index into it as given).
    pub fn entities(&self, normalized: String) -> Result<Vec<Entity>, AnalysisError> {
        let mut entities = self.entities_many(std::slice::from_ref(&normalized))?;
        Ok(entities.pop().unwrap_or_default())
    }

    /// [`EntityAnalysis::entities`] of several texts, the NER encoder reading their sentences
    /// in shared batches. One text's error (or the earliest deadline) fails them all.
    pub fn entities_many(&self, normalized: &[String]) -> Result<Vec<Vec<Entity>>, AnalysisError> {
        let mut docs: Vec<_> = normalized
            .iter()
            .map(|text| self.budget.doc(text.clone()))
            .collect();
        self.pipeline.process_many(&mut docs)?;
        Ok(docs.iter().map(convert::entities).collect())
    }

    /// Adds the entities of the article's body to it, the places with their GeoNames place.
    pub fn apply(&self, article: &mut AnalyzedArticle) -> Result<(), AnalysisError> {
        let mut results = self.apply_many(std::slice::from_mut(article));
        results.pop().unwrap_or(Ok(()))
    }

    /// [`EntityAnalysis::apply`] of several articles, their sentences in shared batches; one
    /// result per article ([`together_or_alone`]).
    pub fn apply_many(&self, articles: &mut [AnalyzedArticle]) -> Vec<Result<(), AnalysisError>> {
        together_or_alone(
            articles,
            |article| body(article).map(str::to_owned),
            |bodies| self.entities_many(bodies),
            |article, mut entities| {
                let url = article.article.as_ref().map_or("", |a| a.url.as_str());
                places::geocode(&self.gazetteer, &mut entities, url);
                article.analysis.get_or_insert_default().entities = entities;
            },
        )
    }
}

/// The article's body, which every part of the analysis reads; an error when there is none.
pub(crate) fn body(article: &AnalyzedArticle) -> Result<&str, AnalysisError> {
    match &article.article {
        Some(article) if !article.body.trim().is_empty() => Ok(&article.body),
        Some(_) => Err(AnalysisError::Invalid("the article body is empty".into())),
        None => Err(AnalysisError::Invalid("the message has no article".into())),
    }
}
