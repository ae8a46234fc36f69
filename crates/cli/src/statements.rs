//! `newsflow train statements` and `newsflow eval statements`.

use clap::Args;
use newsflow_nlp::ner::NerTagger;
use newsflow_nlp::statements::eval::{Role, SpanCounts};
use newsflow_nlp::statements::train::TrainConfig;
use newsflow_nlp::statements::{
    self, CueDetector, CueModel, CueTrainConfig, StatementEvaluation, StatementFinder, polnear,
};
use newsflow_nlp::{entity_pipeline, statement_pipeline};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `newsflow train statements`.
#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    files: crate::TrainingFiles,
    /// Passes over the data.
    #[arg(long, default_value_t = CueTrainConfig::default().epochs)]
    epochs: usize,
    /// L2 penalty of the cue model.
    #[arg(long, default_value_t = CueTrainConfig::default().l2)]
    l2: f32,
    /// Initial learning rate of the cue model.
    #[arg(long, default_value_t = CueTrainConfig::default().learning_rate)]
    learning_rate: f32,
    /// Keep cue features seen at least this often.
    #[arg(long, default_value_t = CueTrainConfig::default().min_count)]
    min_count: u32,
    /// Cue probability at or above which a cue becomes a candidate statement.
    #[arg(long, default_value_t = TrainConfig::default().candidate_threshold)]
    candidate_threshold: f32,
    /// Candidate probability at or above which a candidate becomes a statement.
    #[arg(long, default_value_t = TrainConfig::default().frame_threshold)]
    frame_threshold: f32,
    /// Train the filter to keep candidates whose cue is right, whatever their source (by
    /// default a candidate counts as right only when its source is right too).
    #[arg(long)]
    cue_label: bool,
    /// Leave out of the cue model the weights whose magnitude is below this.
    #[arg(long, default_value_t = 0.1)]
    prune: f32,
    /// The models: the candidate filter sees the entity mentions of the perceptron NER model
    /// (`--ner-model`) and the gazetteers.
    #[command(flatten)]
    models: newsflow_analysis::ModelArgs,
}

/// Arguments of `newsflow eval statements`.
#[derive(Args)]
pub struct EvalArgs {
    /// PolNeAR split directory (with `text/` and `attributions/`).
    dir: PathBuf,
    /// The models: `--statements-model`, and the perceptron NER model (`--ner-model`, the
    /// fast mode, as in the model card's figures) and gazetteers whose entities the sources
    /// resolve to.
    #[command(flatten)]
    models: newsflow_analysis::ModelArgs,
    /// Score the hand-written baseline (verb list and rules) instead of the learned model.
    #[arg(long)]
    rules: bool,
    /// Override the cue threshold (the candidate threshold when the filter is used).
    #[arg(long)]
    threshold: Option<f32>,
    /// Override the candidate filter's threshold.
    #[arg(long)]
    frame_threshold: Option<f32>,
    /// Leave the learned candidate filter out (cue model and rules only).
    #[arg(long)]
    no_filter: bool,
    /// Print exactly one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the predicted statements, one JSON line per article, to this file.
    #[arg(long)]
    predictions: Option<PathBuf>,
}

/// Trains the cue model and the candidate filter and writes them.
pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let articles = polnear::read_dir(&args.files.train)?;
    eprintln!(
        "training on {} articles, {} attributions from {}",
        articles.len(),
        articles.iter().map(|a| a.attributions.len()).sum::<usize>(),
        args.files.train.display()
    );
    let config = TrainConfig {
        cue: CueTrainConfig {
            epochs: args.epochs,
            l2: args.l2,
            learning_rate: args.learning_rate,
            min_count: args.min_count,
            ..CueTrainConfig::default()
        },
        candidate_threshold: args.candidate_threshold,
        frame_threshold: args.frame_threshold,
        source_label: !args.cue_label,
        ..TrainConfig::default()
    };
    let started = Instant::now();
    let entities = entity_pipeline(
        NerTagger::load(&args.models.ner_model)?,
        args.models.fine_typer()?,
    );
    let (mut cues, frames) = statements::train(&articles, &entities, &config, |line| {
        eprintln!("{:>6.1}s  {line}", started.elapsed().as_secs_f64());
    })?;
    let pruned = cues.prune(args.prune);
    eprintln!("pruned {pruned} cue weights below {}", args.prune);
    let cue_file = cues.save(&args.files.out)?;
    let frame_file = frames.save(&args.files.out)?;
    eprintln!(
        "wrote {} ({} weights) and {}",
        cue_file.display(),
        cues.len(),
        frame_file.display()
    );
    Ok(())
}

fn scores_json(c: &SpanCounts) -> serde_json::Value {
    let s = c.scores();
    json!({"precision": s.precision, "recall": s.recall, "f1": s.f1})
}

/// The evaluation as the documented JSON object.
pub fn evaluation_json(ev: &StatementEvaluation) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for role in Role::ALL {
        let r = ev.role(role);
        out.insert(
            role.as_str().to_string(),
            json!({"exact": scores_json(&r.exact), "partial": scores_json(&r.partial)}),
        );
    }
    serde_json::Value::Object(out)
}

fn write_predictions(
    path: &std::path::Path,
    pipeline: &newsflow_nlp::Pipeline,
    articles: &[polnear::Article],
) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::fmt::Write as _;
    let mut out = String::new();
    for a in articles {
        let mut doc = newsflow_nlp::Doc::from_normalized(a.text.clone());
        pipeline.process(&mut doc)?;
        let span = |s: newsflow_nlp::Span| json!([s.start, s.end]);
        let statements: Vec<serde_json::Value> = doc
            .statements
            .iter()
            .map(|s| {
                json!({"source": s.source.map(span), "cue": span(s.cue),
                       "content": span(s.content), "kind": s.kind.as_str(),
                       "entity": s.entity.and_then(|e| doc.entities.get(e))
                           .map(|e| e.canonical_name.clone()),
                       "confidence": s.confidence})
            })
            .collect();
        let _ = writeln!(out, "{}", json!({"name": a.name, "statements": statements}));
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

/// Evaluates on a PolNeAR split and prints a table or one JSON object.
pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    let articles = polnear::read_dir(&args.dir)?;
    let finder = if args.rules {
        StatementFinder::rules()
    } else {
        let mut finder = if args.no_filter {
            StatementFinder::learned(CueModel::load(&args.models.statements_model)?, None)
        } else {
            StatementFinder::load(&args.models.statements_model)?
        };
        if let (Some(t), CueDetector::Learned(m)) = (args.threshold, finder.detector_mut()) {
            m.threshold = t;
        }
        if let (Some(t), Some(f)) = (args.frame_threshold, finder.frames_mut()) {
            f.threshold = t;
        }
        finder
    };
    let pipeline = statement_pipeline(
        NerTagger::load(&args.models.ner_model)?,
        args.models.fine_typer()?,
        finder,
    );
    let ev = statements::evaluate(&pipeline, &articles)?;
    if let Some(path) = &args.predictions {
        write_predictions(path, &pipeline, &articles)?;
    }
    if args.json {
        println!("{}", evaluation_json(&ev));
        return Ok(());
    }
    println!(
        "{} articles, {} gold attributions ({})",
        articles.len(),
        articles.iter().map(|a| a.attributions.len()).sum::<usize>(),
        if args.rules {
            "rule baseline"
        } else if args.no_filter {
            "learned cues, no filter"
        } else {
            "learned cues and filter"
        }
    );
    println!(
        "{:<8} {:<8} {:>9} {:>9} {:>9} {:>7} {:>7}",
        "role", "match", "precision", "recall", "f1", "gold", "pred"
    );
    for role in Role::ALL {
        let r = ev.role(role);
        for (name, c) in [("exact", &r.exact), ("partial", &r.partial)] {
            let s = c.scores();
            println!(
                "{:<8} {:<8} {:>9.4} {:>9.4} {:>9.4} {:>7} {:>7}",
                role.as_str(),
                name,
                s.precision,
                s.recall,
                s.f1,
                c.gold,
                c.predicted
            );
        }
    }
    Ok(())
}

/// Arguments of `newsflow eval pronouns`.
#[derive(Args)]
pub struct PronounArgs {
    /// PolNeAR split directory (`text/`, `attributions/`).
    dir: PathBuf,
    /// The models (`--ner-model`, `--statements-model`, `--gazetteers`).
    #[command(flatten)]
    models: newsflow_analysis::ModelArgs,
    /// Hand labels, `article<TAB>source start<TAB>the person the pronoun stands for` (`-`
    /// when the text names nobody it could stand for); `#` lines are comments. Scores the
    /// resolution of the labelled sources.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Print every "he"/"she" source with its resolution and the text before it (for
    /// labelling), one tab-separated line each: the entity, `-` when the statement's source
    /// stayed unresolved, `(no statement)` when no statement was found for it.
    #[arg(long)]
    list: bool,
}

/// One gold "he"/"she" source and what the statement finder made of it.
struct PronounSource {
    article: String,
    start: usize,
    pronoun: String,
    /// Whether a found statement has a source overlapping it.
    found: bool,
    /// The entity that statement's source resolved to.
    resolved: Option<String>,
    context: String,
}

/// How the statement finder resolves the gold "he"/"she" sources of a PolNeAR split: how many
/// it finds as a statement's source, how many it resolves to an entity, and, against hand
/// labels, how many to the right person.
pub fn pronouns(args: &PronounArgs) -> anyhow::Result<()> {
    let articles = polnear::read_dir(&args.dir)?;
    let pipeline = statement_pipeline(
        NerTagger::load(&args.models.ner_model)?,
        args.models.fine_typer()?,
        StatementFinder::load(&args.models.statements_model)?,
    );
    let mut sources = Vec::new();
    for article in &articles {
        let chars: Vec<char> = article.text.chars().collect();
        let text_of = |s: newsflow_nlp::Span| {
            chars[s.start..s.end.min(chars.len())]
                .iter()
                .collect::<String>()
        };
        let mut doc = newsflow_nlp::Doc::from_normalized(article.text.clone());
        pipeline.process(&mut doc)?;
        for gold in article.attributions.iter().flat_map(|a| &a.sources) {
            let span = gold.hull();
            let pronoun = text_of(span).to_lowercase();
            if pronoun != "he" && pronoun != "she" {
                continue;
            }
            let found = doc.statements.iter().find(|s| {
                s.source
                    .is_some_and(|s| s.start < span.end && span.start < s.end)
            });
            let context_start = span.start.saturating_sub(400);
            sources.push(PronounSource {
                article: article.name.clone(),
                start: span.start,
                pronoun,
                found: found.is_some(),
                resolved: found
                    .and_then(|s| s.entity)
                    .and_then(|e| doc.entities.get(e))
                    .map(|e| e.canonical_name.clone()),
                context: text_of(newsflow_nlp::Span::new(context_start, span.end))
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            });
        }
    }
    if args.list {
        for s in &sources {
            println!(
                "{}\t{}\t{}\t{}\t{}",
                s.article,
                s.start,
                s.pronoun,
                match (&s.resolved, s.found) {
                    (Some(name), _) => name.as_str(),
                    (None, true) => "-",
                    (None, false) => "(no statement)",
                },
                s.context
            );
        }
        return Ok(());
    }
    let found = sources.iter().filter(|s| s.found).count();
    let resolved = sources.iter().filter(|s| s.resolved.is_some()).count();
    println!(
        "{}: {} \"he\"/\"she\" sources; found as a statement's source {found}, resolved to an entity {resolved}",
        args.dir.display(),
        sources.len()
    );
    let Some(path) = &args.labels else {
        return Ok(());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    // A label is right when every word of it is a word of the resolved name ("Hillary
    // Clinton" in "Democrat Hillary Clinton", not in "Bill Clinton").
    let words = |name: &str| -> Vec<String> {
        name.split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    let (mut labelled, mut right, mut missing) = (0, 0, 0);
    // Wrong ones: no statement found, found but unresolved, resolved to someone else.
    let (mut not_found, mut unresolved, mut other) = (0, 0, 0);
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [article, start, person] = fields[..] else {
            anyhow::bail!(
                "{}:{}: not three tab-separated fields",
                path.display(),
                i + 1
            );
        };
        let start: usize = start.parse()?;
        let Some(source) = sources
            .iter()
            .find(|s| s.article == article && s.start == start)
        else {
            missing += 1;
            continue;
        };
        labelled += 1;
        let is_right = match (&source.resolved, person.trim()) {
            (None, "-") => true,
            (Some(name), label) if label != "-" => {
                let resolved = words(name);
                words(label).iter().all(|w| resolved.contains(w))
            }
            _ => false,
        };
        right += usize::from(is_right);
        if !is_right {
            match (&source.resolved, source.found) {
                (Some(_), _) => other += 1,
                (None, true) => unresolved += 1,
                (None, false) => not_found += 1,
            }
        }
    }
    anyhow::ensure!(
        missing == 0,
        "{missing} labels name no \"he\"/\"she\" source of the split"
    );
    println!(
        "hand-labelled {labelled}: resolved to the right person (or left unresolved where the text names nobody) {right}, accuracy {:.3}",
        right as f64 / labelled.max(1) as f64
    );
    println!(
        "wrong: {not_found} with no statement found, {unresolved} found but unresolved, {other} resolved to someone else"
    );
    Ok(())
}
