//! Target-dependent stance: the polarity (negative / neutral / positive) of a sentence toward
//! one target mentioned in it, from a fine-tuned MiniLM.
//!
//! The target is wrapped in marker tokens (`[unused0]` .. `[unused1]`) and a linear head reads
//! the `[CLS]` state concatenated with the mean of the target's WordPiece states. Only the top
//! layers of the encoder are fine-tuned; the model directory stores those layers (int8 per row
//! with a scale, see [`model`]) and the head, and loads them over the base encoder from
//! `models/base/` at run time. A model may hold several members (seeds) whose probabilities
//! are averaged; they share the frozen lower layers, so each extra member costs only its
//! top layers.
//!
//! [`read_jsonl`] reads NewsMTSC files, [`metrics`] scores predictions (F1m, accuracy) and
//! [`train`] fine-tunes. [`predicates`] finds the stance verbs ("ruled out", "backed") that
//! govern a target, a rule the stance service puts before the model for speakers.

pub mod input;
pub mod metrics;
pub mod model;
pub mod predicates;
pub mod train;

pub use input::{StanceInput, build_input};
pub use metrics::{StanceScores, score};
pub use model::StanceClassifier;
pub use train::{TrainConfig, TrainReport};

use crate::doc::Span;
use crate::error::NlpError;
use std::path::Path;

/// Where the committed stance model lives, relative to the workspace root.
pub const DEFAULT_MODEL_DIR: &str = "models/stance-minilm";

/// The polarity of a stance, the contract's `Polarity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Polarity {
    /// Against the target.
    Negative,
    /// Neither.
    Neutral,
    /// For the target.
    Positive,
}

impl Polarity {
    /// The three classes in the order of the model's outputs.
    pub const ALL: [Polarity; 3] = [Polarity::Negative, Polarity::Neutral, Polarity::Positive];

    /// Index into [`Polarity::ALL`] and into probability arrays.
    pub fn index(self) -> usize {
        match self {
            Polarity::Negative => 0,
            Polarity::Neutral => 1,
            Polarity::Positive => 2,
        }
    }

    /// NewsMTSC's value: -1, 0, 1.
    pub fn value(self) -> i8 {
        self.index() as i8 - 1
    }

    /// From NewsMTSC's value.
    pub fn from_value(v: i64) -> Option<Self> {
        match v {
            -1 => Some(Polarity::Negative),
            0 => Some(Polarity::Neutral),
            1 => Some(Polarity::Positive),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::Negative => "negative",
            Polarity::Neutral => "neutral",
            Polarity::Positive => "positive",
        }
    }
}

/// One labelled target: a sentence, the target's code-point span and the gold polarity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanceExample {
    /// The sentence.
    pub sentence: String,
    /// The target mention, in code points.
    pub span: Span,
    /// Gold polarity.
    pub polarity: Polarity,
}

#[derive(serde::Deserialize)]
struct RawExample {
    sentence: String,
    from: usize,
    to: usize,
    polarity: i64,
}

/// Reads a NewsMTSC JSON-lines file (`sentence`, `from`, `to`, `polarity`).
pub fn read_jsonl(path: &Path) -> Result<Vec<StanceExample>, NlpError> {
    let text = std::fs::read_to_string(path).map_err(|e| NlpError::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| NlpError::Data {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        let raw: RawExample = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let polarity = Polarity::from_value(raw.polarity)
            .ok_or_else(|| bad(format!("polarity {} is not -1, 0 or 1", raw.polarity)))?;
        out.push(StanceExample {
            sentence: raw.sentence,
            span: Span::new(raw.from, raw.to),
            polarity,
        });
    }
    Ok(out)
}

/// Predicts every example with `classifier` and scores the predictions.
pub fn evaluate(
    classifier: &StanceClassifier,
    examples: &[StanceExample],
) -> Result<StanceScores, NlpError> {
    let items: Vec<(&str, Span)> = examples
        .iter()
        .map(|e| (e.sentence.as_str(), e.span))
        .collect();
    let predicted: Vec<Polarity> = classifier
        .classify_batch(&items)?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let gold: Vec<Polarity> = examples.iter().map(|e| e.polarity).collect();
    score(&gold, &predicted)
}
