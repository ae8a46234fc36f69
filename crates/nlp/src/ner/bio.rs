//! BIO tags to typed chunks, with the semantics of the CoNLL shared task's `conlleval`: an
//! `I-X` that does not continue an `X` chunk opens a new chunk, so ill-formed taggings still
//! give chunks rather than errors.

#[cfg(feature = "train")]
use std::collections::BTreeSet;
use std::ops::Range;

/// A typed chunk: token range and type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Chunk {
    /// Token indexes.
    pub tokens: Range<usize>,
    /// The type ("PER", "LOC", ...).
    pub label: String,
}

/// Splits a BIO tag into its prefix and type ("B-PER" -> ('B', "PER"), "O" -> ('O', "")).
fn split_tag(tag: &str) -> (char, &str) {
    match tag.split_once('-') {
        Some((p, t)) if p.len() == 1 => (p.chars().next().unwrap_or('O'), t),
        _ => ('O', ""),
    }
}

/// The entity types of BIO tags (the `X` of `B-X` and `I-X`), sorted.
#[cfg(feature = "train")]
pub fn entity_types<'a>(tags: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    tags.into_iter()
        .map(split_tag)
        .filter(|&(prefix, _)| prefix == 'B' || prefix == 'I')
        .map(|(_, label)| label)
        .collect()
}

/// The chunks of one BIO-tagged sentence, conlleval style.
pub fn chunks<S: AsRef<str>>(tags: &[S]) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    for (i, tag) in tags.iter().enumerate() {
        let (prefix, label) = split_tag(tag.as_ref());
        let continues = prefix == 'I' && open.is_some_and(|(_, l)| l == label);
        if continues {
            continue;
        }
        if let Some((start, l)) = open.take() {
            out.push(Chunk {
                tokens: start..i,
                label: l.to_string(),
            });
        }
        if prefix == 'B' || prefix == 'I' {
            open = Some((i, label));
        }
    }
    if let Some((start, l)) = open {
        out.push(Chunk {
            tokens: start..tags.len(),
            label: l.to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_follow_conlleval() {
        let tags = [
            "B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-ORG", "B-MISC",
        ];
        let got: Vec<(Range<usize>, String)> = chunks(&tags)
            .into_iter()
            .map(|c| (c.tokens, c.label))
            .collect();
        let want = [
            (0..2, "PER"),
            (3..5, "LOC"),
            (5..6, "LOC"),
            (6..7, "ORG"),
            (7..8, "MISC"),
        ];
        let want: Vec<(Range<usize>, String)> =
            want.into_iter().map(|(r, l)| (r, l.to_string())).collect();
        assert_eq!(got, want);
    }
}
