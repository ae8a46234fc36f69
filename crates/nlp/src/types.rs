//! The typing stage: from CoNLL's four types to the contract's finer ones. The tagger already
//! gives PERSON and ORG; this stage splits LOC into GPE and LOC, splits MISC into NORP, EVENT
//! and MISC with small gazetteers and name patterns, and adds DATE mentions found by pattern
//! (month names with days and years, weekdays, years, ISO dates, "last week", "yesterday").
//!
//! CoNLL has no finer labels to learn from, so these are rules; they only refine what the
//! learned tagger found, except DATE, which CoNLL never tags.

use crate::doc::{Doc, EntityType, Mention, Stage};
use crate::error::NlpError;

/// The fine-typing stage. Run it after [`crate::ner::NerTagger`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FineTyper;

impl Stage for FineTyper {
    fn name(&self) -> &'static str {
        "fine-types"
    }

    fn process(&self, doc: &mut Doc) -> Result<(), NlpError> {
        let mut refined: Vec<EntityType> = Vec::with_capacity(doc.mentions.len());
        for m in &doc.mentions {
            let words: Vec<&str> = m.tokens.clone().map(|i| doc.token_text(i)).collect();
            refined.push(refine(m.label, &words));
        }
        for (m, label) in doc.mentions.iter_mut().zip(refined) {
            m.label = label;
        }
        add_dates(doc)?;
        Ok(())
    }
}

/// Regions, continents, bodies of water: LOC rather than GPE.
const LOC_NAMES: &[&str] = &[
    "europe",
    "asia",
    "africa",
    "antarctica",
    "arctic",
    "australasia",
    "oceania",
    "eurasia",
    "north america",
    "south america",
    "latin america",
    "central america",
    "middle east",
    "near east",
    "far east",
    "balkans",
    "caucasus",
    "scandinavia",
    "baltic",
    "baltics",
    "mediterranean",
    "atlantic",
    "pacific",
    "sahara",
    "siberia",
    "crimea",
    "donbas",
    "donbass",
    "west bank",
    "gaza strip",
    "sahel",
    "himalayas",
    "alps",
    "amazon",
    "gulf",
    "the gulf",
    "persian gulf",
    "east asia",
    "southeast asia",
    "south asia",
    "central asia",
    "west",
    "eastern europe",
    "western europe",
    "central europe",
    "northern europe",
    "southern europe",
];

/// Countries, capitals and large cities: GPE when the tagger said PERSON, ORG or LOC (news
/// after 1996 spells places the Reuters training data never saw, like "Kyiv").
const GPE_NAMES: &[&str] = &[
    "afghanistan",
    "albania",
    "algeria",
    "argentina",
    "armenia",
    "australia",
    "austria",
    "azerbaijan",
    "belarus",
    "belgium",
    "bosnia",
    "brazil",
    "bulgaria",
    "canada",
    "chile",
    "china",
    "colombia",
    "croatia",
    "cuba",
    "cyprus",
    "czech republic",
    "denmark",
    "egypt",
    "estonia",
    "ethiopia",
    "finland",
    "france",
    "georgia",
    "germany",
    "greece",
    "hungary",
    "india",
    "indonesia",
    "iran",
    "iraq",
    "ireland",
    "israel",
    "italy",
    "japan",
    "jordan",
    "kazakhstan",
    "kenya",
    "kosovo",
    "latvia",
    "lebanon",
    "libya",
    "lithuania",
    "malaysia",
    "mexico",
    "moldova",
    "netherlands",
    "new zealand",
    "nigeria",
    "north korea",
    "norway",
    "pakistan",
    "poland",
    "portugal",
    "qatar",
    "romania",
    "russia",
    "saudi arabia",
    "serbia",
    "slovakia",
    "slovenia",
    "south africa",
    "south korea",
    "spain",
    "sweden",
    "switzerland",
    "syria",
    "taiwan",
    "turkey",
    "ukraine",
    "united states",
    "united kingdom",
    "venezuela",
    "vietnam",
    "yemen",
    "kyiv",
    "kiev",
    "kharkiv",
    "odesa",
    "odessa",
    "moscow",
    "washington",
    "london",
    "paris",
    "berlin",
    "brussels",
    "beijing",
    "tokyo",
    "rome",
    "madrid",
    "warsaw",
    "vienna",
    "minsk",
    "ankara",
    "tehran",
    "baghdad",
    "damascus",
    "jerusalem",
    "cairo",
    "new york",
    "vladivostok",
    "st. petersburg",
    "geneva",
    "ottawa",
    "canberra",
    "delhi",
    "new delhi",
    "mumbai",
    "shanghai",
    "hong kong",
    "singapore",
    "seoul",
    "pyongyang",
];

/// Seats of government named for a place that mean the institution ("the Kremlin said").
const ORG_SEATS: &[&str] = &[
    "kremlin",
    "white house",
    "pentagon",
    "downing street",
    "elysee",
    "élysée",
    "whitehall",
    "capitol hill",
    "vatican",
];

/// Last words that mark a natural location.
const LOC_HEADS: &[&str] = &[
    "sea",
    "ocean",
    "river",
    "lake",
    "mountains",
    "mountain",
    "mount",
    "mt.",
    "valley",
    "bay",
    "gulf",
    "strait",
    "straits",
    "peninsula",
    "desert",
    "coast",
    "canal",
    "channel",
    "island",
    "islands",
    "basin",
    "plateau",
    "forest",
    "region",
    "hills",
    "glacier",
];

/// Nationalities, religions and political groups.
const NORP_NAMES: &[&str] = &[
    "western",
    "eastern",
    "european",
    "europeans",
    "american",
    "americans",
    "russian",
    "russians",
    "ukrainian",
    "ukrainians",
    "british",
    "french",
    "german",
    "germans",
    "chinese",
    "japanese",
    "english",
    "scottish",
    "welsh",
    "irish",
    "dutch",
    "swiss",
    "spanish",
    "polish",
    "turkish",
    "danish",
    "swedish",
    "finnish",
    "israeli",
    "israelis",
    "palestinian",
    "palestinians",
    "iraqi",
    "iraqis",
    "iranian",
    "iranians",
    "pakistani",
    "afghan",
    "saudi",
    "kuwaiti",
    "yemeni",
    "muslim",
    "muslims",
    "christian",
    "christians",
    "jewish",
    "jew",
    "jews",
    "catholic",
    "catholics",
    "protestant",
    "orthodox",
    "sunni",
    "shia",
    "shiite",
    "hindu",
    "buddhist",
    "islamic",
    "islamist",
    "islamists",
    "democrat",
    "democrats",
    "democratic",
    "republican",
    "republicans",
    "conservative",
    "conservatives",
    "labour",
    "tory",
    "tories",
    "liberal",
    "liberals",
    "socialist",
    "socialists",
    "communist",
    "communists",
    "kurdish",
    "kurds",
    "arab",
    "arabs",
    "asian",
    "asians",
    "african",
    "africans",
    "latino",
    "latinos",
    "soviet",
    "nazi",
    "nazis",
    "baltic",
    "nordic",
    "slavic",
    "allied",
    "allies",
];

/// Suffixes of one-word demonyms ("Ukrainian", "Congolese", "Kuwaiti").
const NORP_SUFFIXES: &[&str] = &[
    "ian", "ians", "ean", "eans", "ese", "ish", "an", "ans", "i", "is",
];

/// Words that mark a named event.
const EVENT_WORDS: &[&str] = &[
    "war",
    "olympics",
    "olympic",
    "games",
    "cup",
    "championship",
    "championships",
    "summit",
    "election",
    "elections",
    "revolution",
    "conference",
    "festival",
    "open",
    "prix",
    "series",
    "crisis",
    "massacre",
    "invasion",
    "world war",
    "tournament",
    "grand slam",
    "marathon",
    "forum",
    "congress",
    "expo",
    "oscars",
    "awards",
    "treaty",
    "accords",
    "uprising",
    "spring",
];

fn lower_words(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_lowercase()).collect()
}

/// The finer type of a mention the tagger labelled `label`.
fn refine(label: EntityType, words: &[&str]) -> EntityType {
    let lower = lower_words(words);
    let joined = lower.join(" ");
    if matches!(label, EntityType::Loc | EntityType::Gpe) && ORG_SEATS.contains(&joined.as_str()) {
        return EntityType::Org;
    }
    // ORG too: a capital standing for its government ("Moscow would view") is GPE in the
    // contract, as in OntoNotes.
    if matches!(
        label,
        EntityType::Loc | EntityType::Person | EntityType::Org
    ) && GPE_NAMES.contains(&joined.as_str())
    {
        return EntityType::Gpe;
    }
    match label {
        EntityType::Loc => {
            let last = lower.last().map(String::as_str).unwrap_or_default();
            if LOC_NAMES.contains(&joined.as_str())
                || (lower.len() > 1 && LOC_HEADS.contains(&last))
                || lower.first().is_some_and(|w| w == "mount" || w == "lake")
            {
                EntityType::Loc
            } else {
                EntityType::Gpe
            }
        }
        EntityType::Misc => {
            if lower.iter().any(|w| EVENT_WORDS.contains(&w.as_str()))
                || EVENT_WORDS.contains(&joined.as_str())
            {
                EntityType::Event
            } else if NORP_NAMES.contains(&joined.as_str())
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

fn is_demonym(word: &str) -> bool {
    let lower = word.to_lowercase();
    word.chars().next().is_some_and(char::is_uppercase)
        && word.chars().skip(1).all(char::is_lowercase)
        && word.chars().count() > 3
        && NORP_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const MONTH_ABBREVIATIONS: &[&str] = &[
    "jan.", "feb.", "mar.", "apr.", "jun.", "jul.", "aug.", "sep.", "sept.", "oct.", "nov.", "dec.",
];
const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const RELATIVE_WORDS: &[&str] = &["yesterday", "today", "tomorrow"];
const RELATIVE_MODIFIERS: &[&str] = &[
    "last", "next", "this", "past", "coming", "previous", "recent",
];
const PERIODS: &[&str] = &[
    "week", "weeks", "month", "months", "year", "years", "weekend", "summer", "winter", "spring",
    "autumn", "fall", "decade", "century", "day", "days", "quarter", "season",
];

fn is_month(w: &str) -> bool {
    let l = w.to_lowercase();
    w.chars().next().is_some_and(char::is_uppercase)
        && (MONTHS.contains(&l.as_str()) || MONTH_ABBREVIATIONS.contains(&l.as_str()))
}

fn is_day_number(w: &str) -> bool {
    let digits = w.trim_end_matches(['s', 't', 'h', 'n', 'd', 'r']);
    !digits.is_empty()
        && digits.len() <= 2
        && digits.chars().all(|c| c.is_ascii_digit())
        && digits.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
}

fn is_year(w: &str) -> bool {
    w.len() == 4
        && w.chars().all(|c| c.is_ascii_digit())
        && w.parse::<u32>().is_ok_and(|y| (1900..=2099).contains(&y))
}

fn is_iso_date(w: &str) -> bool {
    let parts: Vec<&str> = w.split('-').collect();
    parts.len() == 3
        && is_year(parts[0])
        && parts[1].len() == 2
        && parts[2].len() == 2
        && parts[1..]
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// Length in tokens of a date expression starting at `i` of `words`, if one starts there.
fn date_at(words: &[&str], i: usize) -> Option<usize> {
    let w = words[i];
    let next = |k: usize| words.get(i + k).copied().unwrap_or_default();
    let lower = w.to_lowercase();
    if is_month(w) {
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
    if is_day_number(w) && is_month(next(1)) {
        return Some(if is_year(next(2)) { 3 } else { 2 });
    }
    if WEEKDAYS.contains(&lower.as_str()) && w.chars().next().is_some_and(char::is_uppercase) {
        return Some(1);
    }
    if RELATIVE_WORDS.contains(&lower.as_str()) {
        return Some(1);
    }
    if RELATIVE_MODIFIERS.contains(&lower.as_str()) {
        let n = next(1).to_lowercase();
        if PERIODS.contains(&n.as_str())
            || WEEKDAYS.contains(&n.as_str())
            || MONTHS.contains(&n.as_str())
        {
            return Some(2);
        }
        return None;
    }
    if is_year(w) || is_iso_date(w) {
        let before = if i > 0 { words[i - 1] } else { "" };
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
    for m in &doc.mentions {
        for t in m.tokens.clone() {
            taken[t] = true;
        }
    }
    let mut found = Vec::new();
    for s in &doc.sentences {
        let words = doc.sentence_tokens(s);
        let mut i = 0;
        while i < words.len() {
            if let Some(len) = date_at(&words, i) {
                let range = s.tokens.start + i..s.tokens.start + i + len;
                if range.clone().all(|t| !taken[t]) {
                    found.push(range);
                    i += len;
                    continue;
                }
            }
            i += 1;
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

    #[test]
    fn refines_loc_and_misc() {
        assert_eq!(refine(EntityType::Loc, &["Paris"]), EntityType::Gpe);
        assert_eq!(refine(EntityType::Loc, &["Europe"]), EntityType::Loc);
        assert_eq!(refine(EntityType::Loc, &["Black", "Sea"]), EntityType::Loc);
        assert_eq!(refine(EntityType::Misc, &["Russian"]), EntityType::Norp);
        assert_eq!(refine(EntityType::Misc, &["Western"]), EntityType::Norp);
        assert_eq!(refine(EntityType::Misc, &["Congolese"]), EntityType::Norp);
        assert_eq!(
            refine(EntityType::Misc, &["World", "War", "II"]),
            EntityType::Event
        );
        assert_eq!(refine(EntityType::Misc, &["Olympics"]), EntityType::Event);
        assert_eq!(refine(EntityType::Misc, &["iPod"]), EntityType::Misc);
        assert_eq!(refine(EntityType::Org, &["NATO"]), EntityType::Org);
        assert_eq!(refine(EntityType::Person, &["Kyiv"]), EntityType::Gpe);
        assert_eq!(refine(EntityType::Org, &["Paris"]), EntityType::Gpe);
        assert_eq!(refine(EntityType::Loc, &["Kremlin"]), EntityType::Org);
    }

    fn dates(text: &str) -> Vec<String> {
        let mut doc = Doc::new(text);
        Tokenizer.process(&mut doc).expect("tokenize");
        FineTyper.process(&mut doc).expect("type");
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
