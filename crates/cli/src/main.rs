//! `newsflow`: the offline command of the pipeline. Analyzes a file, trains, evaluates and
//! benchmarks the analysis models of `newsflow-nlp`; the work itself lives in the modules below.

mod analyze;
mod bench;
mod ner;
mod ner_neural;

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
    /// Find and group the entities of a text file.
    Analyze(analyze::AnalyzeArgs),
    /// Measure speed and memory.
    Bench {
        #[command(subcommand)]
        task: BenchTask,
    },
}

#[derive(Subcommand)]
enum TrainTask {
    /// Train the averaged-perceptron NER model on a CoNLL file.
    Ner(ner::TrainArgs),
    /// Fine-tune the MiniLM encoder of the accurate NER mode on a CoNLL file.
    NerMinilm(ner_neural::TrainArgs),
}

#[derive(Subcommand)]
enum EvalTask {
    /// Entity-level precision, recall and F1 (conlleval semantics) on a CoNLL file.
    Ner(ner::EvalArgs),
}

#[derive(Subcommand)]
enum BenchTask {
    /// Words per second of tokenization plus NER over news articles, and peak memory.
    Ner(bench::BenchArgs),
}

fn default_model() -> PathBuf {
    PathBuf::from(DEFAULT_NER_MODEL)
}

fn main() -> anyhow::Result<()> {
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
        Command::Analyze(args) => analyze::run(&args),
        Command::Bench {
            task: BenchTask::Ner(args),
        } => bench::run(&args),
    }
}
