//! The typing stage: from CoNLL's four types to the contract's finer ones. The tagger already
//! gives PERSON and ORG; this stage splits LOC into GPE and LOC, splits MISC into NORP, EVENT
//! and MISC, and adds DATE mentions found by pattern (month names with days and years,
//! weekdays, years, ISO dates, "last week", "yesterday").
//!
//! CoNLL has no finer labels to learn from, so the split follows gazetteers from registry
//! packages ([`crate::gazetteer`]: countries, capitals, large cities, US states, continents and
//! UN subregions, demonyms), with small hand lists (`crates/nlp/lexicon/types/`) for what no
//! package gives: regions and bodies of water beyond the continents, natural-feature head
//! words ("Sea", "River"), seats of government ("Kremlin"), religious and political groups
//! and nationality words that are not a demonym, and the words that mark a named event. These
//! rules only refine what the learned tagger found, except DATE, which CoNLL never tags.
//!
//! - LOC: LOC when a continent, region or subregion, or a natural feature by its head word;
//!   GPE otherwise (a country, state or city, named or not in the gazetteers).
//! - PERSON: GPE when a country, capital or large city the tagger never saw as a place
//!   ("Kyiv"), unless it is the surname of a person the article names in full.
//! - ORG: GPE when a country or capital standing for its government ("Moscow would view");
//!   other cities stay ORG (sports clubs are named for them).
//! - MISC: EVENT by its event words, NORP when a demonym (singular or plural), a listed group,
//!   or a capitalized word with a demonym suffix ("Congolese"); MISC otherwise.

use crate::lexicon::{WordList, WordSet, words};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use crate::doc::{Doc, EntityType, Mention, Stage};
use crate::error::NlpError;
use crate::gazetteer::{Gazetteers, key};

/// The fine-typing stage. Run it after [`crate::ner::NerTagger`].
#[derive(Debug, Clone)]
pub struct FineTyper {
    gazetteers: Arc<Gazetteers>,
}

impl FineTyper {
    /// Loads the gazetteers from `dir` (`models/gazetteers` in a checkout,
    /// filled by `scripts/fetch-gazetteers.sh`).
    pub fn load(dir: &Path) -> Result<Self, NlpError> {
        Gazetteers::load(dir).map(Self::new)
    }

    /// A stage over gazetteers already loaded.
    pub fn new(gazetteers: Gazetteers) -> Self {
        Self {
            gazetteers: Arc::new(gazetteers),
        }
    }

    /// The finer type of a mention of `words` the tagger labelled `label`. `surnames` are the
    /// last words of the article's multi-word PERSON mentions.
    fn refine(&self, label: EntityType, words: &[&str], surnames: &HashSet<String>) -> EntityType {
        refine(&self.gazetteers, label, words, surnames)
    }
}

impl Stage for FineTyper {
    fn name(&self) -> &'static str {
        "fine-types"
    }

    fn process(&self, doc: &mut Doc) -> Result<(), NlpError> {
        let surnames: HashSet<String> = doc
            .mentions
            .iter()
            .filter(|m| m.label == EntityType::Person && m.tokens.len() > 1)
            .map(|m| key(doc.token_text(m.tokens.end - 1)))
            .collect();
        let mut refined: Vec<EntityType> = Vec::with_capacity(doc.mentions.len());
        for m in &doc.mentions {
            let words: Vec<&str> = m.tokens.clone().map(|i| doc.token_text(i)).collect();
            refined.push(self.refine(m.label, &words, &surnames));
        }
        for (m, label) in doc.mentions.iter_mut().zip(refined) {
            m.label = label;
        }
        add_dates(doc)?;
        Ok(())
    }
}

/// Regions, seas and landmarks no package lists (the packages give continents and UN
/// subregions such as "Eastern Europe" and "Central Asia").
static LOC_NAMES: WordSet = words!("types/loc-names.txt");

/// Seats of government named for a place that mean the institution ("the Kremlin said").
static ORG_SEATS: WordSet = words!("types/org-seats.txt");

/// Last words that mark a natural location.
static LOC_HEADS: WordSet = words!("types/loc-heads.txt");

/// Religions, political groups, and nationality words that are not a country's demonym
/// (the packages give "Ukrainian", "French", "Israelis").
static NORP_NAMES: WordSet = words!("types/norp-names.txt");

/// Suffixes of one-word demonyms ("Ukrainian", "Congolese", "Kuwaiti").
static NORP_SUFFIXES: WordList = words!("types/norp-suffixes.txt");

/// Words that mark a named event.
static EVENT_WORDS: WordSet = words!("types/event-words.txt");

fn lower_words(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_lowercase()).collect()
}

/// The finer type of a mention the tagger labelled `label` (the rules in the module docs).
fn refine(
    gazetteers: &Gazetteers,
    label: EntityType,
    words: &[&str],
    surnames: &HashSet<String>,
) -> EntityType {
    let lower = lower_words(words);
    let joined = lower.join(" ");
    if matches!(label, EntityType::Loc | EntityType::Gpe) && ORG_SEATS.contains(joined.as_str()) {
        return EntityType::Org;
    }
    match label {
        EntityType::Loc => {
            let last = lower.last().map(String::as_str).unwrap_or_default();
            if gazetteers.is_region(&joined)
                || LOC_NAMES.contains(joined.as_str())
                || (lower.len() > 1 && LOC_HEADS.contains(last))
                || lower.first().is_some_and(|w| w == "mount" || w == "lake")
            {
                EntityType::Loc
            } else {
                EntityType::Gpe
            }
        }
        // A place name the 1996 training data never saw as one ("Kyiv"), unless the article
        // names a person of that surname ("Denzel Washington ... Washington said").
        EntityType::Person
            if (gazetteers.is_place(&joined)
                && !(lower.len() == 1 && surnames.contains(&joined))) =>
        {
            EntityType::Gpe
        }
        // A country or capital standing for its government, GPE in the contract as in
        // OntoNotes; other cities stay ORG, as the sports clubs named for them are.
        EntityType::Org if gazetteers.is_country(&joined) => EntityType::Gpe,
        EntityType::Misc => {
            if lower.iter().any(|w| EVENT_WORDS.contains(w.as_str()))
                || EVENT_WORDS.contains(joined.as_str())
            {
                EntityType::Event
            } else if gazetteers.is_demonym(&joined)
                || NORP_NAMES.contains(joined.as_str())
                || (lower.len() == 1 && is_demonym(words[0]))
            {
                EntityType::Norp
            } else {
                EntityType::Misc
            }
        }
        other => other,
    }
}

/// A capitalized word with a demonym's ending, for demonyms the packages lack ("Basque").
fn is_demonym(word: &str) -> bool {
    let lower = word.to_lowercase();
    word.chars().next().is_some_and(char::is_uppercase)
        && word.chars().skip(1).all(char::is_lowercase)
        && word.chars().count() > 3
        && NORP_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

static MONTHS: WordSet = words!("types/months.txt");
static MONTH_ABBREVIATIONS: WordSet = words!("types/month-abbreviations.txt");
static WEEKDAYS: WordSet = words!("types/weekdays.txt");
const RELATIVE_WORDS: &[&str] = &["yesterday", "today", "tomorrow"];
static RELATIVE_MODIFIERS: WordSet = words!("types/relative-modifiers.txt");
static PERIODS: WordSet = words!("types/periods.txt");

fn is_month(word: &str) -> bool {
    let lower = word.to_lowercase();
    word.chars().next().is_some_and(char::is_uppercase)
        && (MONTHS.contains(lower.as_str()) || MONTH_ABBREVIATIONS.contains(lower.as_str()))
}

fn is_day_number(word: &str) -> bool {
    let digits = word.trim_end_matches(['s', 't', 'h', 'n', 'd', 'r']);
    !digits.is_empty()
        && digits.len() <= 2
        && digits.chars().all(|c| c.is_ascii_digit())
        && digits.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
}

fn is_year(word: &str) -> bool {
    word.len() == 4
        && word.chars().all(|c| c.is_ascii_digit())
        && word
            .parse::<u32>()
            .is_ok_and(|y| (1900..=2099).contains(&y))
}

fn is_iso_date(word: &str) -> bool {
    let parts: Vec<&str> = word.split('-').collect();
    parts.len() == 3
        && is_year(parts[0])
        && parts[1].len() == 2
        && parts[2].len() == 2
        && parts[1..]
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// Length in tokens of a date expression starting at `words[start]`, if one starts there.
fn date_at(words: &[&str], start: usize) -> Option<usize> {
    let word = words[start];
    // The word `offset` after the start, or "" past the sentence.
    let next = |offset: usize| words.get(start + offset).copied().unwrap_or_default();
    let lower = word.to_lowercase();
    if is_month(word) {
        // "May" and "March" are also a name and a verb: only with a number beside them.
        let ambiguous = matches!(lower.as_str(), "may" | "march");
        let mut len = 1;
        if is_day_number(next(1)) {
            len = 2;
            if next(2) == "," && is_year(next(3)) {
                len = 4;
            } else if is_year(next(2)) {
                len = 3;
            }
        } else if is_year(next(1)) {
            len = 2;
        } else if ambiguous {
            return None;
        }
        return Some(len);
    }
    if is_day_number(word) && is_month(next(1)) {
        return Some(if is_year(next(2)) { 3 } else { 2 });
    }
    if WEEKDAYS.contains(lower.as_str()) && word.chars().next().is_some_and(char::is_uppercase) {
        return Some(1);
    }
    if RELATIVE_WORDS.contains(&lower.as_str()) {
        return Some(1);
    }
    if RELATIVE_MODIFIERS.contains(lower.as_str()) {
        let following = next(1).to_lowercase();
        if PERIODS.contains(following.as_str())
            || WEEKDAYS.contains(following.as_str())
            || MONTHS.contains(following.as_str())
        {
            return Some(2);
        }
        return None;
    }
    if is_year(word) || is_iso_date(word) {
        let before = if start > 0 { words[start - 1] } else { "" };
        // After a currency sign it is an amount ("$2004"), not a year.
        if matches!(before, "$" | "£" | "€") {
            return None;
        }
        return Some(1);
    }
    None
}

/// Adds DATE mentions where no other mention stands, keeping mentions in text order.
fn add_dates(doc: &mut Doc) -> Result<(), NlpError> {
    let mut taken = vec![false; doc.tokens.len()];
    for mention in &doc.mentions {
        for token in mention.tokens.clone() {
            taken[token] = true;
        }
    }
    let mut found = Vec::new();
    for sentence in &doc.sentences {
        let words = doc.sentence_tokens(sentence);
        let first = sentence.tokens.start;
        let mut start = 0;
        while start < words.len() {
            if let Some(len) = date_at(&words, start) {
                let range = first + start..first + start + len;
                if range.clone().all(|token| !taken[token]) {
                    found.push(range);
                    start += len;
                    continue;
                }
            }
            start += 1;
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    for range in found {
        // Dates are rules, not the model: a fixed confidence below the model's sure calls.
        doc.push_mention(range, EntityType::Date, 0.9)?;
    }
    doc.mentions.sort_by_key(|m: &Mention| m.span.start);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::Tokenizer;

    /// The gazetteers the fetch script put in the workspace's `models/gazetteers`.
    fn fetched() -> FineTyper {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join("models/gazetteers");
        FineTyper::load(&dir).unwrap_or_else(|e| panic!("{e}"))
    }

    fn typed(typer: &FineTyper, label: EntityType, words: &[&str]) -> EntityType {
        typer.refine(label, words, &HashSet::new())
    }

    #[test]
    fn refines_loc_and_misc() {
        let typer = fetched();
        let t = |label, words: &[&str]| typed(&typer, label, words);
        assert_eq!(t(EntityType::Loc, &["Paris"]), EntityType::Gpe);
        assert_eq!(t(EntityType::Loc, &["Europe"]), EntityType::Loc);
        assert_eq!(t(EntityType::Loc, &["Eastern", "Europe"]), EntityType::Loc);
        assert_eq!(t(EntityType::Loc, &["Middle", "East"]), EntityType::Loc);
        assert_eq!(t(EntityType::Loc, &["Black", "Sea"]), EntityType::Loc);
        assert_eq!(t(EntityType::Misc, &["Russian"]), EntityType::Norp);
        assert_eq!(t(EntityType::Misc, &["Western"]), EntityType::Norp);
        assert_eq!(t(EntityType::Misc, &["Congolese"]), EntityType::Norp);
        assert_eq!(
            t(EntityType::Misc, &["World", "War", "II"]),
            EntityType::Event
        );
        assert_eq!(t(EntityType::Misc, &["Olympics"]), EntityType::Event);
        assert_eq!(t(EntityType::Misc, &["iPod"]), EntityType::Misc);
        assert_eq!(t(EntityType::Org, &["NATO"]), EntityType::Org);
        assert_eq!(t(EntityType::Person, &["Kyiv"]), EntityType::Gpe);
        assert_eq!(t(EntityType::Person, &["Kharkiv"]), EntityType::Gpe);
        assert_eq!(t(EntityType::Org, &["Paris"]), EntityType::Gpe);
        assert_eq!(t(EntityType::Org, &["Barcelona"]), EntityType::Org);
        assert_eq!(t(EntityType::Loc, &["Kremlin"]), EntityType::Org);
    }

    /// Mentions laid by hand over a tokenized text, then typed by `typer`.
    fn type_mentions(typer: &FineTyper, text: &str, mentions: &[(&str, EntityType)]) -> Doc {
        let mut doc = Doc::new(text);
        Tokenizer.process(&mut doc).expect("tokenize");
        for (name, label) in mentions {
            let n = name.split_whitespace().count();
            let start = (0..doc.tokens.len())
                .find(|&i| {
                    (i..i + n)
                        .map(|k| doc.tokens.get(k).map_or("", |_| doc.token_text(k)))
                        .collect::<Vec<_>>()
                        .join(" ")
                        == *name
                })
                .unwrap_or_else(|| panic!("{name} not in {text}"));
            doc.push_mention(start..start + n, *label, 1.0)
                .expect("mention");
        }
        typer.process(&mut doc).expect("type");
        doc
    }

    fn label_of(doc: &Doc, name: &str) -> EntityType {
        doc.mentions
            .iter()
            .find(|m| doc.mention_text(m) == name)
            .map(|m| m.label)
            .unwrap_or_else(|| panic!("no mention {name}"))
    }

    #[test]
    fn the_fetched_gazetteers_give_the_finer_types() {
        let text = "Germany and the French sent aid to Europe, Ukrainians said.";
        // The tagger's labels as it might give them, wrong coarse guesses included.
        let mentions = [
            ("Germany", EntityType::Person),
            ("French", EntityType::Misc),
            ("Europe", EntityType::Loc),
            ("Ukrainians", EntityType::Misc),
        ];
        let doc = type_mentions(&fetched(), text, &mentions);
        assert_eq!(label_of(&doc, "Germany"), EntityType::Gpe);
        assert_eq!(label_of(&doc, "French"), EntityType::Norp);
        assert_eq!(label_of(&doc, "Europe"), EntityType::Loc);
        assert_eq!(label_of(&doc, "Ukrainians"), EntityType::Norp);
        // Without the packages' lists, the same mentions keep the tagger's guesses.
        let bare = type_mentions(&FineTyper::new(Gazetteers::default()), text, &mentions);
        assert_eq!(label_of(&bare, "Germany"), EntityType::Person);
        assert_eq!(label_of(&bare, "French"), EntityType::Misc);
        assert_eq!(label_of(&bare, "Europe"), EntityType::Gpe);
    }

    #[test]
    fn a_surname_in_the_article_stays_a_person() {
        let typer = fetched();
        let mut doc = Doc::new("Denzel Washington arrived. Washington smiled.");
        Tokenizer.process(&mut doc).expect("tokenize");
        doc.push_mention(0..2, EntityType::Person, 1.0).expect("m");
        let last = doc
            .tokens
            .iter()
            .rposition(|t| doc.span_text(t.span) == "Washington")
            .expect("token");
        doc.push_mention(last..last + 1, EntityType::Person, 1.0)
            .expect("m");
        typer.process(&mut doc).expect("type");
        assert!(doc.mentions.iter().all(|m| m.label == EntityType::Person));
    }

    fn dates(text: &str) -> Vec<String> {
        let mut doc = Doc::new(text);
        Tokenizer.process(&mut doc).expect("tokenize");
        FineTyper::new(Gazetteers::default())
            .process(&mut doc)
            .expect("type");
        doc.mentions
            .iter()
            .filter(|m| m.label == EntityType::Date)
            .map(|m| doc.mention_text(m).to_string())
            .collect()
    }

    #[test]
    fn finds_dates() {
        assert_eq!(
            dates("At the Sept. 4 Paris summit, on August 18, 2025 and last week."),
            vec!["Sept. 4", "August 18, 2025", "last week"]
        );
        assert_eq!(
            dates("On Thursday, 1 February 2005, shares fell; in 1995 it cost $2004."),
            vec!["Thursday", "1 February 2005", "1995"]
        );
        assert_eq!(
            dates("You may go in March 2004 but not in May."),
            vec!["March 2004"]
        );
        assert_eq!(
            dates("BRUSSELS 1996-08-22 yesterday"),
            vec!["1996-08-22", "yesterday"]
        );
    }
}
