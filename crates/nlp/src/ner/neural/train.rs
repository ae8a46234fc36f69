//! Fine-tuning the encoder as a tagger on CoNLL-style data: length-bucketed batches, AdamW
//! with linear warm-up and decay, cross-entropy on the first word piece of each word.

use super::input::{self, SHAPES};
use super::tagger::{Batch, Tagger, trainable};
use super::{NeuralConfig, NeuralModel, load_tokenizer, neural_err, save_delta};
use crate::conll::TaggedDocument;
use crate::encoder::{BertConfig, add_var, load_base_weights, named_vars, var_builder};
use crate::error::NlpError;
use crate::ner::bio::entity_types;
use crate::xorshift::Xorshift;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use std::path::Path;
use std::time::Instant;

/// Settings of a fine-tuning run.
#[derive(Debug, Clone)]
pub struct NeuralTrainConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Peak learning rate of the encoder.
    pub lr: f64,
    /// Peak learning rate of the new parts (tagging head, shape embedding).
    pub head_lr: f64,
    /// Padded tokens per batch (batch size x longest window).
    pub batch_tokens: usize,
    /// Most windows per batch.
    pub max_batch: usize,
    /// Longest window in word pieces.
    pub window: usize,
    /// Seed of the shuffling and of the head's initialization.
    pub seed: u64,
    /// Stop after this many steps (the schedule is still planned over all of them).
    pub max_steps: Option<usize>,
    /// Save the weights every this many steps.
    pub checkpoint_every: usize,
    /// Transformer layers of the base encoder kept and tuned, from the bottom (all when
    /// `None`): fewer is a faster tagger.
    pub layers: Option<usize>,
}

impl Default for NeuralTrainConfig {
    fn default() -> Self {
        Self {
            epochs: 1,
            lr: 1e-4,
            head_lr: 1e-3,
            batch_tokens: 1024,
            max_batch: 32,
            window: 128,
            seed: 13,
            max_steps: None,
            checkpoint_every: 100,
            layers: None,
        }
    }
}

/// Reported every few steps.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Steps done.
    pub step: usize,
    /// Steps planned.
    pub steps: usize,
    /// Mean loss since the last report.
    pub loss: f32,
    /// Seconds since training started.
    pub seconds: f64,
    /// Word pieces (padding included) seen since training started.
    pub tokens: usize,
}

/// The transformer layer a base weight belongs to (`encoder.layer.N.` in its name), if any.
fn layer_of(name: &str) -> Option<usize> {
    let rest = name.strip_prefix("encoder.layer.")?;
    rest.split('.').next()?.parse().ok()
}

/// The labels of the data: "O", then `B-` of every type seen, then `I-` (sorted as text; the
/// perceptron's set in another order: the two are combined by name).
fn label_set(data: &[TaggedDocument]) -> Vec<String> {
    let types = entity_types(
        data.iter()
            .flat_map(|d| d.sentences.iter().flat_map(|s| s.tags.iter()))
            .map(String::as_str),
    );
    let begin = types.iter().map(|ty| format!("B-{ty}"));
    let inside = types.iter().map(|ty| format!("I-{ty}"));
    std::iter::once("O".to_string())
        .chain(begin)
        .chain(inside)
        .collect()
}

struct Example {
    ids: Vec<u32>,
    shapes: Vec<u32>,
    /// Positions of first pieces and their gold label index.
    targets: Vec<(u32, u32)>,
}

/// Fine-tunes the base encoder in `base` on `data` and writes the model into `out`
/// (checkpoints on the way). `progress` is called every ten steps.
pub fn train(
    base: &Path,
    out: &Path,
    data: &[TaggedDocument],
    config: &NeuralTrainConfig,
    mut progress: impl FnMut(&Progress),
) -> Result<NeuralModel, NlpError> {
    let labels = label_set(data);
    let l = labels.len();
    let (tokenizer, specials) = load_tokenizer(base)?;
    let weights = load_base_weights(base)?;
    let bert = BertConfig::load(base)?;
    let hidden = bert.hidden_size;
    let mut rng = Xorshift(config.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let layers = config
        .layers
        .unwrap_or(bert.num_hidden_layers)
        .clamp(1, bert.num_hidden_layers);
    let classifier: Vec<f32> = (0..l * hidden).map(|_| rng.normal(0.02)).collect();
    // Trainable copies of all but the frozen embeddings, and the new head and shape
    // embedding; the tagger reads them with the frozen tensors through one var builder.
    let vars = VarMap::new();
    (|| {
        // The layers above `layers` are never read: no copies, nothing in the delta.
        let kept = |name: &str| layer_of(name).is_none_or(|n| n < layers);
        for (name, tensor) in weights
            .iter()
            .filter(|(name, _)| trainable(name) && kept(name))
        {
            add_var(&vars, name, tensor)?;
        }
        let cpu = &Device::Cpu;
        add_var(
            &vars,
            "classifier.weight",
            &Tensor::from_vec(classifier, (l, hidden), cpu)?,
        )?;
        add_var(
            &vars,
            "classifier.bias",
            &Tensor::zeros(l, DType::F32, cpu)?,
        )?;
        add_var(
            &vars,
            "shape.weight",
            &Tensor::zeros((SHAPES, hidden), DType::F32, cpu)?,
        )
    })()
    .map_err(neural_err)?;
    let vb = var_builder(weights, &vars).map_err(neural_err)?;
    let tagger = Tagger::new(vb.clone(), bert.clone(), layers, l).map_err(neural_err)?;

    let label_ix = |t: &str| labels.iter().position(|x| x == t).unwrap_or(0) as u32;
    let mut examples = Vec::new();
    for d in data {
        for s in &d.sentences {
            let pieces = input::pieces(&tokenizer, specials, &s.tokens);
            for w in input::windows(0, &s.tokens, &pieces, specials, config.window) {
                let targets = w
                    .first_piece
                    .iter()
                    .enumerate()
                    .map(|(j, &pos)| (pos as u32, label_ix(&s.tags[w.first_word + j])))
                    .collect();
                examples.push(Example {
                    ids: w.ids,
                    shapes: w.shapes,
                    targets,
                });
            }
        }
    }
    if examples.is_empty() {
        return Err(NlpError::Training("no training sentences".into()));
    }

    let (head, body): (Vec<_>, Vec<_>) = named_vars(&vars)
        .map_err(neural_err)?
        .into_iter()
        .partition(|(n, _)| n.starts_with("classifier.") || n.starts_with("shape."));
    let adamw = |vars: Vec<Var>, lr: f64| {
        AdamW::new(
            vars,
            ParamsAdamW {
                lr,
                weight_decay: 0.01,
                ..ParamsAdamW::default()
            },
        )
        .map_err(neural_err)
    };
    let mut opt_body = adamw(body.iter().map(|(_, v)| v.clone()).collect(), config.lr)?;
    let mut opt_head = adamw(
        head.iter().map(|(_, v)| v.clone()).collect(),
        config.head_lr,
    )?;

    let batches_per_epoch = plan_batches(&examples, config, &mut rng).len();
    let planned = batches_per_epoch * config.epochs.max(1);
    let steps = config.max_steps.map_or(planned, |m| m.min(planned));
    let warmup = (planned / 20).max(1);
    let started = Instant::now();
    let mut step = 0usize;
    let mut tokens = 0usize;
    let mut loss_sum = 0f32;
    let mut loss_n = 0usize;
    let model_config = NeuralConfig {
        labels: labels.clone(),
        layers,
        window: config.window,
        weight: 0.5,
        gate: 2.0,
    };
    'epochs: for _ in 0..config.epochs.max(1) {
        for batch in plan_batches(&examples, config, &mut rng) {
            if step >= steps {
                break 'epochs;
            }
            let schedule = if step < warmup {
                (step + 1) as f64 / warmup as f64
            } else {
                (planned - step) as f64 / (planned - warmup).max(1) as f64
            };
            opt_body.set_learning_rate(config.lr * schedule);
            opt_head.set_learning_rate(config.head_lr * schedule);
            let rows: Vec<(&[u32], &[u32])> = batch
                .iter()
                .map(|&k| (examples[k].ids.as_slice(), examples[k].shapes.as_slice()))
                .collect();
            let b = Batch::new(&rows, &Device::Cpu).map_err(neural_err)?;
            let s = b.ids.dims()[1];
            tokens += rows.len() * s;
            let mut positions = Vec::new();
            let mut gold = Vec::new();
            for (r, &k) in batch.iter().enumerate() {
                for &(pos, label) in &examples[k].targets {
                    positions.push((r * s) as u32 + pos);
                    gold.push(label);
                }
            }
            let n = positions.len();
            let loss = (|| {
                let logits = tagger.forward(&b, true)?;
                let flat = logits.reshape((rows.len() * s, l))?;
                let picked =
                    flat.index_select(&Tensor::from_vec(positions, n, &Device::Cpu)?, 0)?;
                let gold = Tensor::from_vec(gold, n, &Device::Cpu)?;
                candle_nn::loss::cross_entropy(&picked, &gold)
            })()
            .map_err(neural_err)?;
            let grads = loss.backward().map_err(neural_err)?;
            opt_body.step(&grads).map_err(neural_err)?;
            opt_head.step(&grads).map_err(neural_err)?;
            loss_sum += loss
                .to_dtype(DType::F32)
                .and_then(|t| t.to_scalar::<f32>())
                .map_err(neural_err)?;
            loss_n += 1;
            step += 1;
            if step.is_multiple_of(10) || step == steps {
                progress(&Progress {
                    step,
                    steps,
                    loss: loss_sum / loss_n.max(1) as f32,
                    seconds: started.elapsed().as_secs_f64(),
                    tokens,
                });
                loss_sum = 0.0;
                loss_n = 0;
            }
            if config.checkpoint_every > 0 && step.is_multiple_of(config.checkpoint_every) {
                save_delta(&vars, out)?;
                model_config.save(out)?;
            }
        }
    }
    save_delta(&vars, out)?;
    model_config.save(out)?;
    NeuralModel::from_parts(vb, bert, tokenizer, specials, model_config)
}

/// Batches of example indexes: shuffled, then sorted by length within pools of 50 batches
/// so that batches hold windows of similar length, then the batch order shuffled.
fn plan_batches(
    examples: &[Example],
    config: &NeuralTrainConfig,
    rng: &mut Xorshift,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..examples.len()).collect();
    rng.shuffle(&mut order);
    let pool = config.max_batch.max(1) * 50;
    for chunk in order.chunks_mut(pool) {
        chunk.sort_by_key(|&k| examples[k].ids.len());
    }
    let mut batches = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut longest = 0;
    for k in order {
        let len = examples[k].ids.len();
        let grown = longest.max(len);
        if !current.is_empty()
            && (current.len() >= config.max_batch
                || (current.len() + 1) * grown > config.batch_tokens)
        {
            batches.push(std::mem::take(&mut current));
            longest = 0;
        }
        longest = longest.max(len);
        current.push(k);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    rng.shuffle(&mut batches);
    batches
}

#[cfg(test)]
mod tests {
    use super::layer_of;

    #[test]
    fn weights_are_placed_in_their_layer() {
        assert_eq!(
            layer_of("encoder.layer.3.attention.self.query.weight"),
            Some(3)
        );
        assert_eq!(layer_of("encoder.layer.11.output.dense.bias"), Some(11));
        assert_eq!(layer_of("embeddings.LayerNorm.weight"), None);
        assert_eq!(layer_of("classifier.weight"), None);
    }
}
