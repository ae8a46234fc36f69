//! `newsflow`: the offline command of the pipeline. Analyzes a file, trains, evaluates and
//! benchmarks the analysis models of `newsflow-nlp`; the work itself lives in the modules below.

mod analyze;
mod bench;
mod health;
mod ner;
mod ner_neural;
mod stance;
mod statements;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Where the committed NER model lives, relative to the workspace root.
const DEFAULT_NER_MODEL: &str = "models/ner-perceptron";

#[derive(Parser)]
#[command(name = "newsflow", version, about = "newsflow offline tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model.
    Train {
        #[command(subcommand)]
        task: TrainTask,
    },
    /// Evaluate a model on a labelled file.
    Eval {
        #[command(subcommand)]
        task: EvalTask,
    },
    /// Find the entities and statements of a text file.
    Analyze(analyze::AnalyzeArgs),
    /// Measure speed and memory.
    Bench {
        #[command(subcommand)]
        task: BenchTask,
    },
    /// Ask a service's gRPC health endpoint whether it serves (exit 0 when SERVING, else 1).
    Health(health::HealthArgs),
}

#[derive(Subcommand)]
enum TrainTask {
    /// Train the averaged-perceptron NER model on a CoNLL file.
    Ner(ner::TrainArgs),
    /// Train the statements cue model on a PolNeAR split.
    Statements(statements::TrainArgs),
    /// Fine-tune the MiniLM stance classifier on NewsMTSC (JSON lines).
    Stance(stance::TrainArgs),
    /// Fine-tune the MiniLM encoder of the accurate NER mode on a CoNLL file.
    NerMinilm(ner_neural::TrainArgs),
}

#[derive(Subcommand)]
enum EvalTask {
    /// Entity-level precision, recall and F1 (conlleval semantics) on a CoNLL file.
    Ner(ner::EvalArgs),
    /// Source, cue and content precision, recall and F1 (exact and partial) on a PolNeAR split.
    Statements(statements::EvalArgs),
    /// Macro-F1 (F1m), accuracy and per-class P/R/F1 of the stance model on a NewsMTSC file.
    Stance(stance::EvalArgs),
}

#[derive(Subcommand)]
enum BenchTask {
    /// Words per second of tokenization plus NER over news articles, and peak memory.
    Ner(bench::BenchArgs),
    /// Targets per second of the stance classifier, and peak memory.
    Stance(stance::BenchArgs),
    /// Articles per second of the stance service's whole analysis (statements, targets,
    /// classification) over the extractor's entities, and peak memory.
    Articles(bench::ArticlesArgs),
}

fn default_model() -> PathBuf {
    PathBuf::from(DEFAULT_NER_MODEL)
}

/// Loads the fine-typing stage over the gazetteers in `dir`.
fn load_typer(dir: &std::path::Path) -> anyhow::Result<newsflow_nlp::types::FineTyper> {
    use anyhow::Context;
    newsflow_nlp::types::FineTyper::load(dir)
        .with_context(|| format!("loading the gazetteers from {}", dir.display()))
}

fn main() -> anyhow::Result<()> {
    stance::one_thread_by_default();
    match Cli::parse().command {
        Command::Train {
            task: TrainTask::Ner(args),
        } => ner::train(&args),
        Command::Train {
            task: TrainTask::NerMinilm(args),
        } => ner_neural::train(&args),
        Command::Eval {
            task: EvalTask::Ner(args),
        } => ner::eval(&args),
        Command::Train {
            task: TrainTask::Statements(args),
        } => statements::train(&args),
        Command::Eval {
            task: EvalTask::Statements(args),
        } => statements::eval(&args),
        Command::Train {
            task: TrainTask::Stance(args),
        } => stance::train(&args),
        Command::Eval {
            task: EvalTask::Stance(args),
        } => stance::eval(&args),
        Command::Bench {
            task: BenchTask::Stance(args),
        } => stance::bench(&args),
        Command::Analyze(args) => analyze::run(&args),
        Command::Bench {
            task: BenchTask::Ner(args),
        } => bench::run(&args),
        Command::Bench {
            task: BenchTask::Articles(args),
        } => bench::articles(&args),
        Command::Health(args) => health::run(&args),
    }
}
