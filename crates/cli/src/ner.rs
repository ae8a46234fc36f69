//! `newsflow train ner` and `newsflow eval ner`.

use anyhow::Context;
use clap::Args;
use newsflow_nlp::conll::{self, TaggedDocument};
use newsflow_nlp::eval::{Counts, Evaluation};
use newsflow_nlp::ner::neural::{self, NeuralModel};
use newsflow_nlp::ner::{self, NerMode, NerModel, NerTagger, SentenceScores, TrainConfig};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `newsflow train ner`.
#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    files: crate::TrainingFiles,
    /// Passes over the training data.
    #[arg(long, default_value_t = TrainConfig::default().epochs)]
    epochs: usize,
    /// Development file: scored after every epoch, and used to calibrate the confidences.
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Drop features seen fewer times than this in training.
    #[arg(long, default_value_t = TrainConfig::default().min_count)]
    min_count: u32,
    /// Seed of the shuffling.
    #[arg(long, default_value_t = TrainConfig::default().seed)]
    seed: u64,
    /// Leave out of the file the weights whose magnitude is at most this.
    #[arg(long, default_value_t = 0.01)]
    prune: f32,
}

/// The models, and how to run the accurate mode's encoder (speed experiments).
#[derive(Args, Clone)]
pub struct NerArgs {
    #[command(flatten)]
    pub models: newsflow_analysis::ModelArgs,
    /// Accurate mode: compute as 8-bit integer inference would (weights and inputs of the
    /// encoder's dense layers rounded to 8 bits), to measure its quality.
    #[arg(long)]
    pub int8: bool,
    /// Accurate mode: padded word pieces per encoder batch.
    #[arg(long, default_value_t = neural::DEFAULT_BATCH_TOKENS)]
    pub batch_tokens: usize,
    /// Accurate mode: run the encoder only on sentences where some token's best perceptron
    /// marginal is below this (above 1: on all); default: the tuned one in the model.
    #[arg(long)]
    pub gate: Option<f32>,
    /// Accurate mode, speed experiments only: run just the first N encoder layers.
    #[arg(long)]
    pub layers: Option<usize>,
}

impl NerArgs {
    /// Loads the tagger of the chosen mode, with the encoder set up as asked.
    pub fn load(&self) -> anyhow::Result<NerTagger> {
        let models = &self.models;
        let load = || -> anyhow::Result<NerTagger> {
            let perceptron = NerModel::load(&models.ner_model)?;
            if models.ner_mode == NerMode::Fast {
                return Ok(NerTagger::new(perceptron));
            }
            let mut encoder = NeuralModel::load(&models.ner_neural_model, &models.base_model)?;
            if self.int8 {
                encoder.quantize_int8()?;
            }
            if let Some(n) = self.layers {
                encoder.truncate_layers(n);
            }
            encoder.set_batch_tokens(self.batch_tokens);
            let mut tagger = NerTagger::with_neural(perceptron, encoder)?;
            if let Some(g) = self.gate {
                tagger.set_gate(g);
            }
            Ok(tagger)
        };
        load().with_context(|| format!("loading the {} NER models", models.ner_mode))
    }
}

/// Arguments of `newsflow eval ner`.
#[derive(Args)]
pub struct EvalArgs {
    /// CoNLL file with gold tags.
    file: PathBuf,
    #[command(flatten)]
    models: NerArgs,
    /// Accurate mode: the encoder's weight in the combination instead of the tuned one.
    #[arg(long)]
    weight: Option<f32>,
    /// Accurate mode: score weights 0, 0.05, ..., 1 and print the best (to tune it).
    #[arg(long)]
    sweep: bool,
    /// Print exactly one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

fn documents(path: &Path) -> anyhow::Result<Vec<TaggedDocument>> {
    Ok(conll::read_file(path)?)
}

/// Trains and saves the model, printing one line per epoch.
pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let train = documents(&args.files.train)?;
    let dev = args.dev.as_deref().map(documents).transpose()?;
    let config = TrainConfig {
        epochs: args.epochs,
        min_count: args.min_count,
        seed: args.seed,
    };
    eprintln!(
        "training on {} sentences in {} documents from {}",
        train.iter().map(|d| d.sentences.len()).sum::<usize>(),
        train.len(),
        args.files.train.display()
    );
    let started = Instant::now();
    let mut model = ner::train(&train, dev.as_deref(), &config, |r| {
        let dev = r
            .dev
            .map(|s| {
                format!(
                    "  dev P {:.4} R {:.4} F1 {:.4}",
                    s.precision, s.recall, s.f1
                )
            })
            .unwrap_or_default();
        eprintln!(
            "epoch {:>2}  mistakes {:>5}  {:>5.1}s{dev}",
            r.epoch, r.mistakes, r.seconds
        );
    })?;
    let trained = started.elapsed().as_secs_f64();
    if let Some(dev) = &dev {
        let scale = ner::calibrate(&mut model, dev)?;
        eprintln!("confidence scale {scale} (fitted on dev)");
    }
    let file = model.save(&args.files.out, args.prune)?;
    let size = std::fs::metadata(&file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    eprintln!(
        "trained in {trained:.1}s; wrote {} ({:.2} MB, {} features before pruning)",
        file.display(),
        size as f64 / 1e6,
        model.feature_count()
    );
    Ok(())
}

fn scores_json(c: &Counts) -> serde_json::Value {
    let s = c.scores();
    json!({"precision": s.precision, "recall": s.recall, "f1": s.f1})
}

/// Evaluates the model and prints a table or one JSON object.
pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    let mut tagger = args.models.load()?;
    let gate = tagger.gate().unwrap_or(2.0);
    if args.sweep {
        // Score every sentence with the encoder once; gates are then simulated.
        tagger.set_gate(2.0);
    }
    let labels = tagger.model().labels().len();
    let data = documents(&args.file)?;
    let started = Instant::now();
    let scored: Vec<(Vec<&[String]>, Vec<SentenceScores>)> = data
        .iter()
        .map(|d| {
            let gold: Vec<&[String]> = d.sentences.iter().map(|s| s.tags.as_slice()).collect();
            let words: Vec<&[String]> = d.sentences.iter().map(|s| s.tokens.as_slice()).collect();
            Ok((gold, tagger.scores(&words)?))
        })
        .collect::<anyhow::Result<_>>()?;
    let scoring_s = started.elapsed().as_secs_f64();
    // Returns the evaluation and the share of words the encoder saw.
    let evaluate_gated = |weight: Option<f32>, gate: f32| -> anyhow::Result<(Evaluation, f64)> {
        let mut ev = Evaluation::default();
        let (mut seen, mut words) = (0usize, 0usize);
        for (gold, scores) in &scored {
            for (g, s) in gold.iter().zip(scores) {
                words += g.len();
                let tagging = if s.neural.is_some() && s.certainty(labels) < gate {
                    seen += g.len();
                    tagger.decode(s, weight)
                } else {
                    tagger.decode(&s.without_neural(), weight)
                };
                ev.add(g, &tagging.tags)?;
            }
        }
        Ok((ev, seen as f64 / words.max(1) as f64))
    };
    let evaluate = |weight: Option<f32>| evaluate_gated(weight, gate).map(|(ev, _)| ev);
    if args.sweep {
        anyhow::ensure!(
            tagger.mode() == NerMode::Accurate,
            "--sweep needs --mode accurate"
        );
        let mut best = (f64::MIN, 0.0f32);
        for k in 0..=20 {
            let w = k as f32 / 20.0;
            let s = evaluate(Some(w))?.overall.scores();
            eprintln!(
                "weight {w:.2}  P {:.4} R {:.4} F1 {:.4}",
                s.precision, s.recall, s.f1
            );
            if s.f1 > best.0 {
                best = (s.f1, w);
            }
        }
        eprintln!("best weight {:.2} (F1 {:.4})", best.1, best.0);
        let w = args.weight.unwrap_or(best.1);
        for g in [0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999, 2.0] {
            let (ev, share) = evaluate_gated(Some(w), g)?;
            let s = ev.overall.scores();
            eprintln!(
                "weight {w:.2} gate {g:<6}  F1 {:.4}  encoder saw {:.1}% of the words",
                s.f1,
                100.0 * share
            );
        }
    }
    let ev = evaluate(args.weight)?;
    eprintln!(
        "mode {}{}; models ran in {scoring_s:.1}s",
        tagger.mode(),
        args.weight
            .or(tagger.weight())
            .map(|w| format!(", encoder weight {w}, gate {gate}"))
            .unwrap_or_default()
    );
    if args.json {
        let per_type: serde_json::Map<String, serde_json::Value> = ev
            .per_type
            .iter()
            .map(|(t, c)| (t.clone(), scores_json(c)))
            .collect();
        let out = json!({"overall": scores_json(&ev.overall), "per_type": per_type});
        println!("{out}");
    } else {
        print_table(&ev);
    }
    Ok(())
}

fn print_table(ev: &Evaluation) {
    println!(
        "{:<8} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}",
        "type", "precision", "recall", "f1", "gold", "pred", "correct"
    );
    let row = |name: &str, c: &Counts| {
        let s = c.scores();
        println!(
            "{:<8} {:>9.4} {:>9.4} {:>9.4} {:>7} {:>7} {:>7}",
            name, s.precision, s.recall, s.f1, c.gold, c.predicted, c.correct
        );
    };
    for (t, c) in &ev.per_type {
        row(t, c);
    }
    row("overall", &ev.overall);
    println!(
        "token accuracy {:.4} over {} tokens",
        ev.accuracy(),
        ev.tokens
    );
}
