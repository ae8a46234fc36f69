//! The NER model: a linear-chain model over hashed features (weights learned by the averaged
//! structured perceptron in [`super::train`]), decoded with Viterbi under BIO constraints, and
//! its compact binary file format.
//!
//! File format (little-endian): magic `NFNERP01`, feature version (u32), label count (u32),
//! each label as u32 length + UTF-8, the transition matrix ((labels + 1) x labels f32, last row
//! = sentence start), the confidence scale (f32), feature count (u32), then per feature, in increasing hash order: the hash
//! (u64), the number of non-zero weights (u8) and that many (label u8, weight f32) pairs.
//! Features whose weights are all near zero are not written.

use super::features::{self, DocContext, FEATURE_VERSION};
use crate::error::NlpError;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufWriter, Read, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"NFNERP02";

/// The model file's name inside a model directory.
pub const MODEL_FILE: &str = "model.bin";

/// Feature keys are already well-mixed hashes: use them as their own hash.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) type FeatureIndex = HashMap<u64, u32, BuildHasherDefault<IdentityHasher>>;

/// Whether tag `cur` may follow tag `prev` (`None` = sentence start) under BIO: `I-X` only
/// after `B-X` or `I-X`.
pub(crate) fn bio_allowed(prev: Option<&str>, cur: &str) -> bool {
    match cur.strip_prefix("I-") {
        None => true,
        Some(t) => prev.is_some_and(|p| {
            p.strip_prefix("B-")
                .or_else(|| p.strip_prefix("I-"))
                .is_some_and(|pt| pt == t)
        }),
    }
}

/// The allowed-transition table: `(labels + 1) x labels`, last row for the sentence start.
pub(crate) fn allowed_table(labels: &[String]) -> Vec<bool> {
    let l = labels.len();
    let mut allowed = vec![false; (l + 1) * l];
    for cur in 0..l {
        for prev in 0..l {
            allowed[prev * l + cur] = bio_allowed(Some(&labels[prev]), &labels[cur]);
        }
        allowed[l * l + cur] = bio_allowed(None, &labels[cur]);
    }
    allowed
}

/// Viterbi over `emissions` (`n x l`) with `transitions` (`(l + 1) x l`, last row = start),
/// only through allowed transitions. Returns the best label index per token.
pub(crate) fn viterbi(
    emissions: &[f32],
    n: usize,
    l: usize,
    transitions: &[f32],
    allowed: &[bool],
) -> Vec<usize> {
    if n == 0 || l == 0 {
        return Vec::new();
    }
    let mut score = vec![f32::NEG_INFINITY; n * l];
    let mut back = vec![0usize; n * l];
    for cur in 0..l {
        if allowed[l * l + cur] {
            score[cur] = transitions[l * l + cur] + emissions[cur];
        }
    }
    for i in 1..n {
        for cur in 0..l {
            let mut best = f32::NEG_INFINITY;
            let mut arg = 0;
            for prev in 0..l {
                if !allowed[prev * l + cur] {
                    continue;
                }
                let s = score[(i - 1) * l + prev] + transitions[prev * l + cur];
                if s > best {
                    best = s;
                    arg = prev;
                }
            }
            score[i * l + cur] = best + emissions[i * l + cur];
            back[i * l + cur] = arg;
        }
    }
    let last = &score[(n - 1) * l..];
    let mut cur = (0..l)
        .max_by(|&a, &b| last[a].total_cmp(&last[b]))
        .unwrap_or(0);
    let mut path = vec![0; n];
    for i in (0..n).rev() {
        path[i] = cur;
        cur = back[i * l + cur];
    }
    path
}

fn log_sum_exp(values: impl Iterator<Item = f32> + Clone) -> f32 {
    // Two passes over a cloned iterator instead of collecting: this runs per token and label.
    let max = values.clone().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return max;
    }
    max + values.map(|x| (x - max).exp()).sum::<f32>().ln()
}

/// Per-token marginal probabilities (`n x l`) of the chain whose log-potentials are the
/// scores times `scale`, restricted to allowed transitions (forward-backward). Perceptron
/// scores are not probabilities; `scale` (fitted on held-out data) makes them calibrated.
pub(crate) fn marginals(
    emissions: &[f32],
    n: usize,
    l: usize,
    transitions: &[f32],
    allowed: &[bool],
    scale: f32,
) -> Vec<f32> {
    if n == 0 || l == 0 {
        return Vec::new();
    }
    let trans = |p: usize, c: usize| {
        if allowed[p * l + c] {
            scale * transitions[p * l + c]
        } else {
            f32::NEG_INFINITY
        }
    };
    let em = |i: usize, c: usize| scale * emissions[i * l + c];
    let mut alpha = vec![f32::NEG_INFINITY; n * l];
    let mut beta = vec![0.0f32; n * l];
    for (c, a) in alpha[..l].iter_mut().enumerate() {
        *a = trans(l, c) + em(0, c);
    }
    for i in 1..n {
        for c in 0..l {
            alpha[i * l + c] =
                log_sum_exp((0..l).map(|p| alpha[(i - 1) * l + p] + trans(p, c))) + em(i, c);
        }
    }
    for i in (0..n - 1).rev() {
        for p in 0..l {
            beta[i * l + p] =
                log_sum_exp((0..l).map(|c| trans(p, c) + em(i + 1, c) + beta[(i + 1) * l + c]));
        }
    }
    let z = log_sum_exp((0..l).map(|c| alpha[(n - 1) * l + c]));
    alpha
        .iter()
        .zip(&beta)
        .map(|(a, b)| {
            let p = (a + b - z).exp();
            if p.is_finite() {
                p.clamp(0.0, 1.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// A trained NER model.
#[derive(Debug, Clone)]
pub struct NerModel {
    labels: Vec<String>,
    index: FeatureIndex,
    /// `rows x labels`.
    weights: Vec<f32>,
    /// `(labels + 1) x labels`, last row = sentence start.
    transitions: Vec<f32>,
    allowed: Vec<bool>,
    /// Multiplies scores before forward-backward so confidences are calibrated.
    confidence_scale: f32,
}

/// One tagged sentence: a tag per token and the model's confidence in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Tagging {
    /// BIO tags, one per token.
    pub tags: Vec<String>,
    /// Marginal probability of each token's tag, in [0, 1].
    pub confidence: Vec<f32>,
}

impl NerModel {
    /// Assembles a model; `weights` is `rows x labels` with `index` mapping feature hashes to
    /// rows, `transitions` is `(labels + 1) x labels`.
    pub(crate) fn from_parts(
        labels: Vec<String>,
        index: FeatureIndex,
        weights: Vec<f32>,
        transitions: Vec<f32>,
    ) -> Self {
        let allowed = allowed_table(&labels);
        Self {
            labels,
            index,
            weights,
            transitions,
            allowed,
            confidence_scale: 1.0,
        }
    }

    /// The factor applied to scores before computing confidences.
    pub fn confidence_scale(&self) -> f32 {
        self.confidence_scale
    }

    #[cfg(feature = "train")]
    pub(crate) fn set_confidence_scale(&mut self, scale: f32) {
        self.confidence_scale = scale;
    }

    /// Emission scores (`tokens x labels`) of a sentence, for calibration.
    pub(crate) fn sentence_scores<S: AsRef<str>>(
        &self,
        tokens: &[S],
        ctx: Option<&DocContext>,
    ) -> Vec<f32> {
        self.emissions(tokens, ctx)
    }

    /// Marginals of a sentence from its emission scores, with `scale` in place of the model's.
    pub(crate) fn marginals_at(&self, emissions: &[f32], n: usize, scale: f32) -> Vec<f32> {
        marginals(
            emissions,
            n,
            self.labels.len(),
            &self.transitions,
            &self.allowed,
            scale,
        )
    }

    /// Transition scores, `(labels + 1) x labels`, last row = sentence start.
    pub(crate) fn transitions(&self) -> &[f32] {
        &self.transitions
    }

    /// The BIO-allowed transition table matching [`NerModel::transitions`].
    pub(crate) fn allowed(&self) -> &[bool] {
        &self.allowed
    }

    /// The labels (BIO tags) the model predicts.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Number of stored features.
    pub fn feature_count(&self) -> usize {
        self.index.len()
    }

    fn emissions<S: AsRef<str>>(&self, tokens: &[S], ctx: Option<&DocContext>) -> Vec<f32> {
        let l = self.labels.len();
        let own;
        let ctx = match ctx {
            Some(c) => c,
            None => {
                own = DocContext::new(&[tokens]);
                &own
            }
        };
        let feats = features::extract(tokens, ctx);
        let mut em = vec![0.0f32; feats.len() * l];
        for i in 0..feats.len() {
            let row_out = &mut em[i * l..(i + 1) * l];
            for h in feats.token(i) {
                if let Some(&row) = self.index.get(h) {
                    let w = &self.weights[row as usize * l..(row as usize + 1) * l];
                    for (o, x) in row_out.iter_mut().zip(w) {
                        *o += x;
                    }
                }
            }
        }
        em
    }

    /// The best tag sequence for a sentence of the document `ctx` describes (`None`: the
    /// sentence is the whole document), as label indexes.
    pub fn predict<S: AsRef<str>>(&self, tokens: &[S], ctx: Option<&DocContext>) -> Vec<usize> {
        let em = self.emissions(tokens, ctx);
        viterbi(
            &em,
            tokens.len(),
            self.labels.len(),
            &self.transitions,
            &self.allowed,
        )
    }

    /// The best tag sequence for a sentence (see [`NerModel::predict`] for `ctx`).
    pub fn tag<S: AsRef<str>>(&self, tokens: &[S], ctx: Option<&DocContext>) -> Vec<&str> {
        self.predict(tokens, ctx)
            .into_iter()
            .map(|k| self.labels[k].as_str())
            .collect()
    }

    /// The best tag sequence with each tag's marginal probability (see
    /// [`NerModel::predict`] for `ctx`).
    pub fn tag_with_confidence<S: AsRef<str>>(
        &self,
        tokens: &[S],
        ctx: Option<&DocContext>,
    ) -> Tagging {
        let l = self.labels.len();
        let em = self.emissions(tokens, ctx);
        let path = viterbi(&em, tokens.len(), l, &self.transitions, &self.allowed);
        let marg = self.marginals_at(&em, tokens.len(), self.confidence_scale);
        Tagging {
            confidence: path
                .iter()
                .enumerate()
                .map(|(i, &k)| marg[i * l + k])
                .collect(),
            tags: path.into_iter().map(|k| self.labels[k].clone()).collect(),
        }
    }

    /// Loads a model from a directory holding [`MODEL_FILE`], or from the file itself.
    pub fn load(path: &Path) -> Result<Self, NlpError> {
        let file = crate::model_file::in_dir_or_itself(path, MODEL_FILE);
        let bytes = std::fs::read(&file).map_err(|e| NlpError::io(&file, e))?;
        Self::from_bytes(&bytes).map_err(|message| NlpError::Model {
            path: file,
            message,
        })
    }

    /// Saves the model into directory `dir` (created if missing) as [`MODEL_FILE`], leaving out
    /// features whose weights are all within `prune` of zero. Returns the file's path.
    pub fn save(&self, dir: &Path, prune: f32) -> Result<std::path::PathBuf, NlpError> {
        std::fs::create_dir_all(dir).map_err(|e| NlpError::io(dir, e))?;
        let file = dir.join(MODEL_FILE);
        let f = std::fs::File::create(&file).map_err(|e| NlpError::io(&file, e))?;
        let mut w = BufWriter::new(f);
        self.write_to(&mut w, prune)
            .and_then(|()| w.flush())
            .map_err(|e| NlpError::io(&file, e))?;
        Ok(file)
    }

    fn write_to(&self, w: &mut impl Write, prune: f32) -> std::io::Result<()> {
        let l = self.labels.len();
        w.write_all(MAGIC)?;
        w.write_all(&FEATURE_VERSION.to_le_bytes())?;
        w.write_all(&(l as u32).to_le_bytes())?;
        for label in &self.labels {
            w.write_all(&(label.len() as u32).to_le_bytes())?;
            w.write_all(label.as_bytes())?;
        }
        for x in &self.transitions {
            w.write_all(&x.to_le_bytes())?;
        }
        w.write_all(&self.confidence_scale.to_le_bytes())?;
        let mut rows: Vec<(u64, u32)> = self.index.iter().map(|(&h, &r)| (h, r)).collect();
        rows.sort_unstable();
        let kept: Vec<(u64, Vec<(u8, f32)>)> = rows
            .into_iter()
            .filter_map(|(h, r)| {
                let ws = &self.weights[r as usize * l..(r as usize + 1) * l];
                let nz: Vec<(u8, f32)> = ws
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.abs() > prune)
                    .map(|(k, &x)| (k as u8, x))
                    .collect();
                (!nz.is_empty()).then_some((h, nz))
            })
            .collect();
        w.write_all(&(kept.len() as u32).to_le_bytes())?;
        for (h, nz) in kept {
            w.write_all(&h.to_le_bytes())?;
            w.write_all(&[nz.len() as u8])?;
            for (k, x) in nz {
                w.write_all(&[k])?;
                w.write_all(&x.to_le_bytes())?;
            }
        }
        Ok(())
    }

    fn from_bytes(mut bytes: &[u8]) -> Result<Self, String> {
        let r = &mut bytes;
        let mut magic = [0u8; 8];
        read_exact(r, &mut magic)?;
        if &magic != MAGIC {
            return Err("not a newsflow NER perceptron model (bad magic)".into());
        }
        let version = read_u32(r)?;
        if version != FEATURE_VERSION {
            return Err(format!(
                "feature version {version}, this build extracts version {FEATURE_VERSION}; retrain"
            ));
        }
        let l = read_u32(r)? as usize;
        if l == 0 || l > 255 {
            return Err(format!("bad label count {l}"));
        }
        let mut labels = Vec::with_capacity(l);
        for _ in 0..l {
            let len = read_u32(r)? as usize;
            if len > 64 {
                return Err(format!("label of {len} bytes"));
            }
            let mut buf = vec![0u8; len];
            read_exact(r, &mut buf)?;
            labels.push(String::from_utf8(buf).map_err(|_| "label is not UTF-8".to_string())?);
        }
        let mut transitions = Vec::with_capacity((l + 1) * l);
        for _ in 0..(l + 1) * l {
            transitions.push(read_f32(r)?);
        }
        let confidence_scale = read_f32(r)?;
        if !(confidence_scale.is_finite() && confidence_scale > 0.0) {
            return Err(format!("bad confidence scale {confidence_scale}"));
        }
        let count = read_u32(r)? as usize;
        // Each feature takes at least 9 bytes; refuse counts the file cannot hold.
        if count > r.len() / 9 {
            return Err(format!("{count} features do not fit in the file"));
        }
        let mut index = FeatureIndex::with_capacity_and_hasher(count, Default::default());
        let mut weights = vec![0.0f32; count * l];
        for row in 0..count {
            let h = read_u64(r)?;
            let mut k = [0u8; 1];
            read_exact(r, &mut k)?;
            for _ in 0..k[0] {
                let mut label = [0u8; 1];
                read_exact(r, &mut label)?;
                let x = read_f32(r)?;
                let label = label[0] as usize;
                if label >= l {
                    return Err(format!("weight for label {label} of {l}"));
                }
                weights[row * l + label] = x;
            }
            index.insert(h, row as u32);
        }
        if !r.is_empty() {
            return Err(format!("{} trailing bytes", r.len()));
        }
        let mut model = Self::from_parts(labels, index, weights, transitions);
        model.confidence_scale = confidence_scale;
        Ok(model)
    }
}

fn read_exact(r: &mut &[u8], buf: &mut [u8]) -> Result<(), String> {
    r.read_exact(buf)
        .map_err(|_| "file ends too early".to_string())
}

fn read_u32(r: &mut &[u8]) -> Result<u32, String> {
    let mut b = [0u8; 4];
    read_exact(r, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_u64(r: &mut &[u8]) -> Result<u64, String> {
    let mut b = [0u8; 8];
    read_exact(r, &mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn read_f32(r: &mut &[u8]) -> Result<f32, String> {
    let mut b = [0u8; 4];
    read_exact(r, &mut b)?;
    Ok(f32::from_le_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        ["O", "B-PER", "I-PER"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn viterbi_respects_bio() {
        let l = labels();
        let allowed = allowed_table(&l);
        let trans = vec![0.0; 4 * 3];
        // Token 0 prefers I-PER, which cannot open a sentence.
        let em = vec![0.0, 0.5, 1.0, 0.0, 0.0, 1.0];
        let path = viterbi(&em, 2, 3, &trans, &allowed);
        assert_eq!(path, vec![1, 2]);
        let m = marginals(&em, 2, 3, &trans, &allowed, 1.0);
        assert_eq!(m.len(), 6);
        assert_eq!(m[2], 0.0);
        assert!((m[0] + m[1] + m[2] - 1.0).abs() < 1e-5);
    }

    #[test]
    fn bad_files_are_errors_not_panics() {
        assert!(NerModel::from_bytes(b"").is_err());
        assert!(NerModel::from_bytes(b"NFNERP01\x01\x00\x00\x00").is_err());
        let mut big = Vec::from(&MAGIC[..]);
        big.extend(FEATURE_VERSION.to_le_bytes());
        big.extend(1u32.to_le_bytes());
        big.extend(1u32.to_le_bytes());
        big.push(b'O');
        big.extend([0u8; 8]);
        big.extend(u32::MAX.to_le_bytes());
        assert!(NerModel::from_bytes(&big).is_err());
    }
}
