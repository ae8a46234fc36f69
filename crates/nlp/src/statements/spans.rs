//! From a cue to a statement: where its source and content lie in the sentence around it.
//!
//! Rules over the tokens (the project has no parser), in the order news writes them:
//!
//! - `according to X, CONTENT` / `CONTENT, according to X`: the source is the phrase after
//!   "to", the content the other side of the sentence;
//! - `X said (that) CONTENT`: the source is the noun phrase ending right before the cue
//!   (auxiliaries and adverbs such as "has", "also", "later" skipped), the content what follows
//!   the cue (after the object of "told"/"warned" when a "that" follows);
//! - `CONTENT, X said` / `“CONTENT,” X said`: when a comma or closing quote precedes the
//!   source phrase, the content is what comes before it;
//! - `“CONTENT,” said X`: with nothing but punctuation before the cue, the source follows it;
//! - `X, who ..., said`: the source is the phrase before the relative clause;
//! - `..., saying CONTENT`: a participle after a comma takes the sentence's subject;
//! - a quotation that opens or closes in another sentence extends the content to its other
//!   quotation mark (up to a few sentences away).
//!
//! A noun phrase is approximated as the run of words next to the cue that stops at
//! punctuation, at clause words ("that", "who", "and", "but", ...) and at prepositions other
//! than "of", at most eight tokens.

use crate::doc::{Doc, EntityType, StatementKind};
use crate::lexicon::{WordSet, words};
use std::ops::Range;

/// The source, content and kind found for a cue (token ranges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Source tokens, if any.
    pub source: Option<Range<usize>>,
    /// Content tokens, without surrounding quotes and punctuation; never empty.
    pub content: Range<usize>,
    /// How the statement is reported.
    pub kind: StatementKind,
}

/// Words that end a noun phrase read leftwards or rightwards from a cue.
static NP_STOP: WordSet = words!("statements/noun-phrase-stops.txt");

/// Words that stand between a source and its cue ("Trump has also repeatedly said").
static SKIP_BEFORE_CUE: WordSet = words!("statements/skip-before-cue.txt");

/// Pronouns and relative words that are a source on their own.
pub(crate) static PRONOUN_SOURCES: WordSet = words!("statements/pronoun-sources.txt");

/// Verbs whose object stands between the cue and a "that" clause ("told reporters that").
static OBJECT_VERBS: WordSet = words!("statements/object-verbs.txt");

fn lower(doc: &Doc, token: usize) -> String {
    doc.token_text(token).to_lowercase()
}

fn is_word(doc: &Doc, token: usize) -> bool {
    let text = doc.token_text(token);
    text.chars().next().is_some_and(char::is_alphanumeric)
        || matches!(text, "'s" | "’s" | "'" | "’")
            && token > 0
            && doc.token_text(token - 1).chars().any(char::is_alphanumeric)
            && !doc.tokens[token - 1].space_after
}

/// Whether the token is made of quotation marks only.
pub(crate) fn is_quote(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| {
            matches!(
                c,
                '"' | '\'' | '“' | '”' | '‘' | '’' | '«' | '»' | '„' | '`'
            )
        })
}

/// Whether a quote token opens a quotation (rather than closes one).
fn opens(doc: &Doc, token: usize) -> bool {
    let text = doc.token_text(token);
    if !is_quote(text) {
        return false;
    }
    if text.chars().all(|c| matches!(c, '“' | '«' | '„' | '`')) {
        return true;
    }
    if text.chars().all(|c| matches!(c, '”' | '»')) {
        return false;
    }
    // Straight quotes: opening when attached to what follows and not to what precedes.
    let attached_after = !doc.tokens[token].space_after;
    let attached_before = token > 0 && !doc.tokens[token - 1].space_after;
    attached_after && !attached_before
}

fn is_punct(doc: &Doc, token: usize) -> bool {
    !is_word(doc, token)
}

/// Sentence index of each token.
pub(crate) fn sentence_of(doc: &Doc) -> Vec<usize> {
    let mut out = vec![0; doc.tokens.len()];
    for (index, sentence) in doc.sentences.iter().enumerate() {
        for token in sentence.tokens.clone() {
            if let Some(slot) = out.get_mut(token) {
                *slot = index;
            }
        }
    }
    out
}

/// The noun phrase that ends at token `last` (inclusive), bounded below by `floor`.
fn np_left(doc: &Doc, last: usize, floor: usize) -> Range<usize> {
    if PRONOUN_SOURCES.contains(lower(doc, last).as_str()) {
        return last..last + 1;
    }
    let mut start = last;
    if doc.token_text(last) == ")" {
        match matching_open(doc, last, floor) {
            Some(open) => start = open,
            None => return last..last + 1,
        }
    }
    while start > floor && last + 1 - start < 12 {
        let before = start - 1;
        if doc.token_text(before) == ")" {
            match matching_open(doc, before, floor) {
                Some(open) => {
                    start = open;
                    continue;
                }
                None => break,
            }
        }
        let word = lower(doc, before);
        if !is_word(doc, before)
            || NP_STOP.contains(word.as_str())
            || PRONOUN_SOURCES.contains(word.as_str())
        {
            break;
        }
        start = before;
    }
    start..last + 1
}

/// The "(" that a ")" at `close` closes, at or after `floor`.
fn matching_open(doc: &Doc, close: usize, floor: usize) -> Option<usize> {
    (floor..close)
        .rev()
        .take(8)
        .find(|&token| doc.token_text(token) == "(")
}

/// Time words that may stand between a source and its cue ("Trump on Tuesday said").
static TIME_WORDS: WordSet = words!("statements/time-words.txt");

/// Words that open a time phrase ("on Tuesday", "last week").
static TIME_OPENERS: WordSet = words!("statements/time-openers.txt");

/// Asides between commas ("Trump, however, said").
static ASIDES: WordSet = words!("statements/asides.txt");

/// The index just after the last token that belongs to the source side: auxiliaries,
/// adverbs, time phrases and comma asides before the cue are skipped.
fn skip_before_cue(doc: &Doc, sentence_start: usize, cue_start: usize) -> usize {
    let mut source_end = cue_start;
    loop {
        let before = source_end;
        while source_end > sentence_start {
            let word = lower(doc, source_end - 1);
            let adverb =
                word.ends_with("ly") && word.len() > 4 && word.chars().all(char::is_lowercase);
            if SKIP_BEFORE_CUE.contains(word.as_str()) || adverb {
                source_end -= 1;
            } else {
                break;
            }
        }
        // A time phrase: "on Tuesday", "in 2010", "last week".
        if source_end > sentence_start {
            let word = lower(doc, source_end - 1);
            let year = word.len() == 4 && word.chars().all(|c| c.is_ascii_digit());
            if TIME_WORDS.contains(word.as_str()) || year {
                let mut phrase_start = source_end - 1;
                while phrase_start > sentence_start
                    && TIME_OPENERS.contains(lower(doc, phrase_start - 1).as_str())
                {
                    phrase_start -= 1;
                }
                // Only when something precedes it that can be the source.
                if phrase_start > sentence_start
                    && (is_word(doc, phrase_start - 1) || doc.token_text(phrase_start - 1) == ")")
                {
                    source_end = phrase_start;
                }
            }
        }
        // A comma aside: ", however," / ", for example,".
        if source_end > sentence_start + 2
            && doc.token_text(source_end - 1) == ","
            && let Some(opening_comma) = (source_end.saturating_sub(5).max(sentence_start)
                ..source_end - 1)
                .rev()
                .find(|&token| doc.token_text(token) == ",")
            && opening_comma > sentence_start
            && ASIDES.contains(lower(doc, source_end - 2).as_str())
        {
            source_end = opening_comma;
        }
        if source_end == before {
            return source_end;
        }
    }
}

/// The subject of the sentence before `end`: its first person, organization or group
/// mention (with the title and name after it: "Kremlin spokesperson Dmitry Peskov"), else its
/// first subject pronoun.
fn subject(doc: &Doc, sentence_start: usize, end: usize) -> Option<Range<usize>> {
    let named = |m: &&crate::doc::Mention| {
        m.tokens.start >= sentence_start
            && m.tokens.end <= end
            && matches!(
                m.label,
                EntityType::Person | EntityType::Org | EntityType::Norp | EntityType::Gpe
            )
    };
    // Mentions are in text order: those of the sentence are a slice found by binary search.
    let first = doc
        .mentions
        .partition_point(|m| m.tokens.start < sentence_start);
    let starting_at = |token: usize| {
        let at = doc.mentions.partition_point(|m| m.tokens.start < token);
        doc.mentions.get(at).filter(|m| m.tokens.start == token)
    };
    let in_sentence = doc.mentions[first..]
        .iter()
        .take_while(|m| m.tokens.start < end);
    if let Some(mention) = in_sentence.clone().find(named) {
        let mut phrase = mention.tokens.clone();
        // Up to three title words, then another mention, continue the phrase.
        'extend: loop {
            let mut next = phrase.end;
            while next < end && next < phrase.end + 3 {
                if let Some(following) = starting_at(next).filter(named) {
                    phrase.end = following.tokens.end;
                    continue 'extend;
                }
                if !is_word(doc, next) || NP_STOP.contains(lower(doc, next).as_str()) {
                    break;
                }
                next += 1;
            }
            break;
        }
        return Some(phrase);
    }
    (sentence_start..end)
        .find(|&token| {
            matches!(
                lower(doc, token).as_str(),
                "he" | "she" | "they" | "we" | "i" | "it"
            )
        })
        .map(|token| token..token + 1)
}

/// "X, the spokesman for Y, said": with a comma right before the cue at `comma`, the name
/// before the previous comma plus the aside, when no name follows the cue instead.
fn appositive(
    doc: &Doc,
    sentence_start: usize,
    comma: usize,
    cue_end: usize,
    sentence_end: usize,
) -> Option<Range<usize>> {
    // "..., said Trump": a capitalized name after the cue is the source instead.
    if cue_end < sentence_end
        && doc
            .token_text(cue_end)
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
        && !TIME_WORDS.contains(lower(doc, cue_end).as_str())
    {
        return None;
    }
    let floor = sentence_start.max(comma.saturating_sub(16));
    let previous_comma = (floor..comma)
        .rev()
        .find(|&token| doc.token_text(token) == ",")?;
    if previous_comma == sentence_start || previous_comma + 1 >= comma {
        return None;
    }
    // The aside: words only (no quotes or sentence ends).
    if (previous_comma + 1..comma).any(|token| {
        !is_word(doc, token)
            && !matches!(doc.token_text(token), "(" | ")" | "." | "-" | "'s" | "’s")
    }) {
        return None;
    }
    let head = previous_comma - 1;
    let head_text = doc.token_text(head);
    let capitalized = head_text.chars().next().is_some_and(char::is_uppercase) || head_text == ")";
    if !capitalized {
        return None;
    }
    let name = np_left(doc, head, sentence_start);
    Some(name.start..comma)
}

/// The noun phrase that starts at token `first`, bounded above by `ceil` (exclusive).
fn np_right(doc: &Doc, first: usize, ceil: usize) -> Option<Range<usize>> {
    if first >= ceil || !is_word(doc, first) {
        return None;
    }
    let first_word = lower(doc, first);
    if PRONOUN_SOURCES.contains(first_word.as_str())
        && first_word != "that"
        && first_word != "which"
    {
        return Some(first..first + 1);
    }
    let mut end = first;
    while end < ceil && end - first < 8 {
        let word = lower(doc, end);
        let stop = NP_STOP.contains(word.as_str()) && !(end == first && word == "the");
        if !is_word(doc, end) || stop {
            break;
        }
        end += 1;
    }
    (end > first).then_some(first..end)
}

/// Drops quotes and punctuation at both ends of a token range.
fn strip(doc: &Doc, mut range: Range<usize>) -> Range<usize> {
    while range.start < range.end && is_punct(doc, range.start) {
        range.start += 1;
    }
    while range.end > range.start && is_punct(doc, range.end - 1) {
        range.end -= 1;
    }
    range
}

/// How many sentences a quotation may run across.
const QUOTE_REACH: usize = 6;

/// How the quotation marks of a token range pair up.
struct QuoteBalance {
    /// A closing quote comes with no opening one before it in the range.
    unmatched_close: bool,
    /// Quotations still open at the end of the range.
    open: usize,
}

fn quote_balance(doc: &Doc, range: Range<usize>) -> QuoteBalance {
    let mut balance = QuoteBalance {
        unmatched_close: false,
        open: 0,
    };
    for token in range {
        if is_quote(doc.token_text(token)) {
            if opens(doc, token) {
                balance.open += 1;
            } else if balance.open > 0 {
                balance.open -= 1;
            } else {
                balance.unmatched_close = true;
            }
        }
    }
    balance
}

/// Extends a content range that closes a quotation opened in an earlier sentence back to the
/// opening quote. `sentence_of` is the sentence index of each token.
fn extend_back(doc: &Doc, sentence_of: &[usize], content: Range<usize>) -> Range<usize> {
    if !quote_balance(doc, content.clone()).unmatched_close {
        return content;
    }
    // A closing quote with no opening one in the range: look back.
    let sentence = sentence_of.get(content.start).copied().unwrap_or(0);
    let first_sentence = sentence.saturating_sub(QUOTE_REACH);
    let floor = doc
        .sentences
        .get(first_sentence)
        .map_or(0, |first| first.tokens.start);
    let mut before = content.start;
    while before > floor {
        before -= 1;
        if is_quote(doc.token_text(before)) {
            if opens(doc, before) {
                return before..content.end;
            }
            break;
        }
    }
    content
}

/// Extends a content range that opens a quotation not closed in it forward to the closing
/// quote. `sentence_of` is the sentence index of each token.
fn extend_forward(doc: &Doc, sentence_of: &[usize], content: Range<usize>) -> Range<usize> {
    if quote_balance(doc, content.clone()).open == 0 {
        return content;
    }
    let sentence = sentence_of
        .get(content.end.saturating_sub(1))
        .copied()
        .unwrap_or(0);
    let last_sentence = (sentence + QUOTE_REACH).min(doc.sentences.len().saturating_sub(1));
    let ceil = doc
        .sentences
        .get(last_sentence)
        .map_or(content.end, |last| last.tokens.end);
    let mut after = content.end;
    while after < ceil {
        if is_quote(doc.token_text(after)) {
            if opens(doc, after) {
                // Another quotation opens first: the first one never closed.
                return content;
            }
            return content.start..after + 1;
        }
        after += 1;
    }
    content
}

fn kind_of(doc: &Doc, content: &Range<usize>) -> StatementKind {
    let quotes: Vec<usize> = content
        .clone()
        .filter(|&token| is_quote(doc.token_text(token)) && !is_word(doc, token))
        .collect();
    let inner = strip(doc, content.clone());
    if quotes.is_empty() {
        return StatementKind::Indirect;
    }
    let opens_at_start = quotes
        .first()
        .is_some_and(|&quote| quote < inner.start || quote == content.start);
    let closes_at_end = quotes.last().is_some_and(|&quote| quote >= inner.end);
    if opens_at_start && closes_at_end {
        StatementKind::Direct
    } else {
        StatementKind::Mixed
    }
}

/// Finds the source and content of the cue over tokens `cue`; `sentence_of` is the sentence
/// index of each token ([`sentence_of`]).
pub fn frame(doc: &Doc, sentence_of: &[usize], cue: Range<usize>) -> Option<Frame> {
    let sentence = doc.sentences.get(*sentence_of.get(cue.start)?)?;
    let (sentence_start, sentence_end) = (sentence.tokens.start, sentence.tokens.end);
    let cue_word = lower(doc, cue.start);
    // Content after the cue runs to the end of the sentence.
    let to_sentence_end = |from: usize| -> Range<usize> { from..sentence_end };
    // The source is the phrase from `source_start` on, after the cue; the content what
    // precedes the cue, or when nothing does, what follows the source.
    let source_after_cue = |source_start: usize, kind: Option<StatementKind>| {
        let source = np_right_loose(doc, source_start, sentence_end);
        let before_cue = strip(doc, sentence_start..cue.start);
        let content = if !before_cue.is_empty() {
            extend_back(doc, sentence_of, sentence_start..cue.start)
        } else {
            let from = source.as_ref().map_or(cue.end, |r| r.end);
            extend_forward(doc, sentence_of, to_sentence_end(from))
        };
        finish(doc, source, content, kind)
    };
    if cue_word == "according" {
        let mut source_start = cue.end;
        if source_start < sentence_end && lower(doc, source_start) == "to" {
            source_start += 1;
        }
        return source_after_cue(source_start, Some(StatementKind::AccordingTo));
    }
    // Where the source side ends, skipping auxiliaries, adverbs, times and asides.
    let source_end = skip_before_cue(doc, sentence_start, cue.start);
    let content_after = || {
        let mut from = cue.end;
        if OBJECT_VERBS.contains(lower(doc, cue.end - 1).as_str())
            && let Some(that) = (cue.end..(cue.end + 7).min(sentence_end))
                .find(|&token| lower(doc, token) == "that")
        {
            from = that;
        }
        extend_forward(doc, sentence_of, to_sentence_end(from))
    };
    let mut source: Option<Range<usize>> = None;
    if source_end > sentence_start {
        let last = source_end - 1;
        let last_word = lower(doc, last);
        let last_text = doc.token_text(last);
        if is_word(doc, last) || last_text == ")" {
            if NP_STOP.contains(last_word.as_str()) && !PRONOUN_SOURCES.contains(last_word.as_str())
            {
                // "... and criticized": the subject of the sentence.
                return finish(
                    doc,
                    subject(doc, sentence_start, cue.start),
                    content_after(),
                    None,
                );
            }
            source = Some(np_left(doc, last, sentence_start));
        } else if last_text == "," {
            let floor = sentence_start.max(last.saturating_sub(25));
            // X, who ..., said.
            if let Some(relative) = (floor + 1..last).rev().find(|&token| {
                matches!(lower(doc, token).as_str(), "who" | "which")
                    && doc.token_text(token - 1) == ","
            }) && relative >= 2
                && relative - 1 > sentence_start
                && (is_word(doc, relative - 2) || doc.token_text(relative - 2) == ")")
            {
                let name = np_left(doc, relative - 2, sentence_start);
                return finish(doc, Some(name), content_after(), None);
            }
            // ..., saying CONTENT: the sentence's subject.
            if cue_word.ends_with("ing") {
                return finish(
                    doc,
                    subject(doc, sentence_start, cue.start),
                    content_after(),
                    None,
                );
            }
            // X, the spokesman for Y, said.
            if let Some(name) = appositive(doc, sentence_start, last, cue.end, sentence_end) {
                source = Some(name);
            }
        }
    }
    if let Some(source) = source {
        // “CONTENT,” X said / CONTENT, X said.
        if source.start > sentence_start
            && (matches!(doc.token_text(source.start - 1), "," | ":" | "—" | "--")
                || is_quote(doc.token_text(source.start - 1)))
        {
            // The comma or quote that ends the content.
            let before_source = source.start - 1;
            let content_before = strip(doc, sentence_start..before_source);
            let words_after = strip(doc, cue.end..sentence_end);
            let after_is_clause = words_after.len() > 3
                && (lower(doc, cue.end) == "that" || opens_at(doc, cue.end, sentence_end));
            // A long clause after the cue ("..., leaders pressed Trump to act") is the content
            // rather than what precedes the comma, unless a quotation closes right there.
            let quoted = is_quote(doc.token_text(before_source))
                || (source.start >= sentence_start + 2
                    && is_quote(doc.token_text(source.start - 2)));
            let words_to_comma = (cue.end..sentence_end)
                .take_while(|&token| doc.token_text(token) != ",")
                .filter(|&token| is_word(doc, token))
                .count();
            if !content_before.is_empty() && !after_is_clause && (quoted || words_to_comma <= 8) {
                let content = extend_back(doc, sentence_of, sentence_start..source.start);
                return finish(doc, Some(source), content, None);
            }
        }
        return finish(doc, Some(source), content_after(), None);
    }
    // “CONTENT,” said X.
    source_after_cue(cue.end, None)
}

/// Whether a quotation opens at `token`, past commas and colons, before `ceil`.
fn opens_at(doc: &Doc, token: usize, ceil: usize) -> bool {
    let mut token = token;
    while token < ceil && matches!(doc.token_text(token), "," | ":") {
        token += 1;
    }
    token < ceil && is_quote(doc.token_text(token)) && opens(doc, token)
}

/// A noun phrase to the right allowing "the", "of" and names: "according to the Kremlin".
fn np_right_loose(doc: &Doc, first: usize, ceil: usize) -> Option<Range<usize>> {
    np_right(doc, first, ceil)
}

fn finish(
    doc: &Doc,
    source: Option<Range<usize>>,
    content: Range<usize>,
    kind: Option<StatementKind>,
) -> Option<Frame> {
    let kind = kind.unwrap_or_else(|| kind_of(doc, &content));
    let content = strip(doc, content);
    if content.is_empty() {
        return None;
    }
    let source = source.filter(|r| !r.is_empty());
    Some(Frame {
        source,
        content,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Stage;
    use crate::tokenize::Tokenizer;

    fn run(text: &str, cue_word: &str) -> (String, String, StatementKind) {
        let mut doc = Doc::new(text);
        Tokenizer.process(&mut doc).expect("tokenize");
        let sentences = sentence_of(&doc);
        let cue = (0..doc.tokens.len())
            .find(|&token| doc.token_text(token) == cue_word)
            .expect("cue");
        let found = frame(&doc, &sentences, cue..cue + 1).expect("frame");
        let text_of = |tokens: &Range<usize>| {
            let start = doc.tokens[tokens.start].span.start;
            let end = doc.tokens[tokens.end - 1].span.end;
            doc.span_text(crate::doc::Span::new(start, end)).to_string()
        };
        (
            found.source.as_ref().map(text_of).unwrap_or_default(),
            text_of(&found.content),
            found.kind,
        )
    }

    #[test]
    fn reported_speech_and_quotes() {
        assert_eq!(
            run(
                "Russian President Vladimir Putin has warned that troops would be targets.",
                "warned"
            ),
            (
                "Russian President Vladimir Putin".into(),
                "that troops would be targets".into(),
                StatementKind::Indirect
            )
        );
        assert_eq!(
            run("“You cannot do it,” Peskov said at the forum.", "said"),
            (
                "Peskov".into(),
                "You cannot do it".into(),
                StatementKind::Direct
            )
        );
        assert_eq!(
            run("“We will win,” said the spokesman.", "said"),
            (
                "the spokesman".into(),
                "We will win".into(),
                StatementKind::Direct
            )
        );
        assert_eq!(
            run("The deal is dead, Trump later indicated.", "indicated"),
            (
                "Trump".into(),
                "The deal is dead".into(),
                StatementKind::Indirect
            )
        );
        assert_eq!(
            run("Trump said he would “help them” soon.", "said"),
            (
                "Trump".into(),
                "he would “help them” soon".into(),
                StatementKind::Mixed
            )
        );
    }

    #[test]
    fn according_to_and_relative_clauses() {
        assert_eq!(
            run("The talks failed, according to the Kremlin.", "according"),
            (
                "the Kremlin".into(),
                "The talks failed".into(),
                StatementKind::AccordingTo
            )
        );
        assert_eq!(
            run(
                "Clinton, who spoke on Tuesday, said the plan works.",
                "said"
            ),
            (
                "Clinton".into(),
                "the plan works".into(),
                StatementKind::Indirect
            )
        );
        assert_eq!(
            run(
                "“We won,” Flynn, a top Trump surrogate, said Thursday.",
                "said"
            ),
            (
                "Flynn, a top Trump surrogate".into(),
                "We won".into(),
                StatementKind::Direct
            )
        );
        assert_eq!(
            run(
                "Rep. Jason Chaffetz (R-Utah) on Tuesday said the deal was bad.",
                "said"
            ),
            (
                "Rep. Jason Chaffetz (R-Utah)".into(),
                "the deal was bad".into(),
                StatementKind::Indirect
            )
        );
        assert_eq!(
            run("“It is over. We lost,” he said.", "said"),
            (
                "he".into(),
                "It is over. We lost".into(),
                StatementKind::Direct
            )
        );
    }
}
