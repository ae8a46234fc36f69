//! Stance predicates: verbs whose subject takes a side toward their object. "ruled out sending
//! ground troops", "rejected the plan", "warned against Western troops" put the subject against
//! the object; "backed the deal", "called for a ceasefire", "welcomed the decision" put it for.
//!
//! The learned classifier reads a sentence's overall tone toward a target; it can miss a
//! speaker's explicit rejection in an otherwise positive sentence ("could provide air support
//! but ruled out sending ground troops" reads as neutral toward the troops). [`governing`]
//! finds the predicate that governs a target: a lexicon entry before the target, in the same
//! clause, with at most [`MAX_GAP`] words between them, none of them a clause boundary
//! (punctuation, a conjunction, a relative pronoun) or the preposition of a passive agent or
//! source ("by", "from"), and no negation just before the predicate ("did not rule out").
//!
//! The stance service gives the polarity of a governing predicate precedence over the model
//! for a speaker's stance toward a target inside what they said (`crates/stance`'s analysis);
//! `newsflow eval stance --predicates` measures the same override on NewsMTSC.

use super::Polarity;
use crate::doc::Span;
use crate::lexicon::{WordSet, words};

/// Most words allowed between the predicate and the target ("ruled out the possibility of
/// sending ground troops": four).
pub const MAX_GAP: usize = 4;

/// Predicates that put their subject against their object, every inflection spelled out.
static AGAINST: WordSet = words!("stance/against-predicates.txt");

/// Predicates that put their subject for their object.
static FOR: WordSet = words!("stance/for-predicates.txt");

/// Words that end the predicate's clause: a target past them is not its object.
static BOUNDARIES: WordSet = words!("stance/clause-boundaries.txt");

/// Words just before a predicate that negate or suspend it.
static NEGATORS: WordSet = words!("stance/negators.txt");

/// A word of the sentence: lowercased text and code-point span.
struct Word {
    text: String,
    span: Span,
}

/// Words and single punctuation marks, with code-point spans ("n't" split off as a word).
fn words(sentence: &str) -> Vec<Word> {
    let chars: Vec<char> = sentence.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c.is_whitespace() {
            at += 1;
        } else if c.is_alphanumeric() {
            let start = at;
            while at < chars.len()
                && (chars[at].is_alphanumeric()
                    || (matches!(chars[at], '\'' | '’' | '-')
                        && chars.get(at + 1).is_some_and(|c| c.is_alphanumeric())))
            {
                at += 1;
            }
            let text: String = chars[start..at]
                .iter()
                .collect::<String>()
                .to_lowercase()
                .replace('’', "'");
            if let Some(stem) = text.strip_suffix("n't").filter(|s| !s.is_empty()) {
                let cut = start + stem.chars().count();
                out.push(Word {
                    text: stem.to_string(),
                    span: Span::new(start, cut),
                });
                out.push(Word {
                    text: "n't".into(),
                    span: Span::new(cut, at),
                });
            } else {
                out.push(Word {
                    text,
                    span: Span::new(start, at),
                });
            }
        } else {
            out.push(Word {
                text: c.to_string(),
                span: Span::new(at, at + 1),
            });
            at += 1;
        }
    }
    out
}

fn is_boundary(word: &str) -> bool {
    BOUNDARIES.contains(word) || !word.chars().any(char::is_alphanumeric)
}

/// A stance predicate that governs a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Governing {
    /// Negative for a rejection, positive for support.
    pub polarity: Polarity,
    /// The predicate's code-point span in the sentence.
    pub span: Span,
}

/// The stance predicate of `sentence` that governs the target at `target` (code points into
/// the sentence), if any: the nearest one before the target in the same clause (see the
/// module docs).
pub fn governing(sentence: &str, target: Span) -> Option<Governing> {
    SentenceWords::of(sentence).governing(target)
}

/// A sentence split into the words the predicate rules read, once for all its targets.
pub struct SentenceWords(Vec<Word>);

impl SentenceWords {
    /// The words of `sentence`.
    pub fn of(sentence: &str) -> Self {
        Self(words(sentence))
    }

    /// [`governing`] for a target of this sentence.
    pub fn governing(&self, target: Span) -> Option<Governing> {
        governing_in(&self.0, target)
    }

    /// The objects of the sentence's stance predicates, each with the predicate that governs
    /// it: the noun phrase after the predicate ("ruled out sending [ground troops]", "backed
    /// [the deal]" -> "deal"), past at most [`MAX_GAP`] lead-in words (determiners, a gerund:
    /// `crates/nlp/lexicon/stance/object-lead-ins.txt`), at most [`MAX_OBJECT_WORDS`] words up
    /// to a clause boundary, punctuation or a word of
    /// `crates/nlp/lexicon/stance/object-stops.txt` (a preposition, an auxiliary).
    pub fn objects(&self) -> Vec<(Span, Governing)> {
        let words = &self.0;
        let mut found = Vec::new();
        for end in 1..=words.len() {
            if match_ending_at(words, end).is_none() {
                continue;
            }
            let mut at = end;
            while at < words.len()
                && at - end < MAX_GAP
                && (OBJECT_LEAD_INS.contains(words[at].text.as_str())
                    || (words[at].text.ends_with("ing") && words[at].text.len() > 4))
            {
                at += 1;
            }
            let start = at;
            while at < words.len()
                && at - start < MAX_OBJECT_WORDS
                && !is_boundary(&words[at].text)
                && !OBJECT_STOPS.contains(words[at].text.as_str())
            {
                at += 1;
            }
            if at == start || words[start..at].iter().all(|w| w.text.chars().count() < 3) {
                continue;
            }
            let span = Span::new(words[start].span.start, words[at - 1].span.end);
            // The predicate must govern what it names: no negation, same clause.
            if let Some(governing) = governing_in(words, span) {
                found.push((span, governing));
            }
        }
        found
    }
}

/// Longest object noun phrase taken after a stance predicate, in words.
pub const MAX_OBJECT_WORDS: usize = 4;

/// Words between a predicate and its object that are not part of the object ("the", "any",
/// "possibility of").
static OBJECT_LEAD_INS: WordSet = words!("stance/object-lead-ins.txt");
/// Words that end an object noun phrase: prepositions, auxiliaries, pronouns.
static OBJECT_STOPS: WordSet = words!("stance/object-stops.txt");

fn governing_in(words: &[Word], target: Span) -> Option<Governing> {
    let first = words.partition_point(|w| w.span.end <= target.start);
    if first == words.len() {
        return None;
    }
    // Walk back from the target over at most MAX_GAP plain words to a predicate's last word.
    let mut gap = 0;
    let mut end = first;
    while end > 0 {
        let (polarity, len) = match match_ending_at(words, end) {
            Some(found) => found,
            None => {
                let w = &words[end - 1].text;
                if is_boundary(w) || gap == MAX_GAP {
                    return None;
                }
                gap += 1;
                end -= 1;
                continue;
            }
        };
        let start = end - len;
        let negated = words[start.saturating_sub(2)..start]
            .iter()
            .any(|w| NEGATORS.contains(w.text.as_str()));
        if negated {
            return None;
        }
        return Some(Governing {
            polarity,
            span: Span::new(words[start].span.start, words[end - 1].span.end),
        });
    }
    None
}

/// The lexicon entry whose last word is `words[end - 1]`, longest first: its polarity and
/// length in words.
fn match_ending_at(words: &[Word], end: usize) -> Option<(Polarity, usize)> {
    for len in [2, 1] {
        if end < len {
            continue;
        }
        let phrase = words[end - len..end]
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if AGAINST.contains(phrase.as_str()) {
            return Some((Polarity::Negative, len));
        }
        if FOR.contains(phrase.as_str()) {
            return Some((Polarity::Positive, len));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The polarity the predicate gives toward `target`, found in `sentence`.
    fn toward(sentence: &str, target: &str) -> Option<Polarity> {
        let byte = sentence.find(target).expect("target in sentence");
        let start = sentence[..byte].chars().count();
        let span = Span::new(start, start + target.chars().count());
        governing(sentence, span).map(|g| g.polarity)
    }

    #[test]
    fn rejections_and_support_govern_their_objects() {
        let s = "The minister ruled out sending ground troops.";
        assert_eq!(toward(s, "ground troops"), Some(Polarity::Negative));
        let s = "Germany rejected the proposal for a new tax.";
        assert_eq!(toward(s, "proposal"), Some(Polarity::Negative));
        let s = "Opposition leaders condemned the attack on Kharkiv.";
        assert_eq!(toward(s, "attack"), Some(Polarity::Negative));
        let s = "She warned against any NATO presence.";
        assert_eq!(toward(s, "NATO"), Some(Polarity::Negative));
        let s = "The union backed the deal and praised the company.";
        assert_eq!(toward(s, "deal"), Some(Polarity::Positive));
        assert_eq!(toward(s, "company"), Some(Polarity::Positive));
        let s = "Labour called for an inquiry into the affair.";
        assert_eq!(toward(s, "inquiry"), Some(Polarity::Positive));
        let s = "He ruled out the possibility of sending ground troops.";
        assert_eq!(toward(s, "ground troops"), Some(Polarity::Negative));
    }

    /// The object phrases of a sentence's stance predicates, with their polarity.
    fn objects(sentence: &str) -> Vec<(String, Polarity)> {
        let chars: Vec<char> = sentence.chars().collect();
        SentenceWords::of(sentence)
            .objects()
            .into_iter()
            .map(|(span, g)| (chars[span.start..span.end].iter().collect(), g.polarity))
            .collect()
    }

    #[test]
    fn predicate_objects_are_noun_phrases() {
        use Polarity::*;
        assert_eq!(
            objects(
                "Trump later indicated that Washington could provide air support but ruled out sending ground troops."
            ),
            vec![("ground troops".to_string(), Negative)]
        );
        assert_eq!(
            objects("The union backed the deal and praised the company."),
            vec![
                ("deal".to_string(), Positive),
                ("company".to_string(), Positive)
            ]
        );
        assert_eq!(
            objects("Labour called for an inquiry into the affair."),
            vec![("inquiry".to_string(), Positive)]
        );
        assert_eq!(
            objects("She warned against any NATO presence near the border."),
            vec![("NATO presence".to_string(), Negative)]
        );
        // Negated, or nothing after it: no object.
        assert!(objects("He did not rule out sending troops.").is_empty());
        assert!(objects("The plan was rejected.").is_empty());
    }

    #[test]
    fn a_clause_boundary_or_a_negation_stops_the_predicate() {
        // The target belongs to the next clause.
        let s = "He rejected the plan, but the allies sent troops.";
        assert_eq!(toward(s, "allies"), None);
        let s = "They opposed it because the Kremlin objected.";
        assert_eq!(toward(s, "Kremlin"), None);
        // The target is the agent, not the object.
        let s = "The plan was rejected by Moscow.";
        assert_eq!(toward(s, "Moscow"), None);
        // Too far from the predicate to be its object.
        let s = "She supported the idea of a much larger European army.";
        assert_eq!(toward(s, "European"), None);
        // Negated.
        let s = "Washington did not rule out sending ground troops.";
        assert_eq!(toward(s, "ground troops"), None);
        let s = "The party hasn't backed the bill.";
        assert_eq!(toward(s, "bill"), None);
        // No stance predicate at all.
        let s = "Washington could provide air support.";
        assert_eq!(toward(s, "air support"), None);
        // The subject of the predicate is not its object.
        let s = "Peskov rejected the claims.";
        assert_eq!(toward(s, "Peskov"), None);
    }

    #[test]
    fn the_nearest_predicate_in_the_clause_wins() {
        let s = "Washington could provide air support but ruled out sending ground troops.";
        assert_eq!(toward(s, "air support"), None);
        assert_eq!(toward(s, "ground troops"), Some(Polarity::Negative));
        let start = s.find("ground troops").expect("in s");
        let found = governing(s, Span::new(start, start + 13)).expect("governed");
        assert_eq!(&s[found.span.start..found.span.end], "ruled out");
        // A predicate suspended by another is no stance ("refused to rule out").
        let s = "Paris refused to rule out sending ground troops.";
        assert_eq!(toward(s, "ground troops"), None);
    }
}
