//! Named-entity recognition, the fast mode: an averaged structured perceptron over hashed
//! lexical features, decoded with Viterbi under BIO constraints. [`NerTagger`] is the pipeline
//! stage; [`train::train`] learns a model from CoNLL-style data.

pub mod features;
pub mod model;
pub mod train;

pub use model::{MODEL_FILE, NerModel, Tagging};
pub use train::{EpochReport, TrainConfig, evaluate, train};

use crate::doc::{Doc, EntityType, Stage};
use crate::error::NlpError;
use crate::eval::chunks;
use std::path::Path;

/// The NER stage: tags each sentence of the document and adds a mention per entity chunk,
/// typed by the model's labels (CoNLL's PER, ORG, LOC, MISC). It replaces earlier mentions.
#[derive(Debug, Clone)]
pub struct NerTagger {
    model: NerModel,
}

impl NerTagger {
    /// A stage around a loaded model.
    pub fn new(model: NerModel) -> Self {
        Self { model }
    }

    /// Loads the model from a model directory (or file).
    pub fn load(path: &Path) -> Result<Self, NlpError> {
        NerModel::load(path).map(Self::new)
    }

    /// The model.
    pub fn model(&self) -> &NerModel {
        &self.model
    }
}

impl Stage for NerTagger {
    fn name(&self) -> &'static str {
        "ner"
    }

    fn process(&self, doc: &mut Doc) -> Result<(), NlpError> {
        doc.mentions.clear();
        doc.entities.clear();
        let sentences = doc.sentences.clone();
        for sentence in &sentences {
            let tokens = doc.sentence_tokens(sentence);
            let tagging = self.model.tag_with_confidence(&tokens);
            for chunk in chunks(&tagging.tags) {
                // A label the contract does not know (a model trained on other data) is skipped.
                let Some(label) = EntityType::from_label(&chunk.label) else {
                    continue;
                };
                let confidence = tagging.confidence[chunk.tokens.clone()]
                    .iter()
                    .copied()
                    .fold(1.0f32, f32::min);
                let start = sentence.tokens.start + chunk.tokens.start;
                let end = sentence.tokens.start + chunk.tokens.end;
                doc.push_mention(start..end, label, confidence)?;
            }
        }
        Ok(())
    }
}
