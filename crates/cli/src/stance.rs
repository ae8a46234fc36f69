//! `newsflow train stance`, `newsflow eval stance` and `newsflow bench stance`.

use anyhow::Context;
use clap::Args;
use newsflow_nlp::Span;
use newsflow_nlp::stance::{self, StanceExample, TrainConfig};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `newsflow train stance`.
#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    files: crate::TrainingFiles,
    /// Development files, scored after every epoch (repeatable).
    #[arg(long)]
    dev: Vec<PathBuf>,
    /// Base encoder directory.
    #[arg(long, default_value_os_t = newsflow_analysis::ModelPaths::default().base)]
    base: PathBuf,
    /// Passes over the training data per member.
    #[arg(long, default_value_t = TrainConfig::default().epochs)]
    epochs: usize,
    /// Seed of one member; several (`--seed 1 --seed 2`) train an ensemble.
    #[arg(long = "seed", default_values_t = TrainConfig::default().seeds)]
    seeds: Vec<u64>,
    /// Peak learning rate (AdamW, linear warmup and decay).
    #[arg(long, default_value_t = TrainConfig::default().lr)]
    lr: f64,
    /// Share of steps spent warming up.
    #[arg(long, default_value_t = TrainConfig::default().warmup)]
    warmup: f64,
    /// Targets per step.
    #[arg(long, default_value_t = TrainConfig::default().batch_size)]
    batch_size: usize,
    /// Top encoder layers to fine-tune (the rest are frozen and cached).
    #[arg(long, default_value_t = TrainConfig::default().trained_layers)]
    layers: usize,
    /// Dropout in the tuned layers and before the head.
    #[arg(long, default_value_t = TrainConfig::default().dropout)]
    dropout: f32,
    /// Stop every epoch after this many steps (timing runs).
    #[arg(long)]
    max_steps: Option<usize>,
}

/// Arguments of `newsflow eval stance`.
#[derive(Args)]
pub struct EvalArgs {
    /// NewsMTSC file with gold polarities (JSON lines).
    file: PathBuf,
    /// The models (`--stance-model`, `--base-model`).
    #[command(flatten)]
    models: newsflow_analysis::ModelArgs,
    /// Score only this member of the ensemble (0-based).
    #[arg(long)]
    member: Option<usize>,
    /// Only the first this many targets of the file.
    #[arg(long)]
    limit: Option<usize>,
    /// Give a governing stance predicate ("ruled out", "backed"; see
    /// `newsflow_nlp::stance::predicates`) precedence over the model, as the stance service
    /// does for speakers.
    #[arg(long)]
    predicates: bool,
    /// Write each target's prediction and probabilities here, one JSON line each.
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Print exactly one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `newsflow bench stance`.
#[derive(Args)]
pub struct BenchArgs {
    /// NewsMTSC file whose targets are classified.
    #[arg(long, default_value = "../shared/data/newsmtsc/dev-rw.jsonl")]
    file: PathBuf,
    /// The models (`--stance-model`, `--base-model`).
    #[command(flatten)]
    models: newsflow_analysis::ModelArgs,
    /// Timed runs over the whole file; the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

fn read(path: &Path) -> anyhow::Result<Vec<StanceExample>> {
    stance::read_jsonl(path).with_context(|| format!("reading {}", path.display()))
}

/// Trains and saves the model, printing progress to stderr.
pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let train = read(&args.files.train)?;
    let dev = args
        .dev
        .iter()
        .map(|p| {
            let name = p.file_stem().map_or_else(
                || p.display().to_string(),
                |s| s.to_string_lossy().into_owned(),
            );
            Ok((name, read(p)?))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = TrainConfig {
        epochs: args.epochs,
        seeds: args.seeds.clone(),
        lr: args.lr,
        warmup: args.warmup,
        batch_size: args.batch_size,
        trained_layers: args.layers,
        dropout: args.dropout,
        max_steps: args.max_steps,
        ..TrainConfig::default()
    };
    eprintln!(
        "training stance on {} targets from {}: {config:?}",
        train.len(),
        args.files.train.display()
    );
    let started = Instant::now();
    let (_, report) = stance::train::train(
        &args.base,
        &train,
        &dev,
        &config,
        &args.files.out,
        &mut |line| eprintln!("[{:>6.0}s] {line}", started.elapsed().as_secs_f64()),
    )?;
    for (seed, results) in &report.per_seed {
        for r in results {
            println!(
                "seed {seed} {}: F1m {:.4} accuracy {:.4}",
                r.name, r.scores.f1m, r.scores.accuracy
            );
        }
    }
    for r in &report.ensemble {
        println!(
            "ensemble {}: F1m {:.4} accuracy {:.4}",
            r.name, r.scores.f1m, r.scores.accuracy
        );
    }
    println!(
        "caching {:.0}s, training {:.0}s, total {:.0}s; model in {}",
        report.cache_seconds,
        report.train_seconds,
        started.elapsed().as_secs_f64(),
        args.files.out.display()
    );
    Ok(())
}

/// Scores the model on a labelled file.
pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    let mut examples = read(&args.file)?;
    if let Some(limit) = args.limit {
        examples.truncate(limit);
    }
    let mut model = args.models.stance_classifier()?;
    if let Some(m) = args.member {
        model.keep_member(m)?;
    }
    let started = Instant::now();
    let items: Vec<(&str, Span)> = examples
        .iter()
        .map(|e| (e.sentence.as_str(), e.span))
        .collect();
    let mut predicted = model.classify_batch(&items)?;
    let mut overridden = 0usize;
    if args.predicates {
        for (e, (polarity, _)) in examples.iter().zip(&mut predicted) {
            if let Some(g) = stance::predicates::governing(&e.sentence, e.span) {
                overridden += 1;
                *polarity = g.polarity;
            }
        }
    }
    let gold: Vec<stance::Polarity> = examples.iter().map(|e| e.polarity).collect();
    let labels: Vec<stance::Polarity> = predicted.iter().map(|(p, _)| *p).collect();
    let s = stance::score(&gold, &labels)?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.predictions {
        let lines: String = predicted
            .iter()
            .map(|(p, probs)| {
                format!(
                    "{}\n",
                    json!({"polarity": p.as_str(), "probabilities": probs})
                )
            })
            .collect();
        std::fs::write(path, lines).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        let classes: serde_json::Map<String, serde_json::Value> = s
            .classes
            .iter()
            .map(|c| {
                (
                    c.polarity.as_str().to_string(),
                    json!({"precision": c.precision, "recall": c.recall, "f1": c.f1, "support": c.support}),
                )
            })
            .collect();
        println!(
            "{}",
            json!({
                "file": args.file.display().to_string(),
                "model": args.models.stance_model.display().to_string(),
                "members": model.members(),
                "targets": s.total,
                "predicate_overrides": overridden,
                "f1m": s.f1m,
                "accuracy": s.accuracy,
                "classes": classes,
                "confusion": s.confusion,
                "seconds": seconds,
            })
        );
        return Ok(());
    }
    println!(
        "{}: {} targets, model {} ({} member(s)), {:.1}s",
        args.file.display(),
        s.total,
        args.models.stance_model.display(),
        model.members(),
        seconds
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>8}",
        "class", "precision", "recall", "F1", "support"
    );
    for c in &s.classes {
        println!(
            "{:<10} {:>9.4} {:>9.4} {:>9.4} {:>8}",
            c.polarity.as_str(),
            c.precision,
            c.recall,
            c.f1,
            c.support
        );
    }
    if args.predicates {
        println!("stance predicates overrode the model on {overridden} targets");
    }
    println!("F1m {:.4}  accuracy {:.4}", s.f1m, s.accuracy);
    Ok(())
}

/// Targets per second over a NewsMTSC file (median of several runs) and peak memory.
pub fn bench(args: &BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    let examples = read(&args.file)?;
    let load_started = Instant::now();
    let model = args.models.stance_classifier()?;
    let load_s = load_started.elapsed().as_secs_f64();
    let items: Vec<(&str, Span)> = examples
        .iter()
        .map(|e| (e.sentence.as_str(), e.span))
        .collect();
    let mut batched = Vec::new();
    let mut single = Vec::new();
    for _ in 0..args.runs {
        let started = Instant::now();
        model.classify_batch(&items)?;
        batched.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        for &(s, span) in items.iter().take(100) {
            model.classify(s, span)?;
        }
        single.push(started.elapsed().as_secs_f64());
    }
    let batched = crate::bench::median(batched);
    let single = crate::bench::median(single);
    let n_single = items.len().min(100);
    println!(
        "{} targets from {}, {} member(s), {} runs, threads: {}; model loaded in {:.2}s",
        items.len(),
        args.file.display(),
        model.members(),
        args.runs,
        std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into()),
        load_s
    );
    println!("{:<34} {:>10} {:>12}", "mode", "median s", "targets/s");
    println!(
        "{:<34} {:>10.3} {:>12.1}",
        "classify_batch (all targets)",
        batched,
        items.len() as f64 / batched
    );
    println!(
        "{:<34} {:>10.3} {:>12.1}",
        format!("classify, one at a time ({n_single})"),
        single,
        n_single as f64 / single
    );
    match crate::bench::peak_rss_kb() {
        Some(kb) => println!("peak RSS (VmHWM) {:.1} MB", kb as f64 / 1024.0),
        None => println!("peak RSS unavailable (no /proc/self/status)"),
    }
    Ok(())
}
