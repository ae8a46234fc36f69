//! Fine-tuning the stance classifier: the top `trained_layers` layers of the encoder and a
//! linear head, over the outputs of the frozen lower layers, which are computed once and
//! cached (on two shared cores a full fine-tune does not fit the time a run may take).
//!
//! AdamW with linear warmup and linear decay, dropout in the tuned layers and before the head,
//! batches of inputs of similar length (less padding). Each seed trains one member; the model
//! averages the members' probabilities.

use super::model::{
    Member, ModelConfig, StanceClassifier, feature_width, model_config, save_members, unweighted,
};
use super::{Polarity, StanceExample, StanceInput, StanceScores, build_input, score};
use crate::encoder::{
    BertConfig, Encoder, Mode, WordPieceTokenizer, add_var, attention_mask, load_base_weights,
    pad_ids, var_builder,
};
use crate::error::NlpError;
use crate::stance::input::{Marking, SpecialIds};
use candle_core::{DType, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::time::Instant;

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Passes over the training data, per member.
    pub epochs: usize,
    /// One member per seed.
    pub seeds: Vec<u64>,
    /// Peak learning rate.
    pub lr: f64,
    /// Share of the steps spent warming the learning rate up from 0.
    pub warmup: f64,
    /// AdamW weight decay (on weight matrices only).
    pub weight_decay: f64,
    /// Targets per step.
    pub batch_size: usize,
    /// Dropout in the tuned layers and before the head.
    pub dropout: f32,
    /// How many of the top encoder layers to tune.
    pub trained_layers: usize,
    /// Longest input in WordPieces, special tokens included.
    pub max_len: usize,
    /// Stop each epoch after this many steps (for timing runs).
    pub max_steps: Option<usize>,
    /// Weigh each class's loss by the inverse of its share of the training examples, so a
    /// rare class counts as much as a common one.
    pub balanced: bool,
    /// Start the tuned layers from another model's (its member 0; the holder-stance model
    /// from the target-sentiment model, say) rather than from the base encoder's.
    pub init_from: Option<std::path::PathBuf>,
    /// Keep, of each member, the epoch that scored the highest macro-F1 on the first
    /// development set (an early stop on held-out data), not the last one.
    pub best_epoch: bool,
    /// How inputs show the target: marker tokens, or the plain sentence whose one encoder
    /// pass every target of it shares.
    pub marking: Marking,
    /// Trained models (any marking) whose probabilities, averaged, on the training examples
    /// the new members also learn from: distillation, so a plain student can learn what a
    /// marked ensemble reads.
    pub teachers: Vec<std::path::PathBuf>,
    /// Examples without gold labels (their `polarity` is ignored) that the new members learn
    /// from the teachers' probabilities alone: more sentences than the labelled ones to learn
    /// the teachers' reading from.
    pub transfer: Vec<StanceExample>,
    /// Give the head the target's attention summary of the sentence
    /// ([`ModelConfig::target_attention`]).
    pub target_attention: bool,
    /// With a teacher, the share of the loss that is the cross-entropy against its
    /// probabilities; the rest is the gold labels'.
    pub distill: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 3,
            seeds: vec![1],
            lr: 1e-4,
            warmup: 0.1,
            weight_decay: 0.01,
            batch_size: 16,
            dropout: 0.1,
            trained_layers: 2,
            max_len: 128,
            max_steps: None,
            balanced: false,
            init_from: None,
            best_epoch: false,
            marking: Marking::Markers,
            teachers: Vec::new(),
            transfer: Vec::new(),
            distill: 0.5,
            target_attention: false,
        }
    }
}

/// Scores of one member after one epoch, or of the ensemble at the end.
#[derive(Debug, Clone)]
pub struct DevResult {
    /// The dev set's name.
    pub name: String,
    /// Its scores.
    pub scores: StanceScores,
}

/// What training measured.
#[derive(Debug, Clone, Default)]
pub struct TrainReport {
    /// Per seed: the dev scores after its last epoch (its best, with `best_epoch`).
    pub per_seed: Vec<(u64, Vec<DevResult>)>,
    /// The ensemble of all members on each dev set.
    pub ensemble: Vec<DevResult>,
    /// Seconds spent caching the frozen layers.
    pub cache_seconds: f64,
    /// Seconds spent training (all seeds, without caching and evaluation).
    pub train_seconds: f64,
}

struct Prepared {
    /// Whether the inputs mark holders (all of them do, or none).
    holder: bool,
    inputs: Vec<StanceInput>,
    /// Gold labels; a transfer example's is a placeholder that no loss reads.
    labels: Vec<Polarity>,
    /// Per input, whether its label is gold (false for transfer examples).
    gold: Vec<bool>,
    /// The teachers' mean probabilities per input (negative, neutral, positive), when there
    /// are teachers.
    soft: Option<Vec<[f32; 3]>>,
    /// Frozen lower-layer states per input, `[len, hidden]`.
    lower: Vec<Tensor>,
}

/// Inputs, labels and cached lower-layer states of `examples` (gold) and `transfer`
/// (unlabelled), with the `teachers`' averaged probabilities on all of them when there are
/// teachers.
fn prepare(
    encoder: &Encoder,
    tokenizer: &WordPieceTokenizer,
    examples: &[StanceExample],
    transfer: &[StanceExample],
    config: &TrainConfig,
    teachers: &[StanceClassifier],
    progress: &mut dyn FnMut(&str),
) -> Result<Prepared, NlpError> {
    let special = SpecialIds::from_tokenizer(tokenizer)?;
    let holder = examples.first().is_some_and(|e| e.holder.is_some());
    if examples
        .iter()
        .chain(transfer)
        .any(|e| e.holder.is_some() != holder)
    {
        return Err(NlpError::Training(
            "either every example has a holder or none has".into(),
        ));
    }
    let all = examples.len() + transfer.len();
    let mut inputs = Vec::with_capacity(all);
    let mut labels = Vec::with_capacity(all);
    let mut gold = Vec::with_capacity(all);
    let mut kept = Vec::with_capacity(all);
    let mut skipped = 0;
    let marked = examples
        .iter()
        .map(|e| (e, true))
        .chain(transfer.iter().map(|e| (e, false)));
    for (e, is_gold) in marked {
        match build_input(
            tokenizer,
            special,
            &e.sentence,
            e.span,
            e.holder,
            config.max_len,
            config.marking,
        ) {
            Ok(i) => {
                inputs.push(i);
                labels.push(e.polarity);
                gold.push(is_gold);
                kept.push(e);
            }
            Err(NlpError::InvalidInput(_)) => skipped += 1,
            Err(e) => return Err(e),
        }
    }
    if skipped > 0 {
        progress(&format!("skipped {skipped} examples with an invalid span"));
    }
    let soft = if teachers.is_empty() {
        None
    } else {
        let mut mean = vec![[0f32; 3]; kept.len()];
        for (t, teacher) in teachers.iter().enumerate() {
            let started = Instant::now();
            let teacher_inputs = kept
                .iter()
                .map(|e| teacher.input(&e.sentence, e.span, e.holder))
                .collect::<Result<Vec<_>, _>>()?;
            let probs = teacher.probabilities(&teacher_inputs)?;
            for (m, p) in mean.iter_mut().zip(&probs) {
                for c in 0..3 {
                    m[c] += p[c] / teachers.len() as f32;
                }
            }
            progress(&format!(
                "teacher {} read {} examples in {:.0}s",
                t + 1,
                probs.len(),
                started.elapsed().as_secs_f64()
            ));
        }
        Some(mean)
    };
    let upto = encoder.layers.len() - config.trained_layers;
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| inputs[i].ids.len());
    let mut lower = vec![None; inputs.len()];
    for chunk in order.chunks(64) {
        let seqs: Vec<&[u32]> = chunk.iter().map(|&i| inputs[i].ids.as_slice()).collect();
        let (ids, mask) = pad_ids(&seqs, encoder.device())?;
        let states = encoder.forward_lower(&ids, &mask, upto)?;
        for (row, &i) in chunk.iter().enumerate() {
            let len = inputs[i].ids.len();
            // An owned copy: `Tensor::copy` would clone the whole batch's storage for every row.
            let row = states.get(row)?.narrow(0, 0, len)?;
            let h = row.dim(1)?;
            lower[i] = Some(Tensor::from_vec(
                row.flatten_all()?.to_vec1::<f32>()?,
                (len, h),
                states.device(),
            )?);
        }
    }
    let lower = lower
        .into_iter()
        .map(|t| t.ok_or_else(|| NlpError::Training("missing cached states".into())))
        .collect::<Result<_, _>>()?;
    Ok(Prepared {
        holder,
        inputs,
        labels,
        gold,
        soft,
        lower,
    })
}

/// One padded batch of cached states.
struct Batch {
    x: Tensor,
    mask: Tensor,
    targets: Vec<Range<usize>>,
    holders: Option<Vec<Range<usize>>>,
}

impl Batch {
    fn logits(&self, member: &Member, mode: &mut Mode) -> candle_core::Result<Tensor> {
        member.forward(
            &self.x,
            &self.mask,
            &self.targets,
            self.holders.as_deref(),
            mode,
        )
    }
}

/// Pads cached states of `batch` into `[b, len, hidden]` with the mask and target (and
/// holder) ranges.
fn gather(data: &Prepared, batch: &[usize]) -> candle_core::Result<Batch> {
    let len = batch
        .iter()
        .map(|&i| data.inputs[i].ids.len())
        .max()
        .unwrap_or(1);
    let rows = batch
        .iter()
        .map(|&i| {
            let t = &data.lower[i];
            let pad = len - t.dim(0)?;
            if pad == 0 {
                Ok(t.clone())
            } else {
                t.pad_with_zeros(0, 0, pad)
            }
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    let x = Tensor::stack(&rows, 0)?;
    let lengths: Vec<usize> = batch.iter().map(|&i| data.inputs[i].ids.len()).collect();
    let mask = attention_mask(&lengths, len, x.device())?;
    let targets = batch
        .iter()
        .map(|&i| data.inputs[i].target.clone())
        .collect();
    let holders = data.holder.then(|| {
        batch
            .iter()
            .map(|&i| data.inputs[i].holder.clone().unwrap_or(0..1))
            .collect()
    });
    Ok(Batch {
        x,
        mask,
        targets,
        holders,
    })
}

/// Batches of similar length: shuffle, sort within pools of 50 batches, shuffle the batches.
fn batches(data: &Prepared, size: usize, rng: &mut StdRng) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..data.inputs.len()).collect();
    idx.shuffle(rng);
    let mut out = Vec::new();
    for pool in idx.chunks(size * 50) {
        let mut pool = pool.to_vec();
        pool.sort_by_key(|&i| data.inputs[i].ids.len());
        out.extend(pool.chunks(size).map(|c| c.to_vec()));
    }
    out.shuffle(rng);
    out
}

/// Probabilities `[n][3]` of one member over prepared data, the class weights undone.
fn member_probs(
    member: &Member,
    data: &Prepared,
    class_weights: Option<[f32; 3]>,
) -> Result<Vec<[f32; 3]>, NlpError> {
    let mut order: Vec<usize> = (0..data.inputs.len()).collect();
    order.sort_by_key(|&i| data.inputs[i].ids.len());
    let mut out = vec![[0f32; 3]; data.inputs.len()];
    for chunk in order.chunks(64) {
        let logits = gather(data, chunk)?.logits(member, &mut Mode::inference())?;
        let p = candle_nn::ops::softmax_last_dim(&logits)?.to_vec2::<f32>()?;
        for (&i, p) in chunk.iter().zip(p) {
            out[i] = unweighted([p[0], p[1], p[2]], class_weights);
        }
    }
    Ok(out)
}

fn score_probs(data: &Prepared, probs: &[[f32; 3]]) -> Result<StanceScores, NlpError> {
    let predicted: Vec<Polarity> = probs
        .iter()
        .map(|p| {
            let best = (0..3).fold(0, |b, i| if p[i] > p[b] { i } else { b });
            Polarity::ALL[best]
        })
        .collect();
    score(&data.labels, &predicted)
}

/// A new member: trainable copies of the base encoder's top `trained_layers` layers
/// (`layer.j.*`) and a head drawn from `rng` (`head.*`), held in the returned variable map.
fn new_member(
    base: &HashMap<String, Tensor>,
    encoder: &BertConfig,
    config: &TrainConfig,
    holder: bool,
    rng: &mut StdRng,
) -> Result<(Member, VarMap), NlpError> {
    let first = encoder.num_hidden_layers - config.trained_layers;
    let vars = VarMap::new();
    for j in 0..config.trained_layers {
        let prefix = format!("encoder.layer.{}.", first + j);
        for (name, tensor) in base {
            if let Some(param) = name.strip_prefix(&prefix) {
                add_var(&vars, &format!("layer.{j}.{param}"), tensor)?;
            }
        }
    }
    let device = &candle_core::Device::Cpu;
    // Normal(0, 0.02) by Box-Muller, from the seeded generator.
    let mut normal = |rows: usize, cols: usize| {
        let init: Vec<f32> = (0..rows * cols)
            .map(|_| {
                let (u1, u2): (f32, f32) = (rng.random::<f32>().max(1e-7), rng.random());
                0.02 * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
            })
            .collect();
        Tensor::from_vec(init, (rows, cols), device)
    };
    let width = feature_width(encoder, holder, config.target_attention);
    add_var(&vars, "head.weight", &normal(3, width)?)?;
    add_var(&vars, "head.bias", &Tensor::zeros(3, DType::F32, device)?)?;
    if config.target_attention {
        let hidden = encoder.hidden_size;
        add_var(&vars, "attend.weight", &normal(hidden, hidden)?)?;
        add_var(
            &vars,
            "attend.bias",
            &Tensor::zeros(hidden, DType::F32, device)?,
        )?;
    }
    let member = Member::new(
        var_builder(HashMap::new(), &vars)?,
        encoder,
        config.trained_layers,
        holder,
        config.target_attention,
    )?;
    Ok((member, vars))
}

/// Per class, the weight of its examples' loss: 1 each, or (balanced) the inverse of the
/// class's share, scaled so the examples' weights average 1.
fn class_weights(data: &Prepared, balanced: bool) -> [f32; 3] {
    if !balanced {
        return [1.0; 3];
    }
    let mut counts = [0usize; 3];
    for (label, _) in data.labels.iter().zip(&data.gold).filter(|(_, g)| **g) {
        counts[label.index()] += 1;
    }
    let n = counts.iter().sum::<usize>().max(1) as f32;
    counts.map(|c| if c == 0 { 0.0 } else { n / (3.0 * c as f32) })
}

/// Cross-entropy of `logits` `[batch, 3]` against class indices, each example weighed by its
/// class's weight; the weighted mean.
fn weighted_cross_entropy(
    logits: &Tensor,
    labels: &[usize],
    weights: &[f32; 3],
) -> candle_core::Result<Tensor> {
    let device = logits.device();
    let picked_weights: Vec<f32> = labels.iter().map(|&l| weights[l]).collect();
    let total: f32 = picked_weights.iter().sum();
    let ids: Vec<u32> = labels.iter().map(|&l| l as u32).collect();
    let ids = Tensor::from_vec(ids, (labels.len(), 1), device)?;
    let log_p = candle_nn::ops::log_softmax(logits, 1)?
        .gather(&ids, 1)?
        .squeeze(1)?;
    let w = Tensor::from_vec(picked_weights, labels.len(), device)?;
    (log_p * w)?
        .sum_all()?
        .affine(-1.0 / total.max(1e-9) as f64, 0.0)
}

/// Cross-entropy of `logits` `[batch, 3]` against a teacher's probabilities `[batch][3]`,
/// the mean over the batch.
fn soft_cross_entropy(logits: &Tensor, teacher: &[[f32; 3]]) -> candle_core::Result<Tensor> {
    let flat: Vec<f32> = teacher.iter().flatten().copied().collect();
    let p = Tensor::from_vec(flat, (teacher.len(), 3), logits.device())?;
    (candle_nn::ops::log_softmax(logits, 1)? * p)?
        .sum_all()?
        .affine(-1.0 / teacher.len().max(1) as f64, 0.0)
}

/// The loss of one batch: the gold labels' weighted cross-entropy over its gold examples and,
/// with teachers, `distill` of it the cross-entropy against their probabilities over all its
/// examples (a transfer example has only the latter).
fn batch_loss(
    data: &Prepared,
    batch: &[usize],
    logits: &Tensor,
    weights: &[f32; 3],
    distill: f64,
) -> candle_core::Result<Tensor> {
    let gold_rows: Vec<u32> = (0..batch.len() as u32)
        .filter(|&r| data.gold[batch[r as usize]])
        .collect();
    let hard = if gold_rows.is_empty() {
        None
    } else {
        let labels: Vec<usize> = gold_rows
            .iter()
            .map(|&r| data.labels[batch[r as usize]].index())
            .collect();
        let rows = if gold_rows.len() == batch.len() {
            logits.clone()
        } else {
            let ids = Tensor::new(gold_rows.as_slice(), logits.device())?;
            logits.index_select(&ids, 0)?
        };
        Some(weighted_cross_entropy(&rows, &labels, weights)?)
    };
    let Some(soft) = &data.soft else {
        return hard.ok_or_else(|| candle_core::Error::Msg("a batch without labels".into()));
    };
    let taught: Vec<[f32; 3]> = batch.iter().map(|&i| soft[i]).collect();
    let soft = soft_cross_entropy(logits, &taught)?.affine(distill, 0.0)?;
    match hard {
        Some(hard) => hard.affine(1.0 - distill, 0.0)? + soft,
        None => Ok(soft),
    }
}

/// Learning rate at `step` of `total`: linear warmup, then linear decay to 0.
fn lr_at(config: &TrainConfig, step: usize, total: usize) -> f64 {
    let warm = ((total as f64) * config.warmup).round() as usize;
    if step < warm {
        config.lr * (step + 1) as f64 / warm as f64
    } else {
        config.lr * (total - step) as f64 / (total - warm).max(1) as f64
    }
}

/// Where the member in training is saved after every epoch, inside the output directory;
/// removed when training ends.
pub const CHECKPOINT_DIR: &str = "checkpoint";

/// Trains one member per seed over the base encoder in `base_dir`, reporting progress as
/// text lines; scores each member on `dev` after every epoch. The model in `out` holds the
/// members finished so far (rewritten after each seed); the member in training is saved
/// after every epoch into `out/checkpoint` (a one-member model).
pub fn train(
    base_dir: &Path,
    train: &[StanceExample],
    dev: &[(String, Vec<StanceExample>)],
    config: &TrainConfig,
    out: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<(StanceClassifier, TrainReport), NlpError> {
    if config.epochs == 0 || config.seeds.is_empty() || config.batch_size == 0 {
        return Err(NlpError::Training(
            "epochs, seeds and batch size must be positive".into(),
        ));
    }
    let base = load_base_weights(base_dir)?;
    let encoder = Encoder::from_base_weights(base_dir, base.clone())?;
    let tokenizer = WordPieceTokenizer::load(base_dir)?;
    if config.trained_layers == 0 || config.trained_layers > encoder.layers.len() {
        return Err(NlpError::Training(format!(
            "trained layers must be 1..={}",
            encoder.layers.len()
        )));
    }
    // The tuned layers start from another model's where it tuned them, from the base's
    // elsewhere (tuning 6 layers from a model that tuned the top 3 starts layers 0-2 from the
    // base); the frozen layers stay the base's.
    let start = match &config.init_from {
        None => base.clone(),
        Some(dir) => {
            let (from, layers) = super::model::tuned_layers(dir)?;
            // Its layer j is the base file's layer `layers - its tuned layers + j`.
            let first = encoder
                .layers
                .len()
                .checked_sub(from.trained_layers)
                .ok_or_else(|| {
                    NlpError::Training(format!(
                        "{} tuned {} layers; the base encoder has {}",
                        dir.display(),
                        from.trained_layers,
                        encoder.layers.len(),
                    ))
                })?;
            let mut start = base.clone();
            for (name, tensor) in layers {
                let Some((j, param)) = name
                    .strip_prefix("layer.")
                    .and_then(|rest| rest.split_once('.'))
                else {
                    continue;
                };
                let j: usize = j.parse().map_err(|_| {
                    NlpError::Training(format!("{}: odd tensor name {name}", dir.display()))
                })?;
                start.insert(format!("encoder.layer.{}.{param}", first + j), tensor);
            }
            start
        }
    };
    if !(0.0..=1.0).contains(&config.distill) {
        return Err(NlpError::Training(
            "the distillation share must be in 0..=1".into(),
        ));
    }
    if config.teachers.is_empty() && !config.transfer.is_empty() {
        return Err(NlpError::Training(
            "examples without labels need a teacher to learn from".into(),
        ));
    }
    let mut report = TrainReport::default();
    let started = Instant::now();
    let teachers = config
        .teachers
        .iter()
        // Over the encoder already loaded: one copy of the base weights, not one a teacher.
        .map(|dir| StanceClassifier::load_over(dir, base_dir, encoder.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let data = prepare(
        &encoder,
        &tokenizer,
        train,
        &config.transfer,
        config,
        &teachers,
        progress,
    )?;
    drop(teachers);
    let dev_data = dev
        .iter()
        .map(|(name, ex)| {
            Ok((
                name.clone(),
                prepare(&encoder, &tokenizer, ex, &[], config, &[], progress)?,
            ))
        })
        .collect::<Result<Vec<_>, NlpError>>()?;
    report.cache_seconds = started.elapsed().as_secs_f64();
    progress(&format!(
        "cached layers 0..{} for {} train and {} dev inputs in {:.0}s",
        encoder.layers.len() - config.trained_layers,
        data.inputs.len(),
        dev_data.iter().map(|(_, d)| d.inputs.len()).sum::<usize>(),
        report.cache_seconds
    ));
    if data.inputs.is_empty() {
        return Err(NlpError::Training("no training examples".into()));
    }
    let weights = class_weights(&data, config.balanced);
    let mconfig = ModelConfig {
        class_weights: config.balanced.then_some(weights),
        target_attention: config.target_attention,
        ..model_config(
            config.trained_layers,
            config.max_len,
            data.holder,
            config.marking,
        )
    };
    if dev_data
        .iter()
        .any(|(_, d)| d.holder != data.holder && !d.inputs.is_empty())
    {
        return Err(NlpError::Training(
            "dev examples must have holders exactly when the training examples do".into(),
        ));
    }
    let mut members: Vec<Member> = Vec::new();
    let mut member_vars: Vec<VarMap> = Vec::new();
    let mut dev_probs: Vec<Vec<Vec<[f32; 3]>>> = vec![Vec::new(); dev_data.len()];
    for &seed in &config.seeds {
        let mut rng = StdRng::seed_from_u64(seed);
        let (member, vars) = new_member(&start, &encoder.config, config, data.holder, &mut rng)?;
        // Weight decay on the weight matrices only.
        let (matrices, vectors) = vars.all_vars().into_iter().partition(|v| v.rank() == 2);
        let params = |wd: f64| ParamsAdamW {
            lr: config.lr,
            weight_decay: wd,
            ..Default::default()
        };
        let mut opt_w = AdamW::new(matrices, params(config.weight_decay))?;
        let mut opt_v = AdamW::new(vectors, params(0.0))?;
        let per_epoch = batches(&data, config.batch_size, &mut rng.clone()).len();
        let per_epoch = config.max_steps.map_or(per_epoch, |m| m.min(per_epoch));
        let total = per_epoch * config.epochs;
        let mut step = 0;
        let mut last = Vec::new();
        // With `best_epoch`: the best first-dev F1m so far, its epoch, a copy of its variables,
        // its dev probabilities and results.
        type Best = (
            f64,
            usize,
            Vec<(Var, Tensor)>,
            Vec<Vec<[f32; 3]>>,
            Vec<DevResult>,
        );
        let mut best: Option<Best> = None;
        let mut epoch_probs: Vec<Vec<[f32; 3]>> = Vec::new();
        for epoch in 1..=config.epochs {
            let epoch_started = Instant::now();
            let mut loss_sum = 0.0;
            let mut window = Instant::now();
            let mut drop_rng =
                StdRng::seed_from_u64(seed.wrapping_mul(1000).wrapping_add(epoch as u64));
            for (b, batch) in batches(&data, config.batch_size, &mut rng)
                .into_iter()
                .take(per_epoch)
                .enumerate()
            {
                let inputs = gather(&data, &batch)?;
                let mut mode = Mode::dropout_with(config.dropout, &mut drop_rng);
                let logits = inputs.logits(&member, &mut mode)?;
                let loss = batch_loss(&data, &batch, &logits, &weights, config.distill)?;
                let lr = lr_at(config, step, total);
                opt_w.set_learning_rate(lr);
                opt_v.set_learning_rate(lr);
                let grads = loss.backward()?;
                opt_w.step(&grads)?;
                opt_v.step(&grads)?;
                loss_sum += loss.to_scalar::<f32>()? as f64;
                step += 1;
                if (b + 1) % 50 == 0 {
                    progress(&format!(
                        "seed {seed} epoch {epoch} step {}/{per_epoch} loss {:.4} lr {lr:.2e} {:.3}s/step",
                        b + 1,
                        loss_sum / (b + 1) as f64,
                        window.elapsed().as_secs_f64() / 50.0
                    ));
                    window = Instant::now();
                }
            }
            let epoch_s = epoch_started.elapsed().as_secs_f64();
            report.train_seconds += epoch_s;
            last.clear();
            epoch_probs.clear();
            let mut line = format!(
                "seed {seed} epoch {epoch} done in {epoch_s:.0}s, loss {:.4}",
                loss_sum / per_epoch as f64
            );
            for (name, d) in &dev_data {
                let probs = member_probs(&member, d, mconfig.class_weights)?;
                let s = score_probs(d, &probs)?;
                line += &format!("; {name} F1m {:.4} acc {:.4}", s.f1m, s.accuracy);
                epoch_probs.push(probs);
                last.push(DevResult {
                    name: name.clone(),
                    scores: s,
                });
            }
            let first_f1m = last.first().map(|r| r.scores.f1m);
            if config.best_epoch
                && let Some(f1m) = first_f1m
                && best.as_ref().is_none_or(|b| f1m > b.0)
            {
                let copies = vars
                    .all_vars()
                    .into_iter()
                    .map(|v| {
                        let t = v.as_tensor().copy()?;
                        Ok((v, t))
                    })
                    .collect::<candle_core::Result<_>>()?;
                best = Some((f1m, epoch, copies, epoch_probs.clone(), last.clone()));
                line += " (best so far)";
            }
            progress(&line);
            save_members(
                &out.join(CHECKPOINT_DIR),
                &mconfig,
                std::slice::from_ref(&vars),
            )?;
        }
        if let Some((f1m, epoch, copies, probs, results)) = best.take()
            && epoch != config.epochs
        {
            progress(&format!(
                "seed {seed}: keeping epoch {epoch} (first dev F1m {f1m:.4})"
            ));
            for (var, tensor) in copies {
                var.set(&tensor)?;
            }
            epoch_probs = probs;
            last = results;
        }
        for (k, probs) in epoch_probs.drain(..).enumerate() {
            dev_probs[k].push(probs);
        }
        report.per_seed.push((seed, last));
        members.push(member);
        member_vars.push(vars);
        save_members(out, &mconfig, &member_vars)?;
    }
    std::fs::remove_dir_all(out.join(CHECKPOINT_DIR)).map_err(|e| NlpError::io(out, e))?;
    for (k, (name, d)) in dev_data.iter().enumerate() {
        let n = d.inputs.len();
        let mut avg = vec![[0f32; 3]; n];
        for probs in &dev_probs[k] {
            for (a, p) in avg.iter_mut().zip(probs) {
                for c in 0..3 {
                    a[c] += p[c] / dev_probs[k].len() as f32;
                }
            }
        }
        let s = score_probs(d, &avg)?;
        progress(&format!(
            "ensemble of {} on {name}: F1m {:.4} acc {:.4}",
            members.len(),
            s.f1m,
            s.accuracy
        ));
        report.ensemble.push(DevResult {
            name: name.clone(),
            scores: s,
        });
    }
    let classifier = StanceClassifier::from_parts(encoder, tokenizer, mconfig, members)?;
    Ok((classifier, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_cross_entropy_is_plain_cross_entropy_with_equal_weights() {
        let device = candle_core::Device::Cpu;
        let logits =
            Tensor::from_vec(vec![2.0f32, 0.5, -1.0, 0.1, 0.2, 0.3], (2, 3), &device).unwrap();
        let labels = [0usize, 2];
        let ids = Tensor::from_vec(vec![0u32, 2], 2, &device).unwrap();
        let plain = candle_nn::loss::cross_entropy(&logits, &ids)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let ours = weighted_cross_entropy(&logits, &labels, &[1.0; 3])
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((plain - ours).abs() < 1e-6, "{plain} vs {ours}");
        // Weighing the second example's class up moves the loss toward its loss.
        let heavier = weighted_cross_entropy(&logits, &labels, &[1.0, 1.0, 3.0])
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(heavier > ours);
    }

    #[test]
    fn soft_cross_entropy_is_cross_entropy_when_the_teacher_is_certain() {
        let device = candle_core::Device::Cpu;
        let logits =
            Tensor::from_vec(vec![2.0f32, 0.5, -1.0, 0.1, 0.2, 0.3], (2, 3), &device).unwrap();
        let hard = weighted_cross_entropy(&logits, &[0, 2], &[1.0; 3])
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let certain = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
        let soft = soft_cross_entropy(&logits, &certain)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((hard - soft).abs() < 1e-6, "{hard} vs {soft}");
        // A teacher that spreads its belief pulls the loss of the confident first row up.
        let unsure = [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]];
        let spread = soft_cross_entropy(&logits, &unsure)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(spread > soft, "{spread} vs {soft}");
    }

    /// Prepared data of `gold` flags (labels: negative for gold rows), with a uniform teacher
    /// when `taught`.
    fn prepared(gold: &[bool], taught: bool) -> Prepared {
        let n = gold.len();
        Prepared {
            holder: false,
            inputs: Vec::new(),
            labels: vec![Polarity::Negative; n],
            gold: gold.to_vec(),
            soft: taught.then(|| vec![[1.0 / 3.0; 3]; n]),
            lower: Vec::new(),
        }
    }

    #[test]
    fn transfer_examples_learn_from_the_teachers_only() {
        let device = candle_core::Device::Cpu;
        let logits =
            Tensor::from_vec(vec![2.0f32, 0.5, -1.0, 0.1, 0.2, 0.3], (2, 3), &device).unwrap();
        let value = |t: Tensor| t.to_scalar::<f32>().unwrap();
        // The loss of both rows, those flagged in `gold` labelled, with a uniform teacher when
        // `taught`.
        let loss = |gold: &[bool], taught: bool| {
            batch_loss(&prepared(gold, taught), &[0, 1], &logits, &[1.0; 3], 0.5)
        };
        let uniform = [[1.0 / 3.0; 3]; 2];
        let soft_all = value(soft_cross_entropy(&logits, &uniform).unwrap());
        // Both gold: as before, (1 - d) of the labels' loss and d of the teacher's.
        let both = value(loss(&[true, true], true).unwrap());
        let hard_all = value(weighted_cross_entropy(&logits, &[0, 0], &[1.0; 3]).unwrap());
        assert!((both - (0.5 * hard_all + 0.5 * soft_all)).abs() < 1e-6);
        // The second a transfer example: its label is not read, only the first row's.
        let one = value(loss(&[true, false], true).unwrap());
        let first = logits.narrow(0, 0, 1).unwrap();
        let hard_first = value(weighted_cross_entropy(&first, &[0], &[1.0; 3]).unwrap());
        assert!((one - (0.5 * hard_first + 0.5 * soft_all)).abs() < 1e-6);
        // Transfer examples only: the teacher's share alone.
        let none = value(loss(&[false, false], true).unwrap());
        assert!((none - 0.5 * soft_all).abs() < 1e-6);
        // Without a teacher a batch of transfer examples has nothing to learn from.
        assert!(loss(&[false, false], false).is_err());
    }

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        let c = TrainConfig {
            lr: 1.0,
            warmup: 0.1,
            ..Default::default()
        };
        assert!((lr_at(&c, 0, 100) - 0.1).abs() < 1e-9);
        assert!((lr_at(&c, 9, 100) - 1.0).abs() < 1e-9);
        assert!((lr_at(&c, 10, 100) - 1.0).abs() < 1e-9);
        assert!(lr_at(&c, 99, 100) > 0.0 && lr_at(&c, 99, 100) < 0.02);
    }
}
