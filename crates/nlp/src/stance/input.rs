//! From a sentence and a target span to the encoder's input: `[CLS] left [unused0] target
//! [unused1] right [SEP]`, the markers inserted as ids (their text would split into several
//! WordPieces), and a window cropped around the target when the sentence is too long.

use crate::doc::Span;
use crate::encoder::{Piece, WordPieceTokenizer};
use crate::error::NlpError;
use std::ops::Range;

/// The ids of the special tokens an input needs.
#[derive(Debug, Clone, Copy)]
pub struct SpecialIds {
    /// `[CLS]`.
    pub cls: u32,
    /// `[SEP]`.
    pub sep: u32,
    /// Opens the target (`[unused0]`).
    pub open: u32,
    /// Closes the target (`[unused1]`).
    pub close: u32,
}

impl SpecialIds {
    /// Looks the ids up in the tokenizer's vocabulary.
    pub fn from_tokenizer(tok: &WordPieceTokenizer) -> Result<Self, NlpError> {
        Ok(Self {
            cls: tok.token_id("[CLS]")?,
            sep: tok.token_id("[SEP]")?,
            open: tok.token_id("[unused0]")?,
            close: tok.token_id("[unused1]")?,
        })
    }
}

/// One encoder input for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanceInput {
    /// Token ids, `[CLS]` first and `[SEP]` last.
    pub ids: Vec<u32>,
    /// The positions whose mean represents the target: its WordPieces, or the two markers
    /// when the span covers none.
    pub target: Range<usize>,
}

/// Checks a target span against its sentence.
pub fn check_span(sentence: &str, span: Span) -> Result<(), NlpError> {
    if sentence.trim().is_empty() {
        return Err(NlpError::InvalidInput("empty sentence".into()));
    }
    let len = sentence.chars().count();
    if span.start >= span.end || span.end > len {
        return Err(NlpError::InvalidInput(format!(
            "target span {}..{} outside the sentence of {len} code points, or empty",
            span.start, span.end
        )));
    }
    Ok(())
}

/// Builds the input for `span` (code points) of `sentence`, at most `max_len` ids long.
pub fn build_input(
    tok: &WordPieceTokenizer,
    special: SpecialIds,
    sentence: &str,
    span: Span,
    max_len: usize,
) -> Result<StanceInput, NlpError> {
    check_span(sentence, span)?;
    input_from_pieces(special, &tok.pieces(sentence)?, span, max_len)
}

/// Builds the input for `span` (code points) of a sentence already split into `pieces`, at
/// most `max_len` ids long: every target of one sentence shares one tokenization.
pub fn input_from_pieces(
    special: SpecialIds,
    pieces: &[Piece],
    span: Span,
    max_len: usize,
) -> Result<StanceInput, NlpError> {
    if max_len < 8 {
        return Err(NlpError::InvalidInput(format!(
            "max_len {max_len} is too short"
        )));
    }
    let n = pieces.len();
    // Target pieces: those overlapping the span; `a..b` (empty when none does).
    let a = pieces.iter().position(|p| p.end > span.start).unwrap_or(n);
    let b = pieces
        .iter()
        .position(|p| p.start >= span.end)
        .unwrap_or(n)
        .max(a);
    // Crop a window around the target rather than cutting the end, where the target may be.
    let budget = max_len - 4;
    let (left, right) = if n <= budget {
        (0, n)
    } else if b - a >= budget {
        (a, a + budget)
    } else {
        let extra = budget - (b - a);
        let left = a.saturating_sub(extra / 2);
        let left = left.min(n - budget);
        (left, left + budget)
    };
    let b = b.min(right);
    let mut ids = Vec::with_capacity(right - left + 4);
    ids.push(special.cls);
    ids.extend(pieces[left..a].iter().map(|p| p.id));
    let open = ids.len();
    ids.push(special.open);
    ids.extend(pieces[a..b].iter().map(|p| p.id));
    let close = ids.len();
    ids.push(special.close);
    ids.extend(pieces[b..right].iter().map(|p| p.id));
    ids.push(special.sep);
    let target = if close > open + 1 {
        open + 1..close
    } else {
        open..close + 1
    };
    Ok(StanceInput { ids, target })
}
