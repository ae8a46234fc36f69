//! Training the NER model: the averaged structured perceptron (Collins 2002). Each epoch
//! visits the training sentences in a seeded random order, decodes each with Viterbi under
//! BIO constraints and, where the prediction is wrong, moves the weights toward the gold
//! features and away from the predicted ones. The saved weights are the average over all
//! steps, which generalizes far better than the last ones.

use super::bio::entity_types;
use super::features::{self, DocContext};
use super::model::{FeatureIndex, NerModel, allowed_table, viterbi};
use crate::conll::{TaggedDocument, TaggedSentence};
use crate::error::NlpError;
use crate::eval::{Evaluation, Scores};
use crate::xorshift::Xorshift;
use std::collections::HashMap;
use std::time::Instant;

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Features seen fewer times than this in training are dropped.
    pub min_count: u32,
    /// Seed of the shuffling.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 12,
            min_count: 1,
            seed: 13,
        }
    }
}

/// What one epoch did.
#[derive(Debug, Clone)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Training sentences the model got wrong during the epoch.
    pub mistakes: usize,
    /// Seconds the epoch took (training only).
    pub seconds: f64,
    /// Scores of the averaged weights on the development set, when one was given.
    pub dev: Option<Scores>,
}

/// A sentence with its features resolved to weight rows.
struct Example {
    rows: Vec<u32>,
    offsets: Vec<usize>,
    gold: Vec<usize>,
}

/// "O" plus B- and I- of every type in the data, ordered by type with B before I, so files
/// are stable whatever order the data comes in.
fn label_set(sentences: &[&TaggedSentence]) -> Vec<String> {
    let types = entity_types(
        sentences
            .iter()
            .flat_map(|s| s.tags.iter().map(String::as_str)),
    );
    std::iter::once("O".to_string())
        .chain(
            types
                .into_iter()
                .flat_map(|ty| [format!("B-{ty}"), format!("I-{ty}")]),
        )
        .collect()
}

/// Trains a model on the documents `train`; after each epoch, scores the averaged weights on
/// `dev` when given and passes the report to `on_epoch`.
pub fn train(
    train_docs: &[TaggedDocument],
    dev: Option<&[TaggedDocument]>,
    config: &TrainConfig,
    mut on_epoch: impl FnMut(&EpochReport),
) -> Result<NerModel, NlpError> {
    let mut extracted: Vec<features::SentenceFeatures> = Vec::new();
    for d in train_docs {
        let ctx = doc_context(d);
        extracted.extend(
            d.sentences
                .iter()
                .map(|s| features::extract(&s.tokens, &ctx)),
        );
    }
    let train: Vec<&TaggedSentence> = train_docs.iter().flat_map(|d| &d.sentences).collect();
    if train.is_empty() {
        return Err(NlpError::Training("no training sentences".into()));
    }
    if config.epochs == 0 {
        return Err(NlpError::Training("epochs must be at least 1".into()));
    }
    let labels = label_set(&train);
    let label_ix: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let l = labels.len();

    let mut counts: HashMap<u64, u32> = HashMap::new();
    for f in &extracted {
        for &h in &f.hashes {
            *counts.entry(h).or_default() += 1;
        }
    }
    let mut index = FeatureIndex::default();
    let mut kept: Vec<u64> = counts
        .into_iter()
        .filter(|&(_, c)| c >= config.min_count)
        .map(|(h, _)| h)
        .collect();
    kept.sort_unstable();
    for (row, h) in kept.into_iter().enumerate() {
        index.insert(h, row as u32);
    }
    let mut examples = Vec::with_capacity(train.len());
    for (s, f) in train.iter().zip(extracted) {
        if s.tokens.len() != s.tags.len() {
            return Err(NlpError::Training(
                "a sentence has more tokens than tags".into(),
            ));
        }
        let mut rows = Vec::with_capacity(f.hashes.len());
        let mut offsets = Vec::with_capacity(f.len() + 1);
        for i in 0..f.len() {
            offsets.push(rows.len());
            rows.extend(f.token(i).iter().filter_map(|h| index.get(h).copied()));
        }
        offsets.push(rows.len());
        let gold = s.tags.iter().map(|t| label_ix[t.as_str()]).collect();
        examples.push(Example {
            rows,
            offsets,
            gold,
        });
    }

    let allowed = allowed_table(&labels);
    let rows = index.len();
    let mut w = vec![0.0f32; rows * l];
    let mut acc = vec![0.0f32; rows * l];
    let mut t = vec![0.0f32; (l + 1) * l];
    let mut t_acc = vec![0.0f32; (l + 1) * l];
    let mut step = 1.0f32;
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = Xorshift(config.seed.max(1));
    let mut em = Vec::new();

    let averaged = |w: &[f32], acc: &[f32], step: f32| -> Vec<f32> {
        w.iter().zip(acc).map(|(x, a)| x - a / step).collect()
    };

    let mut model = None;
    for epoch in 1..=config.epochs {
        let started = Instant::now();
        rng.shuffle(&mut order);
        let mut mistakes = 0;
        for &k in &order {
            let ex = &examples[k];
            let n = ex.gold.len();
            em.clear();
            em.resize(n * l, 0.0);
            for i in 0..n {
                for &r in &ex.rows[ex.offsets[i]..ex.offsets[i + 1]] {
                    let r = r as usize * l;
                    for (o, x) in em[i * l..(i + 1) * l].iter_mut().zip(&w[r..r + l]) {
                        *o += x;
                    }
                }
            }
            let pred = viterbi(&em, n, l, &t, &allowed);
            if pred != ex.gold {
                mistakes += 1;
                for i in 0..n {
                    let (g, p) = (ex.gold[i], pred[i]);
                    if g != p {
                        for &r in &ex.rows[ex.offsets[i]..ex.offsets[i + 1]] {
                            let r = r as usize * l;
                            w[r + g] += 1.0;
                            acc[r + g] += step;
                            w[r + p] -= 1.0;
                            acc[r + p] -= step;
                        }
                    }
                    let gp = if i == 0 { l } else { ex.gold[i - 1] };
                    let pp = if i == 0 { l } else { pred[i - 1] };
                    if (gp, g) != (pp, p) {
                        t[gp * l + g] += 1.0;
                        t_acc[gp * l + g] += step;
                        t[pp * l + p] -= 1.0;
                        t_acc[pp * l + p] -= step;
                    }
                }
            }
            step += 1.0;
        }
        let seconds = started.elapsed().as_secs_f64();
        let current = NerModel::from_parts(
            labels.clone(),
            index.clone(),
            averaged(&w, &acc, step),
            averaged(&t, &t_acc, step),
        );
        let dev_scores = match dev {
            Some(dev) => Some(evaluate(&current, dev)?.overall.scores()),
            None => None,
        };
        on_epoch(&EpochReport {
            epoch,
            mistakes,
            seconds,
            dev: dev_scores,
        });
        model = Some(current);
    }
    model.ok_or_else(|| NlpError::Training("no epoch ran".into()))
}

/// The casing context of a document.
pub fn doc_context(doc: &TaggedDocument) -> DocContext {
    let sentences: Vec<&[String]> = doc.sentences.iter().map(|s| s.tokens.as_slice()).collect();
    DocContext::new(&sentences)
}

/// Fits the model's confidence scale on `dev`: the factor on the scores whose token marginals
/// give the gold tags the highest likelihood (a grid search over powers of two, halves
/// included). Returns the scale chosen.
pub fn calibrate(model: &mut NerModel, dev: &[TaggedDocument]) -> Result<f32, NlpError> {
    let label_ix: HashMap<&str, usize> = model
        .labels()
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let l = model.labels().len();
    let mut sentences = Vec::new();
    for d in dev {
        let ctx = doc_context(d);
        for s in &d.sentences {
            // Gold tags the model cannot produce say nothing about its calibration.
            let Some(gold) = s
                .tags
                .iter()
                .map(|t| label_ix.get(t.as_str()).copied())
                .collect::<Option<Vec<usize>>>()
            else {
                continue;
            };
            sentences.push((model.sentence_scores(&s.tokens, Some(&ctx)), gold));
        }
    }
    if sentences.is_empty() {
        return Err(NlpError::Training("no calibration sentences".into()));
    }
    let mut best = (f64::INFINITY, 1.0f32);
    for k in 0..=24 {
        let scale = 2f32.powf(2.0 - k as f32 / 2.0);
        let mut nll = 0.0f64;
        for (em, gold) in &sentences {
            let m = model.marginals_at(em, gold.len(), scale);
            for (i, &g) in gold.iter().enumerate() {
                nll -= f64::from(m[i * l + g].max(1e-9)).ln();
            }
        }
        if nll < best.0 {
            best = (nll, scale);
        }
    }
    model.set_confidence_scale(best.1);
    Ok(best.1)
}

/// Tags every sentence of `data`, in the context of its document, and scores the result
/// against the gold tags.
pub fn evaluate(model: &NerModel, data: &[TaggedDocument]) -> Result<Evaluation, NlpError> {
    let mut ev = Evaluation::default();
    for d in data {
        let ctx = doc_context(d);
        for s in &d.sentences {
            let pred = model.tag(&s.tokens, Some(&ctx));
            ev.add(&s.tags, &pred)?;
        }
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(pairs: &[(&str, &str)]) -> TaggedSentence {
        TaggedSentence {
            tokens: pairs.iter().map(|p| p.0.to_string()).collect(),
            tags: pairs.iter().map(|p| p.1.to_string()).collect(),
        }
    }

    fn corpus() -> Vec<TaggedDocument> {
        let mut out = Vec::new();
        for (first, last) in [("Anna", "Berg"), ("Boris", "Kahn"), ("Carla", "Diaz")] {
            for city in ["Paris", "Oslo", "Lima"] {
                out.push(sentence(&[
                    (first, "B-PER"),
                    (last, "I-PER"),
                    ("visited", "O"),
                    (city, "B-LOC"),
                    (".", "O"),
                ]));
                out.push(sentence(&[
                    ("In", "O"),
                    (city, "B-LOC"),
                    (",", "O"),
                    (last, "B-PER"),
                    ("spoke", "O"),
                ]));
            }
        }
        vec![TaggedDocument { sentences: out }]
    }

    #[test]
    fn learns_a_tiny_corpus_and_round_trips_through_a_file() {
        let data = corpus();
        let mut reports = Vec::new();
        let config = TrainConfig {
            epochs: 5,
            ..TrainConfig::default()
        };
        let mut model =
            train(&data, Some(&data), &config, |r| reports.push(r.clone())).expect("train");
        let scale = calibrate(&mut model, &data).expect("calibrate");
        assert!(scale > 0.0 && scale == model.confidence_scale());
        assert_eq!(reports.len(), 5);
        assert_eq!(model.labels(), ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]);
        let ev = evaluate(&model, &data).expect("eval");
        assert_eq!(ev.overall.scores().f1, 1.0);

        let dir = std::env::temp_dir().join(format!("newsflow-ner-test-{}", std::process::id()));
        model.save(&dir, 0.0).expect("save");
        let loaded = NerModel::load(&dir).expect("load");
        assert_eq!(loaded.confidence_scale(), scale);
        std::fs::remove_dir_all(&dir).ok();
        for s in &data[0].sentences {
            assert_eq!(loaded.tag(&s.tokens, None), model.tag(&s.tokens, None));
        }
        let tagging = loaded.tag_with_confidence(&["Carla", "Diaz", "visited", "Oslo", "."], None);
        assert_eq!(tagging.tags, ["B-PER", "I-PER", "O", "B-LOC", "O"]);
        assert!(tagging.confidence.iter().all(|c| (0.0..=1.0).contains(c)));
    }

    #[test]
    fn refuses_empty_training_data() {
        assert!(train(&[], None, &TrainConfig::default(), |_| {}).is_err());
    }
}
