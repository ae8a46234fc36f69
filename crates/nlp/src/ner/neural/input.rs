//! From words to encoder input: word pieces, the word-shape class of each piece, and windows
//! that fit the encoder (a long sentence is cut at word boundaries).

use tokenizers::Tokenizer;

/// Number of word-shape classes (the rows of the shape embedding).
pub(crate) const SHAPES: usize = 9;

/// Most word pieces kept per word: the first predicts the tag, the rest only add context.
const MAX_PIECES_PER_WORD: usize = 16;

/// The case/shape class of a word, so the uncased encoder sees what casing says.
/// 0 is kept for [CLS], [SEP] and padding.
pub(crate) fn shape_class(word: &str, headline: bool) -> u32 {
    let mut upper = 0usize;
    let mut lower = 0usize;
    let mut digit = false;
    let mut first_upper = false;
    for (i, c) in word.chars().enumerate() {
        if c.is_uppercase() {
            upper += 1;
            if i == 0 {
                first_upper = true;
            }
        } else if c.is_lowercase() {
            lower += 1;
        } else if c.is_numeric() {
            digit = true;
        }
    }
    if digit {
        6
    } else if upper + lower == 0 {
        7
    } else if headline {
        8
    } else if upper == 0 {
        1
    } else if lower == 0 {
        if upper == 1 { 4 } else { 3 }
    } else if first_upper && upper == 1 {
        2
    } else {
        5
    }
}

/// Whether a sentence is written in capitals (a headline): at least two words with letters
/// and none of them with a lowercase letter.
pub(crate) fn is_headline<S: AsRef<str>>(words: &[S]) -> bool {
    let mut lettered = 0;
    for w in words {
        let w = w.as_ref();
        if w.chars().any(char::is_lowercase) {
            return false;
        }
        if w.chars().any(char::is_alphabetic) {
            lettered += 1;
        }
    }
    lettered >= 2
}

/// The special token ids the windows need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Specials {
    pub cls: u32,
    pub sep: u32,
    pub unk: u32,
}

impl Specials {
    pub fn of(tokenizer: &Tokenizer) -> Option<Self> {
        Some(Self {
            cls: tokenizer.token_to_id("[CLS]")?,
            sep: tokenizer.token_to_id("[SEP]")?,
            unk: tokenizer.token_to_id("[UNK]")?,
        })
    }
}

/// Word pieces of each word (never empty: a word the tokenizer drops becomes [UNK]).
pub(crate) fn pieces<S: AsRef<str>>(
    tokenizer: &Tokenizer,
    specials: Specials,
    words: &[S],
) -> Vec<Vec<u32>> {
    words
        .iter()
        .map(|w| {
            let mut ids = tokenizer
                .encode(w.as_ref(), false)
                .map(|e| e.get_ids().to_vec())
                .unwrap_or_default();
            ids.truncate(MAX_PIECES_PER_WORD);
            if ids.is_empty() {
                ids.push(specials.unk);
            }
            ids
        })
        .collect()
}

/// One encoder input: `[CLS] pieces of words[first..first + first_piece.len()] [SEP]`.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    /// Which sentence of the batch of sentences.
    pub sentence: usize,
    /// Index of its first word in that sentence.
    pub first_word: usize,
    pub ids: Vec<u32>,
    pub shapes: Vec<u32>,
    /// Position in `ids` of each word's first piece.
    pub first_piece: Vec<usize>,
}

/// Cuts a sentence into windows of at most `max_len` ids ([CLS] and [SEP] included) at word
/// boundaries; a single word longer than a window keeps only its first pieces.
pub(crate) fn windows<S: AsRef<str>>(
    sentence: usize,
    words: &[S],
    pieces: &[Vec<u32>],
    specials: Specials,
    max_len: usize,
) -> Vec<Window> {
    let room = max_len.saturating_sub(2).max(1);
    let headline = is_headline(words);
    let mut out = Vec::new();
    let mut current: Option<Window> = None;
    for (i, (w, p)) in words.iter().zip(pieces).enumerate() {
        let p = &p[..p.len().min(room)];
        let full = current
            .as_ref()
            .is_some_and(|win| win.ids.len() - 1 + p.len() > room);
        if full && let Some(mut done) = current.take() {
            done.ids.push(specials.sep);
            done.shapes.push(0);
            out.push(done);
        }
        let win = current.get_or_insert_with(|| Window {
            sentence,
            first_word: i,
            ids: vec![specials.cls],
            shapes: vec![0],
            first_piece: Vec::new(),
        });
        let shape = shape_class(w.as_ref(), headline);
        win.first_piece.push(win.ids.len());
        win.ids.extend_from_slice(p);
        win.shapes.extend(std::iter::repeat_n(shape, p.len()));
    }
    if let Some(mut done) = current {
        done.ids.push(specials.sep);
        done.shapes.push(0);
        out.push(done);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_tell_case() {
        assert_eq!(shape_class("the", false), 1);
        assert_eq!(shape_class("Paris", false), 2);
        assert_eq!(shape_class("NATO", false), 3);
        assert_eq!(shape_class("A", false), 4);
        assert_eq!(shape_class("McDonald", false), 5);
        assert_eq!(shape_class("1996", false), 6);
        assert_eq!(shape_class(",", false), 7);
        assert_eq!(shape_class("NATO", true), 8);
        assert!(is_headline(&["SOCCER", "-", "JAPAN", "WIN"]));
        assert!(!is_headline(&["Japan", "WIN"]));
    }

    #[test]
    fn windows_cut_at_word_boundaries() {
        let specials = Specials {
            cls: 101,
            sep: 102,
            unk: 100,
        };
        let words = ["a", "b", "c", "d"];
        let pieces = vec![vec![1, 2], vec![3], vec![4, 5, 6], vec![7]];
        let w = windows(0, &words, &pieces, specials, 6);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].ids, vec![101, 1, 2, 3, 102]);
        assert_eq!(w[0].first_piece, vec![1, 3]);
        assert_eq!(w[1].first_word, 2);
        assert_eq!(w[1].ids, vec![101, 4, 5, 6, 7, 102]);
        assert_eq!(w[1].first_piece, vec![1, 4]);
        assert!(
            w.iter()
                .all(|x| x.ids.len() <= 6 && x.ids.len() == x.shapes.len())
        );
        // One word longer than a window is cut, not dropped.
        let w = windows(0, &["x"], &[vec![9; 10]], specials, 4);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].ids.len(), 4);
    }
}
