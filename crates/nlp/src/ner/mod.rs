//! Named-entity recognition, the fast mode: an averaged structured perceptron over hashed
//! lexical features, decoded with Viterbi under BIO constraints. [`NerTagger`] is the pipeline
//! stage; [`train::train`] learns a model from CoNLL-style data.

pub mod features;
pub mod model;
pub mod train;

pub use features::DocContext;
pub use model::{MODEL_FILE, NerModel, Tagging};
pub use train::{EpochReport, TrainConfig, calibrate, doc_context, evaluate, train};

use crate::doc::{Doc, EntityType, Stage};
use crate::error::NlpError;
use crate::eval::chunks;
use std::collections::HashMap;
use std::path::Path;

/// The NER stage: tags each sentence of the document and adds a mention per entity chunk,
/// typed by the model's labels (CoNLL's PER, ORG, LOC, MISC). It replaces earlier mentions.
///
/// A second pass keeps the document consistent: a capitalized, untagged occurrence of a name
/// tagged elsewhere in the document (or of the surname of a tagged person) becomes a mention
/// too, since one sentence alone ("Trump later indicated ...") often cannot tell.
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
        let words: Vec<Vec<&str>> = sentences.iter().map(|s| doc.sentence_tokens(s)).collect();
        let ctx = DocContext::new(&words);
        let taggings: Vec<Tagging> = words
            .iter()
            .map(|tokens| self.model.tag_with_confidence(tokens, Some(&ctx)))
            .collect();
        drop(words);
        for (sentence, tagging) in sentences.iter().zip(taggings) {
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
        propagate_names(doc)
    }
}

/// Confidence of mentions added by document consistency rather than by the model.
const PROPAGATED_CONFIDENCE: f32 = 0.5;

/// Adds mentions for untagged repeats of tagged names (see [`NerTagger`]).
fn propagate_names(doc: &mut Doc) -> Result<(), NlpError> {
    let mut names: HashMap<Vec<String>, EntityType> = HashMap::new();
    for m in &doc.mentions {
        let words: Vec<String> = m
            .tokens
            .clone()
            .map(|i| doc.token_text(i).to_string())
            .collect();
        if m.label == EntityType::Person
            && words.len() > 1
            && let Some(last) = words.last()
            && last.chars().count() > 1
        {
            names.entry(vec![last.clone()]).or_insert(m.label);
        }
        names.entry(words).or_insert(m.label);
    }
    if names.is_empty() {
        return Ok(());
    }
    let longest = names.keys().map(Vec::len).max().unwrap_or(0);
    let mut taken = vec![false; doc.tokens.len()];
    for m in &doc.mentions {
        taken[m.tokens.clone()].iter_mut().for_each(|t| *t = true);
    }
    let mut added = Vec::new();
    for s in &doc.sentences {
        let mut i = s.tokens.start;
        while i < s.tokens.end {
            let capitalized = doc
                .token_text(i)
                .chars()
                .next()
                .is_some_and(char::is_uppercase);
            let mut matched = 0;
            if capitalized && !taken[i] {
                for len in (1..=longest.min(s.tokens.end - i)).rev() {
                    if taken[i..i + len].iter().any(|&t| t) {
                        continue;
                    }
                    let words: Vec<String> = (i..i + len)
                        .map(|k| doc.token_text(k).to_string())
                        .collect();
                    if let Some(&label) = names.get(&words) {
                        added.push((i..i + len, label));
                        matched = len;
                        break;
                    }
                }
            }
            i += matched.max(1);
        }
    }
    if added.is_empty() {
        return Ok(());
    }
    for (range, label) in added {
        doc.push_mention(range, label, PROPAGATED_CONFIDENCE)?;
    }
    doc.mentions.sort_by_key(|m| m.span.start);
    Ok(())
}
