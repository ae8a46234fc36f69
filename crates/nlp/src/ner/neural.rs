//! Named-entity recognition, the accurate mode's encoder: all-MiniLM-L6-v2 fine-tuned as a
//! token tagger (the first word piece of each word predicts its BIO tag), with a word-shape
//! embedding added to its input embeddings because the encoder itself is uncased.
//!
//! The committed model (`models/ner-minilm/`) holds only what fine-tuning changed, in f16
//! ([`DELTA_FILE`]), plus [`CONFIG_FILE`]; it is loaded over the base weights
//! (`models/base/all-MiniLM-L6-v2/`, fetched by `scripts/fetch-base-model.sh`).
//! [`NeuralModel::word_log_probs`] gives per-word label log-probabilities, which
//! [`super::NerTagger`] combines with the perceptron's. The forward pass is the crate's one
//! MiniLM encoder ([`crate::encoder`]), with the shape embedding as its extra input
//! embedding ([`tagger`]).

mod input;
mod tagger;
#[cfg(feature = "train")]
pub mod train;

use crate::encoder::{BertConfig, load_base_weights, read_safetensors, tensor_builder};
use crate::error::NlpError;
use candle_nn::VarBuilder;
use input::{Specials, Window};
use std::path::{Path, PathBuf};
use tagger::{Batch, Tagger};
use tokenizers::Tokenizer;

/// The fine-tuned tensors, f16 safetensors.
pub const DELTA_FILE: &str = "delta.safetensors";
/// Labels, layers, window and the combination weight, one `key value...` line each.
pub const CONFIG_FILE: &str = "config.txt";
/// The base model's weights inside its directory.
pub use crate::encoder::BASE_WEIGHTS;
/// The base model's tokenizer.
pub const BASE_TOKENIZER: &str = "tokenizer.json";

/// Padded word pieces per inference batch (batch x longest window), by default: 512 ran
/// 1.3-1.4x faster per CPU second than 4,096 on one thread here (cache).
pub const DEFAULT_BATCH_TOKENS: usize = 512;

/// What the model directory's [`CONFIG_FILE`] says.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuralConfig {
    /// BIO labels in the classifier's order.
    pub labels: Vec<String>,
    /// Transformer layers used.
    pub layers: usize,
    /// Longest window in word pieces, [CLS] and [SEP] included.
    pub window: usize,
    /// Weight of the encoder's log-probabilities in the combination with the perceptron's
    /// (the perceptron gets `1 - weight`), tuned on dev.
    pub weight: f32,
    /// The encoder runs only on sentences where some token's most likely label has a
    /// perceptron marginal below this (the rest are tagged by the perceptron alone); above 1,
    /// on every sentence. Chosen on dev to trade speed for F1.
    pub gate: f32,
}

impl NeuralConfig {
    fn to_text(&self) -> String {
        format!(
            "labels {}\nlayers {}\nwindow {}\nweight {}\ngate {}\n",
            self.labels.join(" "),
            self.layers,
            self.window,
            self.weight,
            self.gate
        )
    }

    fn parse(text: &str) -> Result<Self, String> {
        let mut labels = None;
        let mut layers = None;
        let mut window = None;
        let mut weight = None;
        let mut gate = 2.0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut parts = line.split_whitespace();
            let key = parts.next().unwrap_or_default();
            let rest: Vec<&str> = parts.collect();
            let one = || {
                rest.first()
                    .copied()
                    .ok_or_else(|| format!("`{key}` has no value"))
            };
            match key {
                "labels" => labels = Some(rest.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
                "layers" => layers = Some(one()?.parse().map_err(|e| format!("layers: {e}"))?),
                "window" => window = Some(one()?.parse().map_err(|e| format!("window: {e}"))?),
                "weight" => weight = Some(one()?.parse().map_err(|e| format!("weight: {e}"))?),
                "gate" => gate = one()?.parse().map_err(|e| format!("gate: {e}"))?,
                _ => {}
            }
        }
        let config = Self {
            labels: labels.ok_or("no `labels` line")?,
            layers: layers.ok_or("no `layers` line")?,
            window: window.ok_or("no `window` line")?,
            weight: weight.ok_or("no `weight` line")?,
            gate,
        };
        if config.labels.is_empty() || !(4..=512).contains(&config.window) {
            return Err("empty labels or window outside 4..=512".into());
        }
        if !config.gate.is_finite() {
            return Err("gate is not a number".into());
        }
        if !(0.0..=1.0).contains(&config.weight) {
            return Err("weight outside [0, 1]".into());
        }
        Ok(config)
    }

    /// Reads [`CONFIG_FILE`] from a model directory.
    pub fn load(dir: &Path) -> Result<Self, NlpError> {
        let file = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&file).map_err(|e| NlpError::io(&file, e))?;
        Self::parse(&text).map_err(|message| NlpError::Model {
            path: file,
            message,
        })
    }

    /// Writes [`CONFIG_FILE`] into a model directory.
    pub fn save(&self, dir: &Path) -> Result<PathBuf, NlpError> {
        std::fs::create_dir_all(dir).map_err(|e| NlpError::io(dir, e))?;
        let file = dir.join(CONFIG_FILE);
        std::fs::write(&file, self.to_text()).map_err(|e| NlpError::io(&file, e))?;
        Ok(file)
    }
}

pub(crate) fn neural_err(e: impl std::fmt::Display) -> NlpError {
    NlpError::Neural(e.to_string())
}

pub(crate) fn load_tokenizer(base: &Path) -> Result<(Tokenizer, Specials), NlpError> {
    let file = base.join(BASE_TOKENIZER);
    let mut tokenizer = Tokenizer::from_file(&file).map_err(|e| NlpError::Model {
        path: file.clone(),
        message: e.to_string(),
    })?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(None)
        .map_err(|e| NlpError::Model {
            path: file.clone(),
            message: e.to_string(),
        })?;
    let specials = Specials::of(&tokenizer).ok_or_else(|| NlpError::Model {
        path: file,
        message: "no [CLS], [SEP] or [UNK] in the vocabulary".into(),
    })?;
    Ok((tokenizer, specials))
}

/// The fine-tuned encoder, ready to tag.
pub struct NeuralModel {
    tagger: Tagger,
    tokenizer: Tokenizer,
    specials: Specials,
    config: NeuralConfig,
    batch_tokens: usize,
}

impl std::fmt::Debug for NeuralModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NeuralModel")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl NeuralModel {
    /// Loads the fine-tuned tensors of `dir` over the base encoder in `base`.
    pub fn load(dir: &Path, base: &Path) -> Result<Self, NlpError> {
        let config = NeuralConfig::load(dir)?;
        let mut weights = load_base_weights(base)?;
        let file = dir.join(DELTA_FILE);
        // The fine-tuned tensors (f16) replace the base ones; the var builder reads both as f32.
        weights.extend(read_safetensors(&file)?);
        let (tokenizer, specials) = load_tokenizer(base)?;
        let bert = BertConfig::load(base)?;
        Self::from_parts(tensor_builder(weights), bert, tokenizer, specials, config).map_err(|e| {
            match e {
                NlpError::Neural(message) => NlpError::Model {
                    path: file,
                    message,
                },
                e => e,
            }
        })
    }

    /// The model of the weights under `vb` (whose classifier must have one output per label).
    pub(crate) fn from_parts(
        vb: VarBuilder,
        bert: BertConfig,
        tokenizer: Tokenizer,
        specials: Specials,
        config: NeuralConfig,
    ) -> Result<Self, NlpError> {
        let tagger =
            Tagger::new(vb, bert, config.layers, config.labels.len()).map_err(neural_err)?;
        if config.window > tagger.max_positions() {
            return Err(NlpError::Neural("window longer than the encoder".into()));
        }
        Ok(Self {
            tagger,
            tokenizer,
            specials,
            config,
            batch_tokens: DEFAULT_BATCH_TOKENS,
        })
    }

    /// The model's configuration.
    pub fn config(&self) -> &NeuralConfig {
        &self.config
    }

    /// The labels, in the order of [`NeuralModel::word_log_probs`]'s columns.
    pub fn labels(&self) -> &[String] {
        &self.config.labels
    }

    /// Computes as 8-bit inference would ([`crate::encoder::Dense::quantize_int8`]), to
    /// measure its quality.
    pub fn quantize_int8(&mut self) -> Result<(), NlpError> {
        self.tagger.quantize().map_err(neural_err)
    }

    /// Keeps only the first `n` transformer layers. The head was trained on the last layer,
    /// so this is for measuring speed, not for tagging.
    pub fn truncate_layers(&mut self, n: usize) {
        self.tagger.truncate_layers(n);
    }

    /// Sets how many padded word pieces one inference batch may hold (at least one window
    /// is always taken).
    pub fn set_batch_tokens(&mut self, tokens: usize) {
        self.batch_tokens = tokens;
    }

    /// Sets the combination weight (see [`NeuralConfig::weight`]), clamped to [0, 1].
    pub fn set_weight(&mut self, weight: f32) {
        self.config.weight = weight.clamp(0.0, 1.0);
    }

    pub(crate) fn windows<S: AsRef<str>>(&self, sentences: &[&[S]]) -> Vec<Window> {
        let mut out = Vec::new();
        for (k, words) in sentences.iter().enumerate() {
            let pieces = input::pieces(&self.tokenizer, self.specials, words);
            out.extend(input::windows(
                k,
                words,
                &pieces,
                self.specials,
                self.config.window,
            ));
        }
        out
    }

    /// Label log-probabilities of every word of every sentence: one `words x labels`
    /// row-major vector per sentence. Sentences are cut into windows the encoder can take
    /// and batched by length.
    pub fn word_log_probs<S: AsRef<str>>(
        &self,
        sentences: &[&[S]],
    ) -> Result<Vec<Vec<f32>>, NlpError> {
        self.word_log_probs_until(sentences, None)
    }

    /// [`NeuralModel::word_log_probs`], stopping with an error once `deadline` has passed
    /// (checked between batches).
    pub fn word_log_probs_until<S: AsRef<str>>(
        &self,
        sentences: &[&[S]],
        deadline: Option<&crate::limits::Deadline>,
    ) -> Result<Vec<Vec<f32>>, NlpError> {
        let l = self.config.labels.len();
        let mut out: Vec<Vec<f32>> = sentences.iter().map(|s| vec![0.0; s.len() * l]).collect();
        let mut windows = self.windows(sentences);
        windows.sort_by_key(|w| w.ids.len());
        let lengths: Vec<usize> = windows.iter().map(|w| w.ids.len()).collect();
        for range in crate::encoder::length_batches(&lengths, self.batch_tokens) {
            crate::limits::check(deadline, "ner")?;
            let group = &windows[range];
            let rows: Vec<(&[u32], &[u32])> = group
                .iter()
                .map(|w| (w.ids.as_slice(), w.shapes.as_slice()))
                .collect();
            let batch = Batch::new(&rows, self.tagger.device()).map_err(neural_err)?;
            let logits = self.tagger.forward(&batch, false).map_err(neural_err)?;
            let logp = candle_nn::ops::log_softmax(&logits, candle_core::D::Minus1)
                .and_then(|t| t.to_vec3::<f32>())
                .map_err(neural_err)?;
            for (w, rows) in group.iter().zip(logp) {
                let dest = &mut out[w.sentence];
                for (j, &pos) in w.first_piece.iter().enumerate() {
                    let word = w.first_word + j;
                    dest[word * l..(word + 1) * l].copy_from_slice(&rows[pos][..l]);
                }
            }
        }
        Ok(out)
    }

    /// The label index with the highest probability per word (no BIO constraint), for
    /// quick checks.
    pub fn argmax<S: AsRef<str>>(&self, words: &[S]) -> Result<Vec<usize>, NlpError> {
        let l = self.config.labels.len();
        let lp = self.word_log_probs(&[words])?;
        Ok(lp
            .first()
            .map(|v| {
                v.chunks(l)
                    .map(|row| {
                        (0..l)
                            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                            .unwrap_or(0)
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// Writes the trained variables into [`DELTA_FILE`] as f16 tensors.
#[cfg(feature = "train")]
pub(crate) fn save_delta(vars: &candle_nn::VarMap, dir: &Path) -> Result<PathBuf, NlpError> {
    std::fs::create_dir_all(dir).map_err(|e| NlpError::io(dir, e))?;
    let map: std::collections::HashMap<String, candle_core::Tensor> =
        crate::encoder::named_vars(vars)
            .map_err(neural_err)?
            .into_iter()
            .map(|(n, v)| {
                Ok((
                    n,
                    v.as_tensor()
                        .to_dtype(candle_core::DType::F16)
                        .map_err(neural_err)?,
                ))
            })
            .collect::<Result<_, NlpError>>()?;
    let file = dir.join(DELTA_FILE);
    let tmp = dir.join(format!("{DELTA_FILE}.tmp"));
    candle_core::safetensors::save(&map, &tmp).map_err(neural_err)?;
    std::fs::rename(&tmp, &file).map_err(|e| NlpError::io(&file, e))?;
    Ok(file)
}
