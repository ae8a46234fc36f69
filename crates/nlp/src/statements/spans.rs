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

fn lower(doc: &Doc, i: usize) -> String {
    doc.token_text(i).to_lowercase()
}

fn is_word(doc: &Doc, i: usize) -> bool {
    let t = doc.token_text(i);
    t.chars().next().is_some_and(char::is_alphanumeric)
        || matches!(t, "'s" | "’s" | "'" | "’")
            && i > 0
            && doc.token_text(i - 1).chars().any(char::is_alphanumeric)
            && !doc.tokens[i - 1].space_after
}

/// Whether the token is made of quotation marks only.
pub(crate) fn is_quote(t: &str) -> bool {
    !t.is_empty()
        && t.chars().all(|c| {
            matches!(
                c,
                '"' | '\'' | '“' | '”' | '‘' | '’' | '«' | '»' | '„' | '`'
            )
        })
}

/// Whether a quote token opens a quotation (rather than closes one).
fn opens(doc: &Doc, i: usize) -> bool {
    let t = doc.token_text(i);
    if !is_quote(t) {
        return false;
    }
    if t.chars().all(|c| matches!(c, '“' | '«' | '„' | '`')) {
        return true;
    }
    if t.chars().all(|c| matches!(c, '”' | '»')) {
        return false;
    }
    // Straight quotes: opening when attached to what follows and not to what precedes.
    let attached_after = !doc.tokens[i].space_after;
    let attached_before = i > 0 && !doc.tokens[i - 1].space_after;
    attached_after && !attached_before
}

fn is_punct(doc: &Doc, i: usize) -> bool {
    !is_word(doc, i)
}

/// Sentence index of each token.
pub(crate) fn sentence_of(doc: &Doc) -> Vec<usize> {
    let mut out = vec![0; doc.tokens.len()];
    for (si, s) in doc.sentences.iter().enumerate() {
        for t in s.tokens.clone() {
            if let Some(slot) = out.get_mut(t) {
                *slot = si;
            }
        }
    }
    out
}

/// The noun phrase that ends at token `j` (inclusive), bounded below by `floor`.
fn np_left(doc: &Doc, j: usize, floor: usize) -> Range<usize> {
    let lj = lower(doc, j);
    if PRONOUN_SOURCES.contains(lj.as_str()) {
        return j..j + 1;
    }
    let mut start = j;
    if doc.token_text(j) == ")" {
        match matching_open(doc, j, floor) {
            Some(o) => start = o,
            None => return j..j + 1,
        }
    }
    while start > floor && j + 1 - start < 12 {
        let k = start - 1;
        if doc.token_text(k) == ")" {
            match matching_open(doc, k, floor) {
                Some(o) => {
                    start = o;
                    continue;
                }
                None => break,
            }
        }
        let lk = lower(doc, k);
        if !is_word(doc, k)
            || NP_STOP.contains(lk.as_str())
            || PRONOUN_SOURCES.contains(lk.as_str())
        {
            break;
        }
        start = k;
    }
    start..j + 1
}

/// The "(" that a ")" at `k` closes, at or after `floor`.
fn matching_open(doc: &Doc, k: usize, floor: usize) -> Option<usize> {
    (floor..k).rev().take(8).find(|&m| doc.token_text(m) == "(")
}

/// Time words that may stand between a source and its cue ("Trump on Tuesday said").
static TIME_WORDS: WordSet = words!("statements/time-words.txt");

/// Words that open a time phrase ("on Tuesday", "last week").
static TIME_OPENERS: WordSet = words!("statements/time-openers.txt");

/// Asides between commas ("Trump, however, said").
static ASIDES: WordSet = words!("statements/asides.txt");

/// The index just after the last token that belongs to the source side: auxiliaries,
/// adverbs, time phrases and comma asides before the cue are skipped.
fn skip_before_cue(doc: &Doc, ss: usize, cue_start: usize) -> usize {
    let mut j = cue_start;
    loop {
        let before = j;
        while j > ss {
            let l = lower(doc, j - 1);
            let adverb = l.ends_with("ly") && l.len() > 4 && l.chars().all(char::is_lowercase);
            if SKIP_BEFORE_CUE.contains(l.as_str()) || adverb {
                j -= 1;
            } else {
                break;
            }
        }
        // A time phrase: "on Tuesday", "in 2010", "last week".
        if j > ss {
            let l = lower(doc, j - 1);
            let year = l.len() == 4 && l.chars().all(|c| c.is_ascii_digit());
            if TIME_WORDS.contains(l.as_str()) || year {
                let mut k = j - 1;
                while k > ss && TIME_OPENERS.contains(lower(doc, k - 1).as_str()) {
                    k -= 1;
                }
                // Only when something precedes it that can be the source.
                if k > ss && (is_word(doc, k - 1) || doc.token_text(k - 1) == ")") {
                    j = k;
                }
            }
        }
        // A comma aside: ", however," / ", for example,".
        if j > ss + 2
            && doc.token_text(j - 1) == ","
            && let Some(c) = (j.saturating_sub(5).max(ss)..j - 1)
                .rev()
                .find(|&k| doc.token_text(k) == ",")
            && c > ss
            && ASIDES.contains(lower(doc, j - 2).as_str())
        {
            j = c;
        }
        if j == before {
            return j;
        }
    }
}

/// The subject of the sentence before `end`: its first person, organization or group
/// mention (with the title and name after it: "Kremlin spokesperson Dmitry Peskov"), else its
/// first subject pronoun.
fn subject(doc: &Doc, ss: usize, end: usize) -> Option<Range<usize>> {
    let named = |m: &&crate::doc::Mention| {
        m.tokens.start >= ss
            && m.tokens.end <= end
            && matches!(
                m.label,
                EntityType::Person | EntityType::Org | EntityType::Norp | EntityType::Gpe
            )
    };
    if let Some(m) = doc.mentions.iter().find(named) {
        let mut r = m.tokens.clone();
        // Up to three title words, then another mention, continue the phrase.
        'extend: loop {
            let mut k = r.end;
            while k < end && k < r.end + 3 {
                if let Some(next) = doc
                    .mentions
                    .iter()
                    .filter(named)
                    .find(|n| n.tokens.start == k)
                {
                    r.end = next.tokens.end;
                    continue 'extend;
                }
                let l = lower(doc, k);
                if !is_word(doc, k) || NP_STOP.contains(l.as_str()) {
                    break;
                }
                k += 1;
            }
            break;
        }
        return Some(r);
    }
    (ss..end)
        .find(|&k| {
            matches!(
                lower(doc, k).as_str(),
                "he" | "she" | "they" | "we" | "i" | "it"
            )
        })
        .map(|k| k..k + 1)
}

/// "X, the spokesman for Y, said": with a comma right before the cue at `comma`, the name
/// before the previous comma plus the aside, when no name follows the cue instead.
fn appositive(
    doc: &Doc,
    ss: usize,
    comma: usize,
    cue_end: usize,
    se: usize,
) -> Option<Range<usize>> {
    // "..., said Trump": a capitalized name after the cue is the source instead.
    if cue_end < se
        && doc
            .token_text(cue_end)
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
        && !TIME_WORDS.contains(lower(doc, cue_end).as_str())
    {
        return None;
    }
    let floor = ss.max(comma.saturating_sub(16));
    let c1 = (floor..comma).rev().find(|&k| doc.token_text(k) == ",")?;
    if c1 == ss || c1 + 1 >= comma {
        return None;
    }
    // The aside: words only (no quotes or sentence ends).
    if (c1 + 1..comma).any(|k| {
        !is_word(doc, k) && !matches!(doc.token_text(k), "(" | ")" | "." | "-" | "'s" | "’s")
    }) {
        return None;
    }
    let head = c1 - 1;
    let head_text = doc.token_text(head);
    let capitalized = head_text.chars().next().is_some_and(char::is_uppercase) || head_text == ")";
    if !capitalized {
        return None;
    }
    let np = np_left(doc, head, ss);
    Some(np.start..comma)
}

/// The noun phrase that starts at token `k`, bounded above by `ceil` (exclusive).
fn np_right(doc: &Doc, k: usize, ceil: usize) -> Option<Range<usize>> {
    if k >= ceil || !is_word(doc, k) {
        return None;
    }
    let lk = lower(doc, k);
    if PRONOUN_SOURCES.contains(lk.as_str()) && lk != "that" && lk != "which" {
        return Some(k..k + 1);
    }
    let mut end = k;
    while end < ceil && end - k < 8 {
        let le = lower(doc, end);
        let stop = NP_STOP.contains(le.as_str()) && !(end == k && le == "the");
        if !is_word(doc, end) || stop {
            break;
        }
        end += 1;
    }
    (end > k).then_some(k..end)
}

/// Drops quotes and punctuation at both ends of a token range.
fn strip(doc: &Doc, mut r: Range<usize>) -> Range<usize> {
    while r.start < r.end && is_punct(doc, r.start) {
        r.start += 1;
    }
    while r.end > r.start && is_punct(doc, r.end - 1) {
        r.end -= 1;
    }
    r
}

/// How many sentences a quotation may run across.
const QUOTE_REACH: usize = 6;

/// Extends a content range that closes a quotation opened in an earlier sentence back to the
/// opening quote.
fn extend_back(doc: &Doc, sent: &[usize], r: Range<usize>) -> Range<usize> {
    let mut depth = 0i32;
    for i in r.clone() {
        let t = doc.token_text(i);
        if is_quote(t) {
            if opens(doc, i) {
                depth += 1;
            } else if depth > 0 {
                depth -= 1;
            } else {
                // A closing quote with no opening one in the range: look back.
                let si = sent.get(r.start).copied().unwrap_or(0);
                let floor_s = si.saturating_sub(QUOTE_REACH);
                let floor = doc.sentences.get(floor_s).map_or(0, |s| s.tokens.start);
                let mut k = r.start;
                while k > floor {
                    k -= 1;
                    if is_quote(doc.token_text(k)) {
                        if opens(doc, k) {
                            return k..r.end;
                        }
                        break;
                    }
                }
                return r;
            }
        }
    }
    r
}

/// Extends a content range that opens a quotation not closed in it forward to the closing
/// quote.
fn extend_forward(doc: &Doc, sent: &[usize], r: Range<usize>) -> Range<usize> {
    let mut depth = 0i32;
    for i in r.clone() {
        if is_quote(doc.token_text(i)) {
            if opens(doc, i) {
                depth += 1;
            } else if depth > 0 {
                depth -= 1;
            }
        }
    }
    if depth <= 0 {
        return r;
    }
    let si = sent.get(r.end.saturating_sub(1)).copied().unwrap_or(0);
    let ceil_s = (si + QUOTE_REACH).min(doc.sentences.len().saturating_sub(1));
    let ceil = doc.sentences.get(ceil_s).map_or(r.end, |s| s.tokens.end);
    let mut k = r.end;
    while k < ceil {
        if is_quote(doc.token_text(k)) {
            if opens(doc, k) {
                // Another quotation opens first: the first one never closed.
                return r;
            }
            return r.start..k + 1;
        }
        k += 1;
    }
    r
}

fn kind_of(doc: &Doc, r: &Range<usize>) -> StatementKind {
    let quotes: Vec<usize> = r
        .clone()
        .filter(|&i| is_quote(doc.token_text(i)) && !is_word(doc, i))
        .collect();
    let inner = strip(doc, r.clone());
    if quotes.is_empty() {
        return StatementKind::Indirect;
    }
    let opens_at_start = quotes
        .first()
        .is_some_and(|&q| q < inner.start || q == r.start);
    let closes_at_end = quotes.last().is_some_and(|&q| q >= inner.end);
    if opens_at_start && closes_at_end {
        StatementKind::Direct
    } else {
        StatementKind::Mixed
    }
}

/// Finds the source and content of the cue over tokens `cue` in sentence `s`.
pub fn frame(doc: &Doc, sent: &[usize], cue: Range<usize>) -> Option<Frame> {
    let si = *sent.get(cue.start)?;
    let s = doc.sentences.get(si)?;
    let (ss, se) = (s.tokens.start, s.tokens.end);
    let first = lower(doc, cue.start);
    // Content after the cue runs to the end of the sentence.
    let after = |from: usize| -> Range<usize> { from..se };
    if first == "according" {
        let mut src_start = cue.end;
        if src_start < se && lower(doc, src_start) == "to" {
            src_start += 1;
        }
        let source = np_right_loose(doc, src_start, se);
        let before = strip(doc, ss..cue.start);
        let content = if !before.is_empty() {
            extend_back(doc, sent, ss..cue.start)
        } else {
            let from = source.as_ref().map_or(cue.end, |r| r.end);
            extend_forward(doc, sent, after(from))
        };
        return finish(doc, source, content, Some(StatementKind::AccordingTo));
    }
    // The word before the cue, skipping auxiliaries, adverbs, times and asides.
    let j = skip_before_cue(doc, ss, cue.start);
    let content_after = || {
        let mut from = cue.end;
        if OBJECT_VERBS.contains(lower(doc, cue.end - 1).as_str())
            && let Some(k) = (cue.end..(cue.end + 7).min(se)).find(|&k| lower(doc, k) == "that")
        {
            from = k;
        }
        extend_forward(doc, sent, after(from))
    };
    let left = if j > ss { Some(j - 1) } else { None };
    let mut src: Option<Range<usize>> = None;
    if let Some(t) = left {
        let l = lower(doc, t);
        let t_text = doc.token_text(t);
        if is_word(doc, t) || t_text == ")" {
            if NP_STOP.contains(l.as_str()) && !PRONOUN_SOURCES.contains(l.as_str()) {
                // "... and criticized": the subject of the sentence.
                return finish(doc, subject(doc, ss, cue.start), content_after(), None);
            }
            src = Some(np_left(doc, t, ss));
        } else if t_text == "," {
            let floor = ss.max(t.saturating_sub(25));
            // X, who ..., said.
            if let Some(w) = (floor + 1..t).rev().find(|&k| {
                matches!(lower(doc, k).as_str(), "who" | "which") && doc.token_text(k - 1) == ","
            }) && w >= 2
                && w - 1 > ss
                && (is_word(doc, w - 2) || doc.token_text(w - 2) == ")")
            {
                let np = np_left(doc, w - 2, ss);
                return finish(doc, Some(np), content_after(), None);
            }
            // ..., saying CONTENT: the sentence's subject.
            if first.ends_with("ing") {
                return finish(doc, subject(doc, ss, cue.start), content_after(), None);
            }
            // X, the spokesman for Y, said.
            if let Some(np) = appositive(doc, ss, t, cue.end, se) {
                src = Some(np);
            }
        }
    }
    if let Some(src) = src {
        // “CONTENT,” X said / CONTENT, X said.
        if src.start > ss
            && (matches!(doc.token_text(src.start - 1), "," | ":" | "—" | "--")
                || is_quote(doc.token_text(src.start - 1)))
        {
            let before = strip(doc, ss..src.start - 1);
            let after_words = strip(doc, cue.end..se);
            let after_is_clause = after_words.len() > 3
                && (lower(doc, cue.end) == "that" || opens_at(doc, cue.end, se));
            // A long clause after the cue ("..., leaders pressed Trump to act") is the content
            // rather than what precedes the comma, unless a quotation closes right there.
            let quoted = is_quote(doc.token_text(src.start - 1))
                || (src.start >= ss + 2 && is_quote(doc.token_text(src.start - 2)));
            let after_len = (cue.end..se)
                .take_while(|&k| doc.token_text(k) != ",")
                .filter(|&k| is_word(doc, k))
                .count();
            if !before.is_empty() && !after_is_clause && (quoted || after_len <= 8) {
                let content = extend_back(doc, sent, ss..src.start);
                return finish(doc, Some(src), content, None);
            }
        }
        return finish(doc, Some(src), content_after(), None);
    }
    // “CONTENT,” said X.
    let source = np_right_loose(doc, cue.end, se);
    let before = strip(doc, ss..cue.start);
    let content = if !before.is_empty() {
        extend_back(doc, sent, ss..cue.start)
    } else {
        let from = source.as_ref().map_or(cue.end, |r| r.end);
        extend_forward(doc, sent, after(from))
    };
    finish(doc, source, content, None)
}

fn opens_at(doc: &Doc, k: usize, ceil: usize) -> bool {
    let mut k = k;
    while k < ceil && matches!(doc.token_text(k), "," | ":") {
        k += 1;
    }
    k < ceil && is_quote(doc.token_text(k)) && opens(doc, k)
}

/// A noun phrase to the right allowing "the", "of" and names: "according to the Kremlin".
fn np_right_loose(doc: &Doc, k: usize, ceil: usize) -> Option<Range<usize>> {
    np_right(doc, k, ceil)
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
        let sent = sentence_of(&doc);
        let i = (0..doc.tokens.len())
            .find(|&i| doc.token_text(i) == cue_word)
            .expect("cue");
        let f = frame(&doc, &sent, i..i + 1).expect("frame");
        let text_of = |r: &Range<usize>| {
            let a = doc.tokens[r.start].span.start;
            let b = doc.tokens[r.end - 1].span.end;
            doc.span_text(crate::doc::Span::new(a, b)).to_string()
        };
        (
            f.source.as_ref().map(text_of).unwrap_or_default(),
            text_of(&f.content),
            f.kind,
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
