//! Named-entity recognition in two modes ([`NerMode`]):
//!
//! - fast: an averaged structured perceptron over hashed lexical features, decoded with
//!   Viterbi under BIO constraints ([`NerModel`]; [`train::train`] learns one);
//! - accurate (the default): the perceptron's per-token label log-probabilities (its
//!   calibrated forward-backward marginals) averaged with those of a fine-tuned MiniLM tagger
//!   ([`neural::NeuralModel`]), weighted as tuned on dev, and decoded with Viterbi under BIO
//!   constraints.
//!
//! [`NerTagger`] is the pipeline stage for either mode.

pub mod bio;
pub mod features;
pub mod model;
pub mod neural;
#[cfg(feature = "train")]
pub mod train;

pub use features::DocContext;
pub use model::{MODEL_FILE, NerModel, Tagging};
pub use neural::NeuralModel;
#[cfg(feature = "train")]
pub use train::{EpochReport, TrainConfig, calibrate, doc_context, evaluate, train};

#[cfg(feature = "train")]
use crate::conll::TaggedDocument;
use crate::doc::{Doc, EntityType, Stage};
use crate::error::NlpError;
use crate::limits::Deadline;
use bio::chunks;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which NER model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NerMode {
    /// The perceptron alone (hundreds of thousands of words a second).
    Fast,
    /// The perceptron combined with the MiniLM tagger (a few thousand words a second).
    #[default]
    Accurate,
}

impl NerMode {
    /// `fast` or `accurate`.
    pub fn as_str(self) -> &'static str {
        match self {
            NerMode::Fast => "fast",
            NerMode::Accurate => "accurate",
        }
    }
}

impl std::fmt::Display for NerMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for NerMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fast" => Ok(NerMode::Fast),
            "accurate" => Ok(NerMode::Accurate),
            other => Err(format!("unknown NER mode `{other}` (fast or accurate)")),
        }
    }
}

/// Where the models of each mode live; the defaults are the committed models, relative to
/// the workspace root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NerPaths {
    /// The perceptron's directory (both modes).
    pub perceptron: PathBuf,
    /// The fine-tuned encoder's directory (accurate mode).
    pub neural: PathBuf,
    /// The base encoder's directory (accurate mode).
    pub base: PathBuf,
}

/// Smallest probability taken from the perceptron's marginals before the logarithm, so one
/// confident model cannot veto a label outright.
const MIN_PROBABILITY: f32 = 1e-6;

/// A sentence's label log-probabilities from each model (`words x labels`, in the
/// perceptron's label order), before they are combined.
#[derive(Debug, Clone)]
pub struct SentenceScores {
    /// The perceptron's raw emission scores (for fast-mode decoding).
    emissions: Vec<f32>,
    /// Log of the perceptron's calibrated marginals.
    pub perceptron: Vec<f32>,
    /// The encoder's log-probabilities (accurate mode, sentences past the gate only).
    pub neural: Option<Vec<f32>>,
}

impl SentenceScores {
    /// How sure the perceptron is of the sentence: the smallest, over tokens, of the largest
    /// label marginal (1 for an empty sentence).
    pub fn certainty(&self, labels: usize) -> f32 {
        self.perceptron
            .chunks(labels.max(1))
            .map(|row| row.iter().copied().fold(f32::NEG_INFINITY, f32::max).exp())
            .fold(1.0, f32::min)
    }

    /// The same scores without the encoder's part (decodes as the fast mode).
    pub fn without_neural(&self) -> Self {
        Self {
            emissions: self.emissions.clone(),
            perceptron: self.perceptron.clone(),
            neural: None,
        }
    }
}

/// The NER stage: tags each sentence of the document and adds a mention per entity chunk,
/// typed by the model's labels (CoNLL's PER, ORG, LOC, MISC). It replaces earlier mentions.
/// Its mode is fast (perceptron alone) or accurate (perceptron and MiniLM tagger combined);
/// the models are loaded once, when the stage is built.
///
/// A second pass keeps the document consistent: a capitalized, untagged occurrence of a name
/// tagged elsewhere in the document (or of the surname of a tagged person) becomes a mention
/// too, since one sentence alone ("Trump later indicated ...") often cannot tell.
#[derive(Debug, Clone)]
pub struct NerTagger {
    model: NerModel,
    neural: Option<Arc<Neural>>,
    /// See [`neural::NeuralConfig::gate`]; kept here so a clone can change it.
    gate: f32,
}

#[derive(Debug)]
struct Neural {
    model: NeuralModel,
    /// For each perceptron label, its column in the encoder's output.
    columns: Vec<usize>,
    /// BIO-allowed transitions over the perceptron's labels.
    allowed: Vec<bool>,
    weight: f32,
}

impl NerTagger {
    /// A fast-mode stage around a loaded perceptron.
    pub fn new(model: NerModel) -> Self {
        Self {
            model,
            neural: None,
            gate: 2.0,
        }
    }

    /// An accurate-mode stage: the perceptron combined with the encoder, whose label set
    /// must be the perceptron's.
    pub fn with_neural(model: NerModel, neural: NeuralModel) -> Result<Self, NlpError> {
        let columns = model
            .labels()
            .iter()
            .map(|l| neural.labels().iter().position(|x| x == l))
            .collect::<Option<Vec<usize>>>()
            .filter(|c| c.len() == neural.labels().len())
            .ok_or_else(|| {
                NlpError::Neural(format!(
                    "label sets differ: perceptron {:?}, encoder {:?}",
                    model.labels(),
                    neural.labels()
                ))
            })?;
        let allowed = model::allowed_table(model.labels());
        let weight = neural.config().weight;
        let gate = neural.config().gate;
        Ok(Self {
            model,
            neural: Some(Arc::new(Neural {
                model: neural,
                columns,
                allowed,
                weight,
            })),
            gate,
        })
    }

    /// Loads a fast-mode stage from a model directory (or file).
    pub fn load(path: &Path) -> Result<Self, NlpError> {
        NerModel::load(path).map(Self::new)
    }

    /// Loads the models of `mode` from `paths`.
    pub fn load_mode(mode: NerMode, paths: &NerPaths) -> Result<Self, NlpError> {
        let model = NerModel::load(&paths.perceptron)?;
        match mode {
            NerMode::Fast => Ok(Self::new(model)),
            NerMode::Accurate => {
                Self::with_neural(model, NeuralModel::load(&paths.neural, &paths.base)?)
            }
        }
    }

    /// The mode this stage runs in.
    pub fn mode(&self) -> NerMode {
        if self.neural.is_some() {
            NerMode::Accurate
        } else {
            NerMode::Fast
        }
    }

    /// The perceptron.
    pub fn model(&self) -> &NerModel {
        &self.model
    }

    /// The encoder's weight in the combination (accurate mode).
    pub fn weight(&self) -> Option<f32> {
        self.neural.as_ref().map(|n| n.weight)
    }

    /// The gate of the accurate mode (see [`neural::NeuralConfig::gate`]).
    pub fn gate(&self) -> Option<f32> {
        self.neural.as_ref().map(|_| self.gate)
    }

    /// Sets the gate of the accurate mode (see [`neural::NeuralConfig::gate`]).
    pub fn set_gate(&mut self, gate: f32) {
        self.gate = gate;
    }

    /// Both models' label scores for the sentences of one document, in order. The encoder
    /// runs only on sentences where the perceptron is unsure of some token (see
    /// [`neural::NeuralConfig::gate`]); the others have no encoder part.
    pub fn scores<S: AsRef<str>>(
        &self,
        sentences: &[&[S]],
    ) -> Result<Vec<SentenceScores>, NlpError> {
        self.scores_until(sentences, None)
    }

    /// [`NerTagger::scores`], stopping with an error once `deadline` has passed (checked
    /// between encoder batches).
    pub fn scores_until<S: AsRef<str>>(
        &self,
        sentences: &[&[S]],
        deadline: Option<&Deadline>,
    ) -> Result<Vec<SentenceScores>, NlpError> {
        let mut documents = self.scores_many_until(&[sentences], deadline)?;
        Ok(documents.pop().unwrap_or_default())
    }

    /// [`NerTagger::scores_until`] of several documents' sentences (each document keeps its
    /// own context features), the encoder reading all their unsure sentences in shared
    /// batches.
    pub fn scores_many_until<S: AsRef<str>>(
        &self,
        documents: &[&[&[S]]],
        deadline: Option<&Deadline>,
    ) -> Result<Vec<Vec<SentenceScores>>, NlpError> {
        let l = self.model.labels().len();
        let mut out: Vec<Vec<SentenceScores>> = documents
            .iter()
            .map(|sentences| self.perceptron_scores(sentences))
            .collect();
        let Some(n) = &self.neural else {
            return Ok(out);
        };
        let chosen: Vec<(usize, usize)> = documents
            .iter()
            .enumerate()
            .flat_map(|(d, sentences)| (0..sentences.len()).map(move |i| (d, i)))
            .filter(|&(d, i)| !documents[d][i].is_empty() && out[d][i].certainty(l) < self.gate)
            .collect();
        let subset: Vec<&[S]> = chosen.iter().map(|&(d, i)| documents[d][i]).collect();
        let nl = n.model.labels().len();
        for (&(d, i), lp) in chosen
            .iter()
            .zip(n.model.word_log_probs_until(&subset, deadline)?)
        {
            let rows = lp.len() / nl.max(1);
            let mut reordered = vec![0.0f32; rows * l];
            for r in 0..rows {
                for (k, &c) in n.columns.iter().enumerate() {
                    reordered[r * l + k] = lp[r * nl + c];
                }
            }
            out[d][i].neural = Some(reordered);
        }
        Ok(out)
    }

    /// The perceptron's scores of one document's sentences (no encoder part yet).
    fn perceptron_scores<S: AsRef<str>>(&self, sentences: &[&[S]]) -> Vec<SentenceScores> {
        let ctx = DocContext::new(sentences);
        sentences
            .iter()
            .map(|tokens| {
                let emissions = self.model.sentence_scores(tokens, Some(&ctx));
                let perceptron = self
                    .model
                    .marginals_at(&emissions, tokens.len(), self.model.confidence_scale())
                    .into_iter()
                    .map(|p| p.max(MIN_PROBABILITY).ln())
                    .collect();
                SentenceScores {
                    emissions,
                    perceptron,
                    neural: None,
                }
            })
            .collect()
    }

    /// Decodes one sentence's scores: the perceptron's Viterbi in fast mode (or when `scores`
    /// has no encoder part), else `weight` x encoder + (1 - weight) x perceptron
    /// log-probabilities under BIO constraints (`weight`: the tuned one when `None`).
    pub fn decode(&self, scores: &SentenceScores, weight: Option<f32>) -> Tagging {
        let l = self.model.labels().len();
        let n = scores.perceptron.len() / l.max(1);
        match (&self.neural, &scores.neural) {
            (Some(nn), Some(neural)) => {
                let w = weight.unwrap_or(nn.weight).clamp(0.0, 1.0);
                let combined: Vec<f32> = neural
                    .iter()
                    .zip(&scores.perceptron)
                    .map(|(a, b)| w * a + (1.0 - w) * b)
                    .collect();
                let zero = vec![0.0f32; (l + 1) * l];
                let path = model::viterbi(&combined, n, l, &zero, &nn.allowed);
                let marg = model::marginals(&combined, n, l, &zero, &nn.allowed, 1.0);
                self.tagging(path, &marg)
            }
            _ => {
                let path = model::viterbi(
                    &scores.emissions,
                    n,
                    l,
                    self.model.transitions(),
                    self.model.allowed(),
                );
                let marg = scores
                    .perceptron
                    .iter()
                    .map(|lp| lp.exp())
                    .collect::<Vec<_>>();
                self.tagging(path, &marg)
            }
        }
    }

    fn tagging(&self, path: Vec<usize>, marg: &[f32]) -> Tagging {
        let l = self.model.labels().len();
        Tagging {
            confidence: path
                .iter()
                .enumerate()
                .map(|(i, &k)| marg.get(i * l + k).copied().unwrap_or(0.0))
                .collect(),
            tags: path
                .into_iter()
                .map(|k| self.model.labels()[k].clone())
                .collect(),
        }
    }

    /// Tags the sentences of one document.
    pub fn tag_document<S: AsRef<str>>(
        &self,
        sentences: &[&[S]],
    ) -> Result<Vec<Tagging>, NlpError> {
        self.tag_document_until(sentences, None)
    }

    /// [`NerTagger::tag_document`], stopping with an error once `deadline` has passed
    /// (checked between sentences, and between encoder batches).
    pub fn tag_document_until<S: AsRef<str>>(
        &self,
        sentences: &[&[S]],
        deadline: Option<&Deadline>,
    ) -> Result<Vec<Tagging>, NlpError> {
        if self.neural.is_none() {
            let ctx = DocContext::new(sentences);
            return sentences
                .iter()
                .map(|tokens| {
                    crate::limits::check(deadline, "ner")?;
                    Ok(self.model.tag_with_confidence(tokens, Some(&ctx)))
                })
                .collect();
        }
        Ok(self
            .scores_until(sentences, deadline)?
            .iter()
            .map(|s| self.decode(s, None))
            .collect())
    }
}

/// Tags every document of `data` with `tagger` and scores the result against the gold tags.
#[cfg(feature = "train")]
pub fn evaluate_tagger(
    tagger: &NerTagger,
    data: &[TaggedDocument],
) -> Result<crate::eval::Evaluation, NlpError> {
    let mut ev = crate::eval::Evaluation::default();
    for d in data {
        let sentences: Vec<&[String]> = d.sentences.iter().map(|s| s.tokens.as_slice()).collect();
        for (s, t) in d.sentences.iter().zip(tagger.tag_document(&sentences)?) {
            ev.add(&s.tags, &t.tags)?;
        }
    }
    Ok(ev)
}

impl Stage for NerTagger {
    fn name(&self) -> &'static str {
        "ner"
    }

    fn process(&self, doc: &mut Doc) -> Result<(), NlpError> {
        self.process_many(std::slice::from_mut(doc))
    }

    /// The encoder reads all the documents' unsure sentences in shared batches.
    fn process_many(&self, docs: &mut [Doc]) -> Result<(), NlpError> {
        let taggings: Vec<Vec<Tagging>> = {
            let words: Vec<Vec<Vec<&str>>> = docs
                .iter()
                .map(|doc| {
                    doc.sentences
                        .iter()
                        .map(|s| doc.sentence_tokens(s))
                        .collect()
                })
                .collect();
            let sentences: Vec<Vec<&[&str]>> = words
                .iter()
                .map(|doc| doc.iter().map(Vec::as_slice).collect())
                .collect();
            let documents: Vec<&[&[&str]]> = sentences.iter().map(Vec::as_slice).collect();
            if self.neural.is_none() {
                documents
                    .iter()
                    .zip(docs.iter())
                    .map(|(sentences, doc)| {
                        self.tag_document_until(sentences, doc.deadline.as_ref())
                    })
                    .collect::<Result<_, _>>()?
            } else {
                self.scores_many_until(&documents, Doc::earliest_deadline(docs))?
                    .iter()
                    .map(|scores| scores.iter().map(|s| self.decode(s, None)).collect())
                    .collect()
            }
        };
        for (doc, taggings) in docs.iter_mut().zip(taggings) {
            add_mentions(doc, taggings)?;
        }
        Ok(())
    }
}

/// Replaces the document's mentions with the chunks of its sentences' taggings, then adds
/// untagged repeats of the names found.
fn add_mentions(doc: &mut Doc, taggings: Vec<Tagging>) -> Result<(), NlpError> {
    doc.mentions.clear();
    doc.entities.clear();
    let starts: Vec<usize> = doc.sentences.iter().map(|s| s.tokens.start).collect();
    for (sentence_start, tagging) in starts.into_iter().zip(taggings) {
        for chunk in chunks(&tagging.tags) {
            // A label the contract does not know (a model trained on other data) is skipped.
            let Some(label) = EntityType::from_label(&chunk.label) else {
                continue;
            };
            let confidence = tagging.confidence[chunk.tokens.clone()]
                .iter()
                .copied()
                .fold(1.0f32, f32::min);
            let start = sentence_start + chunk.tokens.start;
            let end = sentence_start + chunk.tokens.end;
            doc.push_mention(start..end, label, confidence)?;
        }
    }
    propagate_names(doc)
}

/// Longest name, in tokens, whose untagged repeats become mentions.
const MAX_PROPAGATED_WORDS: usize = 8;

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
    // Names longer than this are not looked for again: the bound keeps the search linear.
    let longest = names
        .keys()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .min(MAX_PROPAGATED_WORDS);
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
