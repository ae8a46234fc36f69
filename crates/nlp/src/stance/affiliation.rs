//! Whose side an entity is on, from what the text says about it: so a speaker's stance is not
//! read as against their own side ("Kremlin spokesperson Dmitry Peskov" against "Moscow").
//!
//! 1. **Titles and appositions** link a person to an organisation or place: a title phrase
//!    before the name ("Kremlin spokesperson Dmitry Peskov", "French President Emmanuel
//!    Macron", "the Kremlin's spokesman Peskov") or after it ("Peskov, the Kremlin's
//!    spokesman,"). A phrase counts only when it holds a title word
//!    (`crates/nlp/lexicon/stance/affiliation-titles.txt`) and only entity mentions, title
//!    words, "of", "the" and a possessive.
//! 2. **Countries** join what belongs to one country ([`Nations`]): a person affiliated with
//!    the Kremlin or with "Russian" is affiliated with every entity of the document that
//!    names Russia (Russia, Moscow, Russian, the Kremlin); a country's own entities are
//!    affiliated with each other.
//!
//! Each link is found in one pass over the mentions and a bounded walk (at most
//! [`MAX_TITLE_TOKENS`]) beside each person mention, and the entities are grouped by country
//! once (a country has a handful of names), so the cost is linear in the document.

use crate::doc::{Doc, EntityType, Span};
use crate::gazetteer::Nations;
use crate::lexicon::{WordSet, words};
use std::collections::HashMap;

static TITLES: WordSet = words!("stance/affiliation-titles.txt");

/// The longest title phrase read beside a name, in tokens.
pub const MAX_TITLE_TOKENS: usize = 8;

/// Why an entity is affiliated with another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AffiliationKind {
    /// A title or apposition names it ("Kremlin spokesperson").
    Title,
    /// Both belong to one country.
    Country,
}

/// One link: `entity` is on the side of `affiliate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Affiliation {
    /// Index into [`Doc::entities`].
    pub entity: usize,
    /// Index into [`Doc::entities`] of the organisation, place or group.
    pub affiliate: usize,
    /// How the link was found.
    pub kind: AffiliationKind,
    /// The title phrase (for [`AffiliationKind::Title`]) or the mention that names the
    /// country the two share.
    pub evidence: Span,
}

/// Every affiliation in the document, each (entity, affiliate) pair once, ordered by entity.
pub fn affiliations(doc: &Doc, nations: &Nations) -> Vec<Affiliation> {
    let mut mention_at = vec![None; doc.tokens.len()];
    for (index, mention) in doc.mentions.iter().enumerate() {
        for token in mention.tokens.clone() {
            if let Some(slot) = mention_at.get_mut(token) {
                *slot = Some(index);
            }
        }
    }
    let mut found: Vec<Affiliation> = Vec::new();
    for mention in &doc.mentions {
        let Some(person) = mention
            .entity
            .filter(|_| mention.label == EntityType::Person)
        else {
            continue;
        };
        // A title the tagger kept inside the name ("President Vladimir Putin") counts for the
        // phrase before it.
        let titled = mention
            .tokens
            .clone()
            .any(|t| TITLES.contains(doc.token_text(t).to_lowercase().as_str()));
        let before = title_phrase(
            doc,
            &mention_at,
            mention.tokens.start,
            Direction::Before,
            titled,
        );
        let after = title_phrase(
            doc,
            &mention_at,
            mention.tokens.end,
            Direction::After,
            false,
        );
        for (evidence, affiliates) in [before, after].into_iter().flatten() {
            for affiliate in affiliates.into_iter().filter(|&a| a != person) {
                found.push(Affiliation {
                    entity: person,
                    affiliate,
                    kind: AffiliationKind::Title,
                    evidence,
                });
            }
        }
    }
    // Each entity's country, from its name or any of its mentions.
    let country: Vec<Option<(&str, Span)>> = doc
        .entities
        .iter()
        .map(|entity| {
            if !matches!(
                entity.label,
                EntityType::Gpe | EntityType::Org | EntityType::Norp | EntityType::Loc
            ) {
                return None;
            }
            let first = entity.mentions.first().map(|&m| doc.mentions[m].span)?;
            nations
                .of(&entity.canonical_name)
                .map(|code| (code, first))
                .or_else(|| {
                    entity.mentions.iter().find_map(|&m| {
                        let span = doc.mentions[m].span;
                        nations.of(doc.span_text(span)).map(|code| (code, span))
                    })
                })
        })
        .collect();
    // The entities of each country, grouped once: a country has a handful of names, so each
    // side's list is short whatever the document's length.
    let mut members: HashMap<&str, Vec<(usize, Span)>> = HashMap::new();
    for (index, c) in country.iter().enumerate() {
        if let Some((code, span)) = c {
            members.entry(code).or_default().push((index, *span));
        }
    }
    // A person takes the countries of their title's affiliates; a country's entities belong
    // to it.
    let mut sides: Vec<(usize, &str)> = found
        .iter()
        .filter_map(|a| country[a.affiliate].map(|(code, _)| (a.entity, code)))
        .collect();
    sides.extend(
        country
            .iter()
            .enumerate()
            .filter_map(|(index, c)| c.map(|(code, _)| (index, code))),
    );
    sides.sort_unstable();
    sides.dedup();
    for (entity, code) in sides {
        for &(affiliate, evidence) in members.get(code).map_or(&[][..], Vec::as_slice) {
            if affiliate != entity {
                found.push(Affiliation {
                    entity,
                    affiliate,
                    kind: AffiliationKind::Country,
                    evidence,
                });
            }
        }
    }
    found.sort_by_key(|a| (a.entity, a.affiliate, a.kind));
    found.dedup_by_key(|a| (a.entity, a.affiliate));
    found
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Before,
    After,
}

/// The title phrase beside a name (ending just before token `edge`, or starting at it): its
/// span and the entities it names, when it holds a title word (or the name does: `titled`)
/// and an entity.
fn title_phrase(
    doc: &Doc,
    mention_at: &[Option<usize>],
    edge: usize,
    direction: Direction,
    mut titled: bool,
) -> Option<(Span, Vec<usize>)> {
    let mut affiliates = Vec::new();
    let mut first: Option<Span> = None;
    let mut last: Option<Span> = None;
    let mut at = edge;
    let mut read = 0;
    // After a name, an apposition opens with a comma.
    if direction == Direction::After {
        if doc.token_text(at) != "," {
            return None;
        }
        at += 1;
    }
    while read < MAX_TITLE_TOKENS {
        let index = match direction {
            Direction::Before => match at.checked_sub(1) {
                Some(index) => index,
                None => break,
            },
            Direction::After => at,
        };
        let Some(token) = doc.tokens.get(index) else {
            break;
        };
        let word = doc.token_text(index).to_lowercase();
        if let Some(mention) = mention_at[index] {
            let mention = &doc.mentions[mention];
            if mention.label == EntityType::Person || mention.label == EntityType::Date {
                break;
            }
            if let Some(entity) = mention.entity
                && !affiliates.contains(&entity)
            {
                affiliates.push(entity);
            }
        } else if TITLES.contains(word.as_str()) {
            titled = true;
        } else if !matches!(
            word.as_str(),
            "the" | "of" | "'s" | "’s" | "'" | "’" | "a" | "an"
        ) {
            break;
        }
        first = Some(first.unwrap_or(token.span));
        last = Some(token.span);
        read += 1;
        at = match direction {
            Direction::Before => index,
            Direction::After => index + 1,
        };
    }
    let (first, last) = (first?, last?);
    let span = match direction {
        Direction::Before => Span::new(last.start, first.end),
        Direction::After => Span::new(first.start, last.end),
    };
    (titled && !affiliates.is_empty()).then_some((span, affiliates))
}

/// Whether `entity` is affiliated with `affiliate`, in a list [`affiliations`] made.
pub fn is_affiliated(list: &[Affiliation], entity: usize, affiliate: usize) -> bool {
    list.binary_search_by_key(&(entity, affiliate), |a| (a.entity, a.affiliate))
        .is_ok()
}
