//! The accurate NER mode's network: the shared MiniLM encoder ([`crate::encoder`]) with a
//! word-shape embedding added to its input embeddings (the encoder is uncased) and a linear
//! tagging head. Training runs it with differentiable ops (candle's fused softmax and layer
//! norm have no backward), inference with the fused ones.

use crate::encoder::{BertConfig, Dense, Encoder, Mode};
use crate::error::NlpError;
use candle_core::{Device, Result, Tensor};
use std::collections::HashMap;

use super::neural_err;

/// Weights by name (the base model's names, plus `shape.weight`, `classifier.weight` and
/// `classifier.bias`).
pub(crate) type Weights = HashMap<String, Tensor>;

/// The encoder, the shape embedding and the tagging head.
pub(crate) struct Tagger {
    encoder: Encoder,
    /// `[shapes, hidden]`, added to the word embeddings.
    shape: Tensor,
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

impl Tagger {
    /// Builds the tagger from weights, with the first `layers` transformer layers of an
    /// encoder of architecture `config`. The tensors are taken as they are, so trainable
    /// variables in `w` stay linked.
    pub fn new(
        w: &Weights,
        config: BertConfig,
        layers: usize,
    ) -> std::result::Result<Self, NlpError> {
        let get = |name: &str| -> std::result::Result<Tensor, NlpError> {
            w.get(name)
                .cloned()
                .ok_or_else(|| neural_err(format!("missing tensor {name}")))
        };
        Ok(Self {
            encoder: Encoder::from_tensors(&get, config, layers, Device::Cpu)?,
            shape: get("shape.weight")?,
            classifier: Dense::new(get("classifier.weight")?, get("classifier.bias")?),
        })
    }

    /// Quantizes the transformer layers' dense weights to 8 bits (inference only).
    pub fn quantize(&mut self) -> Result<()> {
        self.encoder.quantize_int8()
    }

    /// Keeps only the first `n` transformer layers (a speed experiment).
    pub fn truncate_layers(&mut self, n: usize) {
        self.encoder.layers.truncate(n);
    }

    /// Longest input the position embeddings allow.
    pub fn max_positions(&self) -> usize {
        self.encoder.max_positions()
    }

    /// Label scores `(batch, seq, labels)`; `train` picks the differentiable ops.
    pub fn forward(&self, batch: &Batch, train: bool) -> Result<Tensor> {
        let (b, s) = batch.ids.dims2()?;
        let mut mode = if train {
            Mode::differentiable()
        } else {
            Mode::inference()
        };
        let hidden = self.shape.dim(1)?;
        let shapes = self
            .shape
            .embedding(&batch.shapes.flatten_all()?)?
            .reshape((b, s, hidden))?;
        let x = self.encoder.embed_with(&batch.ids, Some(&shapes), &mode)?;
        // 0 where attended, a large negative number at padding.
        let mask = ((batch.mask.reshape((b, 1, 1, s))? - 1.0)? * 10_000.0)?;
        let layers = self.encoder.layers.len();
        let x = self
            .encoder
            .forward_layers(x, &mask, 0..layers, &mut mode)?;
        self.classifier.forward(&x)
    }
}

/// Names of the tensors fine-tuning changes: all but the word, position and token-type
/// embeddings (frozen: the word embeddings alone are 47 MB).
#[cfg(feature = "train")]
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
#[cfg(feature = "train")]
pub(crate) fn make_vars(w: &mut Weights) -> Result<Vec<(String, candle_core::Var)>> {
    let mut names: Vec<String> = w.keys().filter(|n| trainable(n)).cloned().collect();
    names.sort();
    let mut vars = Vec::new();
    for n in names {
        let t = w[&n].to_dtype(candle_core::DType::F32)?;
        let v = candle_core::Var::from_tensor(&t)?;
        w.insert(n.clone(), v.as_tensor().clone());
        vars.push((n, v));
    }
    Ok(vars)
}
