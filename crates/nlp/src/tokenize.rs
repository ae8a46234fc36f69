//! Tokenization and sentence splitting, the first stage of every pipeline.
//!
//! Rules in the style of the Penn Treebank (which CoNLL-2003 follows, so the NER model sees
//! tokens like those it was trained on): punctuation and quotes split off words, clitics
//! (`'s`, `n't`, `’ll`) split off, while abbreviations keep their period ("U.S.", "Mr.",
//! "Sept.", initials "J."). A sentence ends after `.`, `!`, `?` or an ellipsis (plus closing
//! quotes and brackets) unless a lowercase word follows, and at every line break. An
//! abbreviation that can end a sentence ("Inc.", "U.S.") ends one only when a typical
//! sentence opener follows.

use crate::doc::{Doc, Sentence, Span, Stage};
use crate::error::NlpError;
use crate::lexicon::{WordSet, words};
use std::ops::Range;

/// The tokenizing and sentence-splitting stage. It replaces any tokens and sentences the
/// document had.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokenizer;

impl Stage for Tokenizer {
    fn name(&self) -> &'static str {
        "tokenizer"
    }

    fn process(&self, doc: &mut Doc) -> Result<(), NlpError> {
        let ranges = tokenize(doc.text());
        doc.tokens.clear();
        doc.sentences.clear();
        for r in ranges {
            doc.push_token(r);
        }
        doc.sentences = split_sentences(doc);
        Ok(())
    }
}

/// Abbreviations that precede what they qualify (titles, months, "No."): never the end of a
/// sentence.
static PREFIX_ABBREVIATIONS: WordSet = words!("tokenize/prefix-abbreviations.txt");

/// Abbreviations that may close a sentence ("... of Acme Inc. The company ...").
static FINAL_ABBREVIATIONS: WordSet = words!("tokenize/final-abbreviations.txt");

/// Words that typically open a sentence; after an abbreviation that may end one, they signal
/// that it did.
static SENTENCE_OPENERS: WordSet = words!("tokenize/sentence-openers.txt");

fn is_opening(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '“' | '‘' | '«' | '‹' | '„' | '(' | '[' | '{' | '¿' | '¡'
    )
}

fn is_closing(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '”' | '’' | '»' | '›' | ')' | ']' | '}' | ',' | ';' | ':' | '!' | '?'
    )
}

fn is_currency(c: char) -> bool {
    matches!(c, '$' | '£' | '€' | '¥' | '₹' | '₽')
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '’'
}

/// Longer words are no abbreviation; the bound keeps a word of thousands of ".)" linear.
const MAX_ABBREVIATION_BYTES: usize = 16;

/// Whether a word (without its final period) keeps the period as an abbreviation.
fn abbreviation_class(core: &str) -> Option<AbbrevKind> {
    if core.len() > MAX_ABBREVIATION_BYTES {
        return None;
    }
    if PREFIX_ABBREVIATIONS.contains(core) {
        return Some(AbbrevKind::Prefix);
    }
    if FINAL_ABBREVIATIONS.contains(core) {
        return Some(AbbrevKind::Final);
    }
    let mut chars = core.chars();
    // Initials: "J" of "J. K. Rowling".
    if let (Some(c), None) = (chars.next(), chars.next())
        && c.is_uppercase()
    {
        return Some(AbbrevKind::Prefix);
    }
    // Letters with inner periods: "U.S", "e.g", "a.m", "U.N".
    if core.contains('.')
        && core
            .split('.')
            .all(|p| !p.is_empty() && p.chars().count() <= 2 && p.chars().all(char::is_alphabetic))
    {
        return Some(AbbrevKind::Final);
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AbbrevKind {
    Prefix,
    Final,
}

/// Byte ranges of the tokens of `text`.
pub fn tokenize(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(chunk_start) = start.take() {
                split_chunk(text, chunk_start..i, &mut out);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(chunk_start) = start {
        split_chunk(text, chunk_start..text.len(), &mut out);
    }
    out
}

/// Splits a whitespace-free chunk at dashes, then each piece into words and punctuation.
fn split_chunk(text: &str, chunk: Range<usize>, out: &mut Vec<Range<usize>>) {
    let chunk_text = &text[chunk.clone()];
    let mut piece_start = 0;
    let mut iter = chunk_text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let dash_len = match c {
            '—' | '–' => c.len_utf8(),
            '-' if chunk_text[i + 1..].starts_with('-') => 2,
            _ => 0,
        };
        if dash_len > 0 {
            split_word(text, chunk.start + piece_start..chunk.start + i, out);
            out.push(chunk.start + i..chunk.start + i + dash_len);
            piece_start = i + dash_len;
            if dash_len == 2 {
                iter.next();
            }
        }
    }
    split_word(text, chunk.start + piece_start..chunk.end, out);
}

/// Splits one piece into leading punctuation, the word, clitics and trailing punctuation.
fn split_word(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    if range.is_empty() {
        return;
    }
    let (mut start, mut end) = (range.start, range.end);
    // Leading quotes, brackets and currency signs.
    while start < end {
        let c = text[start..end].chars().next().unwrap_or(' ');
        let rest = &text[start + c.len_utf8()..end];
        let split = is_opening(c)
            || (is_currency(c) && rest.starts_with(|d: char| d.is_ascii_digit()))
            || (c == '.' && rest.starts_with('.'));
        if !split || rest.is_empty() {
            break;
        }
        if c == '.' {
            // A leading ellipsis "...and": keep the dots together.
            let dots = text[start..end].chars().take_while(|&d| d == '.').count();
            out.push(start..start + dots);
            start += dots;
            continue;
        }
        out.push(start..start + c.len_utf8());
        start += c.len_utf8();
    }
    // Trailing punctuation, collected right to left.
    let mut trailing: Vec<Range<usize>> = Vec::new();
    while start < end {
        let word = &text[start..end];
        let Some(c) = word.chars().next_back() else {
            break;
        };
        let before = &word[..word.len() - c.len_utf8()];
        if before.is_empty() {
            break;
        }
        if c == '.' || c == '…' {
            let dots = word.chars().rev().take_while(|&d| d == '.').count();
            if c == '…' || dots >= 2 {
                let n = if c == '…' { c.len_utf8() } else { dots };
                if n == word.len() {
                    break;
                }
                trailing.push(end - n..end);
                end -= n;
                continue;
            }
            if abbreviation_class(before).is_some() {
                break;
            }
            trailing.push(end - 1..end);
            end -= 1;
            continue;
        }
        let percent = c == '%' && before.ends_with(|d: char| d.is_ascii_digit());
        if is_closing(c) || percent {
            trailing.push(end - c.len_utf8()..end);
            end -= c.len_utf8();
            continue;
        }
        break;
    }
    if start < end {
        split_clitics(text, start..end, out);
    }
    out.extend(trailing.into_iter().rev());
}

/// Splits English clitics off a word: "Kyiv’s" -> "Kyiv" "’s", "don't" -> "do" "n't".
fn split_clitics(text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let word = &text[range.clone()];
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let n = chars.len();
    // n't
    if n >= 4 {
        let (i_n, c_n) = chars[n - 3];
        if (c_n == 'n' || c_n == 'N')
            && is_apostrophe(chars[n - 2].1)
            && matches!(chars[n - 1].1, 't' | 'T')
        {
            out.push(range.start..range.start + i_n);
            out.push(range.start + i_n..range.end);
            return;
        }
    }
    for len in [2usize, 3] {
        if n > len {
            let (i_ap, ap) = chars[n - len];
            let tail: String = chars[n - len + 1..].iter().map(|&(_, c)| c).collect();
            let tail = tail.to_lowercase();
            let clitic = matches!(tail.as_str(), "s" | "d" | "m" | "re" | "ve" | "ll");
            if is_apostrophe(ap) && clitic && chars[n - len - 1].1.is_alphanumeric() {
                out.push(range.start..range.start + i_ap);
                out.push(range.start + i_ap..range.end);
                return;
            }
        }
    }
    out.push(range);
}

/// Groups the document's tokens into sentences, none longer than the document's
/// [`crate::Limits::max_sentence_tokens`].
pub fn split_sentences(doc: &Doc) -> Vec<Sentence> {
    let max = doc.limits.max_sentence_tokens.max(1);
    let mut sentences = Vec::new();
    for sentence in split_at_ends(doc) {
        let mut start = sentence.tokens.start;
        while sentence.tokens.end - start > max {
            let end = cut_point(doc, start, start + max);
            sentences.push(make_sentence(doc, start..end));
            start = end;
        }
        sentences.push(make_sentence(doc, start..sentence.tokens.end));
    }
    sentences
}

/// Where to cut a run of tokens that is too long for one sentence: after the last comma,
/// semicolon or colon of its last quarter, else at its end.
fn cut_point(doc: &Doc, start: usize, end: usize) -> usize {
    let quarter = start + (end - start) * 3 / 4;
    (quarter..end)
        .rev()
        .find(|&token| matches!(doc.token_text(token), "," | ";" | ":"))
        .map_or(end, |token| token + 1)
}

/// The sentences the text's punctuation and line breaks make, however long.
fn split_at_ends(doc: &Doc) -> Vec<Sentence> {
    let count = doc.tokens.len();
    let mut sentences = Vec::new();
    let mut start = 0;
    let mut token = 0;
    while token < count {
        let text = doc.token_text(token);
        let mut end_here = false;
        let mut last = token;
        if is_terminal(text) || abbreviation_may_end(text) {
            // More terminals ("?!", "! ! !") and the closing quotes and brackets attached to
            // them belong to the same sentence.
            while last + 1 < count {
                let next = doc.token_text(last + 1);
                let closing = !doc.tokens[last].space_after
                    && next
                        .chars()
                        .all(|c| matches!(c, '"' | '\'' | '”' | '’' | '»' | ')' | ']'));
                if !(closing || is_terminal(next)) {
                    break;
                }
                last += 1;
            }
            match next_text(doc, last) {
                None => end_here = true,
                Some(next) => {
                    let first = next.chars().next().unwrap_or(' ');
                    end_here = if is_terminal(text) {
                        let ellipsis = text.contains('…') || text.starts_with("..");
                        if ellipsis {
                            first.is_uppercase()
                        } else {
                            !first.is_lowercase()
                        }
                    } else {
                        SENTENCE_OPENERS.contains(next)
                    };
                }
            }
        }
        if !end_here && last + 1 < count && line_break_between(doc, last, last + 1) {
            end_here = true;
        }
        if end_here || last + 1 == count {
            sentences.push(make_sentence(doc, start..last + 1));
            start = last + 1;
        }
        token = last + 1;
    }
    sentences
}

fn next_text(doc: &Doc, token: usize) -> Option<&str> {
    (token + 1 < doc.tokens.len()).then(|| doc.token_text(token + 1))
}

fn is_terminal(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| matches!(c, '.' | '!' | '?' | '…'))
}

fn abbreviation_may_end(text: &str) -> bool {
    text.len() > 1
        && text
            .strip_suffix('.')
            .and_then(abbreviation_class)
            .is_some_and(|k| k == AbbrevKind::Final)
}

fn line_break_between(doc: &Doc, a: usize, b: usize) -> bool {
    doc.text()[doc.tokens[a].bytes.end..doc.tokens[b].bytes.start].contains('\n')
}

fn make_sentence(doc: &Doc, tokens: Range<usize>) -> Sentence {
    Sentence {
        span: Span::new(
            doc.tokens[tokens.start].span.start,
            doc.tokens[tokens.end - 1].span.end,
        ),
        tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<&str> {
        tokenize(text).into_iter().map(|r| &text[r]).collect()
    }

    fn sents(text: &str) -> Vec<String> {
        let mut doc = Doc::new(text);
        Tokenizer.process(&mut doc).expect("tokenize");
        doc.sentences
            .iter()
            .map(|s| doc.span_text(s.span).to_string())
            .collect()
    }

    #[test]
    fn abbreviations_keep_their_period() {
        assert_eq!(
            toks("Mr. Smith met Gen. Lee in the U.S. on Sept. 4."),
            vec![
                "Mr.", "Smith", "met", "Gen.", "Lee", "in", "the", "U.S.", "on", "Sept.", "4", "."
            ]
        );
        assert_eq!(toks("J. K. Rowling"), vec!["J.", "K.", "Rowling"]);
    }

    #[test]
    fn punctuation_quotes_and_clitics_split() {
        assert_eq!(
            toks("“You cannot,” Peskov said. Kyiv’s don't (Reuters) \"yes\""),
            vec![
                "“", "You", "cannot", ",", "”", "Peskov", "said", ".", "Kyiv", "’s", "do", "n't",
                "(", "Reuters", ")", "\"", "yes", "\""
            ]
        );
        assert_eq!(
            toks("£1.2m ($376m) rose 8.51%."),
            vec!["£", "1.2m", "(", "$", "376m", ")", "rose", "8.51", "%", "."]
        );
        assert_eq!(toks("1996-08-22 co-chief"), vec!["1996-08-22", "co-chief"]);
        assert_eq!(
            toks("peace—and wait..."),
            vec!["peace", "—", "and", "wait", "..."]
        );
    }

    #[test]
    fn sentences_survive_abbreviations_and_initials() {
        assert_eq!(
            sents("At the Sept. 4 summit, Mr. Macron spoke. J. K. Rowling wrote. He left."),
            vec![
                "At the Sept. 4 summit, Mr. Macron spoke.",
                "J. K. Rowling wrote.",
                "He left."
            ]
        );
        assert_eq!(
            sents("Leaders pressed U.S. President Donald Trump. Trump agreed."),
            vec![
                "Leaders pressed U.S. President Donald Trump.",
                "Trump agreed."
            ]
        );
        assert_eq!(
            sents("It moved to the U.S. The firm grew."),
            vec!["It moved to the U.S.", "The firm grew."]
        );
    }

    #[test]
    fn quotes_stay_with_their_sentence() {
        assert_eq!(
            sents("“Why?” he asked. “It is over.” She left."),
            vec!["“Why?” he asked.", "“It is over.”", "She left."]
        );
        assert_eq!(
            sents("He said \"no.\" Then he left!"),
            vec!["He said \"no.\"", "Then he left!"]
        );
        assert_eq!(
            sents("Give us a break...!!! Really ? ? Yes."),
            vec!["Give us a break...!!!", "Really ? ?", "Yes."]
        );
    }

    #[test]
    fn line_breaks_end_sentences() {
        assert_eq!(
            sents("A headline without a stop\nThe body starts here."),
            vec!["A headline without a stop", "The body starts here."]
        );
    }

    #[test]
    fn spans_are_code_points() {
        let mut doc = Doc::new("Kyiv’s “troops”");
        Tokenizer.process(&mut doc).expect("tokenize");
        let spans: Vec<(usize, usize)> = doc
            .tokens
            .iter()
            .map(|t| (t.span.start, t.span.end))
            .collect();
        assert_eq!(spans, vec![(0, 4), (4, 6), (7, 8), (8, 14), (14, 15)]);
        assert_eq!(doc.sentences.len(), 1);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in [
            "", " ", ".", "...", "'", "’s", "n't", "—", "--", "$", "U.", "a.b.c.",
        ] {
            let mut doc = Doc::new(text);
            Tokenizer.process(&mut doc).expect("tokenize");
            let covered: usize = doc.sentences.iter().map(|s| s.tokens.len()).sum();
            assert_eq!(covered, doc.tokens.len());
        }
    }
}
