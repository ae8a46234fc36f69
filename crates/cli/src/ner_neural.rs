//! `newsflow train ner-minilm`: fine-tunes the accurate mode's encoder.

use clap::Args;
use newsflow_nlp::conll;
use newsflow_nlp::ner::neural::train::{self, NeuralTrainConfig};
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `newsflow train ner-minilm`.
#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    files: crate::TrainingFiles,
    /// Base encoder directory.
    #[arg(long, default_value_os_t = newsflow_analysis::ModelPaths::default().base)]
    base: PathBuf,
    /// Passes over the training data.
    #[arg(long, default_value_t = NeuralTrainConfig::default().epochs)]
    epochs: usize,
    /// Peak learning rate of the encoder.
    #[arg(long, default_value_t = NeuralTrainConfig::default().lr)]
    lr: f64,
    /// Peak learning rate of the tagging head and shape embedding.
    #[arg(long, default_value_t = NeuralTrainConfig::default().head_lr)]
    head_lr: f64,
    /// Padded word pieces per batch.
    #[arg(long, default_value_t = NeuralTrainConfig::default().batch_tokens)]
    batch_tokens: usize,
    /// Most sentences per batch.
    #[arg(long, default_value_t = NeuralTrainConfig::default().max_batch)]
    max_batch: usize,
    /// Longest window in word pieces.
    #[arg(long, default_value_t = NeuralTrainConfig::default().window)]
    window: usize,
    /// Seed.
    #[arg(long, default_value_t = NeuralTrainConfig::default().seed)]
    seed: u64,
    /// Stop after this many steps.
    #[arg(long)]
    max_steps: Option<usize>,
    /// Save the weights every this many steps.
    #[arg(long, default_value_t = NeuralTrainConfig::default().checkpoint_every)]
    checkpoint_every: usize,
    /// Keep and tune only the base encoder's lowest this many layers (all when not given): a
    /// faster tagger.
    #[arg(long)]
    layers: Option<usize>,
}

/// Fine-tunes and saves the encoder, printing progress every ten steps.
pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let data = conll::read_file(&args.files.train)?;
    let config = NeuralTrainConfig {
        epochs: args.epochs,
        lr: args.lr,
        head_lr: args.head_lr,
        batch_tokens: args.batch_tokens,
        max_batch: args.max_batch,
        window: args.window,
        seed: args.seed,
        max_steps: args.max_steps,
        checkpoint_every: args.checkpoint_every,
        layers: args.layers,
    };
    let started = Instant::now();
    train::train(&args.base, &args.files.out, &data, &config, |p| {
        let per_step = p.seconds / p.step.max(1) as f64;
        eprintln!(
            "step {:>5}/{}  loss {:.4}  {:.0}s  {:.2}s/step  {:.0} pieces/s  eta {:.0}s",
            p.step,
            p.steps,
            p.loss,
            p.seconds,
            per_step,
            p.tokens as f64 / p.seconds.max(1e-9),
            per_step * (p.steps - p.step) as f64
        );
    })?;
    eprintln!(
        "trained in {:.0}s; wrote {}",
        started.elapsed().as_secs_f64(),
        args.files.out.display()
    );
    Ok(())
}
