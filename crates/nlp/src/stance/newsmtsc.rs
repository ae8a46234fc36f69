//! The NewsMTSC corpus (JSON lines of `sentence`, `from`, `to`, `polarity`) and evaluation of
//! the classifier on it.

use super::{Polarity, StanceClassifier, StanceScores, score};
use crate::doc::Span;
use crate::error::NlpError;
use std::path::Path;

/// One labelled target: a sentence, the target's code-point span and the gold polarity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanceExample {
    /// The sentence.
    pub sentence: String,
    /// The target mention, in code points.
    pub span: Span,
    /// Whose stance it is, in code points: set for the holder-stance model's examples, none
    /// for target sentiment (NewsMTSC).
    pub holder: Option<Span>,
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
            holder: None,
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
