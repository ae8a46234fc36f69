//! The directed-sentiment corpus (DSE) of Park, Pan and Joo, "Who Blames or Endorses Whom?
//! Entity-to-Entity Directed Sentiment Extraction in News Text" (Findings of ACL 2021), and
//! the holder-stance model's evaluation on it.
//!
//! A line is `sentence \t p \t q \t label`: the sentence holds p and q in `[brackets]` (p's
//! first), the label is 0 neutral, 1 p for q, 2 q for p, 3 p against q, 4 q against p. The
//! model reads one direction at a time (holder, target); a pair's five-way label is read off
//! both directions ([`five_way`]).

use super::{Polarity, StanceClassifier, StanceExample};
use crate::doc::Span;
use crate::error::NlpError;
use crate::eval::{class_scores, ratio};
use std::collections::HashSet;
use std::path::Path;

/// One annotated pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsePair {
    /// The sentence without the brackets.
    pub sentence: String,
    /// Entity p, in code points of `sentence`.
    pub p: Span,
    /// Entity q.
    pub q: Span,
    /// 0 to 4, as in the file.
    pub label: usize,
}

/// The five classes' names, by label.
pub const CLASSES: [&str; 5] = [
    "neutral",
    "p_positive_q",
    "q_positive_p",
    "p_negative_q",
    "q_negative_p",
];

impl DsePair {
    /// The gold polarity of p toward q, and of q toward p.
    pub fn directions(&self) -> (Polarity, Polarity) {
        use Polarity::*;
        match self.label {
            1 => (Positive, Neutral),
            2 => (Neutral, Positive),
            3 => (Negative, Neutral),
            4 => (Neutral, Negative),
            _ => (Neutral, Neutral),
        }
    }
}

/// Reads a DSE file. The first bracketed span is p, the second q.
pub fn read(path: &Path) -> Result<Vec<DsePair>, NlpError> {
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
        let fields: Vec<&str> = line.split('\t').collect();
        let [marked, _, _, label] = fields[..] else {
            return Err(bad(format!("{} fields, not 4", fields.len())));
        };
        let label: usize = label
            .trim()
            .parse()
            .ok()
            .filter(|l| *l < 5)
            .ok_or_else(|| bad(format!("label {label:?} is not 0 to 4")))?;
        let (sentence, spans) = unbracket(marked);
        let [p, q] = spans[..] else {
            return Err(bad(format!("{} bracketed spans, not 2", spans.len())));
        };
        out.push(DsePair {
            sentence,
            p,
            q,
            label,
        });
    }
    Ok(out)
}

/// The text without `[` and `]`, and the code-point spans they enclosed (non-empty ones).
fn unbracket(marked: &str) -> (String, Vec<Span>) {
    let mut text = String::with_capacity(marked.len());
    let mut spans = Vec::new();
    let mut at = 0;
    let mut open = None;
    for c in marked.chars() {
        match c {
            '[' => open = Some(at),
            ']' => {
                if let Some(start) = open.take()
                    && start < at
                {
                    spans.push(Span::new(start, at));
                }
            }
            c => {
                text.push(c);
                at += 1;
            }
        }
    }
    (text, spans)
}

/// Two training examples per pair: p's stance toward q, and q's toward p.
pub fn directed_examples(pairs: &[DsePair]) -> Vec<StanceExample> {
    pairs
        .iter()
        .flat_map(|pair| {
            let (p_to_q, q_to_p) = pair.directions();
            [(pair.p, pair.q, p_to_q), (pair.q, pair.p, q_to_p)].map(
                |(holder, target, polarity)| StanceExample {
                    sentence: pair.sentence.clone(),
                    span: target,
                    holder: Some(holder),
                    polarity,
                },
            )
        })
        .collect()
}

/// Every entity of every pair as a target without a holder, once per sentence, for target
/// sentiment to learn from a teacher (`TrainConfig::transfer`): DSE's sentences without its
/// labels. Their polarity is a placeholder (neutral) that nothing reads.
pub fn targets(pairs: &[DsePair]) -> Vec<StanceExample> {
    let mut seen = HashSet::new();
    pairs
        .iter()
        .flat_map(|pair| [pair.p, pair.q].map(|span| (&pair.sentence, span)))
        .filter(|&(sentence, span)| seen.insert((sentence.as_str(), span)))
        .map(|(sentence, span)| StanceExample {
            sentence: sentence.clone(),
            span,
            holder: None,
            polarity: Polarity::Neutral,
        })
        .collect()
}

/// The five-way label of a pair from the two directions' probabilities (against, neutral,
/// for): the likeliest of "neither holds a stance" and "exactly one does", each direction's
/// probabilities multiplied by the model's decision `weights` when it has them.
pub fn five_way(p_to_q: [f32; 3], q_to_p: [f32; 3], weights: Option<[f32; 3]>) -> usize {
    let w = weights.unwrap_or([1.0; 3]);
    let [pn, p0, pp] = [0, 1, 2].map(|c| p_to_q[c] * w[c]);
    let [qn, q0, qp] = [0, 1, 2].map(|c| q_to_p[c] * w[c]);
    let scores = [p0 * q0, pp * q0, qp * p0, pn * q0, qn * p0];
    (0..5).fold(0, |best, c| if scores[c] > scores[best] { c } else { best })
}

/// Decision weights (against, 1 for neutral, for) that maximise the five-way macro-F1 of
/// `directions` on `pairs`, searched on a grid of multipliers from 1/2 to 16; with the F1m
/// they reach. Choose them on pairs the model was not trained on, and score them on others.
pub fn choose_decision_weights(
    pairs: &[DsePair],
    directions: &[Directions],
) -> Result<([f32; 3], f64), NlpError> {
    let gold: Vec<usize> = pairs.iter().map(|p| p.label).collect();
    let f1m = |w: [f32; 3]| -> Result<f64, NlpError> {
        let predicted: Vec<usize> = directions
            .iter()
            .map(|&(pq, qp)| five_way(pq, qp, Some(w)))
            .collect();
        Ok(score(&gold, &predicted)?.f1m)
    };
    // Multipliers 2^(k/4) for k = -4..=16: steps of about 19%.
    let grid: Vec<f32> = (-4..=16).map(|k| 2f32.powf(k as f32 / 4.0)).collect();
    let mut best = ([1.0; 3], f1m([1.0; 3])?);
    for &against in &grid {
        for &favour in &grid {
            let w = [against, 1.0, favour];
            let f = f1m(w)?;
            if f > best.1 {
                best = (w, f);
            }
        }
    }
    Ok(best)
}

/// The temperature (see [`crate::stance::model::tempered`]) that minimises the mean negative
/// log-likelihood of the gold polarity of every direction of `pairs`, searched from 1/2 to 4
/// in steps of 2^(1/8); with that likelihood at temperature 1 and at the one chosen. Choose it
/// on pairs the model was not trained on.
pub fn choose_temperature(pairs: &[DsePair], directions: &[Directions]) -> (f32, f64, f64) {
    let nll = |t: f32| -> f64 {
        let mut sum = 0f64;
        let mut n = 0usize;
        for (pair, &(pq, qp)) in pairs.iter().zip(directions) {
            let (gold_pq, gold_qp) = pair.directions();
            for (p, gold) in [(pq, gold_pq), (qp, gold_qp)] {
                let p = crate::stance::model::tempered(p, Some(t));
                sum -= f64::from(p[gold.index()].max(1e-7)).ln();
                n += 1;
            }
        }
        if n == 0 { 0.0 } else { sum / n as f64 }
    };
    let at_one = nll(1.0);
    let mut best = (1.0, at_one);
    for k in -8..=16 {
        let t = 2f32.powf(k as f32 / 8.0);
        let loss = nll(t);
        if loss < best.1 {
            best = (t, loss);
        }
    }
    (best.0, at_one, best.1)
}

/// Scores of the five-way prediction.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DseScores {
    /// Macro-F1 over the five classes.
    pub f1m: f64,
    /// Share of pairs labelled right.
    pub accuracy: f64,
    /// Per class, in label order: name, precision, recall, F1, support.
    pub per_class: Vec<DseClass>,
    /// `confusion[gold][predicted]`.
    pub confusion: [[usize; 5]; 5],
    /// Pairs scored.
    pub total: usize,
}

/// One class's scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DseClass {
    /// The class's name ([`CLASSES`]).
    pub name: &'static str,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Gold pairs of the class.
    pub support: usize,
}

/// Scores five-way predictions against gold labels.
pub fn score(gold: &[usize], predicted: &[usize]) -> Result<DseScores, NlpError> {
    if gold.len() != predicted.len() || gold.is_empty() {
        return Err(NlpError::Evaluation(format!(
            "{} gold labels and {} predictions",
            gold.len(),
            predicted.len()
        )));
    }
    let mut confusion = [[0usize; 5]; 5];
    for (&g, &p) in gold.iter().zip(predicted) {
        if g >= 5 || p >= 5 {
            return Err(NlpError::Evaluation(format!(
                "label {g} or {p} is not 0 to 4"
            )));
        }
        confusion[g][p] += 1;
    }
    let per_class: Vec<DseClass> = CLASSES
        .iter()
        .zip(class_scores(&confusion))
        .map(|(&name, (s, support))| DseClass {
            name,
            precision: s.precision,
            recall: s.recall,
            f1: s.f1,
            support,
        })
        .collect();
    let correct: usize = (0..5).map(|c| confusion[c][c]).sum();
    Ok(DseScores {
        f1m: per_class.iter().map(|c| c.f1).sum::<f64>() / 5.0,
        accuracy: ratio(correct, gold.len()),
        per_class,
        confusion,
        total: gold.len(),
    })
}

/// A pair's two directions' probabilities (against, neutral, for): p toward q, q toward p.
pub type Directions = ([f32; 3], [f32; 3]);

/// Each pair's two directions' probabilities from a holder-stance model.
pub fn predict(
    classifier: &StanceClassifier,
    pairs: &[DsePair],
) -> Result<Vec<Directions>, NlpError> {
    let items: Vec<(&str, Span, Span)> = pairs
        .iter()
        .flat_map(|pair| {
            [
                (pair.sentence.as_str(), pair.q, pair.p),
                (pair.sentence.as_str(), pair.p, pair.q),
            ]
        })
        .collect();
    let probs = classifier.classify_held_until(&items, None)?;
    Ok(probs
        .chunks(2)
        .map(|two| (two[0].1, two.get(1).map_or([0.0, 1.0, 0.0], |t| t.1)))
        .collect())
}

/// Each pair's two directions read by a target-sentiment model, which marks no holder: "p
/// toward q" is the sentence's portrayal of q, "q toward p" its portrayal of p (how newsflow
/// read a speaker's stance before it had a holder-stance model).
pub fn predict_portrayal(
    classifier: &StanceClassifier,
    pairs: &[DsePair],
) -> Result<Vec<Directions>, NlpError> {
    let items: Vec<(&str, Span)> = pairs
        .iter()
        .flat_map(|pair| {
            [
                (pair.sentence.as_str(), pair.q),
                (pair.sentence.as_str(), pair.p),
            ]
        })
        .collect();
    let probs = classifier.classify_batch(&items)?;
    Ok(probs
        .chunks(2)
        .map(|two| (two[0].1, two.get(1).map_or([0.0, 1.0, 0.0], |t| t.1)))
        .collect())
}

/// Predicts every pair with a holder-stance model and scores the five-way labels.
pub fn evaluate(classifier: &StanceClassifier, pairs: &[DsePair]) -> Result<DseScores, NlpError> {
    let predicted: Vec<usize> = predict(classifier, pairs)?
        .into_iter()
        .map(|(p_to_q, q_to_p)| five_way(p_to_q, q_to_p, classifier.decision_weights()))
        .collect();
    let gold: Vec<usize> = pairs.iter().map(|p| p.label).collect();
    score(&gold, &predicted)
}

/// One bin of a reliability diagram: the directional predictions whose stated confidence (the
/// probability of the predicted class) falls in `[low, high)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReliabilityBin {
    /// Lower edge.
    pub low: f64,
    /// Upper edge.
    pub high: f64,
    /// Predictions in the bin.
    pub count: usize,
    /// Their mean confidence.
    pub confidence: f64,
    /// The share of them that are right.
    pub accuracy: f64,
}

/// A reliability diagram of the directional predictions (each pair's two directions against
/// their gold polarity) in `bins` equal bins of confidence, and the expected calibration error
/// (the count-weighted mean gap between confidence and accuracy).
pub fn reliability(
    pairs: &[DsePair],
    directions: &[Directions],
    bins: usize,
) -> (Vec<ReliabilityBin>, f64) {
    let bins = bins.max(1);
    let mut sums = vec![(0usize, 0f64, 0usize); bins];
    for (pair, (pq, qp)) in pairs.iter().zip(directions) {
        let (gold_pq, gold_qp) = pair.directions();
        for (p, gold) in [(pq, gold_pq), (qp, gold_qp)] {
            let best = (0..3).fold(0, |b, c| if p[c] > p[b] { c } else { b });
            let confidence = f64::from(p[best]);
            let bin = ((confidence * bins as f64) as usize).min(bins - 1);
            sums[bin].0 += 1;
            sums[bin].1 += confidence;
            sums[bin].2 += usize::from(best == gold.index());
        }
    }
    let total: usize = sums.iter().map(|s| s.0).sum();
    let mut ece = 0.0;
    let table = sums
        .iter()
        .enumerate()
        .map(|(i, &(count, confidence, right))| {
            let (confidence, accuracy) = if count == 0 {
                (0.0, 0.0)
            } else {
                (confidence / count as f64, right as f64 / count as f64)
            };
            ece += ratio(count, total) * (confidence - accuracy).abs();
            ReliabilityBin {
                low: i as f64 / bins as f64,
                high: (i + 1) as f64 / bins as f64,
                count,
                confidence,
                accuracy,
            }
        })
        .collect();
    (table, ece)
}

/// The sentence as compared across files: brackets gone, white space collapsed.
pub fn sentence_key(sentence: &str) -> String {
    sentence.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The pairs whose sentence occurs nowhere in `seen` (the rows that show whether a model
/// generalises rather than remembers sentences).
pub fn unseen_in(pairs: &[DsePair], seen: &[DsePair]) -> Vec<DsePair> {
    let known: HashSet<String> = seen.iter().map(|p| sentence_key(&p.sentence)).collect();
    pairs
        .iter()
        .filter(|p| !known.contains(&sentence_key(&p.sentence)))
        .cloned()
        .collect()
}

/// Splits pairs by sentence: about `share` of the sentences (chosen by a hash of the sentence
/// and `seed`) and all their pairs go to the second part, so no sentence is in both.
pub fn split_by_sentence(pairs: &[DsePair], share: f64, seed: u64) -> (Vec<DsePair>, Vec<DsePair>) {
    pairs
        .iter()
        .cloned()
        .partition(|p| !held_out(&p.sentence, share, seed))
}

/// Whether `sentence` falls in the held-out `share` of sentences for `seed`: a hash of the
/// sentence (its words, spacing aside), so every item of one sentence falls the same way.
pub fn held_out(sentence: &str, share: f64, seed: u64) -> bool {
    // FNV-1a over the key, mixed with the seed: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in sentence_key(sentence).bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    (h % 10_000) as f64 / 10_000.0 < share
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pair of "a b", p = "a" and q = "b", with `label`.
    fn pair(label: usize) -> DsePair {
        DsePair {
            sentence: "a b".into(),
            p: Span::new(0, 1),
            q: Span::new(2, 3),
            label,
        }
    }

    #[test]
    fn brackets_give_spans_in_the_plain_sentence() {
        let (text, spans) = unbracket("Café [Obama] met “[the Kremlin]”.");
        assert_eq!(text, "Café Obama met “the Kremlin”.");
        let chars: Vec<char> = text.chars().collect();
        let word = |s: Span| chars[s.start..s.end].iter().collect::<String>();
        assert_eq!(word(spans[0]), "Obama");
        assert_eq!(word(spans[1]), "the Kremlin");
    }

    #[test]
    fn five_way_reads_both_directions() {
        let neutral = [0.1, 0.8, 0.1];
        assert_eq!(five_way(neutral, neutral, None), 0);
        assert_eq!(five_way([0.1, 0.2, 0.7], neutral, None), 1);
        assert_eq!(five_way(neutral, [0.1, 0.2, 0.7], None), 2);
        assert_eq!(five_way([0.7, 0.2, 0.1], neutral, None), 3);
        assert_eq!(five_way(neutral, [0.7, 0.2, 0.1], None), 4);
        // A stance at 0.3 loses to neutral unless it weighs more.
        let weak_for = [0.1, 0.6, 0.3];
        assert_eq!(five_way(weak_for, neutral, None), 0);
        assert_eq!(five_way(weak_for, neutral, Some([1.0, 1.0, 3.0])), 1);
    }

    #[test]
    fn decision_weights_recover_a_rare_class() {
        let neutral = [0.1, 0.8, 0.1];
        // Five neutral pairs read confidently; two "p for q" pairs read with for at 0.3.
        let mut pairs: Vec<DsePair> = (0..5).map(|_| pair(0)).collect();
        let mut directions: Vec<Directions> = vec![(neutral, neutral); 5];
        for _ in 0..2 {
            pairs.push(pair(1));
            directions.push(([0.1, 0.6, 0.3], neutral));
        }
        let (w, f1m) = choose_decision_weights(&pairs, &directions).unwrap();
        assert!(w[2] > 2.0, "{w:?}");
        let plain = score(
            &pairs.iter().map(|p| p.label).collect::<Vec<_>>(),
            &directions
                .iter()
                .map(|&(a, b)| five_way(a, b, None))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(f1m > plain.f1m, "{f1m} <= {}", plain.f1m);
    }

    #[test]
    fn an_overconfident_reading_gets_a_temperature_above_one() {
        // Always 0.99 sure of neutral, right in 17 of the 20 directions.
        let sure = [0.005, 0.99, 0.005];
        let pairs: Vec<DsePair> = (0..10).map(|i| pair(if i < 7 { 0 } else { 3 })).collect();
        let directions: Vec<Directions> = vec![(sure, sure); 10];
        let (t, before, after) = choose_temperature(&pairs, &directions);
        assert!(t > 1.5, "{t}");
        assert!(after < before, "{after} >= {before}");
        let softened = crate::stance::model::tempered(sure, Some(t));
        assert!(softened[1] < 0.99 && softened[1] > 0.5, "{softened:?}");
        assert!((softened.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        // No temperature, or 1, leaves the probabilities as they are.
        assert_eq!(crate::stance::model::tempered(sure, None), sure);
        assert_eq!(crate::stance::model::tempered(sure, Some(1.0)), sure);
    }

    #[test]
    fn labels_map_to_directions() {
        assert_eq!(
            pair(4).directions(),
            (Polarity::Neutral, Polarity::Negative)
        );
        let examples = directed_examples(&[pair(1)]);
        assert_eq!(examples[0].holder, Some(Span::new(0, 1)));
        assert_eq!(examples[0].polarity, Polarity::Positive);
        assert_eq!(examples[1].holder, Some(Span::new(2, 3)));
        assert_eq!(examples[1].polarity, Polarity::Neutral);
    }

    #[test]
    fn macro_f1_over_five_classes() {
        let s = score(&[0, 1, 2, 3, 4], &[0, 1, 2, 3, 0]).unwrap();
        assert!((s.accuracy - 0.8).abs() < 1e-12);
        // neutral P 0.5 R 1 F1 2/3; classes 1-3 perfect; class 4 F1 0.
        assert!((s.f1m - (2.0 / 3.0 + 3.0) / 5.0).abs() < 1e-12);
        assert!(score(&[0], &[]).is_err());
    }

    #[test]
    fn split_keeps_each_sentence_on_one_side() {
        let pairs: Vec<DsePair> = (0..200)
            .flat_map(|i| {
                (0..2).map(move |label| DsePair {
                    sentence: format!("sentence {i}"),
                    p: Span::new(0, 1),
                    q: Span::new(2, 3),
                    label,
                })
            })
            .collect();
        let (train, held) = split_by_sentence(&pairs, 0.2, 7);
        assert!(!held.is_empty() && held.len() < 160);
        assert!(unseen_in(&held, &train).len() == held.len());
        assert_eq!(train.len() + held.len(), pairs.len());
    }
}
