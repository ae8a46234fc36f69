//! Sentence embeddings of articles: all-MiniLM-L6-v2 as sentence-transformers defines it, the
//! mean of the last layer's token states over the attention mask ([CLS] and [SEP] included),
//! L2-normalised, so the cosine of two embeddings is their dot product.
//!
//! An article is embedded from its title and its lead: the title, a full stop, then the body,
//! cut to the first [`MAX_PIECES`] WordPieces. 128 is the length all-MiniLM-L6-v2 was trained
//! at (its sentence pairs were truncated to 128 pieces), and the title plus the first two or
//! three sentences, which say what a news story is about, fit in it (about 90 words). Before
//! tokenizing, the text is cut to [`MAX_TEXT_CHARS`] code points, so the cost of an embedding
//! is bounded whatever the article's length: one tokenization of at most 4,096 code points and
//! one forward pass over at most 130 positions.
//!
//! The forward pass is the crate's one MiniLM encoder ([`crate::encoder`]); an embedder can
//! share the base weights another model loaded already ([`SentenceEmbedder::over`]).

use crate::encoder::{Encoder, WordPieceTokenizer, pad_ids};
use crate::error::NlpError;
use candle_core::{D, Tensor};
use std::path::Path;

/// WordPieces of a text embedded, before [CLS] and [SEP] are added.
pub const MAX_PIECES: usize = 128;

/// Code points of a text tokenized; the rest of a longer text is never read. Far more than
/// [`MAX_PIECES`] pieces take (a piece is rarely over 10 characters with its space).
pub const MAX_TEXT_CHARS: usize = 4_096;

/// Texts per forward pass in [`SentenceEmbedder::embed_batch`].
const BATCH: usize = 8;

/// The base encoder with its tokenizer, giving L2-normalised sentence embeddings.
pub struct SentenceEmbedder {
    encoder: Encoder,
    tokenizer: WordPieceTokenizer,
    cls: u32,
    sep: u32,
}

impl std::fmt::Debug for SentenceEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentenceEmbedder")
            .field("dimension", &self.dimension())
            .finish_non_exhaustive()
    }
}

impl SentenceEmbedder {
    /// Loads the base encoder and its tokenizer from `base_dir`
    /// (`models/base/all-MiniLM-L6-v2`, fetched by `scripts/fetch-base-model.sh`).
    pub fn load(base_dir: &Path) -> Result<Self, NlpError> {
        Self::over(Encoder::load(base_dir)?, base_dir)
    }

    /// The embedder over a base encoder already in memory (loaded from `base_dir`, whose
    /// tokenizer is read): it shares that encoder's weights rather than holding a copy.
    pub fn over(encoder: Encoder, base_dir: &Path) -> Result<Self, NlpError> {
        let tokenizer = WordPieceTokenizer::load(base_dir)?;
        let cls = tokenizer.token_id("[CLS]")?;
        let sep = tokenizer.token_id("[SEP]")?;
        Ok(Self {
            encoder,
            tokenizer,
            cls,
            sep,
        })
    }

    /// Width of an embedding (384 for all-MiniLM-L6-v2).
    pub fn dimension(&self) -> usize {
        self.encoder.config.hidden_size
    }

    /// The embedding of one text (its first [`MAX_PIECES`] pieces).
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, NlpError> {
        let mut embeddings = self.embed_batch(&[text])?;
        embeddings
            .pop()
            .ok_or_else(|| NlpError::Tensor("no embedding came back".into()))
    }

    /// The embedding of an article: its title and the lead of its body ([`article_text`]).
    pub fn embed_article(&self, title: &str, body: &str) -> Result<Vec<f32>, NlpError> {
        self.embed(&article_text(title, body))
    }

    /// The embeddings of several texts, in order; texts of similar length share a forward pass.
    /// A text without any piece (empty, only spaces) embeds as [CLS] [SEP].
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, NlpError> {
        let mut ids = Vec::with_capacity(texts.len());
        for text in texts {
            ids.push(self.ids(text)?);
        }
        // Sorted by length so a batch pads little.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out = vec![Vec::new(); ids.len()];
        for chunk in order.chunks(BATCH) {
            let seqs: Vec<&[u32]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
            for (&i, embedding) in chunk.iter().zip(self.forward(&seqs)?) {
                out[i] = embedding;
            }
        }
        Ok(out)
    }

    /// [CLS], the first [`MAX_PIECES`] pieces of the (capped) text, [SEP].
    fn ids(&self, text: &str) -> Result<Vec<u32>, NlpError> {
        let capped = match text.char_indices().nth(MAX_TEXT_CHARS) {
            Some((cut, _)) => &text[..cut],
            None => text,
        };
        let pieces = self.tokenizer.pieces(capped)?;
        let mut ids = Vec::with_capacity(MAX_PIECES.min(pieces.len()) + 2);
        ids.push(self.cls);
        ids.extend(pieces.iter().take(MAX_PIECES).map(|p| p.id));
        ids.push(self.sep);
        Ok(ids)
    }

    /// Mean-pooled, L2-normalised last-layer states of a padded batch.
    fn forward(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>, NlpError> {
        let device = self.encoder.device();
        let (ids, mask) = pad_ids(seqs, device)?;
        let states = self
            .encoder
            .forward_lower(&ids, &mask, self.encoder.layers.len())?;
        let (batch, len, _) = states.dims3()?;
        // 1 for a token, 0 for padding: the additive mask is 0 and -1e4 respectively.
        let mut keep = vec![0f32; batch * len];
        for (row, seq) in seqs.iter().enumerate() {
            keep[row * len..row * len + seq.len()].fill(1.0);
        }
        let keep = Tensor::from_vec(keep, (batch, len, 1), device)?;
        let summed = states.broadcast_mul(&keep)?.sum(1)?;
        let counts = keep.sum(1)?.maximum(1.0)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.maximum(1e-12)?;
        Ok(mean.broadcast_div(&norms)?.to_vec2::<f32>()?)
    }
}

/// The text an article is embedded from: the title, a full stop unless the title ends a
/// sentence already, then the body. Either may be empty.
pub fn article_text(title: &str, body: &str) -> String {
    let (title, body) = (title.trim(), body.trim());
    match (title.is_empty(), body.is_empty()) {
        (true, _) => body.to_owned(),
        (false, true) => title.to_owned(),
        (false, false) if title.ends_with(['.', '!', '?']) => format!("{title} {body}"),
        (false, false) => format!("{title}. {body}"),
    }
}

/// The cosine of two embeddings: their dot product over the product of their norms; 0 when
/// the lengths differ, either is all zeros, or a value is not finite.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        aa += x * x;
        bb += y * y;
    }
    let cos = dot / (aa.sqrt() * bb.sqrt());
    if cos.is_finite() { cos as f32 } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_article_text_joins_title_and_body_with_one_stop() {
        assert_eq!(
            article_text("Markets fall", "Shares fell."),
            "Markets fall. Shares fell."
        );
        assert_eq!(
            article_text("Markets fall?", "Shares fell."),
            "Markets fall? Shares fell."
        );
        assert_eq!(article_text(" ", " Shares fell. "), "Shares fell.");
        assert_eq!(article_text("Markets fall", ""), "Markets fall");
    }

    #[test]
    fn cosine_is_zero_for_mismatched_empty_or_odd_vectors() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-6);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[f32::NAN, 1.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[], &[]), 0.0);
    }
}
