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
//! - quantize the layers' dense weights to 8 bits for inference ([`Encoder::quantize_int8`]).

use crate::error::NlpError;
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{D, DType, Device, Module, Tensor, Var};
use rand::Rng;
use rand::rngs::StdRng;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where the base encoder lives, relative to the workspace root.
pub const DEFAULT_BASE_DIR: &str = "models/base/all-MiniLM-L6-v2";

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
    /// Layer-norm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
}

fn default_eps() -> f64 {
    1e-12
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

/// A dense layer `y = x W^T + b` over the last dimension.
#[derive(Debug, Clone)]
pub struct Dense {
    /// `[out, in]`.
    pub weight: Tensor,
    /// `[out]`.
    pub bias: Tensor,
    /// The weight quantized to 8 bits (GGML's Q8_0: blocks of 32 with an f16 scale), used
    /// in place of `weight` when set (inference only).
    int8: Option<QMatMul>,
}

impl Dense {
    /// A dense layer of `weight` `[out, in]` and `bias` `[out]`.
    pub fn new(weight: Tensor, bias: Tensor) -> Self {
        Self {
            weight,
            bias,
            int8: None,
        }
    }

    /// Quantizes the weight to 8 bits for the forward pass (the f32 weight is kept).
    pub fn quantize_int8(&mut self) -> candle_core::Result<()> {
        if self.int8.is_none() {
            let q = QTensor::quantize(&self.weight, GgmlDType::Q8_0)?;
            self.int8 = Some(QMatMul::from_qtensor(q)?);
        }
        Ok(())
    }

    /// Applies the layer to `[.., in]`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        if let Some(q) = &self.int8 {
            return q.forward(x)?.broadcast_add(&self.bias);
        }
        // Flattened to 2-D so the matmul is one plain GEMM.
        let dims = x.dims().to_vec();
        let last = dims[dims.len() - 1];
        let rows = x.elem_count() / last;
        let y = x
            .reshape((rows, last))?
            .matmul(&self.weight.t()?)?
            .broadcast_add(&self.bias)?;
        let mut out = dims;
        let n = out.len();
        out[n - 1] = self.weight.dim(0)?;
        y.reshape(out)
    }
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

/// The parameter names of one layer, relative to `encoder.layer.N.`, as in the base file.
pub const LAYER_PARAMS: [&str; 16] = [
    "attention.self.query.weight",
    "attention.self.query.bias",
    "attention.self.key.weight",
    "attention.self.key.bias",
    "attention.self.value.weight",
    "attention.self.value.bias",
    "attention.output.dense.weight",
    "attention.output.dense.bias",
    "attention.output.LayerNorm.weight",
    "attention.output.LayerNorm.bias",
    "intermediate.dense.weight",
    "intermediate.dense.bias",
    "output.dense.weight",
    "output.dense.bias",
    "output.LayerNorm.weight",
    "output.LayerNorm.bias",
];

impl BertLayer {
    /// Builds a layer from its tensors, named as in [`LAYER_PARAMS`].
    pub fn from_tensors(
        get: &dyn Fn(&str) -> Result<Tensor, NlpError>,
        heads: usize,
        eps: f64,
    ) -> Result<Self, NlpError> {
        let dense = |p: &str| -> Result<Dense, NlpError> {
            Ok(Dense::new(
                get(&format!("{p}.weight"))?,
                get(&format!("{p}.bias"))?,
            ))
        };
        let norm = |p: &str| -> Result<Norm, NlpError> {
            Ok(Norm {
                weight: get(&format!("{p}.weight"))?,
                bias: get(&format!("{p}.bias"))?,
                eps,
            })
        };
        Ok(Self {
            query: dense("attention.self.query")?,
            key: dense("attention.self.key")?,
            value: dense("attention.self.value")?,
            attention_out: dense("attention.output.dense")?,
            attention_norm: norm("attention.output.LayerNorm")?,
            intermediate: dense("intermediate.dense")?,
            output: dense("output.dense")?,
            output_norm: norm("output.LayerNorm")?,
            heads,
        })
    }

    /// Quantizes the layer's dense weights to 8 bits (inference only).
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

    /// The layer's tensors by [`LAYER_PARAMS`] name.
    pub fn tensors(&self) -> Vec<(&'static str, &Tensor)> {
        let t = [
            &self.query.weight,
            &self.query.bias,
            &self.key.weight,
            &self.key.bias,
            &self.value.weight,
            &self.value.bias,
            &self.attention_out.weight,
            &self.attention_out.bias,
            &self.attention_norm.weight,
            &self.attention_norm.bias,
            &self.intermediate.weight,
            &self.intermediate.bias,
            &self.output.weight,
            &self.output.bias,
            &self.output_norm.weight,
            &self.output_norm.bias,
        ];
        LAYER_PARAMS.iter().copied().zip(t).collect()
    }

    /// A copy whose parameters are trainable variables (returned alongside, in
    /// [`LAYER_PARAMS`] order).
    pub fn to_vars(&self) -> Result<(Self, Vec<Var>), NlpError> {
        let mut vars = HashMap::new();
        for (name, t) in self.tensors() {
            vars.insert(name, Var::from_tensor(t)?);
        }
        let get = |n: &str| -> Result<Tensor, NlpError> {
            vars.get(n)
                .map(|v| v.as_tensor().clone())
                .ok_or_else(|| NlpError::Tensor(format!("missing {n}")))
        };
        let layer = Self::from_tensors(&get, self.heads, self.attention_norm.eps)?;
        let ordered = LAYER_PARAMS.iter().map(|n| vars[n].clone()).collect();
        Ok((layer, ordered))
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
        let up = self.intermediate.forward(&x)?.gelu_erf()?;
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
        let config = BertConfig::load(dir)?;
        let weights_path = dir.join("model.safetensors");
        if !weights_path.is_file() {
            return Err(NlpError::Model {
                path: weights_path,
                message: "missing; run scripts/fetch-base-model.sh".into(),
            });
        }
        let device = Device::Cpu;
        let tensors = candle_core::safetensors::load(&weights_path, &device).map_err(|e| {
            NlpError::Model {
                path: weights_path.clone(),
                message: e.to_string(),
            }
        })?;
        let get = |name: &str| -> Result<Tensor, NlpError> {
            tensors
                .get(name)
                .or_else(|| tensors.get(&format!("bert.{name}")))
                .ok_or_else(|| NlpError::Model {
                    path: weights_path.clone(),
                    message: format!("no tensor {name}"),
                })?
                .to_dtype(DType::F32)
                .map_err(NlpError::from)
        };
        let layers = config.num_hidden_layers;
        Self::from_tensors(&get, config, layers, device)
    }

    /// Builds the encoder from tensors named as in the base file (`embeddings.*`,
    /// `encoder.layer.N.*`), taken as they are (so trainable variables stay linked), with the
    /// first `layers` transformer layers.
    pub fn from_tensors(
        get: &dyn Fn(&str) -> Result<Tensor, NlpError>,
        config: BertConfig,
        layers: usize,
        device: Device,
    ) -> Result<Self, NlpError> {
        let eps = config.layer_norm_eps;
        let layers = (0..layers)
            .map(|i| {
                let prefix = format!("encoder.layer.{i}");
                let layer_get = |n: &str| get(&format!("{prefix}.{n}"));
                BertLayer::from_tensors(&layer_get, config.num_attention_heads, eps)
            })
            .collect::<Result<Vec<_>, NlpError>>()?;
        Ok(Self {
            word: get("embeddings.word_embeddings.weight")?,
            position: get("embeddings.position_embeddings.weight")?,
            token_type: get("embeddings.token_type_embeddings.weight")?,
            embedding_norm: Norm {
                weight: get("embeddings.LayerNorm.weight")?,
                bias: get("embeddings.LayerNorm.bias")?,
                eps,
            },
            layers,
            config,
            device,
        })
    }

    /// Quantizes every layer's dense weights to 8 bits (inference only; the embeddings stay
    /// f32).
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
