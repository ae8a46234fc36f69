//! Entity-level evaluation with the semantics of the CoNLL shared task's `conlleval`: a
//! predicted entity counts only when its span and type both match a gold entity exactly;
//! precision, recall and F1 per type and overall (micro-averaged over entities).
//!
//! As in conlleval, an `I-X` that does not continue an `X` chunk opens a new chunk, so
//! ill-formed taggings are scored rather than rejected.

use crate::error::NlpError;
use crate::ner::bio::chunks;
use std::collections::BTreeMap;

/// Counts for one type, or overall.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Predicted chunks that match a gold chunk exactly.
    pub correct: usize,
    /// Predicted chunks.
    pub predicted: usize,
    /// Gold chunks.
    pub gold: usize,
}

/// Precision, recall and F1 (fractions in [0, 1]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    /// correct / predicted.
    pub precision: f64,
    /// correct / gold.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

/// Per class of a confusion matrix (`confusion[gold][predicted]`), its precision, recall and
/// F1 and its support (gold examples): what the classifiers' scores share.
pub fn class_scores<const N: usize>(confusion: &[[usize; N]; N]) -> [(Scores, usize); N] {
    std::array::from_fn(|c| {
        let right = confusion[c][c];
        let support: usize = confusion[c].iter().sum();
        let predicted: usize = confusion.iter().map(|row| row[c]).sum();
        (
            Scores::from_counts(right, predicted, right, support),
            support,
        )
    })
}

/// `part / whole`, 0 where `whole` is 0.
pub fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

impl Scores {
    /// Precision `predicted_right / predicted`, recall `gold_found / gold` and their harmonic
    /// mean; 0 where a denominator is 0 (as conlleval prints).
    pub fn from_counts(
        predicted_right: usize,
        predicted: usize,
        gold_found: usize,
        gold: usize,
    ) -> Self {
        let precision = ratio(predicted_right, predicted);
        let recall = ratio(gold_found, gold);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Scores {
            precision,
            recall,
            f1,
        }
    }
}

impl Counts {
    /// The scores of these counts (0 where a denominator is 0, as conlleval prints).
    pub fn scores(&self) -> Scores {
        Scores::from_counts(self.correct, self.predicted, self.correct, self.gold)
    }
}

/// Accumulates counts over sentences.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// Counts over all types.
    pub overall: Counts,
    /// Counts per type, by type name.
    pub per_type: BTreeMap<String, Counts>,
    /// Tokens seen.
    pub tokens: usize,
    /// Tokens whose predicted tag equals the gold tag.
    pub correct_tags: usize,
}

impl Evaluation {
    /// Adds one sentence's gold and predicted tags, which must be the same length.
    pub fn add<G: AsRef<str>, P: AsRef<str>>(
        &mut self,
        gold: &[G],
        predicted: &[P],
    ) -> Result<(), NlpError> {
        if gold.len() != predicted.len() {
            return Err(NlpError::Evaluation(format!(
                "{} gold tags but {} predicted",
                gold.len(),
                predicted.len()
            )));
        }
        self.tokens += gold.len();
        self.correct_tags += gold
            .iter()
            .zip(predicted)
            .filter(|(g, p)| g.as_ref() == p.as_ref())
            .count();
        let gold_chunks = chunks(gold);
        let pred_chunks = chunks(predicted);
        for c in &gold_chunks {
            self.overall.gold += 1;
            self.per_type.entry(c.label.clone()).or_default().gold += 1;
        }
        for c in &pred_chunks {
            self.overall.predicted += 1;
            let entry = self.per_type.entry(c.label.clone()).or_default();
            entry.predicted += 1;
            if gold_chunks.contains(c) {
                entry.correct += 1;
                self.overall.correct += 1;
            }
        }
        Ok(())
    }

    /// Token-level accuracy.
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct_tags, self.tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_match_scores() {
        let mut ev = Evaluation::default();
        ev.add(
            &["B-PER", "I-PER", "O", "B-LOC", "O"],
            &["B-PER", "O", "O", "B-LOC", "B-ORG"],
        )
        .expect("same length");
        assert_eq!(
            ev.overall,
            Counts {
                correct: 1,
                predicted: 3,
                gold: 2
            }
        );
        let s = ev.overall.scores();
        assert!((s.precision - 1.0 / 3.0).abs() < 1e-9);
        assert!((s.recall - 0.5).abs() < 1e-9);
        assert!((s.f1 - 0.4).abs() < 1e-9);
        assert_eq!(ev.per_type["LOC"].scores().f1, 1.0);
        assert_eq!(ev.per_type["PER"].correct, 0);
        assert_eq!(ev.per_type["ORG"].gold, 0);
        assert!(ev.add(&["O"], &["O", "O"]).is_err());
    }
}
