//! From a sentence and a target span to the encoder's input: `[CLS] left [unused0] target
//! [unused1] right [SEP]`, the markers inserted as ids (their text would split into several
//! WordPieces), and a window cropped around the target when the sentence is too long.
//!
//! A holder's stance (the holder-stance model) marked also marks the holder: `[unused2] holder
//! [unused3]`; marked or plain, the window is cropped around both when they fit in it
//! together.
//!
//! A plain input ([`Marking::Plain`]) is the sentence alone, `[CLS] sentence [SEP]`: every
//! target of a sentence that fits the window then has the same ids, so one encoder pass
//! serves them all, and the model tells them apart by pooling each one's own pieces.

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
    /// Opens the holder (`[unused2]`).
    pub holder_open: u32,
    /// Closes the holder (`[unused3]`).
    pub holder_close: u32,
}

impl SpecialIds {
    /// Looks the ids up in the tokenizer's vocabulary.
    pub fn from_tokenizer(tok: &WordPieceTokenizer) -> Result<Self, NlpError> {
        Ok(Self {
            cls: tok.token_id("[CLS]")?,
            sep: tok.token_id("[SEP]")?,
            open: tok.token_id("[unused0]")?,
            close: tok.token_id("[unused1]")?,
            holder_open: tok.token_id("[unused2]")?,
            holder_close: tok.token_id("[unused3]")?,
        })
    }
}

/// How an input shows the model which words are the target (and the holder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Marking {
    /// Marker tokens around the target and the holder: a copy of the sentence per target.
    #[default]
    Markers,
    /// The sentence alone; the target is only the positions pooled.
    Plain,
}

/// One encoder input for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StanceInput {
    /// Token ids, `[CLS]` first and `[SEP]` last.
    pub ids: Vec<u32>,
    /// The positions whose mean represents the target: its WordPieces, or when the span
    /// covers none, the two markers (marked) or the piece after it (plain).
    pub target: Range<usize>,
    /// The holder's positions, likewise, when the input has a holder.
    pub holder: Option<Range<usize>>,
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

/// Builds the input for `target` (code points) of `sentence`, with `holder` too when given,
/// at most `max_len` ids long.
pub fn build_input(
    tok: &WordPieceTokenizer,
    special: SpecialIds,
    sentence: &str,
    target: Span,
    holder: Option<Span>,
    max_len: usize,
    marking: Marking,
) -> Result<StanceInput, NlpError> {
    check_span(sentence, target)?;
    if let Some(holder) = holder {
        check_span(sentence, holder)?;
    }
    input_from_pieces(
        special,
        &tok.pieces(sentence)?,
        target,
        holder,
        max_len,
        marking,
    )
}

/// The pieces overlapping `span`: `a..b`, empty (at the first piece after it) when none does.
fn piece_range(pieces: &[Piece], span: Span) -> Range<usize> {
    let n = pieces.len();
    let a = pieces.iter().position(|p| p.end > span.start).unwrap_or(n);
    let b = pieces
        .iter()
        .position(|p| p.start >= span.end)
        .unwrap_or(n)
        .max(a);
    a..b
}

/// Where the window focuses: on target and holder when they fit in it together, else on the
/// target.
fn focus(target: &Range<usize>, holder: Option<&Range<usize>>, budget: usize) -> Range<usize> {
    match holder {
        Some(h) => {
            let both = target.start.min(h.start)..target.end.max(h.end);
            if both.len() <= budget {
                both
            } else {
                target.clone()
            }
        }
        None => target.clone(),
    }
}

/// The target's pieces, the holder's, and the window of `budget` pieces shown around them.
fn locate(
    pieces: &[Piece],
    target: Span,
    holder: Option<Span>,
    budget: usize,
) -> (Range<usize>, Option<Range<usize>>, Range<usize>) {
    let target_pieces = piece_range(pieces, target);
    let holder_pieces = holder.map(|h| piece_range(pieces, h));
    let shown = window(
        pieces.len(),
        budget,
        focus(&target_pieces, holder_pieces.as_ref(), budget),
    );
    (target_pieces, holder_pieces, shown)
}

/// The plain input: `[CLS]` and the pieces in the window and `[SEP]`. A sentence that fits
/// the window gives the same ids for every target in it.
fn plain_input(
    special: SpecialIds,
    pieces: &[Piece],
    target: Span,
    holder: Option<Span>,
    max_len: usize,
) -> StanceInput {
    let (target_pieces, holder_pieces, shown) = locate(pieces, target, holder, max_len - 2);
    let mut ids = Vec::with_capacity(shown.len() + 2);
    ids.push(special.cls);
    ids.extend(pieces[shown.clone()].iter().map(|p| p.id));
    ids.push(special.sep);
    // Positions in `ids` (the window shifted by `[CLS]`); a span with no piece in the window
    // takes the nearest position, `[SEP]` at the latest.
    let positions = |r: &Range<usize>| {
        let start = r.start.clamp(shown.start, shown.end) - shown.start + 1;
        let end = r.end.clamp(shown.start, shown.end) - shown.start + 1;
        if end > start {
            start..end
        } else {
            start..start + 1
        }
    };
    StanceInput {
        target: positions(&target_pieces),
        holder: holder_pieces.as_ref().map(positions),
        ids,
    }
}

/// A window of `budget` pieces out of `n` around `focus` (cut at its start when it is longer):
/// the target is kept rather than the end of the sentence, where it may be.
fn window(n: usize, budget: usize, focus: Range<usize>) -> Range<usize> {
    if n <= budget {
        0..n
    } else if focus.len() >= budget {
        focus.start..focus.start + budget
    } else {
        let extra = budget - focus.len();
        let left = focus.start.saturating_sub(extra / 2).min(n - budget);
        left..left + budget
    }
}

/// Builds the input for `target` (code points) of a sentence already split into `pieces`,
/// with `holder` too when given, at most `max_len` ids long: every target of one sentence
/// shares one tokenization.
pub fn input_from_pieces(
    special: SpecialIds,
    pieces: &[Piece],
    target: Span,
    holder: Option<Span>,
    max_len: usize,
    marking: Marking,
) -> Result<StanceInput, NlpError> {
    if max_len < 10 {
        return Err(NlpError::InvalidInput(format!(
            "max_len {max_len} is too short"
        )));
    }
    if marking == Marking::Plain {
        return Ok(plain_input(special, pieces, target, holder, max_len));
    }
    let markers = if holder.is_some() { 4 } else { 2 };
    let (target_pieces, holder_pieces, shown) =
        locate(pieces, target, holder, max_len - 2 - markers);
    let clamp = |r: &Range<usize>| {
        let start = r.start.clamp(shown.start, shown.end);
        start..r.end.clamp(start, shown.end)
    };
    let mut spans = vec![(clamp(&target_pieces), special.open, special.close)];
    if let Some(h) = &holder_pieces {
        spans.push((clamp(h), special.holder_open, special.holder_close));
    }
    let mut ids = Vec::with_capacity(shown.len() + 2 + markers);
    let mut opened = vec![0; spans.len()];
    let mut closed = vec![0; spans.len()];
    ids.push(special.cls);
    for at in shown.start..=shown.end {
        for (k, (range, _, close)) in spans.iter().enumerate() {
            if range.end == at && range.start < at {
                closed[k] = ids.len();
                ids.push(*close);
            }
        }
        for (k, (range, open, close)) in spans.iter().enumerate() {
            if range.start == at {
                opened[k] = ids.len();
                ids.push(*open);
                if range.is_empty() {
                    closed[k] = ids.len();
                    ids.push(*close);
                }
            }
        }
        if let Some(piece) = pieces.get(at).filter(|_| at < shown.end) {
            ids.push(piece.id);
        }
    }
    ids.push(special.sep);
    // The pieces between the markers, or the two markers when there are none.
    let positions = |k: usize| {
        if closed[k] > opened[k] + 1 {
            opened[k] + 1..closed[k]
        } else {
            opened[k]..closed[k] + 1
        }
    };
    Ok(StanceInput {
        ids,
        target: positions(0),
        holder: holder.map(|_| positions(1)),
    })
}
