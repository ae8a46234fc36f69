//! The MiniLM encoder (all-MiniLM-L6-v2: uncased BERT, 6 layers, 384 wide) and its WordPiece
//! tokenizer, loaded from the base weights that `scripts/fetch-base-model.sh` puts in
//! `models/base/all-MiniLM-L6-v2/`. The one BERT forward pass of the crate: the stance
//! classifier ([`crate::stance`]) and the accurate NER mode's tagger ([`crate::ner::neural`])
//! both run it.
//!
//! The forward pass is written out here rather than taken from `candle-transformers` so that
//! task models can
//! - run the layers one at a time: the frozen lower layers once, then only the layers a task
//!   fine-tuned (its own copies, loaded over the base ones), as the stance classifier does;
//! - add an input embedding of their own to the word embeddings ([`Encoder::embed_with`]):
//!   the NER tagger's word-shape embedding, since the encoder is uncased;
//! - train: with or without dropout, with differentiable ops ([`Mode`]), since candle's fused
//!   softmax and layer norm have no backward;
//! - compute as 8-bit integer inference would, to measure its quality
//!   ([`Encoder::quantize_int8`]).
//!
//! Weights are read through candle's [`VarBuilder`] under the base file's names
//! (`embeddings.*`, `encoder.layer.N.*`), so one constructor per part serves the base
//! encoder, a task's tensors loaded over it and, in training, trainable copies held in a
//! [`VarMap`] ([`add_var`], [`var_builder`], [`named_vars`]).

use crate::error::NlpError;
use candle_core::{D, DType, Device, Module, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use rand::Rng;
use rand::rngs::StdRng;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The base model's weights inside its directory.
pub const BASE_WEIGHTS: &str = "model.safetensors";

/// The architecture numbers of a BERT encoder (`config.json`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct BertConfig {
    /// Width of the hidden states.
    pub hidden_size: usize,
    /// Number of transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Longest input the position embeddings cover.
    pub max_position_embeddings: usize,
    /// Rows of the word embeddings.
    pub vocab_size: usize,
    /// Rows of the token-type embeddings.
    #[serde(default = "default_type_vocab_size")]
    pub type_vocab_size: usize,
    /// Layer-norm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
}

fn default_eps() -> f64 {
    1e-12
}

fn default_type_vocab_size() -> usize {
    2
}

impl BertConfig {
    /// Reads `config.json` from an encoder directory.
    pub fn load(dir: &Path) -> Result<Self, NlpError> {
        let config_path = dir.join("config.json");
        let text =
            std::fs::read_to_string(&config_path).map_err(|e| NlpError::io(&config_path, e))?;
        serde_json::from_str(&text).map_err(|e| NlpError::Model {
            path: config_path.clone(),
            message: e.to_string(),
        })
    }
}

impl From<candle_core::Error> for NlpError {
    fn from(e: candle_core::Error) -> Self {
        NlpError::Tensor(e.to_string())
    }
}

/// A tensor error while reading the model file `path`, as a model error naming the file.
pub(crate) fn model_error(path: &Path) -> impl Fn(candle_core::Error) -> NlpError + '_ {
    move |e| NlpError::Model {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Every tensor of a safetensors file, as stored (the var builder converts to f32 on `get`).
pub fn read_safetensors(path: &Path) -> Result<HashMap<String, Tensor>, NlpError> {
    candle_core::safetensors::load(path, &Device::Cpu).map_err(model_error(path))
}

/// The base encoder's tensors of `dir` by name (`embeddings.*`, `encoder.layer.N.*`; the
/// `bert.` prefix some files put before them is dropped where the plain name is absent).
pub fn load_base_weights(dir: &Path) -> Result<HashMap<String, Tensor>, NlpError> {
    let path = dir.join(BASE_WEIGHTS);
    if !path.is_file() {
        return Err(NlpError::Model {
            path,
            message: "base encoder missing: run scripts/fetch-base-model.sh".into(),
        });
    }
    let mut tensors = read_safetensors(&path)?;
    let prefixed: Vec<String> = tensors
        .keys()
        .filter(|name| name.starts_with("bert."))
        .cloned()
        .collect();
    for name in prefixed {
        if let Some(tensor) = tensors.remove(&name) {
            tensors
                .entry(name["bert.".len()..].to_string())
                .or_insert(tensor);
        }
    }
    Ok(tensors)
}

/// A var builder (f32) over `tensors` (any dtype), on the process's compute device
/// ([`crate::device::selected`]: the CPU unless the process chose a GPU).
pub fn tensor_builder(tensors: HashMap<String, Tensor>) -> VarBuilder<'static> {
    VarBuilder::from_tensors(tensors, DType::F32, &crate::device::selected())
}

fn poisoned<T>(_: T) -> candle_core::Error {
    candle_core::Error::Msg("variable map poisoned".into())
}

/// Adds a trainable copy (f32) of `value` to `vars` under `name`.
pub fn add_var(vars: &VarMap, name: &str, value: &Tensor) -> candle_core::Result<()> {
    let var = Var::from_tensor(&value.to_dtype(DType::F32)?)?;
    vars.data()
        .lock()
        .map_err(poisoned)?
        .insert(name.to_string(), var);
    Ok(())
}

/// The variables of `vars` with their names, sorted by name.
pub fn named_vars(vars: &VarMap) -> candle_core::Result<Vec<(String, Var)>> {
    let mut named: Vec<(String, Var)> = vars
        .data()
        .lock()
        .map_err(poisoned)?
        .iter()
        .map(|(name, var)| (name.clone(), var.clone()))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(named)
}

/// A var builder over `frozen` tensors and the variables of `vars` (which take precedence):
/// a model built from it trains through `vars` and leaves the rest fixed. The variables are
/// read as tensors rather than through `VarBuilder::from_varmap`, which would create a zero
/// variable for a name the map lacks instead of failing.
pub fn var_builder(
    mut frozen: HashMap<String, Tensor>,
    vars: &VarMap,
) -> candle_core::Result<VarBuilder<'static>> {
    for (name, var) in named_vars(vars)? {
        frozen.insert(name, var.as_tensor().clone());
    }
    Ok(tensor_builder(frozen))
}

/// A dense layer `y = x W^T + b` over the last dimension.
#[derive(Debug, Clone)]
pub struct Dense {
    /// `[out, in]`.
    pub weight: Tensor,
    /// `[out]`.
    pub bias: Tensor,
    /// The weight rounded to 8 bits, used in place of `weight` (with 8-bit inputs) when set:
    /// see [`Dense::quantize_int8`].
    int8: Option<Tensor>,
}

impl Dense {
    /// The dense layer of `weight` `[out, in]` and `bias` `[out]` under `vb`.
    pub fn new(vb: VarBuilder, out: usize, input: usize) -> candle_core::Result<Self> {
        Ok(Self {
            weight: vb.get((out, input), "weight")?,
            bias: vb.get(out, "bias")?,
            int8: None,
        })
    }

    /// From here on the layer computes what 8-bit integer inference computes (onnxruntime's
    /// MatMulInteger, as `scripts/onnx-int8-probe.py` builds the graph): the weight rounded
    /// to 8 bits per output row (symmetric, scale max|w| / 127), each input row to 8 bits
    /// (asymmetric, scale (max - min) / 255), multiplied in f32. It measures the quality
    /// 8-bit inference would have and is slower than f32 here (the f32 weight is kept).
    pub fn quantize_int8(&mut self) -> candle_core::Result<()> {
        if self.int8.is_none() {
            let scale =
                (self.weight.abs()?.max_keepdim(1)? / 127.0)?.clamp(f32::MIN_POSITIVE, f32::MAX)?;
            let rounded = self.weight.broadcast_div(&scale)?.round()?;
            self.int8 = Some(rounded.broadcast_mul(&scale)?);
        }
        Ok(())
    }

    /// Applies the layer to `[.., in]`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (x, weight) = match &self.int8 {
            Some(w) => (&round_to_u8(x)?, w),
            None => (x, &self.weight),
        };
        // Flattened to 2-D so the matmul is one plain GEMM.
        let dims = x.dims().to_vec();
        let last = dims[dims.len() - 1];
        let rows = x.elem_count() / last;
        let y = x
            .reshape((rows, last))?
            .matmul(&weight.t()?)?
            .broadcast_add(&self.bias)?;
        let mut out = dims;
        let n = out.len();
        out[n - 1] = self.weight.dim(0)?;
        y.reshape(out)
    }
}

/// Each row of `x` (over the last dimension) rounded to 8 bits: 256 levels spanning min(row,
/// 0) to max(row, 0), zero exactly representable (ONNX's DynamicQuantizeLinear does this over
/// a whole tensor; rows keep 0.1-0.7 point more F1 on the task sets).
fn round_to_u8(x: &Tensor) -> candle_core::Result<Tensor> {
    let dims = x.dims().to_vec();
    let last = dims[dims.len() - 1];
    let rows = x.reshape((x.elem_count() / last, last))?;
    let low = rows.min_keepdim(1)?.clamp(f32::MIN, 0f32)?;
    let high = rows.max_keepdim(1)?.clamp(0f32, f32::MAX)?;
    let scale = ((high - &low)? / 255.0)?.clamp(f32::MIN_POSITIVE, f32::MAX)?;
    let zero = low.neg()?.div(&scale)?.round()?.clamp(0f32, 255f32)?;
    let q = rows
        .broadcast_div(&scale)?
        .round()?
        .broadcast_add(&zero)?
        .clamp(0f32, 255f32)?;
    q.broadcast_sub(&zero)?.broadcast_mul(&scale)?.reshape(dims)
}

/// Layer normalization over the last dimension.
#[derive(Debug, Clone)]
pub struct Norm {
    /// Scale.
    pub weight: Tensor,
    /// Shift.
    pub bias: Tensor,
    /// Epsilon.
    pub eps: f64,
}

impl Norm {
    /// The layer norm of `weight` and `bias` `[size]` under `vb`.
    pub fn new(vb: VarBuilder, size: usize, eps: f64) -> candle_core::Result<Self> {
        Ok(Self {
            weight: vb.get(size, "weight")?,
            bias: vb.get(size, "bias")?,
            eps,
        })
    }

    /// Normalizes `x`; `differentiable` picks plain ops that backpropagate over the fused
    /// kernel.
    pub fn forward(&self, x: &Tensor, differentiable: bool) -> candle_core::Result<Tensor> {
        if !differentiable {
            return candle_nn::ops::layer_norm(
                &x.contiguous()?,
                &self.weight,
                &self.bias,
                self.eps as f32,
            );
        }
        let mean = x.mean_keepdim(D::Minus1)?;
        let centered = x.broadcast_sub(&mean)?;
        let var = centered.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centered.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        normed
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

/// How a forward pass runs: for inference, or for training (differentiable ops, with or
/// without dropout).
pub struct Mode<'a> {
    /// Dropout probability, with the generator of the masks (`None`: no dropout).
    dropout: Option<(f32, &'a mut StdRng)>,
    /// Plain ops that backpropagate rather than the fused kernels.
    differentiable: bool,
}

impl<'a> Mode<'a> {
    /// Inference: no dropout, fused kernels.
    pub fn inference() -> Mode<'static> {
        Mode {
            dropout: None,
            differentiable: false,
        }
    }

    /// Training without dropout: differentiable ops.
    pub fn differentiable() -> Mode<'static> {
        Mode {
            dropout: None,
            differentiable: true,
        }
    }

    /// Training with dropout of probability `p`, masks drawn from `rng`.
    pub fn dropout_with(p: f32, rng: &'a mut StdRng) -> Mode<'a> {
        Mode {
            dropout: Some((p, rng)),
            differentiable: true,
        }
    }

    fn training(&self) -> bool {
        self.differentiable
    }

    /// Applies dropout when training (masks from the seeded generator, so runs repeat).
    pub fn dropout(&mut self, x: &Tensor) -> candle_core::Result<Tensor> {
        let Some((p, rng)) = self.dropout.as_mut() else {
            return Ok(x.clone());
        };
        let p = *p;
        if p <= 0.0 {
            return Ok(x.clone());
        }
        let keep = 1.0 / (1.0 - p);
        let mask: Vec<f32> = (0..x.elem_count())
            .map(|_| if rng.random::<f32>() < p { 0.0 } else { keep })
            .collect();
        x.mul(&Tensor::from_vec(mask, x.shape(), x.device())?)
    }
}

/// One transformer layer (post-norm BERT).
#[derive(Debug, Clone)]
pub struct BertLayer {
    /// Query projection.
    pub query: Dense,
    /// Key projection.
    pub key: Dense,
    /// Value projection.
    pub value: Dense,
    /// Attention output projection.
    pub attention_out: Dense,
    /// Norm after attention.
    pub attention_norm: Norm,
    /// Feed-forward up projection.
    pub intermediate: Dense,
    /// Feed-forward down projection.
    pub output: Dense,
    /// Norm after the feed-forward block.
    pub output_norm: Norm,
    /// Attention heads.
    pub heads: usize,
}

impl BertLayer {
    /// The layer under `vb` (names as in the base file below `encoder.layer.N`).
    pub fn new(vb: VarBuilder, config: &BertConfig) -> candle_core::Result<Self> {
        let hidden = config.hidden_size;
        let inner = config.intermediate_size;
        let eps = config.layer_norm_eps;
        let attention = vb.pp("attention");
        let projections = attention.pp("self");
        let attention_out = attention.pp("output");
        let output = vb.pp("output");
        Ok(Self {
            query: Dense::new(projections.pp("query"), hidden, hidden)?,
            key: Dense::new(projections.pp("key"), hidden, hidden)?,
            value: Dense::new(projections.pp("value"), hidden, hidden)?,
            attention_out: Dense::new(attention_out.pp("dense"), hidden, hidden)?,
            attention_norm: Norm::new(attention_out.pp("LayerNorm"), hidden, eps)?,
            intermediate: Dense::new(vb.pp("intermediate").pp("dense"), inner, hidden)?,
            output: Dense::new(output.pp("dense"), hidden, inner)?,
            output_norm: Norm::new(output.pp("LayerNorm"), hidden, eps)?,
            heads: config.num_attention_heads,
        })
    }

    /// Computes the layer's dense products as 8-bit inference would ([`Dense::quantize_int8`]).
    pub fn quantize_int8(&mut self) -> candle_core::Result<()> {
        for d in [
            &mut self.query,
            &mut self.key,
            &mut self.value,
            &mut self.attention_out,
            &mut self.intermediate,
            &mut self.output,
        ] {
            d.quantize_int8()?;
        }
        Ok(())
    }

    /// Runs the layer over `x` `[batch, len, hidden]`; `mask` is the additive attention mask
    /// `[batch, 1, 1, len]` (0 for tokens, a large negative number for padding).
    pub fn forward(
        &self,
        x: &Tensor,
        mask: &Tensor,
        mode: &mut Mode,
    ) -> candle_core::Result<Tensor> {
        let (b, t, h) = x.dims3()?;
        let hd = h / self.heads;
        let split = |y: Tensor| -> candle_core::Result<Tensor> {
            y.reshape((b, t, self.heads, hd))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(self.query.forward(x)?)?;
        let k = split(self.key.forward(x)?)?;
        let v = split(self.value.forward(x)?)?;
        let scores = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?.broadcast_add(mask)?;
        let probs = if mode.training() {
            candle_nn::ops::softmax(&scores, D::Minus1)?
        } else {
            candle_nn::ops::softmax_last_dim(&scores)?
        };
        let probs = mode.dropout(&probs)?;
        let ctx = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b, t, h))?;
        let attn = mode.dropout(&self.attention_out.forward(&ctx)?)?;
        let x = self.attention_norm.forward(&(attn + x)?, mode.training())?;
        let up = self.intermediate.forward(&x)?;
        let up = if mode.training() {
            up.gelu_erf()?
        } else {
            crate::kernels::gelu(&up)?
        };
        let down = mode.dropout(&self.output.forward(&up)?)?;
        self.output_norm.forward(&(down + x)?, mode.training())
    }
}

/// The additive attention mask `[batch, 1, 1, len]` for sequences of the given lengths.
pub fn attention_mask(
    lengths: &[usize],
    len: usize,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let mut m = vec![0f32; lengths.len() * len];
    for (i, &l) in lengths.iter().enumerate() {
        for v in &mut m[i * len + l.min(len)..(i + 1) * len] {
            *v = -1e4;
        }
    }
    Tensor::from_vec(m, (lengths.len(), 1, 1, len), device)
}

/// The BERT encoder: embeddings and transformer layers, in f32 on the CPU.
#[derive(Debug, Clone)]
pub struct Encoder {
    /// Architecture.
    pub config: BertConfig,
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    embedding_norm: Norm,
    /// The transformer layers, bottom first.
    pub layers: Vec<BertLayer>,
    device: Device,
}

impl Encoder {
    /// Loads `config.json` and `model.safetensors` from `dir` (keys as in the
    /// sentence-transformers file: `embeddings.*`, `encoder.layer.N.*`, optionally under
    /// `bert.`).
    pub fn load(dir: &Path) -> Result<Self, NlpError> {
        Self::from_base_weights(dir, load_base_weights(dir)?)
    }

    /// The encoder of `dir`'s `config.json` over its weights, read already
    /// ([`load_base_weights`]).
    pub fn from_base_weights(
        dir: &Path,
        weights: HashMap<String, Tensor>,
    ) -> Result<Self, NlpError> {
        let config = BertConfig::load(dir)?;
        let layers = config.num_hidden_layers;
        Self::new(tensor_builder(weights), config, layers)
            .map_err(model_error(&dir.join(BASE_WEIGHTS)))
    }

    /// The encoder under `vb` (names as in the base file: `embeddings.*`,
    /// `encoder.layer.N.*`), with its first `layers` transformer layers. Trainable variables
    /// behind `vb` stay linked.
    pub fn new(vb: VarBuilder, config: BertConfig, layers: usize) -> candle_core::Result<Self> {
        let hidden = config.hidden_size;
        let layers = (0..layers)
            .map(|i| BertLayer::new(vb.pp("encoder").pp("layer").pp(i), &config))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let embeddings = vb.pp("embeddings");
        Ok(Self {
            word: embeddings.get((config.vocab_size, hidden), "word_embeddings.weight")?,
            position: embeddings.get(
                (config.max_position_embeddings, hidden),
                "position_embeddings.weight",
            )?,
            token_type: embeddings.get(
                (config.type_vocab_size, hidden),
                "token_type_embeddings.weight",
            )?,
            embedding_norm: Norm::new(embeddings.pp("LayerNorm"), hidden, config.layer_norm_eps)?,
            layers,
            config,
            device: vb.device().clone(),
        })
    }

    /// Computes every layer's dense products as 8-bit inference would
    /// ([`Dense::quantize_int8`]; the embeddings stay f32).
    pub fn quantize_int8(&mut self) -> candle_core::Result<()> {
        self.layers
            .iter_mut()
            .try_for_each(BertLayer::quantize_int8)
    }

    /// Longest input the position embeddings allow.
    pub fn max_positions(&self) -> usize {
        self.position.dims()[0]
    }

    /// The device tensors live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Embeds a padded batch of token ids `[batch, len]` (token type 0 throughout).
    pub fn embed(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        self.embed_with(ids, None, &Mode::inference())
    }

    /// Embeds a padded batch of token ids `[batch, len]`, adding `extra` `[batch, len,
    /// hidden]` (a task's own input embedding) to the word embeddings before the position
    /// and token-type ones.
    pub fn embed_with(
        &self,
        ids: &Tensor,
        extra: Option<&Tensor>,
        mode: &Mode,
    ) -> candle_core::Result<Tensor> {
        let (_, t) = ids.dims2()?;
        let mut words =
            candle_nn::Embedding::new(self.word.clone(), self.config.hidden_size).forward(ids)?;
        if let Some(extra) = extra {
            words = (words + extra)?;
        }
        let positions = self.position.narrow(0, 0, t)?;
        let x = words
            .broadcast_add(&positions)?
            .broadcast_add(&self.token_type.narrow(0, 0, 1)?)?;
        self.embedding_norm.forward(&x, mode.training())
    }

    /// Runs `layers` over embedded states `x`.
    pub fn forward_layers(
        &self,
        mut x: Tensor,
        mask: &Tensor,
        layers: std::ops::Range<usize>,
        mode: &mut Mode,
    ) -> candle_core::Result<Tensor> {
        let end = layers.end.min(self.layers.len());
        for layer in &self.layers[layers.start.min(end)..end] {
            x = layer.forward(&x, mask, mode)?;
        }
        Ok(x)
    }

    /// Embeddings plus layers `0..upto`, without dropout: the frozen part of a task model.
    pub fn forward_lower(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        upto: usize,
    ) -> candle_core::Result<Tensor> {
        let x = self.embed(ids)?;
        self.forward_layers(x, mask, 0..upto, &mut Mode::inference())
    }
}

/// Consecutive runs of inputs whose lengths are `lengths` (sorted, shortest first), each run's
/// padded size (its count times its last, longest, length) within `max_padded`: the forward
/// passes of a length-sorted batch. Every run holds at least one input.
pub fn length_batches(lengths: &[usize], max_padded: usize) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let mut start = 0;
    while start < lengths.len() {
        let mut end = start + 1;
        while end < lengths.len() && (end - start + 1) * lengths[end] <= max_padded {
            end += 1;
        }
        batches.push(start..end);
        start = end;
    }
    batches
}

/// Pads token-id sequences into a `[batch, len]` tensor (pad id 0) and its attention mask.
pub fn pad_ids(seqs: &[&[u32]], device: &Device) -> candle_core::Result<(Tensor, Tensor)> {
    let len = seqs.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
    let mut ids = vec![0u32; seqs.len() * len];
    for (i, s) in seqs.iter().enumerate() {
        ids[i * len..i * len + s.len()].copy_from_slice(s);
    }
    let lengths: Vec<usize> = seqs.iter().map(|s| s.len()).collect();
    Ok((
        Tensor::from_vec(ids, (seqs.len(), len), device)?,
        attention_mask(&lengths, len, device)?,
    ))
}

/// One WordPiece of a text: its id and its code-point range in the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Vocabulary id.
    pub id: u32,
    /// First code point.
    pub start: usize,
    /// One past the last code point.
    pub end: usize,
}

/// The WordPiece tokenizer of the base model (`tokenizer.json`), with truncation and padding
/// switched off: callers decide how to cut and pad.
pub struct WordPieceTokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
}

impl WordPieceTokenizer {
    /// Loads `tokenizer.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, NlpError> {
        let path = dir.join("tokenizer.json");
        let model_err = |message: String| NlpError::Model {
            path: path.clone(),
            message,
        };
        let mut inner =
            tokenizers::Tokenizer::from_file(&path).map_err(|e| model_err(e.to_string()))?;
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| model_err(e.to_string()))?;
        Ok(Self { inner, path })
    }

    /// The id of a vocabulary entry such as `[CLS]` or `[unused0]`.
    pub fn token_id(&self, token: &str) -> Result<u32, NlpError> {
        self.inner
            .token_to_id(token)
            .ok_or_else(|| NlpError::Model {
                path: self.path.clone(),
                message: format!("no token {token} in the vocabulary"),
            })
    }

    /// The WordPieces of `text`, without special tokens, with code-point offsets.
    pub fn pieces(&self, text: &str) -> Result<Vec<Piece>, NlpError> {
        let enc = self
            .inner
            .encode_char_offsets(text, false)
            .map_err(|e| NlpError::Tensor(format!("tokenizer: {e}")))?;
        Ok(enc
            .get_ids()
            .iter()
            .zip(enc.get_offsets())
            .map(|(&id, &(start, end))| Piece { id, start, end })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_batches_stay_within_the_padded_size_and_keep_every_input() {
        // 3+3+4 pad to 3 x 4 = 12; 5 and 9 would pad to 2 x 9 = 18; the 200-piece input is
        // over the size and still gets a batch.
        assert_eq!(
            length_batches(&[3, 3, 4, 5, 9, 200], 12),
            vec![0..3, 3..4, 4..5, 5..6]
        );
        assert!(length_batches(&[], 12).is_empty());
    }

    #[test]
    fn rows_rounded_to_eight_bits_keep_zero_and_stay_within_half_a_step() {
        let rows = [[-1.0f32, 0.0, 0.3, 2.0], [0.5, 0.25, 0.125, 1.0]];
        let x = Tensor::new(&rows, &Device::Cpu).unwrap();
        let rounded = round_to_u8(&x).unwrap().to_vec2::<f32>().unwrap();
        for (row, out) in rows.iter().zip(&rounded) {
            // 255 steps from min(row, 0) to max(row, 0).
            let low = row.iter().copied().fold(0f32, f32::min);
            let high = row.iter().copied().fold(0f32, f32::max);
            let step = (high - low) / 255.0;
            for (&a, &b) in row.iter().zip(out) {
                assert!((a - b).abs() <= step / 2.0 + 1e-6, "{a} rounded to {b}");
                if a == 0.0 {
                    assert_eq!(b, 0.0);
                }
            }
            assert_ne!(row.as_slice(), out.as_slice(), "nothing was rounded");
        }
    }

    #[test]
    fn an_eight_bit_dense_layer_stays_close_to_the_f32_one() {
        let weight = Tensor::new(&[[0.9f32, -0.3, 0.05], [0.2, 0.7, -1.1]], &Device::Cpu).unwrap();
        let bias = Tensor::new(&[0.1f32, -0.2], &Device::Cpu).unwrap();
        let mut dense = Dense {
            weight,
            bias,
            int8: None,
        };
        let x = Tensor::new(&[[[0.4f32, -1.5, 2.2]]], &Device::Cpu).unwrap();
        let exact = dense.forward(&x).unwrap().flatten_all().unwrap();
        dense.quantize_int8().unwrap();
        let rounded = dense.forward(&x).unwrap().flatten_all().unwrap();
        let exact = exact.to_vec1::<f32>().unwrap();
        let rounded = rounded.to_vec1::<f32>().unwrap();
        for (a, b) in exact.iter().zip(&rounded) {
            assert!((a - b).abs() < 0.03, "{a} became {b}");
        }
        assert_ne!(
            exact, rounded,
            "the 8-bit layer computed the f32 result exactly"
        );
    }
}
