//! `newsflow train ner` and `newsflow eval ner`.

use anyhow::Context;
use clap::Args;
use newsflow_nlp::conll::{self, TaggedDocument};
use newsflow_nlp::eval::{Counts, Evaluation};
use newsflow_nlp::ner::{self, NerModel, TrainConfig};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `newsflow train ner`.
#[derive(Args)]
pub struct TrainArgs {
    /// CoNLL training file (`TOKEN TAG` lines).
    #[arg(long)]
    train: PathBuf,
    /// Directory to write the model into.
    #[arg(long)]
    out: PathBuf,
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

/// Arguments of `newsflow eval ner`.
#[derive(Args)]
pub struct EvalArgs {
    /// CoNLL file with gold tags.
    file: PathBuf,
    /// Model directory.
    #[arg(long, default_value_os_t = crate::default_model())]
    model: PathBuf,
    /// Print exactly one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

fn documents(path: &Path) -> anyhow::Result<Vec<TaggedDocument>> {
    Ok(conll::read_file(path)?)
}

/// Trains and saves the model, printing one line per epoch.
pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let train = documents(&args.train)?;
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
        args.train.display()
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
    let file = model.save(&args.out, args.prune)?;
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
    let model = NerModel::load(&args.model)?;
    let data = documents(&args.file)?;
    let ev = ner::evaluate(&model, &data)?;
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
