//! The extractor's part of the analysis: entities, and where the places among them are.

use newsflow_nlp::{Pipeline, geo::Gazetteer, group::EntityGrouper, tokenize::Tokenizer};
use newsflow_proto::v1::{AnalyzedArticle, Entity};

use crate::{AnalysisError, Budget, ModelArgs, convert, places};

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
        let mut doc = self.budget.doc(normalized);
        self.pipeline.process(&mut doc)?;
        Ok(convert::entities(&doc))
    }

    /// Adds the entities of the article's body to it, the places with their GeoNames place.
    pub fn apply(&self, article: &mut AnalyzedArticle) -> Result<(), AnalysisError> {
        let body = body(article)?.to_owned();
        let mut entities = self.entities(body)?;
        let url = article.article.as_ref().map_or("", |a| a.url.as_str());
        places::geocode(&self.gazetteer, &mut entities, url);
        article.analysis.get_or_insert_default().entities = entities;
        Ok(())
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
