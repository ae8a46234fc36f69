//! The second learned step: whether a candidate statement (a cue with the source and content
//! the rules found for it) is a statement at all.
//!
//! The cue model proposes cues generously (its candidate threshold is low); this logistic
//! regression looks at the whole candidate — the cue's probability and words, what the source
//! looks like (a pronoun, a name, "the spokesman", an entity mention, on which side of the
//! cue), the content (length, kind, side, first word) — and keeps the candidates it scores at
//! or above its threshold. It is trained on PolNeAR train with candidates from cue models
//! cross-fitted on the other half of the articles (so their probabilities look like those on
//! unseen text); a candidate is positive when its cue overlaps a gold cue and its source
//! overlaps that attribution's gold source (or neither has one), so that the filter also
//! drops candidates whose speaker the rules got wrong: a wrong speaker is worse than a
//! missing statement.
//!
//! The model file (`frames.tsv`) is plain text: a header, the threshold, the cue model's
//! candidate threshold, and the weights (`w\tFEATURE\tWEIGHT`).

use crate::doc::{Doc, Span};
use crate::error::NlpError;
use crate::lexicon::{WordSet, words};
use crate::statements::cues::{Cue, sigmoid};
use crate::statements::spans::{Frame, PRONOUN_SOURCES};
use crate::statements::tsv;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// File name of the frame model inside a model directory.
pub const FRAME_MODEL_FILE: &str = "frames.tsv";
const HEADER: &str = "newsflow-statements-frames\t1";

/// The candidate classifier.
#[derive(Debug, Clone)]
pub struct FrameModel {
    pub(crate) weights: HashMap<String, f32>,
    /// Probability at or above which a candidate becomes a statement.
    pub threshold: f32,
    /// Cue probability at or above which a cue becomes a candidate.
    pub cue_threshold: f32,
}

static DETERMINERS: WordSet = words!("statements/determiners.txt");

fn bucket_len(n: usize) -> usize {
    match n {
        0..=2 => n,
        3..=4 => 3,
        5..=8 => 5,
        9..=16 => 9,
        17..=32 => 17,
        _ => 33,
    }
}

/// Features of a candidate.
pub(crate) fn features(doc: &Doc, cue: &Cue, frame: &Frame) -> Vec<String> {
    let low = |token: usize| doc.token_text(token).to_lowercase();
    let cue_words: Vec<String> = cue.tokens.clone().map(low).collect();
    let cue_word = cue_words.join("_");
    let mut out = vec![
        "b".to_string(),
        format!("cp={}", (cue.confidence * 10.0).floor().min(9.0) as u32),
        format!("cw={cue_word}"),
        format!("clen={}", cue.tokens.len().min(3)),
        format!("kind={}", frame.kind.as_str()),
    ];
    let source_shape = match &frame.source {
        None => "none".to_string(),
        Some(source) => {
            let side = if source.start < cue.tokens.start {
                "left"
            } else {
                "right"
            };
            let first = low(source.start);
            let last = low(source.end - 1);
            let shape = if source.len() == 1 && PRONOUN_SOURCES.contains(first.as_str()) {
                first.clone()
            } else if DETERMINERS.contains(first.as_str()) {
                "det".to_string()
            } else if doc
                .token_text(source.start)
                .chars()
                .next()
                .is_some_and(char::is_uppercase)
            {
                "cap".to_string()
            } else {
                "low".to_string()
            };
            let span = Span::new(
                doc.tokens[source.start].span.start,
                doc.tokens[source.end - 1].span.end,
            );
            let mention = doc
                .mentions
                .iter()
                .find(|m| m.span.start < span.end && span.start < m.span.end)
                .map_or("none", |m| m.label.as_str());
            out.push(format!("slen={}", bucket_len(source.len())));
            out.push(format!("sf={first}"));
            out.push(format!("sl={last}"));
            out.push(format!("sm={mention}"));
            out.push(format!("sside={side}"));
            out.push(format!("sside={side}|cw={cue_word}"));
            format!("{side}:{shape}")
        }
    };
    out.push(format!("src={source_shape}"));
    out.push(format!("src={source_shape}|cw={cue_word}"));
    let content = &frame.content;
    let content_side = if content.start >= cue.tokens.end {
        "after"
    } else {
        "before"
    };
    out.push(format!("ctl={}", bucket_len(content.len())));
    out.push(format!("cside={content_side}"));
    out.push(format!("cside={content_side}|kind={}", frame.kind.as_str()));
    out.push(format!("cf={}", low(content.start)));
    out.push(format!("cw={cue_word}|kind={}", frame.kind.as_str()));
    out.push(format!("cw={cue_word}|cside={content_side}"));
    out
}

impl FrameModel {
    /// The probability that a candidate is a statement.
    pub fn prob(&self, doc: &Doc, cue: &Cue, frame: &Frame) -> f32 {
        let z: f32 = features(doc, cue, frame)
            .iter()
            .filter_map(|f| self.weights.get(f))
            .sum();
        sigmoid(z)
    }

    /// Writes `frames.tsv` into `dir` (created if missing); returns the file's path.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, NlpError> {
        tsv::save(
            dir,
            FRAME_MODEL_FILE,
            HEADER,
            &[
                ("threshold", self.threshold),
                ("cue_threshold", self.cue_threshold),
            ],
            [],
            &self.weights,
        )
    }

    /// Loads `frames.tsv` from a model directory (or the file itself).
    pub fn load(path: &Path) -> Result<Self, NlpError> {
        let mut threshold = 0.5;
        let mut cue_threshold = 0.5;
        let weights = tsv::load(path, FRAME_MODEL_FILE, HEADER, "frame", |fields| {
            match fields {
                ["threshold", value] => threshold = tsv::finite(value)?,
                ["cue_threshold", value] => cue_threshold = tsv::finite(value)?,
                _ => return None,
            }
            Some(())
        })?;
        Ok(FrameModel {
            weights,
            threshold,
            cue_threshold,
        })
    }
}
