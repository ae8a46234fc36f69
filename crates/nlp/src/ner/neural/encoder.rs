//! The MiniLM (BERT) encoder with a word-shape embedding added to its input embeddings and a
//! linear tagging head, written out so that training can use differentiable ops (candle's
//! fused softmax and layer norm have no backward) and inference the fused ones.

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{D, DType, Device, Module, Result, Tensor, Var};
use std::collections::HashMap;

/// Hidden size, heads and layers of all-MiniLM-L6-v2.
pub(crate) const HIDDEN: usize = 384;
const HEADS: usize = 12;
const LAYER_NORM_EPS: f32 = 1e-12;

/// Weights by name (the base model's names, plus `shape.weight`, `classifier.weight` and
/// `classifier.bias`).
pub(crate) type Weights = HashMap<String, Tensor>;

fn get(w: &Weights, name: &str) -> Result<Tensor> {
    w.get(name)
        .cloned()
        .ok_or_else(|| candle_core::Error::Msg(format!("missing tensor {name}")))
}

/// A dense layer, f32 or with its weight quantized to 8 bits (blocks of 32 with an f16
/// scale, GGML's Q8_0) for faster inference.
enum Dense {
    F32(candle_nn::Linear),
    Int8 { weight: QMatMul, bias: Tensor },
}

impl Dense {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Dense::F32(l) => l.forward(x),
            Dense::Int8 { weight, bias } => weight.forward(x)?.broadcast_add(bias),
        }
    }

    fn quantize(&mut self) -> Result<()> {
        if let Dense::F32(l) = self {
            let q = QTensor::quantize(l.weight(), GgmlDType::Q8_0)?;
            let bias = l
                .bias()
                .cloned()
                .ok_or_else(|| candle_core::Error::Msg("dense layer without bias".into()))?;
            *self = Dense::Int8 {
                weight: QMatMul::from_qtensor(q)?,
                bias,
            };
        }
        Ok(())
    }
}

fn linear(w: &Weights, prefix: &str) -> Result<Dense> {
    Ok(Dense::F32(candle_nn::Linear::new(
        get(w, &format!("{prefix}.weight"))?,
        Some(get(w, &format!("{prefix}.bias"))?),
    )))
}

struct Norm {
    weight: Tensor,
    bias: Tensor,
}

impl Norm {
    fn load(w: &Weights, prefix: &str) -> Result<Self> {
        Ok(Self {
            weight: get(w, &format!("{prefix}.weight"))?,
            bias: get(w, &format!("{prefix}.bias"))?,
        })
    }

    fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        if train {
            candle_nn::ops::layer_norm_slow(x, &self.weight, &self.bias, LAYER_NORM_EPS)
        } else {
            candle_nn::ops::layer_norm(x, &self.weight, &self.bias, LAYER_NORM_EPS)
        }
    }
}

struct Layer {
    query: Dense,
    key: Dense,
    value: Dense,
    attn_out: Dense,
    attn_norm: Norm,
    ffn_in: Dense,
    ffn_out: Dense,
    out_norm: Norm,
}

impl Layer {
    fn load(w: &Weights, i: usize) -> Result<Self> {
        let p = format!("encoder.layer.{i}");
        Ok(Self {
            query: linear(w, &format!("{p}.attention.self.query"))?,
            key: linear(w, &format!("{p}.attention.self.key"))?,
            value: linear(w, &format!("{p}.attention.self.value"))?,
            attn_out: linear(w, &format!("{p}.attention.output.dense"))?,
            attn_norm: Norm::load(w, &format!("{p}.attention.output.LayerNorm"))?,
            ffn_in: linear(w, &format!("{p}.intermediate.dense"))?,
            ffn_out: linear(w, &format!("{p}.output.dense"))?,
            out_norm: Norm::load(w, &format!("{p}.output.LayerNorm"))?,
        })
    }

    /// `x`: `(batch, seq, hidden)`; `mask`: additive, `(batch, 1, 1, seq)`.
    fn forward(&self, x: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        let (b, s, h) = x.dims3()?;
        let dh = h / HEADS;
        let heads = |t: Tensor| -> Result<Tensor> {
            t.reshape((b, s, HEADS, dh))?.transpose(1, 2)?.contiguous()
        };
        let q = heads((self.query.forward(x)? * (1.0 / (dh as f64).sqrt()))?)?;
        let k = heads(self.key.forward(x)?)?;
        let v = heads(self.value.forward(x)?)?;
        let scores = q.matmul(&k.t()?)?.broadcast_add(mask)?;
        let probs = if train {
            candle_nn::ops::softmax(&scores, D::Minus1)?
        } else {
            candle_nn::ops::softmax_last_dim(&scores)?
        };
        let ctx = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, s, h))?;
        let x = self
            .attn_norm
            .forward(&(self.attn_out.forward(&ctx)? + x)?, train)?;
        let f = self
            .ffn_out
            .forward(&self.ffn_in.forward(&x)?.gelu_erf()?)?;
        self.out_norm.forward(&(f + x)?, train)
    }
}

/// The encoder and its tagging head.
pub(crate) struct Encoder {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    shape: Tensor,
    emb_norm: Norm,
    layers: Vec<Layer>,
    classifier: Dense,
}

/// One padded batch: `(batch, seq)` tensors.
pub(crate) struct Batch {
    pub ids: Tensor,
    pub shapes: Tensor,
    /// 1 for real tokens, 0 for padding (f32).
    pub mask: Tensor,
}

impl Batch {
    /// Pads `rows` (token ids and shape ids, equal lengths) with id 0 into one batch.
    pub fn new(rows: &[(&[u32], &[u32])], device: &Device) -> Result<Self> {
        let s = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(1);
        let b = rows.len();
        let mut ids = vec![0u32; b * s];
        let mut shapes = vec![0u32; b * s];
        let mut mask = vec![0f32; b * s];
        for (r, (i, sh)) in rows.iter().enumerate() {
            ids[r * s..r * s + i.len()].copy_from_slice(i);
            shapes[r * s..r * s + sh.len()].copy_from_slice(sh);
            mask[r * s..r * s + i.len()]
                .iter_mut()
                .for_each(|m| *m = 1.0);
        }
        Ok(Self {
            ids: Tensor::from_vec(ids, (b, s), device)?,
            shapes: Tensor::from_vec(shapes, (b, s), device)?,
            mask: Tensor::from_vec(mask, (b, s), device)?,
        })
    }
}

impl Encoder {
    /// Builds the encoder from weights; `layers` is the number of transformer layers.
    pub fn new(w: &Weights, layers: usize) -> Result<Self> {
        Ok(Self {
            word: get(w, "embeddings.word_embeddings.weight")?,
            position: get(w, "embeddings.position_embeddings.weight")?,
            token_type: get(w, "embeddings.token_type_embeddings.weight")?.get(0)?,
            shape: get(w, "shape.weight")?,
            emb_norm: Norm::load(w, "embeddings.LayerNorm")?,
            layers: (0..layers)
                .map(|i| Layer::load(w, i))
                .collect::<Result<_>>()?,
            classifier: linear(w, "classifier")?,
        })
    }

    /// Quantizes the transformer layers' dense weights to 8 bits (inference only).
    pub fn quantize(&mut self) -> Result<()> {
        for l in &mut self.layers {
            for d in [
                &mut l.query,
                &mut l.key,
                &mut l.value,
                &mut l.attn_out,
                &mut l.ffn_in,
                &mut l.ffn_out,
            ] {
                d.quantize()?;
            }
        }
        Ok(())
    }

    /// Keeps only the first `n` transformer layers (a speed experiment).
    pub fn truncate_layers(&mut self, n: usize) {
        self.layers.truncate(n);
    }

    /// Longest input the position embeddings allow.
    pub fn max_positions(&self) -> usize {
        self.position.dims()[0]
    }

    /// Label scores `(batch, seq, labels)`.
    pub fn forward(&self, batch: &Batch, train: bool) -> Result<Tensor> {
        let (b, s) = batch.ids.dims2()?;
        let words = self.word.embedding(&batch.ids.flatten_all()?)?;
        let shapes = self.shape.embedding(&batch.shapes.flatten_all()?)?;
        let x = (words + shapes)?.reshape((b, s, HIDDEN))?;
        let x = x
            .broadcast_add(&self.position.narrow(0, 0, s)?)?
            .broadcast_add(&self.token_type)?;
        let mut x = self.emb_norm.forward(&x, train)?;
        // 0 where attended, a large negative number at padding.
        let mask = ((batch.mask.reshape((b, 1, 1, s))? - 1.0)? * 10_000.0)?;
        for layer in &self.layers {
            x = layer.forward(&x, &mask, train)?;
        }
        self.classifier.forward(&x)
    }
}

/// Names of the tensors fine-tuning changes: all but the word, position and token-type
/// embeddings (frozen: the word embeddings alone are 47 MB).
pub(crate) fn trainable(name: &str) -> bool {
    !matches!(
        name,
        "embeddings.word_embeddings.weight"
            | "embeddings.position_embeddings.weight"
            | "embeddings.token_type_embeddings.weight"
            | "embeddings.position_ids"
    )
}

/// Turns the trainable tensors of `w` into variables (in place) and returns them by name.
pub(crate) fn make_vars(w: &mut Weights) -> Result<Vec<(String, Var)>> {
    let mut names: Vec<String> = w.keys().filter(|n| trainable(n)).cloned().collect();
    names.sort();
    let mut vars = Vec::new();
    for n in names {
        let t = w[&n].to_dtype(DType::F32)?;
        let v = Var::from_tensor(&t)?;
        w.insert(n.clone(), v.as_tensor().clone());
        vars.push((n, v));
    }
    Ok(vars)
}
