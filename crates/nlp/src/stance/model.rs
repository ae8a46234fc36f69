//! The stance classifier and its files.
//!
//! A model directory holds `stance.json` (the settings: how many top layers were tuned, the
//! input length, the number of members) and `stance.safetensors`: for member `m`, the tuned
//! layers as `member.m.layer.j.<name>` (`j` counts from the first tuned layer; weight matrices
//! as u8 = int8 + 128 per row with an f32 `.scale` per row, vectors f32) and the head as
//! `member.m.head.weight` / `.bias` (f32). The rest comes from the base encoder, loaded from
//! `models/base/all-MiniLM-L6-v2` beside the model directory or from a given directory.

use super::Polarity;
use super::input::{Marking, SpecialIds, StanceInput, build_input, check_span, input_from_pieces};
use crate::doc::Span;
use crate::encoder::{
    BertConfig, BertLayer, Dense, Encoder, Mode, Piece, WordPieceTokenizer, length_batches,
    model_error, pad_ids, read_safetensors, tensor_builder,
};
use crate::error::NlpError;
use crate::limits::Deadline;
use candle_core::{DType, Tensor};
use candle_nn::VarBuilder;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

/// File with the settings.
pub const CONFIG_FILE: &str = "stance.json";
/// File with the weights.
pub const WEIGHTS_FILE: &str = "stance.safetensors";
const FORMAT: &str = "newsflow-stance-1";

/// The settings stored beside the weights.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ModelConfig {
    /// File format tag.
    pub format: String,
    /// Name of the base encoder the layers were tuned over.
    pub base: String,
    /// How many of the top layers each member replaces.
    pub trained_layers: usize,
    /// Longest input, in WordPieces with the special tokens.
    pub max_len: usize,
    /// Number of members whose probabilities are averaged.
    pub members: usize,
    /// Whether the input marks a holder as well as the target (the holder-stance model): the
    /// head then also reads the holder's states.
    #[serde(default)]
    pub holder: bool,
    /// The loss weight of each class in training, when it was not 1 (balanced classes): the
    /// members' probabilities are divided by it and renormalized, which undoes the weighting
    /// so that they are probabilities under the classes' real shares.
    #[serde(default)]
    pub class_weights: Option<[f32; 3]>,
    /// Multipliers on the (calibrated) probabilities when the class is chosen, when that is
    /// not their plain argmax: chosen on held-out data to trade the common class's precision
    /// for the rare ones' recall (macro-F1). The stated probabilities stay calibrated.
    #[serde(default)]
    pub decision_weights: Option<[f32; 3]>,
    /// The temperature of the stated probabilities, when it is not 1: each probability is
    /// raised to `1 / temperature` and renormalized (above 1 softens an overconfident model),
    /// applied after the class weights are undone. Chosen on held-out data to minimise the
    /// negative log-likelihood ([`tempered`]).
    #[serde(default)]
    pub temperature: Option<f32>,
    /// How the input shows the target: marker tokens (one encoder pass per target; models
    /// written before this field) or the plain sentence (one pass per sentence, shared by
    /// its targets).
    #[serde(default)]
    pub marking: Marking,
    /// Whether the head also reads the sentence as the target sees it: attention from the
    /// target over the top states. A plain input does not tell the encoder which word is the
    /// target (markers do); this lets the head weigh the words around it per target, at the
    /// cost of one product per target.
    #[serde(default)]
    pub target_attention: bool,
}

/// One member: its own top layers and head.
#[derive(Debug, Clone)]
pub struct Member {
    /// The tuned layers, bottom first.
    pub layers: Vec<BertLayer>,
    /// With target attention: the query the target's mean is projected to.
    pub attend: Option<Dense>,
    /// Linear head over `[CLS] ++ mean(target)` (`++ mean(holder)` for a holder's stance,
    /// `++` the target's attention summary with target attention), 3 outputs.
    pub head: Dense,
}

impl Member {
    /// The member under `vb`: `layers` tuned layers (`layer.j.*`, names as in the base file)
    /// over an encoder of architecture `config`, the attention query with `attention`
    /// (`attend.weight`, `attend.bias`) and the head (`head.weight`, `head.bias`), which also
    /// reads the holder when `holder` is set.
    pub fn new(
        vb: VarBuilder,
        config: &BertConfig,
        layers: usize,
        holder: bool,
        attention: bool,
    ) -> candle_core::Result<Self> {
        let hidden = config.hidden_size;
        Ok(Self {
            layers: (0..layers)
                .map(|j| BertLayer::new(vb.pp("layer").pp(j), config))
                .collect::<candle_core::Result<_>>()?,
            attend: attention
                .then(|| Dense::new(vb.pp("attend"), hidden, hidden))
                .transpose()?,
            head: Dense::new(vb.pp("head"), 3, feature_width(config, holder, attention))?,
        })
    }

    /// Logits `[batch, 3]` from the frozen lower states `[batch, len, hidden]`, one target
    /// per row; `holders` for a holder-stance member.
    pub fn forward(
        &self,
        lower: &Tensor,
        mask: &Tensor,
        targets: &[Range<usize>],
        holders: Option<&[Range<usize>]>,
        mode: &mut Mode,
    ) -> candle_core::Result<Tensor> {
        let states = self.states(lower, mask, mode)?;
        let rows: Vec<usize> = (0..targets.len()).collect();
        self.classify(&states, mask, &rows, targets, holders, mode)
    }

    /// The top states `[batch, len, hidden]` from the frozen lower ones.
    pub fn states(
        &self,
        lower: &Tensor,
        mask: &Tensor,
        mode: &mut Mode,
    ) -> candle_core::Result<Tensor> {
        let mut x = lower.clone();
        for layer in &self.layers {
            x = layer.forward(&x, mask, mode)?;
        }
        Ok(x)
    }

    /// Logits `[n, 3]` of `n` targets read from the top states (`mask` the encoder's
    /// attention mask of them): target `i` lies at positions `targets[i]` of row `rows[i]`
    /// (several targets may share a row).
    pub fn classify(
        &self,
        states: &Tensor,
        mask: &Tensor,
        rows: &[usize],
        targets: &[Range<usize>],
        holders: Option<&[Range<usize>]>,
        mode: &mut Mode,
    ) -> candle_core::Result<Tensor> {
        let row_ids: Vec<u32> = rows.iter().map(|&r| r as u32).collect();
        let row_ids = Tensor::from_vec(row_ids, rows.len(), states.device())?;
        let cls = states
            .narrow(1, 0, 1)?
            .squeeze(1)?
            .contiguous()?
            .index_select(&row_ids, 0)?;
        let target = mean_of(states, rows, targets)?;
        let mut parts = vec![cls, target.clone()];
        if let Some(holders) = holders {
            parts.push(mean_of(states, rows, holders)?);
        }
        if let Some(attend) = &self.attend {
            parts.push(attention_summary(
                states,
                mask,
                rows,
                &attend.forward(&target)?,
            )?);
        }
        let features = mode.dropout(&Tensor::cat(&parts, 1)?)?;
        self.head.forward(&features)
    }
}

/// The head's input width: `[CLS]`, the target, the holder when there is one, the target's
/// attention summary with target attention.
pub fn feature_width(config: &BertConfig, holder: bool, attention: bool) -> usize {
    config.hidden_size * (2 + usize::from(holder) + usize::from(attention))
}

/// For each `i`, the states of row `rows[i]` of `x` `[batch, len, hidden]` averaged with the
/// weights `softmax(x . queries[i] / sqrt(hidden))` over that row's real positions (`mask`,
/// `[batch, 1, 1, len]`, is 0 there): `[n, hidden]`. Two products over all rows at once, the
/// other rows' positions masked out, so the cost is that of [`mean_of`] twice.
fn attention_summary(
    x: &Tensor,
    mask: &Tensor,
    rows: &[usize],
    queries: &Tensor,
) -> candle_core::Result<Tensor> {
    let (b, t, h) = x.dims3()?;
    let flat = x.reshape((b * t, h))?;
    let padding = mask.flatten_all()?.to_vec1::<f32>()?;
    let mut bias = vec![-1e4f32; rows.len() * b * t];
    for (i, &row) in rows.iter().enumerate() {
        let own = &mut bias[i * b * t + row * t..i * b * t + (row + 1) * t];
        own.copy_from_slice(&padding[row * t..(row + 1) * t]);
    }
    let bias = Tensor::from_vec(bias, (rows.len(), b * t), x.device())?;
    let scores = (queries.matmul(&flat.t()?)? / (h as f64).sqrt())?;
    let weights = candle_nn::ops::softmax_last_dim(&(scores + bias)?)?;
    weights.matmul(&flat)
}

/// For each `i`, the mean of row `rows[i]`'s positions `ranges[i]` of `x` `[batch, len,
/// hidden]`: `[n, hidden]`, one matrix product. Its cost is `n x batch x len x hidden`: linear
/// in the targets, with `batch x len` at most [`BATCH_TOKENS`] (or one input of at most the
/// model's `max_len`), and `n` at most the document's `max_targets` (500).
fn mean_of(x: &Tensor, rows: &[usize], ranges: &[Range<usize>]) -> candle_core::Result<Tensor> {
    let (b, t, h) = x.dims3()?;
    let mut pool = vec![0f32; rows.len() * b * t];
    for (i, (&row, r)) in rows.iter().zip(ranges).enumerate() {
        let n = r.len().max(1) as f32;
        for j in r.clone() {
            if j < t {
                pool[i * b * t + row * t + j] = 1.0 / n;
            }
        }
    }
    let pool = Tensor::from_vec(pool, (rows.len(), b * t), x.device())?;
    pool.matmul(&x.reshape((b * t, h))?)
}

/// The stance classifier: base encoder, tokenizer and the tuned members.
pub struct StanceClassifier {
    encoder: Encoder,
    tokenizer: WordPieceTokenizer,
    special: SpecialIds,
    config: ModelConfig,
    members: Vec<Member>,
}

/// Padded word pieces per forward pass (sequences times the longest of them): on one thread
/// here the stance analysis ran 1.10-1.13x faster in batches of at most 512 pieces than in
/// batches of 32 sentences, which pad most of an article's sentences to its longest.
const BATCH_TOKENS: usize = 512;

impl StanceClassifier {
    /// Loads a model directory over the base encoder in `base_dir`.
    pub fn load_with_base(dir: &Path, base_dir: &Path) -> Result<Self, NlpError> {
        Self::load_over(dir, base_dir, Encoder::load(base_dir)?)
    }

    /// Loads a model directory over a base encoder already in memory (loaded from
    /// `base_dir`): two classifiers over one base share its weights rather than hold two
    /// copies (an `Encoder` clone shares its tensors).
    pub fn load_over(dir: &Path, base_dir: &Path, encoder: Encoder) -> Result<Self, NlpError> {
        let config = read_config(dir)?;
        let config_path = dir.join(CONFIG_FILE);
        let bad = |message: String| NlpError::Model {
            path: config_path.clone(),
            message,
        };
        if config.format != FORMAT {
            return Err(bad(format!("format {} is not {FORMAT}", config.format)));
        }
        let tokenizer = WordPieceTokenizer::load(base_dir)?;
        let n_layers = encoder.layers.len();
        if config.trained_layers == 0 || config.trained_layers > n_layers || config.members == 0 {
            return Err(bad("trained_layers or members out of range".into()));
        }
        if config.max_len < 8 || config.max_len > encoder.config.max_position_embeddings {
            return Err(bad(format!("max_len {} out of range", config.max_len)));
        }
        let weights_path = dir.join(WEIGHTS_FILE);
        let tensors = dequantize_rows(read_safetensors(&weights_path)?)
            .map_err(model_error(&weights_path))?;
        let vb = tensor_builder(tensors).pp("member");
        let members = (0..config.members)
            .map(|m| {
                Member::new(
                    vb.pp(m),
                    &encoder.config,
                    config.trained_layers,
                    config.holder,
                    config.target_attention,
                )
            })
            .collect::<candle_core::Result<Vec<_>>>()
            .map_err(model_error(&weights_path))?;
        Self::from_parts(encoder, tokenizer, config, members)
    }

    /// Assembles a classifier from parts (used by training).
    pub fn from_parts(
        encoder: Encoder,
        tokenizer: WordPieceTokenizer,
        config: ModelConfig,
        members: Vec<Member>,
    ) -> Result<Self, NlpError> {
        let special = SpecialIds::from_tokenizer(&tokenizer)?;
        let config = ModelConfig {
            members: members.len(),
            ..config
        };
        Ok(Self {
            encoder,
            tokenizer,
            special,
            config,
            members,
        })
    }

    /// The settings.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Number of members averaged.
    pub fn members(&self) -> usize {
        self.members.len()
    }

    /// Computes the base layers' and the members' tuned layers' dense products as 8-bit
    /// inference would ([`crate::encoder::Dense::quantize_int8`]; the heads stay f32), to
    /// measure its quality.
    pub fn quantize_int8(&mut self) -> Result<(), NlpError> {
        self.encoder.quantize_int8()?;
        for member in &mut self.members {
            member
                .layers
                .iter_mut()
                .try_for_each(BertLayer::quantize_int8)?;
        }
        Ok(())
    }

    /// Keeps only member `index` (to score members one by one).
    pub fn keep_member(&mut self, index: usize) -> Result<(), NlpError> {
        if index >= self.members.len() {
            return Err(NlpError::InvalidInput(format!(
                "member {index} of {}",
                self.members.len()
            )));
        }
        let m = self.members.swap_remove(index);
        self.members = vec![m];
        self.config.members = 1;
        Ok(())
    }

    /// The base encoder, to load another classifier over the same weights
    /// ([`StanceClassifier::load_over`]).
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// Whether this is a holder-stance model (its inputs mark a holder).
    pub fn reads_holder(&self) -> bool {
        self.config.holder
    }

    /// Builds the encoder input of one target (and its holder, for a holder-stance model).
    pub fn input(
        &self,
        sentence: &str,
        target: Span,
        holder: Option<Span>,
    ) -> Result<StanceInput, NlpError> {
        self.check_holder(holder.is_some())?;
        build_input(
            &self.tokenizer,
            self.special,
            sentence,
            target,
            holder,
            self.config.max_len,
            self.config.marking,
        )
    }

    fn check_holder(&self, given: bool) -> Result<(), NlpError> {
        match (self.config.holder, given) {
            (true, false) => Err(NlpError::InvalidInput(
                "a holder-stance model needs a holder for every target".into(),
            )),
            (false, true) => Err(NlpError::InvalidInput(
                "a target-sentiment model reads no holder".into(),
            )),
            _ => Ok(()),
        }
    }

    /// The polarity toward `target` (code points) in `sentence`, with the probabilities of
    /// negative, neutral and positive.
    pub fn classify(&self, sentence: &str, target: Span) -> Result<(Polarity, [f32; 3]), NlpError> {
        let mut out = self.classify_batch(&[(sentence, target)])?;
        out.pop()
            .ok_or_else(|| NlpError::Tensor("no prediction".into()))
    }

    /// A holder-stance model's polarity of `holder` toward `target` (both code points in
    /// `sentence`), with the probabilities of against, neutral and for.
    pub fn classify_held(
        &self,
        sentence: &str,
        target: Span,
        holder: Span,
    ) -> Result<(Polarity, [f32; 3]), NlpError> {
        let mut out = self.classify_held_until(&[(sentence, target, holder)], None)?;
        out.pop()
            .ok_or_else(|| NlpError::Tensor("no prediction".into()))
    }

    /// Classifies many targets at once (inputs of similar length share a forward pass). Fails
    /// as a whole, naming the item, when one target is invalid.
    pub fn classify_batch(
        &self,
        items: &[(&str, Span)],
    ) -> Result<Vec<(Polarity, [f32; 3])>, NlpError> {
        self.classify_batch_until(items, None)
    }

    /// [`StanceClassifier::classify_batch`], stopping with an error once `deadline` has
    /// passed (checked between forward passes). Consecutive items of one sentence share its
    /// tokenization.
    pub fn classify_batch_until(
        &self,
        items: &[(&str, Span)],
        deadline: Option<&Deadline>,
    ) -> Result<Vec<(Polarity, [f32; 3])>, NlpError> {
        self.check_holder(false)?;
        let items: Vec<(&str, Span, Option<Span>)> =
            items.iter().map(|&(s, t)| (s, t, None)).collect();
        self.classify_items(&items, deadline)
    }

    /// [`StanceClassifier::classify_held`] for many `(sentence, target, holder)` items, as
    /// [`StanceClassifier::classify_batch_until`] does for targets alone.
    pub fn classify_held_until(
        &self,
        items: &[(&str, Span, Span)],
        deadline: Option<&Deadline>,
    ) -> Result<Vec<(Polarity, [f32; 3])>, NlpError> {
        self.check_holder(true)?;
        let items: Vec<(&str, Span, Option<Span>)> =
            items.iter().map(|&(s, t, h)| (s, t, Some(h))).collect();
        self.classify_items(&items, deadline)
    }

    fn classify_items(
        &self,
        items: &[(&str, Span, Option<Span>)],
        deadline: Option<&Deadline>,
    ) -> Result<Vec<(Polarity, [f32; 3])>, NlpError> {
        let mut last: Option<(&str, Vec<Piece>)> = None;
        let mut inputs = Vec::with_capacity(items.len());
        for (i, &(sentence, span, holder)) in items.iter().enumerate() {
            let numbered = |e: NlpError| match e {
                NlpError::InvalidInput(m) => NlpError::InvalidInput(format!("item {i}: {m}")),
                other => other,
            };
            check_span(sentence, span).map_err(numbered)?;
            if let Some(holder) = holder {
                check_span(sentence, holder).map_err(numbered)?;
            }
            if last.as_ref().is_none_or(|(seen, _)| *seen != sentence) {
                last = Some((sentence, self.tokenizer.pieces(sentence)?));
            }
            let pieces = last
                .as_ref()
                .map_or(&[][..], |(_, pieces)| pieces.as_slice());
            inputs.push(
                input_from_pieces(
                    self.special,
                    pieces,
                    span,
                    holder,
                    self.config.max_len,
                    self.config.marking,
                )
                .map_err(numbered)?,
            );
        }
        let probs = self.probabilities_until(&inputs, deadline)?;
        let weights = self.config.decision_weights;
        Ok(probs.into_iter().map(|p| (decide(p, weights), p)).collect())
    }

    /// The multipliers this model chooses its class with ([`ModelConfig::decision_weights`]).
    pub fn decision_weights(&self) -> Option<[f32; 3]> {
        self.config.decision_weights
    }

    /// Member-averaged probabilities of prepared inputs, in input order.
    pub fn probabilities(&self, inputs: &[StanceInput]) -> Result<Vec<[f32; 3]>, NlpError> {
        self.probabilities_until(inputs, None)
    }

    /// [`StanceClassifier::probabilities`], stopping with an error once `deadline` has passed.
    /// Inputs with the same ids (a plain model's targets of one sentence) share one encoder
    /// pass; the passes go in batches of similar lengths, at most [`BATCH_TOKENS`] padded pieces.
    fn probabilities_until(
        &self,
        inputs: &[StanceInput],
        deadline: Option<&Deadline>,
    ) -> Result<Vec<[f32; 3]>, NlpError> {
        // Each distinct sequence once, with the inputs that read it.
        let mut readers: Vec<Vec<usize>> = Vec::new();
        let mut seen: HashMap<&[u32], usize> = HashMap::new();
        for (i, input) in inputs.iter().enumerate() {
            let next = readers.len();
            let at = *seen.entry(input.ids.as_slice()).or_insert(next);
            if at == next {
                readers.push(Vec::new());
            }
            readers[at].push(i);
        }
        let mut order: Vec<usize> = (0..readers.len()).collect();
        order.sort_by_key(|&s| inputs[readers[s][0]].ids.len());
        let mut out = vec![[0f32; 3]; inputs.len()];
        let lower_layers = self.encoder.layers.len() - self.config.trained_layers;
        let lengths: Vec<usize> = order
            .iter()
            .map(|&s| inputs[readers[s][0]].ids.len())
            .collect();
        for range in length_batches(&lengths, BATCH_TOKENS) {
            let chunk = &order[range];
            crate::limits::check(deadline, "stance")?;
            let seqs: Vec<&[u32]> = chunk
                .iter()
                .map(|&s| inputs[readers[s][0]].ids.as_slice())
                .collect();
            let (rows, read): (Vec<usize>, Vec<usize>) = chunk
                .iter()
                .enumerate()
                .flat_map(|(row, &s)| readers[s].iter().map(move |&i| (row, i)))
                .unzip();
            let targets: Vec<Range<usize>> =
                read.iter().map(|&i| inputs[i].target.clone()).collect();
            let holders: Option<Vec<Range<usize>>> =
                read.iter().map(|&i| inputs[i].holder.clone()).collect();
            let (ids, mask) = pad_ids(&seqs, self.encoder.device())?;
            let lower = self.encoder.forward_lower(&ids, &mask, lower_layers)?;
            let mut sum: Option<Tensor> = None;
            for member in &self.members {
                let mut mode = Mode::inference();
                let states = member.states(&lower, &mask, &mut mode)?;
                let logits = member.classify(
                    &states,
                    &mask,
                    &rows,
                    &targets,
                    holders.as_deref(),
                    &mut mode,
                )?;
                let p = candle_nn::ops::softmax_last_dim(&logits)?;
                sum = Some(match sum {
                    Some(s) => (s + p)?,
                    None => p,
                });
            }
            let sum = sum.ok_or_else(|| NlpError::Tensor("model has no members".into()))?;
            let avg = (sum / self.members.len() as f64)?.to_vec2::<f32>()?;
            for (&i, p) in read.iter().zip(avg) {
                out[i] = tempered(
                    unweighted([p[0], p[1], p[2]], self.config.class_weights),
                    self.config.temperature,
                );
            }
        }
        Ok(out)
    }
}

/// Writes a model directory from its settings and the variables of its members (as training
/// holds them: `layer.j.*` and `head.*`), the layers' weight matrices quantized to int8 rows.
#[cfg(feature = "train")]
pub fn save_members(
    dir: &Path,
    config: &ModelConfig,
    members: &[candle_nn::VarMap],
) -> Result<(), NlpError> {
    std::fs::create_dir_all(dir).map_err(|e| NlpError::io(dir, e))?;
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for (m, vars) in members.iter().enumerate() {
        for (name, var) in crate::encoder::named_vars(vars)? {
            let key = format!("member.{m}.{name}");
            let t = var.as_tensor();
            if name.starts_with("layer.") && t.rank() == 2 {
                let (q, scale) = quantize_rows(t)?;
                tensors.insert(format!("{key}.scale"), scale);
                tensors.insert(key, q);
            } else {
                tensors.insert(key, t.detach().copy()?);
            }
        }
    }
    write_weights(dir, &tensors)?;
    let config = ModelConfig {
        format: FORMAT.into(),
        members: members.len(),
        ..config.clone()
    };
    write_config(dir, &config)
}

/// Joins model directories trained alike (the same base, tuned layers, input length, holder,
/// marking and class weights; other seeds) into one ensemble in `out` whose members' probabilities
/// are averaged: their members in the order given. The decision weights are left out: they
/// belong to one model's probabilities and are chosen again for the ensemble.
#[cfg(feature = "train")]
pub fn merge_members(dirs: &[&Path], out: &Path) -> Result<ModelConfig, NlpError> {
    let (config, tensors, members) = gather_members(dirs)?;
    std::fs::create_dir_all(out).map_err(|e| NlpError::io(out, e))?;
    write_weights(out, &tensors)?;
    let merged = ModelConfig {
        members,
        decision_weights: None,
        temperature: None,
        ..config
    };
    write_config(out, &merged)?;
    Ok(merged)
}

/// Averages the weights of all the members of `dirs` (trained alike, as for
/// [`merge_members`], and from the same start) into a model of one member in `out`: a model
/// soup (Wortsman et al., ICML 2022), which costs one member's encoder pass where the
/// ensemble costs one per member. The layers are averaged before quantizing again. Whether
/// the soup reads as well as the ensemble is for the evaluation to say.
#[cfg(feature = "train")]
pub fn average_members(dirs: &[&Path], out: &Path) -> Result<ModelConfig, NlpError> {
    let (config, tensors, members) = gather_members(dirs)?;
    let error = model_error(out);
    let tensors = dequantize_rows(tensors).map_err(&error)?;
    let mut sums: HashMap<String, Tensor> = HashMap::new();
    for (name, tensor) in tensors {
        let Some((_, rest)) = name
            .strip_prefix("member.")
            .and_then(|rest| rest.split_once('.'))
        else {
            continue;
        };
        let tensor = tensor.to_dtype(DType::F32).map_err(&error)?;
        let sum = match sums.remove(rest) {
            Some(sum) => (sum + tensor).map_err(&error)?,
            None => tensor,
        };
        sums.insert(rest.to_string(), sum);
    }
    let mut averaged: HashMap<String, Tensor> = HashMap::new();
    for (name, sum) in sums {
        let mean = (sum / members as f64).map_err(&error)?;
        let key = format!("member.0.{name}");
        if name.starts_with("layer.") && mean.rank() == 2 {
            let (q, scale) = quantize_rows(&mean)?;
            averaged.insert(format!("{key}.scale"), scale);
            averaged.insert(key, q);
        } else {
            averaged.insert(key, mean);
        }
    }
    std::fs::create_dir_all(out).map_err(|e| NlpError::io(out, e))?;
    write_weights(out, &averaged)?;
    let soup = ModelConfig {
        members: 1,
        decision_weights: None,
        temperature: None,
        ..config
    };
    write_config(out, &soup)?;
    Ok(soup)
}

/// The settings of the first of `dirs`, the tensors of all their members renumbered in the
/// order given (`member.N.*`), and how many members they hold; an error when one was not
/// trained like the first.
#[cfg(feature = "train")]
fn gather_members(
    dirs: &[&Path],
) -> Result<(ModelConfig, HashMap<String, Tensor>, usize), NlpError> {
    let first = dirs
        .first()
        .ok_or_else(|| NlpError::InvalidInput("no model to merge".into()))?;
    let config = read_config(first)?;
    let alike = |c: &ModelConfig| {
        (
            &c.format,
            &c.base,
            c.trained_layers,
            c.max_len,
            c.holder,
            c.marking,
            c.target_attention,
            c.class_weights,
        ) == (
            &config.format,
            &config.base,
            config.trained_layers,
            config.max_len,
            config.holder,
            config.marking,
            config.target_attention,
            config.class_weights,
        )
    };
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    let mut members = 0;
    for dir in dirs {
        let c = read_config(dir)?;
        if !alike(&c) {
            return Err(NlpError::InvalidInput(format!(
                "{} was not trained like {}",
                dir.display(),
                first.display()
            )));
        }
        let weights_path = dir.join(WEIGHTS_FILE);
        for (name, tensor) in read_safetensors(&weights_path)? {
            let renamed = name
                .strip_prefix("member.")
                .and_then(|rest| rest.split_once('.'))
                .and_then(|(m, rest)| {
                    Some(format!(
                        "member.{}.{rest}",
                        members + m.parse::<usize>().ok()?
                    ))
                })
                .ok_or_else(|| NlpError::Model {
                    path: weights_path.clone(),
                    message: format!("tensor {name} belongs to no member"),
                })?;
            tensors.insert(renamed, tensor);
        }
        members += c.members;
    }
    Ok((config, tensors, members))
}

/// Writes the weights file of a model directory.
#[cfg(feature = "train")]
fn write_weights(dir: &Path, tensors: &HashMap<String, Tensor>) -> Result<(), NlpError> {
    let weights_path = dir.join(WEIGHTS_FILE);
    candle_core::safetensors::save(tensors, &weights_path).map_err(|e| NlpError::Model {
        path: weights_path,
        message: e.to_string(),
    })
}

/// Writes the settings file of a model directory.
fn write_config(dir: &Path, config: &ModelConfig) -> Result<(), NlpError> {
    let config_path = dir.join(CONFIG_FILE);
    let text = serde_json::to_string_pretty(config).map_err(|e| NlpError::Model {
        path: config_path.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&config_path, text + "\n").map_err(|e| NlpError::io(&config_path, e))
}

/// The settings of a model directory.
fn read_config(dir: &Path) -> Result<ModelConfig, NlpError> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| NlpError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| NlpError::Model {
        path,
        message: e.to_string(),
    })
}

/// Probabilities under the classes' real shares: a model trained with class weights `w`
/// learned `p(c) * w(c)` (normalized); dividing by the weights undoes it.
pub fn unweighted(p: [f32; 3], class_weights: Option<[f32; 3]>) -> [f32; 3] {
    let Some(w) = class_weights else {
        return p;
    };
    let q = [0, 1, 2].map(|c| if w[c] > 0.0 { p[c] / w[c] } else { 0.0 });
    let total: f32 = q.iter().sum();
    if total > 0.0 { q.map(|x| x / total) } else { p }
}

/// Probabilities at `temperature` (when given): each raised to `1 / temperature`, then
/// renormalized; the same as dividing their log-odds by it. Their order never changes.
pub fn tempered(p: [f32; 3], temperature: Option<f32>) -> [f32; 3] {
    let Some(t) = temperature.filter(|t| t.is_finite() && *t > 0.0 && *t != 1.0) else {
        return p;
    };
    let q = p.map(|x| x.max(0.0).powf(1.0 / t));
    let total: f32 = q.iter().sum();
    if total > 0.0 && total.is_finite() {
        q.map(|x| x / total)
    } else {
        p
    }
}

/// The class chosen from probabilities: the largest after multiplying by `weights` (when
/// given).
pub fn decide(p: [f32; 3], weights: Option<[f32; 3]>) -> Polarity {
    let w = weights.unwrap_or([1.0; 3]);
    let best = (0..3).fold(0, |b, i| if p[i] * w[i] > p[b] * w[b] { i } else { b });
    Polarity::ALL[best]
}

/// Writes `decision_weights` into the settings of the model directory `dir`, leaving its
/// weights as they are.
pub fn write_decision_weights(dir: &Path, weights: Option<[f32; 3]>) -> Result<(), NlpError> {
    let config = ModelConfig {
        decision_weights: weights,
        ..read_config(dir)?
    };
    write_config(dir, &config)
}

/// Writes `temperature` into the settings of the model directory `dir`, leaving its weights
/// as they are.
pub fn write_temperature(dir: &Path, temperature: Option<f32>) -> Result<(), NlpError> {
    let config = ModelConfig {
        temperature,
        ..read_config(dir)?
    };
    write_config(dir, &config)
}

/// The tuned layers of member 0 of a saved model, named `layer.<j>.*` (`j` counting from its
/// first tuned layer), to start another model's training from them.
#[cfg(feature = "train")]
pub fn tuned_layers(dir: &Path) -> Result<(ModelConfig, HashMap<String, Tensor>), NlpError> {
    let config = read_config(dir)?;
    let weights_path = dir.join(WEIGHTS_FILE);
    let tensors =
        dequantize_rows(read_safetensors(&weights_path)?).map_err(model_error(&weights_path))?;
    let layers = tensors
        .into_iter()
        .filter_map(|(name, tensor)| Some((name.strip_prefix("member.0.")?.to_string(), tensor)))
        .filter(|(name, _)| name.starts_with("layer."))
        .collect();
    Ok((config, layers))
}

/// A new settings record in the current format.
pub fn model_config(
    trained_layers: usize,
    max_len: usize,
    holder: bool,
    marking: Marking,
) -> ModelConfig {
    ModelConfig {
        format: FORMAT.into(),
        base: "all-MiniLM-L6-v2".into(),
        trained_layers,
        max_len,
        members: 0,
        holder,
        class_weights: None,
        decision_weights: None,
        temperature: None,
        marking,
        target_attention: false,
    }
}

/// Row-wise symmetric int8: `w[r][c] ~ (q[r][c] - 128) * scale[r]`, `q` stored as u8.
#[cfg(feature = "train")]
fn quantize_rows(w: &Tensor) -> Result<(Tensor, Tensor), NlpError> {
    let rows = w.to_dtype(DType::F32)?.to_vec2::<f32>()?;
    let (r, c) = (rows.len(), rows.first().map_or(0, |x| x.len()));
    let mut q = Vec::with_capacity(r * c);
    let mut scales = Vec::with_capacity(r);
    for row in &rows {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        scales.push(scale);
        q.extend(
            row.iter()
                .map(|v| ((v / scale).round().clamp(-127.0, 127.0) as i16 + 128) as u8),
        );
    }
    Ok((
        Tensor::from_vec(q, (r, c), &candle_core::Device::Cpu)?,
        Tensor::from_vec(scales, r, &candle_core::Device::Cpu)?,
    ))
}

/// The tensors of a model file with the int8 rows dequantized: a tensor with a `.scale`
/// stored beside it becomes `(q - 128) * scale` per row (f32), and the scale is dropped.
pub(crate) fn dequantize_rows(
    mut tensors: HashMap<String, Tensor>,
) -> candle_core::Result<HashMap<String, Tensor>> {
    let quantized: Vec<String> = tensors
        .keys()
        .filter_map(|name| name.strip_suffix(".scale"))
        .filter(|name| tensors.contains_key(*name))
        .map(str::to_string)
        .collect();
    for name in quantized {
        let scale_name = format!("{name}.scale");
        let (Some(q), Some(scale)) = (tensors.remove(&name), tensors.remove(&scale_name)) else {
            continue;
        };
        let q = (q.to_dtype(DType::F32)? - 128.0)?;
        let weight = q.broadcast_mul(&scale.to_dtype(DType::F32)?.unsqueeze(1)?)?;
        tensors.insert(name, weight);
    }
    Ok(tensors)
}

#[cfg(all(test, feature = "train"))]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn int8_rows_round_trip_closely() {
        let w = Tensor::from_vec(
            vec![0.5f32, -1.0, 0.25, 0.0, 0.0, 0.0],
            (2, 3),
            &Device::Cpu,
        )
        .unwrap();
        let (q, s) = quantize_rows(&w).unwrap();
        let mut map = HashMap::new();
        map.insert("w".to_string(), q);
        map.insert("w.scale".to_string(), s);
        let back = dequantize_rows(map).unwrap()["w"].to_vec2::<f32>().unwrap();
        assert!((back[0][1] + 1.0).abs() < 1e-6);
        assert!((back[0][0] - 0.5).abs() < 0.01);
        assert_eq!(back[1], vec![0.0, 0.0, 0.0]);
    }

    #[test]
    fn attention_summary_reads_only_its_own_rows_real_positions() {
        let d = &Device::Cpu;
        // Two rows of three positions, hidden 2; row 1's last position is padding.
        let x = Tensor::from_vec(
            vec![1f32, 0., 0., 1., 3., 3., 2., 0., 4., 0., 100., 100.],
            (2, 3, 2),
            d,
        )
        .unwrap();
        let mask = crate::encoder::attention_mask(&[3, 2], 3, d).unwrap();
        // A zero query weighs a row's real positions alike: their mean.
        let zero = Tensor::zeros((2, 2), DType::F32, d).unwrap();
        let mean = attention_summary(&x, &mask, &[0, 1], &zero)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert!((mean[0][0] - 4. / 3.).abs() < 1e-5 && (mean[0][1] - 4. / 3.).abs() < 1e-5);
        // Row 1's padding (100, 100) and row 0's states stay out.
        assert!(
            (mean[1][0] - 3.).abs() < 1e-5 && mean[1][1].abs() < 1e-5,
            "{mean:?}"
        );
        // A query along the first axis picks the position largest on it; two targets may
        // share a row.
        let along = Tensor::from_vec(vec![50f32, 0., 50., 0.], (2, 2), d).unwrap();
        let picked = attention_summary(&x, &mask, &[1, 1], &along)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        for row in picked {
            assert!((row[0] - 4.).abs() < 1e-3 && row[1].abs() < 1e-3, "{row:?}");
        }
    }
}
