//! `newsflow train stance|holder`, `newsflow eval stance|dse` and `newsflow bench stance`.

use anyhow::Context;
use clap::Args;
use newsflow_nlp::Span;
use newsflow_nlp::stance::{self, Marking, StanceExample, TrainConfig, dse};
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
    /// Share of the training sentences held out (with all their targets) and scored after
    /// every epoch before the development files, so that `--best-epoch` chooses on data the
    /// model never saw rather than on dev; 0 (the default) trains on all of it.
    #[arg(long, default_value_t = 0.0)]
    holdout: f64,
    /// A DSE file (`sentence \t p \t q \t label`) whose entities, without its labels, are
    /// more targets to learn the teachers' reading from (needs `--teacher`); sentences that
    /// occur in a `--dev` file are left out.
    #[arg(long, requires = "teachers")]
    transfer_dse: Option<PathBuf>,
    /// With `--transfer-dse`, the share of its sentences taken (chosen by a hash of the
    /// sentence), all of a taken sentence's entities with it.
    #[arg(long, default_value_t = 1.0)]
    transfer_share: f64,
    #[command(flatten)]
    settings: TrainSettings,
}

/// Arguments of `newsflow train holder`.
#[derive(Args)]
pub struct HolderTrainArgs {
    /// DSE training file (`sentence \t p \t q \t label`).
    #[arg(long)]
    train: PathBuf,
    /// Directory to write the model (and its checkpoints) into.
    #[arg(long)]
    out: PathBuf,
    /// Share of the training sentences held out (with all their pairs) and scored after every
    /// epoch, to choose settings on data the model never saw; 0 trains on all of it.
    #[arg(long, default_value_t = 0.1)]
    holdout: f64,
    #[command(flatten)]
    settings: TrainSettings,
}

/// Arguments of `newsflow train holder-decision`.
#[derive(Args)]
pub struct HolderDecisionArgs {
    /// The DSE training file the model was trained on.
    #[arg(long)]
    train: PathBuf,
    /// The model directory whose `stance.json` gets the decision weights.
    #[arg(long)]
    model: PathBuf,
    /// The share of the training sentences the model was trained without (`train holder
    /// --holdout`): the weights are chosen on exactly those.
    #[arg(long, default_value_t = 0.1)]
    holdout: f64,
    /// Base encoder directory.
    #[arg(long, default_value_os_t = newsflow_analysis::ModelPaths::default().base)]
    base: PathBuf,
}

/// Arguments of `newsflow train merge`.
#[derive(Args)]
pub struct MergeArgs {
    /// Model directories trained alike, with other seeds.
    #[arg(required = true, num_args = 1..)]
    models: Vec<PathBuf>,
    /// Directory to write the ensemble into.
    #[arg(long)]
    out: PathBuf,
    /// Average the members' weights into one member (a model soup: one member's cost)
    /// rather than keeping every member and averaging their probabilities.
    #[arg(long)]
    average: bool,
}

/// Fine-tuning settings shared by the MiniLM classifiers.
#[derive(Args)]
struct TrainSettings {
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
    /// AdamW weight decay on the weight matrices.
    #[arg(long, default_value_t = TrainConfig::default().weight_decay)]
    weight_decay: f64,
    /// Targets per step.
    #[arg(long, default_value_t = TrainConfig::default().batch_size)]
    batch_size: usize,
    /// Top encoder layers to fine-tune (the rest are frozen and cached).
    #[arg(long, default_value_t = TrainConfig::default().trained_layers)]
    layers: usize,
    /// Dropout in the tuned layers and before the head.
    #[arg(long, default_value_t = TrainConfig::default().dropout)]
    dropout: f32,
    /// Longest input in WordPieces, special tokens included.
    #[arg(long, default_value_t = TrainConfig::default().max_len)]
    max_len: usize,
    /// Weigh each class by the inverse of its share of the training examples.
    #[arg(long)]
    balanced: bool,
    /// Start the tuned layers from this model's (member 0), not the base encoder's.
    #[arg(long)]
    init_from: Option<PathBuf>,
    /// Keep each member's epoch that scored best on the first development set (the held-out
    /// sentences, for `train holder`), not its last: an early stop on held-out data.
    #[arg(long)]
    best_epoch: bool,
    /// Read the plain sentence, the target only pooled (one encoder pass per sentence, shared
    /// by its targets), not a copy with the target marked per target.
    #[arg(long)]
    plain: bool,
    /// Give the head the target's attention over the sentence's states (for `--plain`: the
    /// encoder does not know the target, so the head weighs the words around it).
    #[arg(long)]
    target_attention: bool,
    /// Also learn from this trained model's probabilities on the training examples
    /// (distillation; the teacher may mark targets where the new model reads the plain
    /// sentence). Repeated, the teachers' probabilities are averaged.
    #[arg(long = "teacher", id = "teachers")]
    teachers: Vec<PathBuf>,
    /// With `--teacher`, the share of the loss taken from its probabilities (the rest from
    /// the gold labels).
    #[arg(long, default_value_t = TrainConfig::default().distill)]
    distill: f64,
    /// Stop every epoch after this many steps (timing runs).
    #[arg(long)]
    max_steps: Option<usize>,
}

impl TrainSettings {
    fn config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            seeds: self.seeds.clone(),
            lr: self.lr,
            warmup: self.warmup,
            weight_decay: self.weight_decay,
            batch_size: self.batch_size,
            trained_layers: self.layers,
            dropout: self.dropout,
            max_len: self.max_len,
            balanced: self.balanced,
            init_from: self.init_from.clone(),
            best_epoch: self.best_epoch,
            marking: if self.plain {
                Marking::Plain
            } else {
                Marking::Markers
            },
            teachers: self.teachers.clone(),
            transfer: Vec::new(),
            target_attention: self.target_attention,
            distill: self.distill,
            max_steps: self.max_steps,
        }
    }
}

/// Arguments of `newsflow eval dse`.
#[derive(Args)]
pub struct DseEvalArgs {
    /// DSE file with gold labels (`sentence \t p \t q \t label`).
    file: PathBuf,
    /// Score only the pairs whose sentence occurs nowhere in this file (the training file:
    /// what the model never saw).
    #[arg(long)]
    unseen_in: Option<PathBuf>,
    /// The models (`--holder-model`, `--base-model`).
    #[command(flatten)]
    models: newsflow_analysis::ModelArgs,
    /// Score only this member of the ensemble (0-based).
    #[arg(long)]
    member: Option<usize>,
    /// Compute as 8-bit integer inference would (the encoder's dense layers; heads f32), to
    /// measure its quality.
    #[arg(long)]
    int8: bool,
    /// Read each direction with the target-sentiment model instead (`--stance-model`; the
    /// holder is not marked): how the old reading of a speaker's stance does on DSE.
    #[arg(long)]
    portrayal: bool,
    /// Choose each direction's class by its plain argmax, not with the model's decision
    /// weights (`train holder-decision`).
    #[arg(long)]
    argmax: bool,
    /// Write each pair's two directions' probabilities here, one JSON line each, for
    /// calibration plots.
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Print exactly one JSON object instead of a table.
    #[arg(long)]
    json: bool,
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
    /// Compute as 8-bit integer inference would (the encoder's dense layers; heads f32), to
    /// measure its quality.
    #[arg(long)]
    int8: bool,
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
    anyhow::ensure!(
        (0.0..1.0).contains(&args.holdout),
        "--holdout must be in [0, 1)"
    );
    let (held, train): (Vec<StanceExample>, Vec<StanceExample>) = read(&args.files.train)?
        .into_iter()
        .partition(|e| dse::held_out(&e.sentence, args.holdout, 0));
    let mut dev = Vec::new();
    if args.holdout > 0.0 {
        eprintln!(
            "{} targets to train on, {} held out",
            train.len(),
            held.len()
        );
        dev.push(("holdout".to_string(), held));
    }
    for p in &args.dev {
        let name = p.file_stem().map_or_else(
            || p.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        dev.push((name, read(p)?));
    }
    let transfer = match &args.transfer_dse {
        None => Vec::new(),
        Some(path) => transfer_targets(path, args.transfer_share, &dev)?,
    };
    fine_tune(
        "stance",
        &args.files.train,
        &train,
        transfer,
        &dev,
        &args.settings,
        &args.files.out,
    )
}

/// The entities of the DSE file at `path` as unlabelled targets: `share` of its sentences,
/// none that occurs in `dev`.
fn transfer_targets(
    path: &Path,
    share: f64,
    dev: &[(String, Vec<StanceExample>)],
) -> anyhow::Result<Vec<StanceExample>> {
    anyhow::ensure!(
        share > 0.0 && share <= 1.0,
        "--transfer-share must be in (0, 1]"
    );
    let in_dev: std::collections::HashSet<String> = dev
        .iter()
        .flat_map(|(_, examples)| examples)
        .map(|e| dse::sentence_key(&e.sentence))
        .collect();
    let pairs: Vec<dse::DsePair> = read_dse(path)?
        .into_iter()
        .filter(|p| share >= 1.0 || dse::held_out(&p.sentence, share, 1))
        .filter(|p| !in_dev.contains(&dse::sentence_key(&p.sentence)))
        .collect();
    let targets = dse::targets(&pairs);
    eprintln!(
        "{} unlabelled targets from {} pairs of {}",
        targets.len(),
        pairs.len(),
        path.display()
    );
    Ok(targets)
}

/// Trains the holder-stance model on DSE, both directions of every pair, and scores the
/// held-out sentences after every epoch.
pub fn train_holder(args: &HolderTrainArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..1.0).contains(&args.holdout),
        "--holdout must be in [0, 1)"
    );
    let pairs = read_dse(&args.train)?;
    let (train, held) = dse::split_by_sentence(&pairs, args.holdout, 0);
    eprintln!(
        "{} pairs: {} to train on, {} held out ({} sentences never trained on)",
        pairs.len(),
        train.len(),
        held.len(),
        held.iter()
            .map(|p| p.sentence.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len()
    );
    let dev = if held.is_empty() {
        Vec::new()
    } else {
        vec![("holdout".to_string(), dse::directed_examples(&held))]
    };
    fine_tune(
        "holder stance",
        &args.train,
        &dse::directed_examples(&train),
        Vec::new(),
        &dev,
        &args.settings,
        &args.out,
    )?;
    if !held.is_empty() {
        choose_decision(&args.out, &args.settings.base, &held)?;
    }
    Ok(())
}

/// Joins models trained alike into one ensemble, or averages them into one member.
pub fn merge(args: &MergeArgs) -> anyhow::Result<()> {
    let dirs: Vec<&Path> = args.models.iter().map(PathBuf::as_path).collect();
    let config = if args.average {
        stance::model::average_members(&dirs, &args.out)?
    } else {
        stance::model::merge_members(&dirs, &args.out)?
    };
    println!(
        "{} members in {} (choose its decision weights again: `newsflow train holder-decision`)",
        config.members,
        args.out.display()
    );
    Ok(())
}

/// Chooses the decision weights of the holder-stance model in `model_dir` on the held-out
/// sentences of its training file and writes them into its settings.
pub fn holder_decision(args: &HolderDecisionArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.holdout > 0.0 && args.holdout < 1.0,
        "--holdout must be in (0, 1)"
    );
    let (_, held) = dse::split_by_sentence(&read_dse(&args.train)?, args.holdout, 0);
    anyhow::ensure!(
        !held.is_empty(),
        "no sentence of {} is held out",
        args.train.display()
    );
    choose_decision(&args.model, &args.base, &held)
}

/// Reads `held` with the model, chooses the temperature that calibrates its probabilities
/// there, prints its five-way scores with plain argmax and with the best decision weights
/// (on the tempered probabilities), and keeps both in the model's settings.
fn choose_decision(model_dir: &Path, base: &Path, held: &[dse::DsePair]) -> anyhow::Result<()> {
    let model = stance::StanceClassifier::load_with_base(model_dir, base)?;
    let directions = dse::predict(&model, held)?;
    // The model's probabilities already carry its temperature, if it had one: the new one
    // multiplies it.
    let (chosen, nll_before, nll_after) = dse::choose_temperature(held, &directions);
    let temperature = model.config().temperature.unwrap_or(1.0) * chosen;
    let directions: Vec<dse::Directions> = directions
        .iter()
        .map(|&(pq, qp)| {
            (
                stance::model::tempered(pq, Some(chosen)),
                stance::model::tempered(qp, Some(chosen)),
            )
        })
        .collect();
    println!(
        "held-out directions ({}): negative log-likelihood {nll_before:.4} as read, \
         {nll_after:.4} at temperature {temperature:.4}",
        2 * held.len()
    );
    stance::model::write_temperature(model_dir, Some(temperature).filter(|&t| t != 1.0))?;
    let gold: Vec<usize> = held.iter().map(|p| p.label).collect();
    let argmax: Vec<usize> = directions
        .iter()
        .map(|&(pq, qp)| dse::five_way(pq, qp, None))
        .collect();
    let plain = dse::score(&gold, &argmax)?;
    let (weights, f1m) = dse::choose_decision_weights(held, &directions)?;
    println!(
        "held-out pairs ({}), five classes: F1m {:.4} by argmax, {f1m:.4} with decision weights \
         {weights:?} (against, neutral, for), written to {}",
        held.len(),
        plain.f1m,
        model_dir.display()
    );
    stance::model::write_decision_weights(model_dir, Some(weights))?;
    Ok(())
}

fn fine_tune(
    task: &str,
    train_path: &Path,
    train: &[StanceExample],
    transfer: Vec<StanceExample>,
    dev: &[(String, Vec<StanceExample>)],
    settings: &TrainSettings,
    out: &Path,
) -> anyhow::Result<()> {
    let config = settings.config();
    eprintln!(
        "training {task} on {} examples from {} and {} without labels: {config:?}",
        train.len(),
        train_path.display(),
        transfer.len(),
    );
    let config = TrainConfig { transfer, ..config };
    let started = Instant::now();
    let (_, report) =
        stance::train::train(&settings.base, train, dev, &config, out, &mut |line| {
            eprintln!("[{:>6.0}s] {line}", started.elapsed().as_secs_f64())
        })?;
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
        out.display()
    );
    Ok(())
}

fn read_dse(path: &Path) -> anyhow::Result<Vec<dse::DsePair>> {
    dse::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Scores the holder-stance model on a DSE file: the five-way label of every pair, read off
/// both directions.
pub fn eval_dse(args: &DseEvalArgs) -> anyhow::Result<()> {
    let mut pairs = read_dse(&args.file)?;
    if let Some(seen) = &args.unseen_in {
        pairs = dse::unseen_in(&pairs, &read_dse(seen)?);
    }
    let mut model = if args.portrayal {
        args.models.stance_classifier()?
    } else {
        args.models.holder_classifier()?
    };
    if let Some(m) = args.member {
        model.keep_member(m)?;
    }
    if args.int8 {
        model.quantize_int8()?;
    }
    let started = Instant::now();
    let directions = if args.portrayal {
        dse::predict_portrayal(&model, &pairs)?
    } else {
        dse::predict(&model, &pairs)?
    };
    let (bins, ece) = dse::reliability(&pairs, &directions, 10);
    let model_dir = if args.portrayal {
        &args.models.stance_model
    } else {
        &args.models.holder_model
    };
    let weights = if args.argmax {
        None
    } else {
        model.decision_weights()
    };
    let predicted: Vec<usize> = directions
        .iter()
        .map(|&(pq, qp)| dse::five_way(pq, qp, weights))
        .collect();
    let gold: Vec<usize> = pairs.iter().map(|p| p.label).collect();
    let s = dse::score(&gold, &predicted)?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.predictions {
        let lines: String = pairs
            .iter()
            .zip(&directions)
            .zip(&predicted)
            .map(|((pair, (pq, qp)), label)| {
                let (gold_pq, gold_qp) = pair.directions();
                format!(
                    "{}\n",
                    json!({
                        "label": pair.label, "predicted": label,
                        "p_to_q": pq, "q_to_p": qp,
                        "gold_p_to_q": gold_pq.as_str(), "gold_q_to_p": gold_qp.as_str(),
                    })
                )
            })
            .collect();
        std::fs::write(path, lines).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        let per_class: serde_json::Map<String, serde_json::Value> = s
            .per_class
            .iter()
            .map(|c| {
                (
                    c.name.to_string(),
                    json!({"precision": c.precision, "recall": c.recall, "f1": c.f1, "support": c.support}),
                )
            })
            .collect();
        println!(
            "{}",
            json!({
                "file": args.file.display().to_string(),
                "unseen_in": args.unseen_in.as_ref().map(|p| p.display().to_string()),
                "model": model_dir.display().to_string(),
                "members": model.members(),
                "decision_weights": weights,
                "pairs": s.total,
                "f1m": s.f1m,
                "accuracy": s.accuracy,
                "per_class": per_class,
                "confusion": s.confusion,
                "reliability": bins,
                "expected_calibration_error": ece,
                "seconds": seconds,
            })
        );
        return Ok(());
    }
    println!(
        "{}{}: {} pairs, model {} ({} member(s)), {:.1}s",
        args.file.display(),
        args.unseen_in.as_ref().map_or(String::new(), |p| format!(
            " (sentences unseen in {})",
            p.display()
        )),
        s.total,
        model_dir.display(),
        model.members(),
        seconds
    );
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>8}",
        "class", "precision", "recall", "F1", "support"
    );
    for c in &s.per_class {
        println!(
            "{:<14} {:>9.4} {:>9.4} {:>9.4} {:>8}",
            c.name, c.precision, c.recall, c.f1, c.support
        );
    }
    println!(
        "F1m {:.4}  accuracy {:.4}  ({})",
        s.f1m,
        s.accuracy,
        weights.map_or("classes by argmax".into(), |w| format!(
            "classes by decision weights {w:?}"
        ))
    );
    println!("reliability of the directional predictions (stated confidence against accuracy):");
    println!(
        "{:<11} {:>6} {:>11} {:>9}",
        "confidence", "count", "mean stated", "accuracy"
    );
    for b in bins.iter().filter(|b| b.count > 0) {
        println!(
            "{:.1}-{:.1}    {:>6} {:>11.3} {:>9.3}",
            b.low, b.high, b.count, b.confidence, b.accuracy
        );
    }
    println!("expected calibration error {ece:.4}");
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
    if args.int8 {
        model.quantize_int8()?;
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
