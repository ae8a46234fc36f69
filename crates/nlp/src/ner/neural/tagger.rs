//! The accurate NER mode's network: the shared MiniLM encoder ([`crate::encoder`]) with a
//! word-shape embedding added to its input embeddings (the encoder is uncased) and a linear
//! tagging head. Training runs it with differentiable ops (candle's fused softmax and layer
//! norm have no backward), inference with the fused ones.

use super::input::SHAPES;
use crate::encoder::{BertConfig, Dense, Encoder, Mode};
use candle_core::{Device, Result, Tensor};
use candle_nn::VarBuilder;

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
    /// The tagger under `vb` (the base model's names, plus `shape.weight`,
    /// `classifier.weight` and `classifier.bias`), with the first `layers` transformer layers
    /// of an encoder of architecture `config` and `labels` outputs. Trainable variables behind
    /// `vb` stay linked.
    pub fn new(vb: VarBuilder, config: BertConfig, layers: usize, labels: usize) -> Result<Self> {
        let hidden = config.hidden_size;
        Ok(Self {
            shape: vb.get((SHAPES, hidden), "shape.weight")?,
            classifier: Dense::new(vb.pp("classifier"), labels, hidden)?,
            encoder: Encoder::new(vb, config, layers)?,
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

    /// The device its weights live on (where each batch must be made).
    pub fn device(&self) -> &Device {
        self.encoder.device()
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
