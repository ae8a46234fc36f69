//! Scores of a three-class polarity prediction: accuracy, per-class precision, recall and F1,
//! and their macro average (NewsMTSC's F1m).

use super::Polarity;
use crate::error::NlpError;
use crate::eval::{class_scores, ratio};

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScores {
    /// The class.
    pub polarity: Polarity,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Gold examples of the class.
    pub support: usize,
}

/// The scores of one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct StanceScores {
    /// Macro-averaged F1 over the three classes.
    pub f1m: f64,
    /// Share of examples predicted right.
    pub accuracy: f64,
    /// Per class, negative, neutral, positive.
    pub classes: Vec<ClassScores>,
    /// `confusion[gold][predicted]`, classes in [`Polarity::ALL`] order.
    pub confusion: [[usize; 3]; 3],
    /// Number of examples.
    pub total: usize,
}

/// Scores `predicted` against `gold`.
pub fn score(gold: &[Polarity], predicted: &[Polarity]) -> Result<StanceScores, NlpError> {
    if gold.len() != predicted.len() {
        return Err(NlpError::Evaluation(format!(
            "{} gold labels but {} predictions",
            gold.len(),
            predicted.len()
        )));
    }
    if gold.is_empty() {
        return Err(NlpError::Evaluation("nothing to score".into()));
    }
    let mut confusion = [[0usize; 3]; 3];
    for (g, p) in gold.iter().zip(predicted) {
        confusion[g.index()][p.index()] += 1;
    }
    let classes: Vec<ClassScores> = Polarity::ALL
        .iter()
        .zip(class_scores(&confusion))
        .map(|(&polarity, (scores, support))| ClassScores {
            polarity,
            precision: scores.precision,
            recall: scores.recall,
            f1: scores.f1,
            support,
        })
        .collect();
    let correct: usize = (0..3).map(|c| confusion[c][c]).sum();
    Ok(StanceScores {
        f1m: classes.iter().map(|c| c.f1).sum::<f64>() / 3.0,
        accuracy: ratio(correct, gold.len()),
        classes,
        confusion,
        total: gold.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Polarity::*;

    #[test]
    fn macro_f1_and_accuracy() {
        let gold = [Negative, Negative, Neutral, Positive];
        let pred = [Negative, Neutral, Neutral, Positive];
        let s = score(&gold, &pred).unwrap();
        assert!((s.accuracy - 0.75).abs() < 1e-12);
        // negative: P 1, R 0.5, F1 2/3; neutral: P 0.5, R 1, F1 2/3; positive: 1.
        assert!((s.f1m - (2.0 / 3.0 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
        assert_eq!(s.confusion[0][1], 1);
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        assert!(score(&[Neutral], &[]).is_err());
        assert!(score(&[], &[]).is_err());
    }
}
