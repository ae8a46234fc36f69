//! `newsflow`: the command of the pipeline. Analyzes a file in-process; talks to a running
//! pipeline (submit, tail, get, entity, export, feeds, dead letters, health); extracts a page's
//! main text; trains, evaluates and benchmarks the analysis models of `newsflow-nlp`. The work
//! itself lives in the modules below.

// Using the running pipeline
mod articles;
mod dead_letters;
mod export;
mod extraction;
mod feeds;
mod health;
mod load;
mod progress;
mod query;
mod render;
mod submit;
mod tail;
// The analysis, its models and their measurement
mod analyze;
mod bench;
mod duplicates;
mod encoder_bench;
mod geo;
mod identity;
mod ner;
mod ner_neural;
mod scaling;
mod stance;
mod statements;
mod stories;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "newsflow",
    version,
    about = "newsflow: who is mentioned, who said what, who stands where"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// The whole analysis of one article in this process (no broker, no database).
    Analyze(analyze::AnalyzeArgs),
    /// Send articles (text files, JSON, NDJSON, CSV) to ingest over gRPC or HTTP.
    Submit(submit::SubmitArgs),
    /// Print `article.processed` events as JSON lines, from a queue of this command's own.
    Tail(tail::TailArgs),
    /// Print a stored article with its analysis.
    Get(query::GetArgs),
    /// An entity's mentions and the stances toward it, day by day.
    Entity(query::EntityArgs),
    /// Stories (articles about one event) storage grouped, latest first.
    Stories(query::StoriesArgs),
    /// One story and its articles.
    Story(query::StoryArgs),
    /// Export articles, mentions, statements or stances of an article query as CSV or NDJSON,
    /// from the web service.
    Export(export::ExportArgs),
    /// Follow, list, stop following and check on the feeds of the feeds service.
    Feeds(feeds::FeedsArgs),
    /// List or replay the messages the pipeline parked.
    DeadLetters(dead_letters::DeadLetterArgs),
    /// Drive a running pipeline with N articles and measure it beside the bus ceiling and the
    /// analysis alone.
    Load(load::LoadArgs),
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
    /// Measure speed and memory.
    Bench {
        #[command(subcommand)]
        task: BenchTask,
    },
    /// Ask a service's gRPC health endpoint whether it serves (exit 0 when SERVING, else 1).
    Health(health::HealthArgs),
    /// Print the main text of one HTML page (the article, without the page around it); exit 1
    /// when the page has no article.
    ExtractText(extraction::ExtractTextArgs),
}

#[derive(Subcommand)]
enum TrainTask {
    /// Train the averaged-perceptron NER model on a CoNLL file.
    Ner(ner::TrainArgs),
    /// Train the statements cue model on a PolNeAR split.
    Statements(statements::TrainArgs),
    /// Fine-tune the MiniLM stance classifier on NewsMTSC (JSON lines).
    Stance(stance::TrainArgs),
    /// Fine-tune the MiniLM holder-stance classifier on DSE (both directions of every pair).
    Holder(stance::HolderTrainArgs),
    /// Choose the holder-stance model's temperature (calibration) and decision weights
    /// (five-way macro-F1) on the sentences its training held out, and write them into its
    /// settings.
    HolderDecision(stance::HolderDecisionArgs),
    /// Join MiniLM stance models trained alike (other seeds) into one ensemble, or average
    /// their weights into one member (`--average`).
    Merge(stance::MergeArgs),
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
    /// How "he"/"she" sources of a PolNeAR split resolve to entities (against hand labels).
    Pronouns(statements::PronounArgs),
    /// Five-class macro-F1, accuracy and per-class P/R/F1 of the holder-stance model on a DSE
    /// file.
    Dse(stance::DseEvalArgs),
    /// Token precision, recall and F1 of the main-text extractor on hand-checked news pages,
    /// and whether pages without an article are recognised.
    Extraction(extraction::EvalExtractionArgs),
    /// Geocoding on a TR-News XML file: resolution of the gold toponyms (acc161, mean and
    /// median km, AUC) and end to end with the NER (precision, recall, F1, acc161).
    Geo(geo::EvalArgs),
    /// Precision, recall and F1 of the near-duplicate detector on team-made pairs of BBC
    /// articles (edited copies and different articles on the same subject), the similarity
    /// spread of each class and the time of a signature.
    Duplicates(duplicates::EvalArgs),
    /// Precision and recall of "same entity" decisions across articles (one identity per
    /// entity: name variants, acronyms, demonyms joined, namesakes kept apart) on the
    /// team-written entities of `tests/identity/`, with every wrong merge and split by name.
    Identity(identity::EvalArgs),
    /// Stories (articles about one event grouped by sentence embedding and shared entities)
    /// over BBC val, with examples, and on the team-written same-event and unrelated articles
    /// of `tests/stories/`.
    Stories(stories::EvalArgs),
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
    /// Seconds and output size of the whole analysis of hostile inputs at doubling sizes.
    Scaling(scaling::ScalingArgs),
    /// Word pieces per CPU second of the base encoder alone over news sentences.
    Encoder(encoder_bench::EncoderBenchArgs),
}

/// Where a training command reads its data and writes its model.
#[derive(clap::Args)]
struct TrainingFiles {
    /// The training data in the task's format: a CoNLL file (`ner`, `ner-minilm`), a PolNeAR
    /// split directory with `text/` and `attributions/` (`statements`), NewsMTSC JSON lines
    /// (`stance`).
    #[arg(long)]
    train: std::path::PathBuf,
    /// Directory to write the model into (and, for the MiniLM models, its checkpoints).
    #[arg(long)]
    out: std::path::PathBuf,
}

fn main() -> anyhow::Result<std::process::ExitCode> {
    newsflow_analysis::one_tensor_thread_by_default();
    let done = std::process::ExitCode::SUCCESS;
    match Cli::parse().command {
        Command::Submit(args) => return submit::run(&args),
        Command::Load(args) => return load::run(&args),
        Command::Tail(args) => tail::run(&args)?,
        Command::Get(args) => query::get(&args)?,
        Command::Entity(args) => query::entity(&args)?,
        Command::Stories(args) => query::stories(&args)?,
        Command::Story(args) => query::story(&args)?,
        Command::Export(args) => export::run(&args)?,
        Command::DeadLetters(args) => dead_letters::run(&args)?,
        Command::Feeds(args) => feeds::run(&args)?,
        Command::Analyze(args) => analyze::run(&args)?,
        Command::Train { task } => match task {
            TrainTask::Ner(args) => ner::train(&args)?,
            TrainTask::NerMinilm(args) => ner_neural::train(&args)?,
            TrainTask::Statements(args) => statements::train(&args)?,
            TrainTask::Stance(args) => stance::train(&args)?,
            TrainTask::Holder(args) => stance::train_holder(&args)?,
            TrainTask::HolderDecision(args) => stance::holder_decision(&args)?,
            TrainTask::Merge(args) => stance::merge(&args)?,
        },
        Command::Eval { task } => match task {
            EvalTask::Ner(args) => ner::eval(&args)?,
            EvalTask::Statements(args) => statements::eval(&args)?,
            EvalTask::Stance(args) => stance::eval(&args)?,
            EvalTask::Dse(args) => stance::eval_dse(&args)?,
            EvalTask::Extraction(args) => extraction::eval(&args)?,
            EvalTask::Pronouns(args) => statements::pronouns(&args)?,
            EvalTask::Geo(args) => geo::eval(&args)?,
            EvalTask::Duplicates(args) => duplicates::eval(&args)?,
            EvalTask::Identity(args) => identity::eval(&args)?,
            EvalTask::Stories(args) => stories::eval(&args)?,
        },
        Command::Bench { task } => match task {
            BenchTask::Ner(args) => bench::run(&args)?,
            BenchTask::Stance(args) => stance::bench(&args)?,
            BenchTask::Articles(args) => bench::articles(&args)?,
            BenchTask::Scaling(args) => return scaling::run(&args),
            BenchTask::Encoder(args) => encoder_bench::run(&args)?,
        },
        Command::Health(args) => health::run(&args)?,
        Command::ExtractText(args) => return extraction::extract_text(&args),
    }
    Ok(done)
}
