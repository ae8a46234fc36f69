//! The grouping stage: mentions of one real-world referent within a document become one
//! entity with a canonical name and a salience.
//!
//! Mentions group when their names, after alias resolution ("U.S." -> "United States"), are
//! equal; a shorter person name joins the person whose full name ends or starts with it
//! ("Putin" -> "Vladimir Putin"), the nearest one before it when several fit; an acronym
//! joins the organization whose initials it spells ("NATO"). The canonical name is the alias's
//! canonical form or the longest name. Salience mixes how often and how early an entity is
//! mentioned (the first sentence counts extra), weighted down for NORP and DATE.

use crate::doc::{Doc, Entity, EntityType, Stage};
use crate::error::NlpError;
use crate::lexicon::{WordSet, WordTable, word_table, words};
use std::collections::HashMap;

/// The grouping stage. Run it after the tagger (and the typing stage); it replaces any
/// entities the document had.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntityGrouper;

/// Common aliases and their canonical names.
static ALIASES: WordTable = word_table!("group/aliases.tsv");

const PERSON_FAMILY: u8 = 0;

/// Which mentions may refer to the same thing: types the tagger confuses for one referent.
fn family(t: EntityType) -> u8 {
    match t {
        EntityType::Person => PERSON_FAMILY,
        EntityType::Org | EntityType::Gpe | EntityType::Loc => 1,
        EntityType::Norp => 2,
        EntityType::Event => 3,
        EntityType::Date => 4,
        EntityType::Misc => 5,
    }
}

/// Titles that may open a person mention ("Ms Mohd-Saaid", "President Putin").
static TITLES: WordSet = words!("group/titles.txt");

/// A mention's name without a leading "the" and, for people, without leading titles.
fn bare_name(text: &str, family: u8) -> &str {
    let mut t = text.trim();
    for article in ["the ", "The "] {
        if let Some(rest) = t.strip_prefix(article) {
            t = rest;
        }
    }
    if family == PERSON_FAMILY {
        while let Some((first, rest)) = t.split_once(' ') {
            let word = first.trim_end_matches('.').to_lowercase();
            if !TITLES.contains(word.as_str()) {
                break;
            }
            t = rest.trim_start();
        }
    }
    t
}

/// The name of a mention for matching: bare, case-folded, alias-resolved.
fn name_key(text: &str, family: u8) -> (String, Option<&'static str>) {
    let lower = bare_name(text, family).to_lowercase();
    match ALIASES.get(lower.as_str()) {
        Some(&canonical) => (canonical.to_lowercase(), Some(canonical)),
        None => (lower, None),
    }
}

struct Group {
    family: u8,
    words: Vec<String>,
    alias: Option<&'static str>,
    mentions: Vec<usize>,
}

fn initials(words: &[String]) -> String {
    words
        .iter()
        .filter(|w| !matches!(w.as_str(), "of" | "and" | "for" | "the" | "&"))
        .filter_map(|w| w.chars().next())
        .collect()
}

impl Stage for EntityGrouper {
    fn name(&self) -> &'static str {
        "group-entities"
    }

    fn process(&self, doc: &mut Doc) -> Result<(), NlpError> {
        doc.entities.clear();
        let mut groups: Vec<Group> = Vec::new();
        let mut by_key: HashMap<(u8, String), usize> = HashMap::new();
        // Pass 1: identical names (after alias resolution) form a group.
        for (mi, m) in doc.mentions.iter().enumerate() {
            let fam = family(m.label);
            let (key, alias) = name_key(doc.mention_text(m), fam);
            if key.is_empty() {
                continue;
            }
            let gi = *by_key.entry((fam, key.clone())).or_insert_with(|| {
                groups.push(Group {
                    family: fam,
                    words: key.split_whitespace().map(str::to_string).collect(),
                    alias,
                    mentions: Vec::new(),
                });
                groups.len() - 1
            });
            groups[gi].mentions.push(mi);
        }
        // Pass 2: short names join a longer name of the same family. The longer names a short
        // one may join are looked up by the words it would share with them, so the pass stays
        // linear in the number of names.
        let joinable = joinable_names(&groups);
        let mut parent: Vec<usize> = (0..groups.len()).collect();
        for short_index in 0..groups.len() {
            let short = &groups[short_index];
            if short.alias.is_some() {
                continue;
            }
            let first_mention = doc.mentions[short.mentions[0]].span.start;
            let mut best: Option<(bool, usize, usize)> = None;
            let candidates = joinable
                .get(&(short.family, short.words.join(" ")))
                .map_or(&[][..], Vec::as_slice);
            for &long_index in candidates {
                let long = &groups[long_index];
                if long_index == short_index || long.words.len() <= short.words.len() {
                    continue;
                }
                let long_start = doc.mentions[long.mentions[0]].span.start;
                // Prefer a full name mentioned before the short one, the latest such; else
                // the earliest after it.
                let before = long_start < first_mention;
                let rank = if before {
                    usize::MAX - (first_mention - long_start)
                } else {
                    usize::MAX - long_start
                };
                if best.is_none_or(|(best_before, best_rank, _)| {
                    (before, rank) > (best_before, best_rank)
                }) {
                    best = Some((before, rank, long_index));
                }
            }
            if let Some((_, _, long_index)) = best {
                parent[short_index] = long_index;
            }
        }
        let root = |mut i: usize| {
            // Chains are short ("Putin" -> "Vladimir Putin"); the bound stops any cycle.
            for _ in 0..groups.len() {
                if parent[i] == i {
                    break;
                }
                i = parent[i];
            }
            i
        };
        let mut merged: HashMap<usize, Vec<usize>> = HashMap::new();
        for (gi, g) in groups.iter().enumerate() {
            merged.entry(root(gi)).or_default().extend(&g.mentions);
        }
        let text_len = doc.char_len().max(1) as f32;
        let lead_end = doc.sentences.first().map(|s| s.span.end);
        let max_count = merged.values().map(Vec::len).max().unwrap_or(1) as f32;
        let mut entities: Vec<Entity> = Vec::new();
        let mut roots: Vec<usize> = merged.keys().copied().collect();
        roots.sort_unstable();
        for root in roots {
            let mut mentions = merged.remove(&root).unwrap_or_default();
            mentions.sort_unstable();
            let Some(&first) = mentions.first() else {
                continue;
            };
            let canonical_name = match groups[root].alias {
                Some(c) => c.to_string(),
                // The longest bare name; the earliest of equally long ones.
                None => mentions
                    .iter()
                    .enumerate()
                    .map(|(k, &i)| {
                        (
                            k,
                            bare_name(doc.mention_text(&doc.mentions[i]), groups[root].family),
                        )
                    })
                    .max_by_key(|&(k, t)| {
                        (t.split_whitespace().count(), t.len(), std::cmp::Reverse(k))
                    })
                    .map(|(_, t)| t.to_string())
                    .unwrap_or_default(),
            };
            let label = majority_label(doc, &mentions);
            let count = mentions.len() as f32;
            let position = doc.mentions[first].span.start as f32 / text_len;
            let in_lead = lead_end.is_some_and(|end| doc.mentions[first].span.start < end);
            // Frequency matters most; an early first mention (headline, lead) adds to it;
            // adjectives of nationality and dates are rarely what an article is about.
            let raw =
                0.5 * count / max_count + 0.3 * (1.0 - position) + if in_lead { 0.2 } else { 0.0 };
            let salience = (raw * type_weight(label)).clamp(0.0, 1.0);
            entities.push(Entity {
                label,
                canonical_name,
                mentions,
                salience,
            });
        }
        entities.sort_by(|a, b| {
            b.salience
                .total_cmp(&a.salience)
                .then(a.mentions[0].cmp(&b.mentions[0]))
        });
        for (ei, e) in entities.iter().enumerate() {
            for &mi in &e.mentions {
                doc.mentions[mi].entity = Some(ei);
            }
        }
        doc.entities = entities;
        Ok(())
    }
}

/// Words of a longer name beyond which it joins no shorter one: real names are short, and the
/// bound keeps a mention of hundreds of tokens from filling the index.
const MAX_JOINABLE_WORDS: usize = 8;

/// For each (family, name) a shorter mention could have, the groups whose longer name it
/// may join, in group order: a person's first or last words ("Putin" -> "Vladimir Putin",
/// "Donald" -> "Donald Trump"), an organization's initials ("NATO").
fn joinable_names(groups: &[Group]) -> HashMap<(u8, String), Vec<usize>> {
    let mut joinable: HashMap<(u8, String), Vec<usize>> = HashMap::new();
    for (index, group) in groups.iter().enumerate() {
        let words = &group.words;
        if words.len() < 2 || words.len() > MAX_JOINABLE_WORDS {
            continue;
        }
        let mut keys: Vec<String> = Vec::new();
        if group.family == PERSON_FAMILY {
            for len in 1..words.len() {
                keys.push(words[..len].join(" "));
                keys.push(words[words.len() - len..].join(" "));
            }
        } else {
            keys.push(initials(words));
        }
        keys.sort();
        keys.dedup();
        for key in keys {
            joinable.entry((group.family, key)).or_default().push(index);
        }
    }
    joinable
}

/// How much an entity of this type can be what a document is about.
fn type_weight(t: EntityType) -> f32 {
    match t {
        EntityType::Person | EntityType::Org | EntityType::Gpe => 1.0,
        EntityType::Loc | EntityType::Event | EntityType::Misc => 0.8,
        EntityType::Norp => 0.6,
        EntityType::Date => 0.4,
    }
}

/// The most frequent mention label; ties go to the first mention's.
fn majority_label(doc: &Doc, mentions: &[usize]) -> EntityType {
    let mut counts: Vec<(EntityType, usize)> = Vec::new();
    for &i in mentions {
        let l = doc.mentions[i].label;
        match counts.iter_mut().find(|(t, _)| *t == l) {
            Some(c) => c.1 += 1,
            None => counts.push((l, 1)),
        }
    }
    let best = counts.iter().map(|c| c.1).max().unwrap_or(0);
    counts
        .into_iter()
        .find(|c| c.1 == best)
        .map_or(EntityType::Misc, |c| c.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::Tokenizer;

    /// A document with mentions placed by hand over the given token ranges.
    fn doc_with(text: &str, mentions: &[(std::ops::Range<usize>, EntityType)]) -> Doc {
        let mut doc = Doc::new(text);
        Tokenizer.process(&mut doc).expect("tokenize");
        for (r, t) in mentions {
            doc.push_mention(r.clone(), *t, 1.0).expect("mention");
        }
        EntityGrouper.process(&mut doc).expect("group");
        doc
    }

    #[test]
    fn short_names_and_aliases_group() {
        let doc = doc_with(
            "Vladimir Putin met U.S. envoys . Putin said the United States and NATO , the \
             North Atlantic Treaty Organization , erred .",
            &[
                (0..2, EntityType::Person),
                (3..4, EntityType::Gpe),
                (6..7, EntityType::Person),
                (9..11, EntityType::Gpe),
                (12..13, EntityType::Org),
                (15..19, EntityType::Org),
            ],
        );
        let names: Vec<(&str, usize)> = doc
            .entities
            .iter()
            .map(|e| (e.canonical_name.as_str(), e.mentions.len()))
            .collect();
        assert!(names.contains(&("Vladimir Putin", 2)), "{names:?}");
        assert!(names.contains(&("United States", 2)), "{names:?}");
        assert!(
            names.contains(&("North Atlantic Treaty Organization", 2)),
            "{names:?}"
        );
        assert_eq!(doc.entities.len(), 3);
        assert_eq!(doc.entities[0].key(), "PERSON:vladimir putin");
        assert!(doc.mentions.iter().all(|m| m.entity.is_some()));
        assert!(
            doc.entities
                .iter()
                .all(|e| (0.0..=1.0).contains(&e.salience))
        );
    }

    #[test]
    fn same_surname_goes_to_the_nearest_full_name_before() {
        let doc = doc_with(
            "George Bush spoke . Laura Bush spoke . Bush left .",
            &[
                (0..2, EntityType::Person),
                (4..6, EntityType::Person),
                (8..9, EntityType::Person),
            ],
        );
        let laura = doc
            .entities
            .iter()
            .find(|e| e.canonical_name == "Laura Bush")
            .expect("Laura Bush");
        assert_eq!(laura.mentions, vec![1, 2]);
    }

    #[test]
    fn titles_do_not_block_grouping() {
        let doc = doc_with(
            "Ainum Mohd-Saaid resigned . Ms Mohd-Saaid left .",
            &[(0..2, EntityType::Person), (4..6, EntityType::Person)],
        );
        assert_eq!(doc.entities.len(), 1);
        assert_eq!(doc.entities[0].canonical_name, "Ainum Mohd-Saaid");
    }
}
