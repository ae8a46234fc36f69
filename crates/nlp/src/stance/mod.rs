//! Target-dependent stance: the polarity (negative / neutral / positive) of a sentence toward
//! one target mentioned in it, from a fine-tuned MiniLM.
//!
//! The target is wrapped in marker tokens (`[unused0]` .. `[unused1]`) and a linear head reads
//! the `[CLS]` state concatenated with the mean of the target's WordPiece states. A plain
//! model ([`input::Marking::Plain`]) reads the sentence unmarked, so all the targets of a
//! sentence share one encoder pass and differ only in the states pooled. Only the top
//! layers of the encoder are fine-tuned; the model directory stores those layers (int8 per row
//! with a scale, see [`model`]) and the head, and loads them over the base encoder from
//! `models/base/` at run time. A model may hold several members (seeds) whose probabilities
//! are averaged; they share the frozen lower layers, so each extra member costs only its
//! top layers.
//!
//! [`stage::StanceStage`] is the pipeline stage: every target of every sentence, a speaker's
//! or the text's own. [`predicates`] finds the stance verbs ("ruled out", "backed") that
//! govern a target, a rule the stage puts before the model for speakers.
//!
//! The same classifier with the holder's states pooled too is the holder-stance model: whether
//! the holder is for or against the target, not how the words portray the target. It can mark
//! the holder as well (`[unused2]` .. `[unused3]`); the committed one reads the plain sentence,
//! so every holder-target pair of a sentence shares its pass.
//!
//! With the `train` feature: [`newsmtsc`] reads NewsMTSC files and evaluates on them, [`dse`]
//! does the same for the directed-sentiment corpus the holder-stance model learns from,
//! [`metrics`] scores predictions (F1m, accuracy) and [`train`] fine-tunes.

pub mod affiliation;
#[cfg(feature = "train")]
pub mod dse;
pub mod input;
#[cfg(feature = "train")]
pub mod metrics;
pub mod model;
#[cfg(feature = "train")]
pub mod newsmtsc;
pub mod predicates;
pub mod stage;
#[cfg(feature = "train")]
pub mod train;

pub use input::{Marking, StanceInput, build_input};
#[cfg(feature = "train")]
pub use metrics::{StanceScores, score};
pub use model::StanceClassifier;
#[cfg(feature = "train")]
pub use newsmtsc::{StanceExample, evaluate, read_jsonl};
pub use stage::StanceStage;
#[cfg(feature = "train")]
pub use train::{TrainConfig, TrainReport};

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
