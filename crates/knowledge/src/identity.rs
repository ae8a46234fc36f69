//! One identity per entity across articles: the keys a store looks candidate identities up by,
//! and the decision whether an article's entity is one of them.
//!
//! An article gives each entity once, as a [`Mentioned`]: its type, its canonical name and the
//! distinct texts that named it ("Vladimir Putin", "Putin", "President Putin"), with the titles
//! written before the name. The store keeps identities, each a [`Known`]: the names it was
//! seen under (its aliases), the titles, how many articles it is in and the identities an
//! operator split from it. Saving an entity means: compute its [`Resolver::lookup_keys`], fetch
//! the identities that have any of them among their [`Resolver::alias_keys`] (one indexed
//! equality lookup per key), and call [`Resolver::decide`] over what was found. On
//! [`Decision::Same`] the entity's names become aliases of that identity ([`Known::absorb`]);
//! on [`Decision::New`] or [`Decision::Ambiguous`] a new identity is made ([`Known::new`]).
//! `decide` over the candidates the keys find is `decide` over every stored identity: each
//! rule below needs a shared key (a unit test holds the two to this).
//!
//! The rules, strictest first; when unsure the answer is `New` or `Ambiguous`, never a guess:
//!
//! - Types: a person is only ever another person; an organisation, a place (GPE, LOC), an
//!   event or another thing only one of its own type. The one crossing is a nationality
//!   (NORP) to its country (GPE), by a demonym table the caller gives ([`Resolver::with_countries`];
//!   without one, none crosses).
//! - Names are compared folded: case, diacritics ("António" = "Antonio"), punctuation
//!   ("U.N.", "O'Brien"), a possessive "'s" and a leading "the" ("the WHO") do not count.
//! - People: honorifics and titles before a name ("Mr", "Dr", "President", "Prime Minister")
//!   are not part of it but are kept as evidence; the surname is the last word with its
//!   particles ("von der Leyen"), then "Jr", "Sr", "II" as a suffix.
//!   - The same full name is the same person ([`Reason::FullName`]).
//!   - The same surname with a first name that agrees ("B. Johnson" and "Boris Johnson") is
//!     the same person when only one known person fits ([`Reason::SurnameWithFirstName`]).
//!   - A different first name is never the same person: "Boris Johnson" and "Dustin Johnson"
//!     stay apart whatever else agrees.
//!   - A middle name, initial or suffix written on one side only ("George Bush" and "George
//!     W. Bush") is `Ambiguous`: the press uses "George Bush" for both presidents.
//!   - A surname alone ("Putin", "President Putin") is the one known person of that surname
//!     whose titles agree with this article's ([`Reason::SurnameWithTitle`]); without a title
//!     that tells, it is `Ambiguous`, and the why names the people it might be ("2 known
//!     people named Johnson: Boris Johnson (id 3), Dustin Johnson (id 7)"). Being the only
//!     known person of the surname is not enough by default (a store that knows one Johnson
//!     would take the golfer for the politician); [`Resolver::joining_unique_surnames`] makes
//!     it enough when no title disagrees ([`Reason::SurnameOnlyUnique`]).
//!   - A full name joins a person known by surname only (made when nothing told which
//!     namesake it was) when that is the only known person of the surname and a title agrees.
//!   - Titles agree when the words of one are among the words of the other ("President" and
//!     "Russian President"); "spokesman" is "spokesperson", "PM" is "prime minister".
//! - Organisations and countries: the same name ([`Reason::SameName`]); an acronym and its
//!   expansion, the acronym taken from the initials of the words other than "of", "the",
//!   "for", "and" and the like ("NATO" and "North Atlantic Treaty Organization": [`Reason::Acronym`],
//!   [`Reason::Expansion`]); an acronym is a name written in capitals, so "the WHO" is never
//!   the band "The Who". With a country table: two names of one country ("Britain", "UK",
//!   "United Kingdom": [`Reason::SameCountry`]) and a demonym ("Russian", "Russians") to its
//!   country ([`Reason::Demonym`]). A demonym or name that the table gives to two countries
//!   ("Dominican", "Congolese") links nothing.
//! - Other types (LOC, EVENT, MISC): the same name only.
//! - Identities an operator kept apart ([`Known::kept_apart`]) are never taken for one another:
//!   when several candidates fit equally well and none is kept apart from another, they are
//!   copies of one identity in the store (the largest is taken); when some are kept apart, the
//!   decision is `Ambiguous`.
//! - Within one article the extractor has already told its people apart: a person is none of
//!   the identities the article's other entities resolved to ([`Mentioned::resolved_in_article`]).
//!
//! Costs are bounded whatever the input: at most [`MAX_NAMES`] names of an entity and
//! [`MAX_ALIASES`] of an identity are read, each of at most [`MAX_NAME_CHARS`] characters and
//! [`MAX_NAME_WORDS`] words (a longer text is not a name), at most 3 keys come of a name (so at
//! most 48 lookup keys per entity and 192 alias keys per identity), [`MAX_TITLES`] titles of
//! each side, and `decide` reads the [`MAX_CANDIDATES`] candidates in the most articles (a
//! store that caps its lookup should keep those too).
//!
//! Keys are stored: the folding, the word lists and the key forms here are part of the stored
//! data. A change to any of them, or to the country table a store uses, needs a new
//! [`KEYS_VERSION`] and the alias keys recomputed. Not handled, and why: nicknames ("Bill" and
//! "William" Clinton are kept apart), transliterations ("Zelensky", "Zelenskyy"), surname-first
//! names ("President Xi" is not found from "Xi Jinping"), namesakes with the very same full
//! name (only an operator's split tells two "Chris Evans" apart) and places of one name (the
//! GeoNames id of a GPE or LOC is the better identity for a place).

use std::collections::{HashMap, HashSet};
use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Names of an entity read (its canonical name first, then the others in order).
pub const MAX_NAMES: usize = 16;

/// Names of an identity read (its canonical name first, then its aliases in order), and the
/// most [`Known::absorb`] keeps.
pub const MAX_ALIASES: usize = 64;

/// Characters of a name read; the rest of a longer text is cut off.
pub const MAX_NAME_CHARS: usize = 200;

/// Words a name may have; a longer text is not a name and gives no key.
pub const MAX_NAME_WORDS: usize = 12;

/// Titles of each side read, and the most [`Known::absorb`] keeps.
pub const MAX_TITLES: usize = 16;

/// Candidates [`Resolver::decide`] reads; the rest are not looked at.
pub const MAX_CANDIDATES: usize = 64;

/// Letters of an acronym, at least two.
pub const MAX_ACRONYM_LETTERS: usize = 8;

/// The version of the key forms and of the folding; stored keys of another version are stale.
pub const KEYS_VERSION: u16 = 1;

/// The kind of thing an entity is, as far as identity goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// A person.
    Person,
    /// A company, agency, institution, alliance, team, band.
    Org,
    /// A country, city, state.
    Gpe,
    /// A region, mountain, sea.
    Loc,
    /// A nationality, religious or political group.
    Norp,
    /// A named event.
    Event,
    /// Any other named thing (MISC).
    Other,
}

impl EntityKind {
    /// The kind of an extractor label ("PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "MISC";
    /// also "PER" and proto's "ENTITY_TYPE_PERSON"); `None` for dates and an empty label, which
    /// name times rather than things and have no identity.
    pub fn from_label(label: &str) -> Option<EntityKind> {
        let label = label.trim().to_ascii_uppercase();
        let label = label.strip_prefix("ENTITY_TYPE_").unwrap_or(&label);
        match label {
            "PERSON" | "PER" => Some(EntityKind::Person),
            "ORG" => Some(EntityKind::Org),
            "GPE" => Some(EntityKind::Gpe),
            "LOC" => Some(EntityKind::Loc),
            "NORP" => Some(EntityKind::Norp),
            "EVENT" => Some(EntityKind::Event),
            "" | "DATE" | "TIME" | "UNSPECIFIED" => None,
            _ => Some(EntityKind::Other),
        }
    }

    /// The extractor's label of the kind.
    pub fn label(self) -> &'static str {
        match self {
            EntityKind::Person => "PERSON",
            EntityKind::Org => "ORG",
            EntityKind::Gpe => "GPE",
            EntityKind::Loc => "LOC",
            EntityKind::Norp => "NORP",
            EntityKind::Event => "EVENT",
            EntityKind::Other => "MISC",
        }
    }

    /// The first part of the kind's keys.
    fn key_prefix(self) -> &'static str {
        match self {
            EntityKind::Person => "person",
            EntityKind::Org => "org",
            EntityKind::Gpe => "gpe",
            EntityKind::Loc => "loc",
            EntityKind::Norp => "norp",
            EntityKind::Event => "event",
            EntityKind::Other => "other",
        }
    }
}

/// One entity as one article gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mentioned {
    /// What it is.
    pub entity_type: EntityKind,
    /// The article's name for it ("Vladimir Putin").
    pub canonical_name: String,
    /// The distinct texts that named it in the article ("Putin", "President Putin").
    pub names: Vec<String>,
    /// Titles written before the name in the article ("President", "Kremlin spokesman");
    /// may be empty.
    pub titles: Vec<String>,
    /// The identities other entities of the same article were resolved to. The extractor has
    /// told the article's people apart already, so a person is none of these. Empty when not
    /// known.
    pub resolved_in_article: Vec<i64>,
}

impl Mentioned {
    /// An entity with its canonical name and other names, without titles.
    pub fn new(entity_type: EntityKind, canonical_name: &str, names: &[&str]) -> Mentioned {
        Mentioned {
            entity_type,
            canonical_name: canonical_name.to_owned(),
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            titles: Vec::new(),
            resolved_in_article: Vec::new(),
        }
    }
}

/// An identity already stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    /// The store's id.
    pub id: i64,
    /// What it is.
    pub entity_type: EntityKind,
    /// Its display name.
    pub canonical_name: String,
    /// Every name it was seen under (the canonical name may or may not be among them).
    pub aliases: Vec<String>,
    /// How many articles it is in.
    pub articles: u64,
    /// Titles it was seen with.
    pub titles: Vec<String>,
    /// Identities an operator split from it: never the same as this one.
    pub kept_apart: Vec<i64>,
}

impl Known {
    /// A new identity for an entity of one article: its names are the aliases.
    pub fn new(id: i64, m: &Mentioned) -> Known {
        let mut known = Known {
            id,
            entity_type: m.entity_type,
            canonical_name: m.canonical_name.trim().to_owned(),
            aliases: Vec::new(),
            articles: 1,
            titles: Vec::new(),
            kept_apart: Vec::new(),
        };
        known.absorb(m);
        known
    }

    /// Adds the names and titles of an entity resolved to this identity, and takes its
    /// canonical name when that is better ([`better_canonical`]); a nationality's identity that
    /// takes in its country becomes the country (type and name), so that its keys are the
    /// country's. Returns the aliases added: when there are any, the store rewrites the
    /// identity's [`Resolver::alias_keys`]. Aliases past [`MAX_ALIASES`] and titles past
    /// [`MAX_TITLES`] are not kept. Does not count the article: only the caller knows whether
    /// this identity is already in it.
    pub fn absorb(&mut self, m: &Mentioned) -> Vec<String> {
        if self.entity_type == EntityKind::Norp && m.entity_type == EntityKind::Gpe {
            self.entity_type = EntityKind::Gpe;
            self.canonical_name = m.canonical_name.trim().to_owned();
        } else if better_canonical(self.entity_type, &self.canonical_name, &m.canonical_name) {
            self.canonical_name = m.canonical_name.trim().to_owned();
        }
        let mut added = Vec::new();
        for name in names_of(&m.canonical_name, &m.names, MAX_NAMES) {
            if self.aliases.len() >= MAX_ALIASES {
                break;
            }
            if !self.aliases.iter().any(|a| a.trim() == name) {
                self.aliases.push(name.to_owned());
                added.push(name.to_owned());
            }
        }
        for title in &m.titles {
            let title = title.trim();
            if self.titles.len() < MAX_TITLES
                && !title.is_empty()
                && !self.titles.iter().any(|t| t == title)
            {
                self.titles.push(title.to_owned());
            }
        }
        added
    }
}

/// Whether two identities were kept apart by an operator (either way round): a store must not
/// merge them.
pub fn kept_apart(a: &Known, b: &Known) -> bool {
    a.kept_apart.contains(&b.id) || b.kept_apart.contains(&a.id)
}

/// Words of the text before a name read for its title.
const MAX_TITLE_WORDS_BEFORE: usize = 5;

/// The title written right before a person's name in an article ("Kremlin spokesman" in
/// "... said Kremlin spokesman Dmitry Peskov"), given the text before the name; `None` when
/// there is none. It is the longest run of at most [`MAX_TITLE_WORDS_BEFORE`] words ending at
/// the name, within its clause (punctuation ends the run), each a title word ("President",
/// "spokesman"), a filler ("former", "the") or a capitalized word ("Russian", "Kremlin"), with
/// at least one role word among them (an honorific alone, "Mr", tells nothing).
pub fn title_before(preceding: &str) -> Option<String> {
    let mut run: Vec<&str> = Vec::new();
    // Only the last words are read, so a long text costs no more than a short one.
    for word in preceding
        .split_whitespace()
        .rev()
        .take(MAX_TITLE_WORDS_BEFORE)
    {
        if word.ends_with(|c: char| !c.is_alphanumeric()) || word.contains(['"', '(', ')']) {
            break;
        }
        let folded = fold_words(word);
        let [folded] = folded.as_slice() else {
            break;
        };
        let capitalized = word.chars().next().is_some_and(char::is_uppercase);
        if !(listed(TITLE_WORDS, folded) || listed(TITLE_FILLER, folded) || capitalized) {
            break;
        }
        run.push(word);
    }
    // Filler before the title ("the", "former") is not part of it.
    while run.last().is_some_and(|w| {
        fold_words(w)
            .first()
            .is_some_and(|f| listed(TITLE_FILLER, f))
    }) {
        run.pop();
    }
    run.reverse();
    let role = run.iter().any(|w| {
        fold_words(w)
            .first()
            .is_some_and(|f| listed(TITLE_WORDS, f) && !listed(HONORIFICS, f))
    });
    role.then(|| run.join(" "))
}

/// Whether `incoming` names an identity better than its `current` canonical name: a person's
/// full name over a surname alone ("Vladimir Putin" over "Putin"). Otherwise the name it was
/// first stored under stays, so links and exports keep a stable display name.
pub fn better_canonical(kind: EntityKind, current: &str, incoming: &str) -> bool {
    if kind != EntityKind::Person {
        return current.trim().is_empty() && !incoming.trim().is_empty();
    }
    let bare = |name: &str| parse_person(name).is_none_or(|p| p.given.is_empty());
    bare(current) && !bare(incoming)
}

/// Why an entity was taken for a known identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A person's same full name.
    FullName,
    /// The same surname, and the first name or its initial agrees.
    SurnameWithFirstName,
    /// The same surname, and a title agrees.
    SurnameWithTitle,
    /// The entity gives only the surname, and one known person has it.
    SurnameOnlyUnique,
    /// The same name (not a person).
    SameName,
    /// The entity is the acronym of a known name ("NATO").
    Acronym,
    /// The entity spells out a known acronym ("North Atlantic Treaty Organization").
    Expansion,
    /// Another name of the same country ("Britain", "United Kingdom").
    SameCountry,
    /// A nationality and its country ("Russian", "Russia").
    Demonym,
}

impl Reason {
    /// A short text for people.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::FullName => "the same full name",
            Reason::SurnameWithFirstName => "the same surname, and the first name agrees",
            Reason::SurnameWithTitle => "the same surname, and a title agrees",
            Reason::SurnameOnlyUnique => "a surname alone, and one known person has it",
            Reason::SameName => "the same name",
            Reason::Acronym => "the acronym of a known name",
            Reason::Expansion => "the expansion of a known acronym",
            Reason::SameCountry => "another name of the same country",
            Reason::Demonym => "a nationality of the country",
        }
    }

    /// A stable short name, for counts and logs ("full-name").
    pub fn code(self) -> &'static str {
        match self {
            Reason::FullName => "full-name",
            Reason::SurnameWithFirstName => "surname-with-first-name",
            Reason::SurnameWithTitle => "surname-with-title",
            Reason::SurnameOnlyUnique => "surname-only-unique",
            Reason::SameName => "same-name",
            Reason::Acronym => "acronym",
            Reason::Expansion => "expansion",
            Reason::SameCountry => "same-country",
            Reason::Demonym => "demonym",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// What to do with an entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// It is this known identity.
    Same {
        /// The identity.
        id: i64,
        /// Why.
        reason: Reason,
    },
    /// No known identity fits: make one.
    New,
    /// Several fit, or one might: make a new identity and leave the call to an operator.
    Ambiguous {
        /// The identities that might be it, most articles first.
        candidates: Vec<i64>,
        /// Why no single one was taken, naming them.
        why: String,
    },
}

/// A country of the caller's table, for demonyms and a country's other names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Country {
    /// Its common name ("United Kingdom"); its key.
    pub name: String,
    /// Its other names and codes ("Britain", "UK", "United Kingdom of Great Britain and
    /// Northern Ireland"). A code (a name written in capitals) matches only a name written in
    /// capitals.
    pub other_names: Vec<String>,
    /// Its demonyms ("British"); the plural with an "s" is found too.
    pub demonyms: Vec<String>,
    /// A sovereign state. A name or demonym it shares with dependent territories is its own
    /// ("French" is France's, not the French Southern and Antarctic Lands'); one that two
    /// states, or two territories and no state, share links nothing.
    pub independent: bool,
}

/// The keys and the decision, with the country table they use (none by default). A store must
/// write and look up keys with the same table.
#[derive(Clone, Debug, Default)]
pub struct Resolver {
    /// Folded common names of the countries, by index.
    countries: Vec<String>,
    /// Folded name -> country.
    country_by_name: HashMap<String, Claim>,
    /// Lowercased code -> country.
    country_by_code: HashMap<String, Claim>,
    /// Folded demonym -> country.
    country_by_demonym: HashMap<String, Claim>,
    /// Whether a surname alone is the one known person of that surname without a title that
    /// agrees ([`Resolver::joining_unique_surnames`]).
    join_unique_surnames: bool,
}

/// The country a name, code or demonym of the table names: `None` when two countries of the
/// same standing claim it.
#[derive(Clone, Copy, Debug)]
struct Claim {
    country: Option<usize>,
    independent: bool,
}

impl Resolver {
    /// Without a country table: no demonym or country-name links.
    pub fn new() -> Resolver {
        Resolver::default()
    }

    /// Also takes a surname alone for the one known person of that surname when no title
    /// agrees or disagrees ([`Reason::SurnameOnlyUnique`]: "Putin" for Vladimir Putin). Off by
    /// default: it is right for a rare surname in a large store, but in a store that knows one
    /// Johnson so far it takes the golfer's "Johnson" for the politician. On the evaluation
    /// set replayed in 100 other article orders (`newsflow eval identity --orders 100
    /// --join-unique-surnames`), it merged namesakes in 17 orders (precision 0.996 on
    /// average, 0.957 at worst) for 2.7 points more recall (0.925 against 0.898); without it,
    /// precision was 1.000 in every order.
    pub fn joining_unique_surnames(mut self) -> Resolver {
        self.join_unique_surnames = true;
        self
    }

    /// With a country table (from a gazetteer the caller reads; this crate reads no file).
    pub fn with_countries(countries: &[Country]) -> Resolver {
        let mut resolver = Resolver::default();
        for country in countries {
            let Some(PlainName::Words(words)) = plain_name(&country.name) else {
                continue;
            };
            let index = resolver.countries.len();
            resolver.countries.push(words.join(" "));
            let names = std::iter::once(&country.name).chain(&country.other_names);
            for name in names {
                match plain_name(name) {
                    Some(PlainName::Acronym(code)) => claim(
                        &mut resolver.country_by_code,
                        code,
                        index,
                        country.independent,
                    ),
                    Some(PlainName::Words(words)) => claim(
                        &mut resolver.country_by_name,
                        words.join(" "),
                        index,
                        country.independent,
                    ),
                    None => {}
                }
            }
            for demonym in &country.demonyms {
                if let Some(PlainName::Words(words)) = plain_name(demonym) {
                    claim(
                        &mut resolver.country_by_demonym,
                        words.join(" "),
                        index,
                        country.independent,
                    );
                }
            }
        }
        resolver
    }

    /// The keys one name of an entity or identity of this kind gives (at most 3), e.g.
    /// `person:name:vladimir putin`, `person:surname:putin`, `org:name:north atlantic treaty
    /// organization`, `org:acronym:nato`, `gpe:name:russia`, `gpe:country:russia`. None for a
    /// text that is no name.
    pub fn name_keys(&self, kind: EntityKind, name: &str) -> Vec<String> {
        let prefix = kind.key_prefix();
        let mut keys = Vec::new();
        if kind == EntityKind::Person {
            if let Some(person) = parse_person(name) {
                if !person.given.is_empty() {
                    keys.push(format!("person:name:{}", person.full()));
                }
                keys.push(format!("person:surname:{}", person.surname));
            }
            return keys;
        }
        let Some(plain) = plain_name(name) else {
            return keys;
        };
        match &plain {
            PlainName::Acronym(letters) if has_acronyms(kind) => {
                keys.push(format!("{prefix}:acronym:{letters}"));
            }
            PlainName::Acronym(letters) => keys.push(format!("{prefix}:name:{letters}")),
            PlainName::Words(words) => {
                keys.push(format!("{prefix}:name:{}", words.join(" ")));
                if let Some(letters) = acronym_of(words).filter(|_| has_acronyms(kind)) {
                    keys.push(format!("{prefix}:acronym:{letters}"));
                }
            }
        }
        if let Some(country) = self.country(kind, &plain) {
            keys.push(format!("gpe:country:{}", self.countries[country]));
        }
        keys
    }

    /// The keys the store looks candidates up by: those of the entity's names. A stored
    /// identity with any of them among its [`Resolver::alias_keys`] is a candidate.
    pub fn lookup_keys(&self, m: &Mentioned) -> Vec<String> {
        self.keys_of(
            m.entity_type,
            names_of(&m.canonical_name, &m.names, MAX_NAMES),
        )
    }

    /// The keys the store writes for an identity: those of its canonical name and aliases.
    pub fn alias_keys(&self, k: &Known) -> Vec<String> {
        self.keys_of(
            k.entity_type,
            names_of(&k.canonical_name, &k.aliases, MAX_ALIASES),
        )
    }

    fn keys_of(&self, kind: EntityKind, names: Vec<&str>) -> Vec<String> {
        let mut seen = HashSet::new();
        names
            .into_iter()
            .flat_map(|name| self.name_keys(kind, name))
            .filter(|key| seen.insert(key.clone()))
            .collect()
    }

    /// Whether the entity is one of the candidate identities (see the module documentation
    /// for the rules). Candidates of other types, or found by a key that does not decide,
    /// are simply not it; the order of the candidates does not change the decision. Of more
    /// than [`MAX_CANDIDATES`], those in the most articles are read.
    pub fn decide(&self, m: &Mentioned, candidates: &[Known]) -> Decision {
        let mut candidates: Vec<&Known> = candidates.iter().collect();
        // Most articles first, then the oldest id: the order of every list and of the pick.
        candidates.sort_by(|a, b| b.articles.cmp(&a.articles).then(a.id.cmp(&b.id)));
        candidates.truncate(MAX_CANDIDATES);
        if m.entity_type == EntityKind::Person {
            candidates.retain(|k| {
                k.entity_type == EntityKind::Person && !m.resolved_in_article.contains(&k.id)
            });
            decide_person(m, &candidates, self.join_unique_surnames)
        } else {
            self.decide_plain(m, &candidates)
        }
    }

    /// Organisations, places, nationalities, events, other things.
    fn decide_plain(&self, m: &Mentioned, candidates: &[&Known]) -> Decision {
        let kind = m.entity_type;
        let mine = self.plain_names(kind, &m.canonical_name, &m.names, MAX_NAMES);
        if mine.names.is_empty() {
            return Decision::New;
        }
        let mut same_name = Vec::new();
        let mut acronym = Vec::new();
        let mut expansion = Vec::new();
        let mut same_country = Vec::new();
        let mut demonym = Vec::new();
        for &k in candidates {
            let crossing = matches!(
                (kind, k.entity_type),
                (EntityKind::Norp, EntityKind::Gpe) | (EntityKind::Gpe, EntityKind::Norp)
            );
            if k.entity_type != kind && !crossing {
                continue;
            }
            let theirs =
                self.plain_names(k.entity_type, &k.canonical_name, &k.aliases, MAX_ALIASES);
            let shares_country = mine.countries.iter().any(|c| theirs.countries.contains(c));
            if crossing {
                if shares_country {
                    demonym.push(k);
                }
                continue;
            }
            if mine.names.iter().any(|n| theirs.names.contains(n)) {
                same_name.push(k);
            } else if has_acronyms(kind) && spells_out(&theirs.names, &mine.names) {
                acronym.push(k);
            } else if has_acronyms(kind) && spells_out(&mine.names, &theirs.names) {
                expansion.push(k);
            } else if shares_country {
                if kind == EntityKind::Gpe {
                    same_country.push(k);
                } else {
                    demonym.push(k);
                }
            }
        }
        if !same_name.is_empty() {
            return one_referent(&same_name, Reason::SameName, None);
        }
        for (found, reason) in [(acronym, Reason::Acronym), (expansion, Reason::Expansion)] {
            match found.len() {
                0 => {}
                1 => {
                    return Decision::Same {
                        id: found[0].id,
                        reason,
                    };
                }
                n => {
                    return ambiguous(
                        &found,
                        format!(
                            "{n} known names fit {}: {}",
                            shown(&m.canonical_name),
                            list(&found)
                        ),
                    );
                }
            }
        }
        if !same_country.is_empty() {
            return one_referent(&same_country, Reason::SameCountry, None);
        }
        if !demonym.is_empty() {
            return one_referent(&demonym, Reason::Demonym, Some(EntityKind::Gpe));
        }
        Decision::New
    }

    /// The folded names of one side, and the countries they name.
    fn plain_names(
        &self,
        kind: EntityKind,
        canonical: &str,
        more: &[String],
        cap: usize,
    ) -> PlainNames {
        let mut out = PlainNames::default();
        for name in names_of(canonical, more, cap) {
            let Some(plain) = plain_name(name) else {
                continue;
            };
            if let Some(country) = self.country(kind, &plain)
                && !out.countries.contains(&country)
            {
                out.countries.push(country);
            }
            if !out.names.contains(&plain) {
                out.names.push(plain);
            }
        }
        out
    }

    /// The country a GPE's name or a NORP's demonym names, by the table.
    fn country(&self, kind: EntityKind, name: &PlainName) -> Option<usize> {
        let found = match (kind, name) {
            (EntityKind::Gpe, PlainName::Acronym(code)) => self.country_by_code.get(code),
            (EntityKind::Gpe, PlainName::Words(words)) => {
                self.country_by_name.get(&words.join(" "))
            }
            (EntityKind::Norp, PlainName::Words(words)) => {
                let demonym = words.join(" ");
                // "Russians": the plural of a demonym the table has in the singular.
                self.country_by_demonym.get(&demonym).or_else(|| {
                    let singular = demonym.strip_suffix('s')?;
                    self.country_by_demonym.get(singular)
                })
            }
            _ => None,
        };
        found.and_then(|claim| claim.country)
    }
}

/// Records that country `index` claims `key`: a state's claim outranks a territory's, and
/// two claims of the same standing cancel out.
fn claim(map: &mut HashMap<String, Claim>, key: String, index: usize, independent: bool) {
    let mine = Claim {
        country: Some(index),
        independent,
    };
    map.entry(key)
        .and_modify(|held| {
            if held.country == Some(index) || (held.independent && !independent) {
                return;
            }
            if independent && !held.independent {
                *held = mine;
            } else {
                held.country = None;
            }
        })
        .or_insert(mine);
}

/// Whether the kind's names are linked to their acronyms.
fn has_acronyms(kind: EntityKind) -> bool {
    matches!(kind, EntityKind::Org | EntityKind::Gpe)
}

/// The names of one side of a non-person decision.
#[derive(Default)]
struct PlainNames {
    names: Vec<PlainName>,
    countries: Vec<usize>,
}

/// Whether a multi-word name among `expansions` has the initials of an acronym among
/// `acronyms`.
fn spells_out(expansions: &[PlainName], acronyms: &[PlainName]) -> bool {
    expansions.iter().any(|e| match e {
        PlainName::Words(words) => acronym_of(words).is_some_and(|letters| {
            acronyms
                .iter()
                .any(|a| matches!(a, PlainName::Acronym(x) if *x == letters))
        }),
        PlainName::Acronym(_) => false,
    })
}

/// Several candidates with evidence that names one thing (the same name, the same country):
/// copies of one identity in the store, of which the one in most articles is taken, unless an
/// operator kept some of them apart. `prefer` is a type taken first (a country over a
/// nationality's own identity).
fn one_referent(found: &[&Known], reason: Reason, prefer: Option<EntityKind>) -> Decision {
    let apart = found
        .iter()
        .enumerate()
        .any(|(i, a)| found[i + 1..].iter().any(|b| kept_apart(a, b)));
    if apart {
        return ambiguous(
            found,
            format!(
                "{} fit ({}), and an operator kept some of them apart: {}",
                found.len(),
                reason.describe(),
                list(found)
            ),
        );
    }
    // `found` is in candidate order (most articles first), so the first preferred one wins.
    let pick = found
        .iter()
        .find(|k| Some(k.entity_type) == prefer)
        .unwrap_or(&found[0]);
    Decision::Same {
        id: pick.id,
        reason,
    }
}

fn ambiguous(found: &[&Known], why: String) -> Decision {
    Decision::Ambiguous {
        candidates: found.iter().map(|k| k.id).collect(),
        why,
    }
}

/// A name as messages show it: trimmed, at most [`MAX_NAME_CHARS`] characters.
fn shown(name: &str) -> String {
    name.trim().chars().take(MAX_NAME_CHARS).collect()
}

/// "Boris Johnson (id 3), Dustin Johnson (id 7)", at most five, then how many more.
fn list(found: &[&Known]) -> String {
    const SHOWN: usize = 5;
    let mut text = found
        .iter()
        .take(SHOWN)
        .map(|k| format!("{} (id {})", shown(&k.canonical_name), k.id))
        .collect::<Vec<_>>()
        .join(", ");
    if found.len() > SHOWN {
        text.push_str(&format!(" and {} more", found.len() - SHOWN));
    }
    text
}

/// How a known person relates to the entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PersonFit {
    /// A full name of theirs is one of the entity's.
    FullName,
    /// The same surname, and every full name of theirs with it agrees in its given names.
    FirstNameAgrees,
    /// The same surname; given names agree, but a middle name or suffix is on one side only.
    OneSided,
    /// The same surname with another first name.
    Namesake,
    /// The same surname, and one side has nothing more (no given name).
    SurnameOnly,
    /// Not the same surname.
    Unrelated,
}

fn decide_person(m: &Mentioned, candidates: &[&Known], join_unique_surnames: bool) -> Decision {
    let names: Vec<PersonName> = names_of(&m.canonical_name, &m.names, MAX_NAMES)
        .into_iter()
        .filter_map(parse_person)
        .collect();
    // The name the rules read: the canonical one when it is a full name, else the first full
    // name, else the surname the article gives.
    let Some(primary) = names
        .iter()
        .find(|n| !n.given.is_empty())
        .or_else(|| names.first())
    else {
        return Decision::New;
    };
    let my_titles = titles_of(&m.titles, &names);
    // Each candidate with how it fits and how its titles compare with the entity's.
    let fits: Vec<(PersonFit, TitleEvidence, &Known)> = candidates
        .iter()
        .map(|&k| {
            let theirs: Vec<PersonName> = names_of(&k.canonical_name, &k.aliases, MAX_ALIASES)
                .into_iter()
                .filter_map(parse_person)
                .collect();
            let titles = compare_titles(&my_titles, &titles_of(&k.titles, &theirs));
            (person_fit(&names, primary, &theirs), titles, k)
        })
        .collect();
    let of = |fit: PersonFit| -> Vec<&Known> {
        fits.iter()
            .filter(|(f, ..)| *f == fit)
            .map(|(.., k)| *k)
            .collect()
    };
    let title_evidence = |k: &Known| {
        fits.iter()
            .find(|(.., c)| c.id == k.id)
            .map_or(TitleEvidence::Unknown, |(_, t, _)| *t)
    };
    let surname = display_surname(&m.canonical_name);

    if !primary.given.is_empty() {
        let exact = of(PersonFit::FullName);
        if !exact.is_empty() {
            return one_referent(&exact, Reason::FullName, None);
        }
        let agrees = of(PersonFit::FirstNameAgrees);
        let one_sided = of(PersonFit::OneSided);
        if agrees.len() == 1 && one_sided.is_empty() {
            return Decision::Same {
                id: agrees[0].id,
                reason: Reason::SurnameWithFirstName,
            };
        }
        if !agrees.is_empty() || !one_sided.is_empty() {
            let maybe: Vec<&Known> = agrees.iter().chain(&one_sided).copied().collect();
            let why = if agrees.is_empty() {
                format!(
                    "{} may be {}: a middle name, initial or suffix is written on one side only",
                    shown(&m.canonical_name),
                    list(&maybe)
                )
            } else {
                format!(
                    "{} known people fit {}: {}",
                    maybe.len(),
                    shown(&m.canonical_name),
                    list(&maybe)
                )
            };
            return ambiguous(&maybe, why);
        }
        let by_surname = of(PersonFit::SurnameOnly);
        let namesakes = of(PersonFit::Namesake);
        // An identity known by a surname alone may be any namesake (it was made when nothing
        // told which): a full name joins it only on a title that agrees.
        if by_surname.len() == 1
            && namesakes.is_empty()
            && title_evidence(by_surname[0]) == TitleEvidence::Agree
        {
            return Decision::Same {
                id: by_surname[0].id,
                reason: Reason::SurnameWithTitle,
            };
        }
        if !by_surname.is_empty() {
            let besides = match namesakes.len() {
                0 => "no title here says so".to_owned(),
                n => format!("{n} namesakes with other first names are known too"),
            };
            return ambiguous(
                &by_surname,
                format!(
                    "{} may be the {surname} known by surname only, {}; {besides}",
                    shown(&m.canonical_name),
                    list(&by_surname),
                ),
            );
        }
        return Decision::New;
    }

    // A surname alone: every known person of that surname is a candidate.
    let same_surname = of(PersonFit::SurnameOnly);
    if same_surname.is_empty() {
        return Decision::New;
    }
    let agreeing: Vec<&Known> = same_surname
        .iter()
        .copied()
        .filter(|k| title_evidence(k) == TitleEvidence::Agree)
        .collect();
    if agreeing.len() == 1 {
        return Decision::Same {
            id: agreeing[0].id,
            reason: Reason::SurnameWithTitle,
        };
    }
    if same_surname.len() == 1 {
        let k = same_surname[0];
        if title_evidence(k) == TitleEvidence::Conflict {
            let here: Vec<String> = my_titles.iter().map(|t| t.join(" ")).collect();
            return ambiguous(
                &same_surname,
                format!(
                    "the one known {surname}, {}, has other titles than here ({})",
                    list(&same_surname),
                    here.join(", ")
                ),
            );
        }
        if join_unique_surnames {
            return Decision::Same {
                id: k.id,
                reason: Reason::SurnameOnlyUnique,
            };
        }
        return ambiguous(
            &same_surname,
            format!(
                "{surname} alone: the one known {surname} is {}, but no title here says so",
                list(&same_surname)
            ),
        );
    }
    ambiguous(
        &same_surname,
        format!(
            "{} known people named {surname}: {}",
            same_surname.len(),
            list(&same_surname)
        ),
    )
}

/// How a known person (`theirs`: their names, parsed) relates to the entity's names, of which
/// `primary` is the one the rules read.
fn person_fit(mine: &[PersonName], primary: &PersonName, theirs: &[PersonName]) -> PersonFit {
    let full = |n: &&PersonName| !n.given.is_empty();
    if mine
        .iter()
        .filter(full)
        .any(|a| theirs.iter().filter(full).any(|b| a.same_full_name(b)))
    {
        return PersonFit::FullName;
    }
    if !theirs.iter().any(|n| n.surname == primary.surname) {
        return PersonFit::Unrelated;
    }
    if primary.given.is_empty() {
        return PersonFit::SurnameOnly;
    }
    let relations: Vec<GivenNames> = theirs
        .iter()
        .filter(|n| full(n) && n.surname == primary.surname)
        .map(|n| primary.given_names_against(n))
        .collect();
    if relations.is_empty() {
        PersonFit::SurnameOnly
    } else if relations.contains(&GivenNames::Differ) {
        PersonFit::Namesake
    } else if relations.contains(&GivenNames::OneSided) {
        PersonFit::OneSided
    } else {
        PersonFit::FirstNameAgrees
    }
}

/// The last word of a name as written ("Johnson" of "Mr Johnson"), for messages.
fn display_surname(name: &str) -> String {
    name.split_whitespace()
        .next_back()
        .unwrap_or("")
        .trim_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .take(MAX_NAME_CHARS)
        .collect()
}

/// A person's name, folded: given names (first, then middle names or initials), the surname
/// with its particles, a suffix, and the title words written before it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PersonName {
    given: Vec<String>,
    surname: String,
    suffix: Option<String>,
    title: Vec<String>,
}

/// How two full names of one surname relate by their given names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GivenNames {
    /// Every given name agrees (equal, or an initial of the other).
    Agree,
    /// They agree as far as both go, but one has a middle name or suffix the other lacks.
    OneSided,
    /// A first or middle name, or the suffix, differs.
    Differ,
}

impl PersonName {
    fn full(&self) -> String {
        let mut words: Vec<&str> = self.given.iter().map(String::as_str).collect();
        words.push(&self.surname);
        if let Some(suffix) = &self.suffix {
            words.push(suffix);
        }
        words.join(" ")
    }

    fn same_full_name(&self, other: &PersonName) -> bool {
        self.given == other.given && self.surname == other.surname && self.suffix == other.suffix
    }

    /// Both are full names of one surname.
    fn given_names_against(&self, other: &PersonName) -> GivenNames {
        let agree = |a: &String, b: &String| {
            a == b
                || (is_initial(a) && b.starts_with(a.as_str()))
                || (is_initial(b) && a.starts_with(b.as_str()))
        };
        if self
            .given
            .iter()
            .zip(&other.given)
            .any(|(a, b)| !agree(a, b))
        {
            return GivenNames::Differ;
        }
        let mut one_sided = self.given.len() != other.given.len();
        match (&self.suffix, &other.suffix) {
            (Some(a), Some(b)) if a != b => return GivenNames::Differ,
            (Some(_), None) | (None, Some(_)) => one_sided = true,
            _ => {}
        }
        if one_sided {
            GivenNames::OneSided
        } else {
            GivenNames::Agree
        }
    }
}

fn is_initial(word: &str) -> bool {
    word.chars().count() == 1
}

/// Words stripped from the front of a person's name (honorifics and titles); they are kept as
/// title evidence, except the honorifics of [`HONORIFICS`].
const TITLE_WORDS: &str = "mr mrs ms miss mx mme dr prof professor sir dame lord lady rev reverend fr \
    president vice prime minister pm premier chancellor senator sen rep \
    representative congressman congresswoman governor gov mayor king queen prince \
    princess emperor pope cardinal archbishop bishop imam rabbi sheikh general gen \
    colonel col major maj captain capt lieutenant lt sergeant sgt admiral commander \
    judge justice secretary ambassador councillor councilor chairman chairwoman \
    chief executive ceo coach former deputy acting foreign finance defence defense \
    interior economy health spokesman spokeswoman spokesperson";

/// Title words that are also surnames: left as the name when nothing else is ("King", "Major").
const TITLE_WORDS_THAT_ARE_NAMES: &str =
    "king major bishop judge prince lord justice chancellor general queen coach";

/// Honorifics: not evidence of who someone is.
const HONORIFICS: &str =
    "mr mrs ms miss mx mme dr prof professor sir dame lord lady rev reverend fr";

/// Words of a title that say nothing of the role.
const TITLE_FILLER: &str = "former then the of a an acting outgoing incoming current ex and";

const SUFFIXES: &str = "jr sr junior senior ii iii iv";

/// Lowercase words before a surname that belong to it ("von der Leyen", "De Niro").
const PARTICLES: &str = "von van der den de da di du del della dos das le la ter ten";

/// Words left out of an acronym ("North Atlantic Treaty Organization" -> "nato",
/// "Organization for Economic Co-operation and Development" -> "oecd").
const ACRONYM_SKIPPED: &str = "of the for and on in to at a an de du des la le et";

/// Whether `word` is one of the space-separated words of `list`.
fn listed(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

fn parse_person(raw: &str) -> Option<PersonName> {
    let mut words = name_words(raw)?;
    let mut title = Vec::new();
    while words.len() > 1 && listed(TITLE_WORDS, &words[0]) {
        title.push(words.remove(0));
    }
    if words.len() == 1
        && listed(TITLE_WORDS, &words[0])
        && !listed(TITLE_WORDS_THAT_ARE_NAMES, &words[0])
    {
        // "Mr", "President": a title without a name.
        return None;
    }
    let suffix = match words.last() {
        Some(last) if words.len() > 1 && listed(SUFFIXES, last) => words.pop(),
        _ => None,
    };
    let mut start = words.len() - 1;
    while start > 0 && listed(PARTICLES, &words[start - 1]) {
        start -= 1;
    }
    let surname = words[start..].join(" ");
    words.truncate(start);
    Some(PersonName {
        given: words,
        surname,
        suffix,
        title,
    })
}

/// A non-person name, folded: an acronym (a name written in capitals, "NATO", "U.N.", "the
/// WHO") by its lowercase letters, any other name by its words without a leading "the".
#[derive(Clone, Debug, PartialEq, Eq)]
enum PlainName {
    Acronym(String),
    Words(Vec<String>),
}

fn plain_name(raw: &str) -> Option<PlainName> {
    if let Some(letters) = acronym_form(raw) {
        return Some(PlainName::Acronym(letters));
    }
    let mut words = name_words(raw)?;
    if words.len() > 1 && words[0] == "the" {
        words.remove(0);
    }
    for word in &mut words {
        // British and American spellings of the same body: "Organisation", "Organization".
        if let Some(stem) = word.strip_suffix("isation") {
            *word = format!("{stem}ization");
        } else if let Some(stem) = word.strip_suffix("isations") {
            *word = format!("{stem}izations");
        }
    }
    Some(PlainName::Words(words))
}

/// The lowercase letters of a name written as an acronym: one word of 2 to
/// [`MAX_ACRONYM_LETTERS`] capital letters, dots allowed ("U.N."), after a possessive and a
/// leading "the" are dropped.
fn acronym_form(raw: &str) -> Option<String> {
    let text = strip_possessive(raw.trim());
    let text = match text.get(..4) {
        Some(the) if the.eq_ignore_ascii_case("the ") => text[4..].trim_start(),
        _ => text,
    };
    // One letter past the longest acronym is enough to tell: the rest is never read.
    let letters: String = text
        .chars()
        .filter(|&c| c != '.')
        .take(MAX_ACRONYM_LETTERS + 1)
        .collect();
    let count = letters.chars().count();
    ((2..=MAX_ACRONYM_LETTERS).contains(&count) && letters.chars().all(|c| c.is_ascii_uppercase()))
        .then(|| letters.to_ascii_lowercase())
}

/// The initials of a name's words other than [`ACRONYM_SKIPPED`], when there are 2 to
/// [`MAX_ACRONYM_LETTERS`] of them.
fn acronym_of(words: &[String]) -> Option<String> {
    let initials: Vec<char> = words
        .iter()
        .filter(|w| !listed(ACRONYM_SKIPPED, w))
        .filter_map(|w| w.chars().next())
        .collect();
    (2..=MAX_ACRONYM_LETTERS)
        .contains(&initials.len())
        .then(|| initials.into_iter().collect())
}

/// The folded words of a name, or `None` for a text that is no name (no word, or more than
/// [`MAX_NAME_WORDS`]).
fn name_words(raw: &str) -> Option<Vec<String>> {
    let words = fold_words(raw);
    (!words.is_empty() && words.len() <= MAX_NAME_WORDS).then_some(words)
}

/// Folds a text (its first [`MAX_NAME_CHARS`] characters) into words: diacritics dropped,
/// lowercase; letters and digits make words, an apostrophe joins ("O'Brien" -> "obrien"), a
/// hyphen inside a word stays ("Mohd-Saaid"), "&" is the word "and", anything else separates
/// ("U.N." -> "u n", "George W. Bush" -> "george w bush"). A final possessive "'s" is dropped.
fn fold_words(raw: &str) -> Vec<String> {
    let cut: String = raw.chars().take(MAX_NAME_CHARS).collect();
    let text = strip_possessive(cut.trim());
    let mut words = Vec::new();
    let mut word = String::new();
    let end_word = |word: &mut String, words: &mut Vec<String>| {
        let trimmed = word.trim_end_matches('-');
        if !trimmed.is_empty() {
            words.push(trimmed.to_owned());
        }
        word.clear();
    };
    for c in text.nfkd() {
        if is_combining_mark(c) || matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`') {
            continue;
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else if matches!(c, '-' | '\u{2010}' | '\u{2011}') && !word.is_empty() {
            word.push('-');
        } else {
            end_word(&mut word, &mut words);
            if c == '&' {
                words.push("and".to_owned());
            }
        }
    }
    end_word(&mut word, &mut words);
    words
}

fn strip_possessive(text: &str) -> &str {
    for suffix in ["'s", "'S", "\u{2019}s", "\u{2019}S"] {
        if let Some(stem) = text.strip_suffix(suffix) {
            return stem;
        }
    }
    text
}

/// The canonical name first, then the other names, each once, without empty ones, at most
/// `cap`.
fn names_of<'a>(canonical: &'a str, more: &'a [String], cap: usize) -> Vec<&'a str> {
    let mut names: Vec<&str> = Vec::new();
    for name in std::iter::once(canonical).chain(more.iter().map(String::as_str)) {
        let name = name.trim();
        if names.len() == cap {
            break;
        }
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The titles of one side, as sets of role words: those given, and those written before its
/// names ("President Putin").
fn titles_of(titles: &[String], names: &[PersonName]) -> Vec<Vec<String>> {
    let from_names = names.iter().map(|n| n.title.join(" "));
    let mut out: Vec<Vec<String>> = Vec::new();
    for title in titles
        .iter()
        .take(MAX_TITLES)
        .cloned()
        .chain(from_names.take(MAX_TITLES))
    {
        let words = title_words(&title);
        if !words.is_empty() && !out.contains(&words) {
            out.push(words);
        }
    }
    out
}

/// A title's role words, sorted: filler and honorifics dropped, synonyms made one.
fn title_words(title: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in fold_words(title) {
        for part in word.split('-').filter(|p| !p.is_empty()) {
            if listed(TITLE_FILLER, part) || listed(HONORIFICS, part) {
                continue;
            }
            match part {
                "spokesman" | "spokeswoman" => words.push("spokesperson".to_owned()),
                "pm" => words.extend(["prime".to_owned(), "minister".to_owned()]),
                "ceo" => words.extend(["chief".to_owned(), "executive".to_owned()]),
                _ => words.push(part.to_owned()),
            }
        }
    }
    words.sort_unstable();
    words.dedup();
    words
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TitleEvidence {
    /// A title of one side is made of words of a title of the other.
    Agree,
    /// Both sides have titles, and none agrees.
    Conflict,
    /// A side has no title.
    Unknown,
}

fn compare_titles(a: &[Vec<String>], b: &[Vec<String>]) -> TitleEvidence {
    if a.is_empty() || b.is_empty() {
        return TitleEvidence::Unknown;
    }
    let within = |small: &Vec<String>, big: &Vec<String>| small.iter().all(|w| big.contains(w));
    if a.iter()
        .any(|x| b.iter().any(|y| within(x, y) || within(y, x)))
    {
        TitleEvidence::Agree
    } else {
        TitleEvidence::Conflict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_before_a_name_is_read_within_its_clause() {
        assert_eq!(
            title_before("The Kremlin's view, said Kremlin spokesman ").as_deref(),
            Some("Kremlin spokesman")
        );
        assert_eq!(
            title_before("Talks went on. Russian President ").as_deref(),
            Some("Russian President")
        );
        assert_eq!(
            title_before("On Thursday, the former President ").as_deref(),
            Some("President")
        );
        // No title, an honorific alone, or a title in another clause.
        assert_eq!(title_before("Moscow said "), None);
        assert_eq!(title_before("Mr "), None);
        assert_eq!(title_before("the president said, "), None);
        assert_eq!(title_before(""), None);
        // However long the text, only its last words are read.
        let long = "word ".repeat(100_000) + "Prime Minister ";
        assert_eq!(title_before(&long).as_deref(), Some("Prime Minister"));
    }

    fn person(canonical: &str, names: &[&str]) -> Mentioned {
        Mentioned::new(EntityKind::Person, canonical, names)
    }

    fn with_titles(mut m: Mentioned, titles: &[&str]) -> Mentioned {
        m.titles = titles.iter().map(|t| (*t).to_owned()).collect();
        m
    }

    fn known(id: i64, m: &Mentioned) -> Known {
        Known::new(id, m)
    }

    fn same(id: i64, reason: Reason) -> Decision {
        Decision::Same { id, reason }
    }

    fn countries() -> Vec<Country> {
        let country = |name: &str, other: &[&str], demonyms: &[&str]| Country {
            name: name.to_owned(),
            other_names: other.iter().map(|n| (*n).to_owned()).collect(),
            demonyms: demonyms.iter().map(|n| (*n).to_owned()).collect(),
            independent: true,
        };
        vec![
            country("Russia", &["RU", "Russian Federation"], &["Russian"]),
            country(
                "United Kingdom",
                &["GB", "UK", "Britain", "Great Britain"],
                &["British"],
            ),
            country("France", &["FR", "French Republic"], &["French"]),
            country("Dominica", &["DM"], &["Dominican"]),
            country("Dominican Republic", &["DO"], &["Dominican"]),
            // A territory that shares France's demonym: France keeps it.
            Country {
                independent: false,
                ..country("French Southern Lands", &["TF"], &["French"])
            },
        ]
    }

    #[test]
    fn labels_map_to_kinds_and_dates_have_no_identity() {
        assert_eq!(EntityKind::from_label("PERSON"), Some(EntityKind::Person));
        assert_eq!(EntityKind::from_label(" per "), Some(EntityKind::Person));
        assert_eq!(
            EntityKind::from_label("ENTITY_TYPE_NORP"),
            Some(EntityKind::Norp)
        );
        assert_eq!(EntityKind::from_label("gpe"), Some(EntityKind::Gpe));
        assert_eq!(EntityKind::from_label("MISC"), Some(EntityKind::Other));
        assert_eq!(EntityKind::from_label("DATE"), None);
        assert_eq!(EntityKind::from_label(""), None);
        for kind in [
            EntityKind::Person,
            EntityKind::Org,
            EntityKind::Gpe,
            EntityKind::Loc,
            EntityKind::Norp,
            EntityKind::Event,
            EntityKind::Other,
        ] {
            assert_eq!(EntityKind::from_label(kind.label()), Some(kind));
        }
    }

    #[test]
    fn names_fold_case_diacritics_punctuation_and_honorifics() {
        let p = parse_person("Dr. António GUTERRES's").expect("a name");
        assert_eq!(
            (p.given.as_slice(), p.surname.as_str()),
            (&["antonio".to_owned()][..], "guterres")
        );
        assert_eq!(p.title, ["dr"]);
        let p = parse_person("Prime Minister Boris Johnson").expect("a name");
        assert_eq!(p.full(), "boris johnson");
        assert_eq!(p.title, ["prime", "minister"]);
        assert_eq!(
            parse_person("Ursula von der Leyen")
                .expect("a name")
                .surname,
            "von der leyen"
        );
        assert_eq!(
            parse_person("von der Leyen").expect("a name").surname,
            "von der leyen"
        );
        let p = parse_person("Ken Griffey Jr.").expect("a name");
        assert_eq!(
            (p.surname.as_str(), p.suffix.as_deref()),
            ("griffey", Some("jr"))
        );
        assert_eq!(
            parse_person("George H.W. Bush").expect("a name").full(),
            "george h w bush"
        );
        assert_eq!(
            parse_person("Ms Mohd-Saaid").expect("a name").surname,
            "mohd-saaid"
        );
        assert_eq!(
            parse_person("Seán O\u{2019}Brien").expect("a name").full(),
            "sean obrien"
        );
        // A title alone is no name; a title word that is also a surname is a name.
        assert_eq!(parse_person("President"), None);
        assert_eq!(parse_person("Major").expect("a name").surname, "major");
        assert_eq!(
            plain_name("the WHO"),
            Some(PlainName::Acronym("who".into()))
        );
        assert_eq!(plain_name("U.N."), Some(PlainName::Acronym("un".into())));
        assert_eq!(
            plain_name("The Who"),
            Some(PlainName::Words(vec!["who".into()]))
        );
        assert_eq!(
            plain_name("World Health Organisation"),
            plain_name("world health organization")
        );
    }

    #[test]
    fn keys_name_the_indexed_forms() {
        let r = Resolver::with_countries(&countries());
        let putin = person("Vladimir Putin", &["Putin", "President Putin"]);
        assert_eq!(
            r.lookup_keys(&putin),
            ["person:name:vladimir putin", "person:surname:putin"]
        );
        let nato = Mentioned::new(
            EntityKind::Org,
            "North Atlantic Treaty Organization",
            &["NATO"],
        );
        assert_eq!(
            r.lookup_keys(&nato),
            [
                "org:name:north atlantic treaty organization",
                "org:acronym:nato"
            ]
        );
        let russian = Mentioned::new(EntityKind::Norp, "Russian", &["Russians"]);
        assert_eq!(
            r.lookup_keys(&russian),
            [
                "norp:name:russian",
                "gpe:country:russia",
                "norp:name:russians"
            ]
        );
        let uk = Mentioned::new(EntityKind::Gpe, "the UK", &[]);
        assert_eq!(
            r.lookup_keys(&uk),
            ["gpe:acronym:uk", "gpe:country:united kingdom"]
        );
        // Without a country table, no crossing keys.
        assert_eq!(
            Resolver::new().lookup_keys(&russian),
            ["norp:name:russian", "norp:name:russians"]
        );
    }

    #[test]
    fn an_identity_is_found_by_the_keys_of_its_own_names() {
        let r = Resolver::with_countries(&countries());
        let entities = [
            person("Vladimir Putin", &["Putin"]),
            person("Putin", &["President Putin"]),
            person("Ursula von der Leyen", &[]),
            Mentioned::new(EntityKind::Org, "NATO", &[]),
            Mentioned::new(EntityKind::Org, "World Health Organization", &["WHO"]),
            Mentioned::new(EntityKind::Gpe, "Britain", &[]),
            Mentioned::new(EntityKind::Norp, "British", &[]),
            Mentioned::new(EntityKind::Loc, "the Black Sea", &[]),
            Mentioned::new(EntityKind::Event, "World War II", &[]),
        ];
        for m in &entities {
            let lookup: HashSet<String> = r.lookup_keys(m).into_iter().collect();
            let stored = r.alias_keys(&known(1, m));
            assert!(!lookup.is_empty(), "{m:?}");
            assert!(stored.iter().any(|k| lookup.contains(k)), "{m:?}");
            assert_eq!(r.decide(m, &[known(1, m)]), r.decide(m, &[known(1, m)]));
            assert!(
                matches!(r.decide(m, &[known(1, m)]), Decision::Same { id: 1, .. }),
                "{m:?}"
            );
        }
    }

    #[test]
    fn the_decision_over_the_candidates_the_keys_find_is_the_decision_over_all() {
        // The store only sees what the keys find: every rule must need a shared key.
        let r = Resolver::with_countries(&countries());
        let stored: Vec<Known> = [
            person("Vladimir Putin", &["Putin"]),
            person("Boris Johnson", &["Johnson"]),
            person("Dustin Johnson", &[]),
            person("George W. Bush", &[]),
            person("Putin", &[]),
            Mentioned::new(EntityKind::Org, "NATO", &[]),
            Mentioned::new(EntityKind::Org, "United Nations", &[]),
            Mentioned::new(EntityKind::Gpe, "Russia", &[]),
            Mentioned::new(EntityKind::Gpe, "United Kingdom", &[]),
            Mentioned::new(EntityKind::Gpe, "Paris", &[]),
            Mentioned::new(EntityKind::Norp, "French", &[]),
        ]
        .iter()
        .enumerate()
        .map(|(i, m)| known(i as i64 + 1, m))
        .collect();
        let entities = [
            person("Putin", &[]),
            person("V. Putin", &[]),
            person("Johnson", &[]),
            with_titles(person("Johnson", &[]), &["Prime Minister"]),
            person("B. Johnson", &[]),
            person("Magic Johnson", &[]),
            person("George Bush", &[]),
            person("Paris Hilton", &[]),
            Mentioned::new(EntityKind::Org, "North Atlantic Treaty Organization", &[]),
            Mentioned::new(EntityKind::Org, "U.N.", &[]),
            Mentioned::new(EntityKind::Norp, "Russians", &[]),
            Mentioned::new(EntityKind::Gpe, "Britain", &[]),
            Mentioned::new(EntityKind::Gpe, "France", &[]),
            Mentioned::new(EntityKind::Gpe, "Paris", &[]),
        ];
        for m in &entities {
            let keys: HashSet<String> = r.lookup_keys(m).into_iter().collect();
            let found: Vec<Known> = stored
                .iter()
                .filter(|k| r.alias_keys(k).iter().any(|key| keys.contains(key)))
                .cloned()
                .collect();
            assert_eq!(r.decide(m, &found), r.decide(m, &stored), "{m:?}");
            let mut reversed = found.clone();
            reversed.reverse();
            assert_eq!(r.decide(m, &reversed), r.decide(m, &found), "{m:?}");
        }
    }

    #[test]
    fn a_full_name_is_the_same_person_and_a_surname_alone_the_only_one_known() {
        let r = Resolver::new();
        let putin = known(
            7,
            &with_titles(person("Vladimir Putin", &["Putin"]), &["Russian President"]),
        );
        assert_eq!(
            r.decide(&person("Vladimir Putin", &[]), std::slice::from_ref(&putin)),
            same(7, Reason::FullName)
        );
        assert_eq!(
            r.decide(
                &person("VLADIMIR PUTIN's", &[]),
                std::slice::from_ref(&putin)
            ),
            same(7, Reason::FullName)
        );
        assert_eq!(
            r.decide(
                &person("President Putin", &["Putin"]),
                std::slice::from_ref(&putin)
            ),
            same(7, Reason::SurnameWithTitle)
        );
        // The only Putin known, but nothing here says it is him: by default not taken, and
        // the why says so; taken when the store joins unique surnames.
        match r.decide(&person("Mr Putin", &[]), std::slice::from_ref(&putin)) {
            Decision::Ambiguous { candidates, why } => {
                assert_eq!(candidates, [7]);
                assert_eq!(
                    why,
                    "Putin alone: the one known Putin is Vladimir Putin (id 7), but no title \
                     here says so"
                );
            }
            other => panic!("{other:?}"),
        }
        let joining = Resolver::new().joining_unique_surnames();
        assert_eq!(
            joining.decide(&person("Mr Putin", &[]), std::slice::from_ref(&putin)),
            same(7, Reason::SurnameOnlyUnique)
        );
        assert_eq!(
            r.decide(&person("V. Putin", &[]), std::slice::from_ref(&putin)),
            same(7, Reason::SurnameWithFirstName)
        );
        // Known by surname only, then named in full: the same only on a title that agrees,
        // since the surname-only identity may be any namesake.
        let bare = known(8, &with_titles(person("Putin", &[]), &["President"]));
        assert!(matches!(
            r.decide(&person("Vladimir Putin", &[]), std::slice::from_ref(&bare)),
            Decision::Ambiguous { .. }
        ));
        assert_eq!(
            r.decide(
                &with_titles(person("Vladimir Putin", &[]), &["Russian President"]),
                std::slice::from_ref(&bare)
            ),
            same(8, Reason::SurnameWithTitle)
        );
        assert_eq!(r.decide(&person("Zelensky", &[]), &[putin]), Decision::New);
    }

    #[test]
    fn namesakes_stay_apart_and_an_ambiguous_surname_says_why() {
        let r = Resolver::new();
        let boris = known(
            3,
            &with_titles(person("Boris Johnson", &["Johnson"]), &["Prime Minister"]),
        );
        let dustin = known(7, &with_titles(person("Dustin Johnson", &[]), &["golfer"]));
        let both = [boris.clone(), dustin.clone()];
        // A different first name is never the same person, however alone the surname is.
        assert_eq!(
            r.decide(&person("Dustin Johnson", &[]), std::slice::from_ref(&boris)),
            Decision::New
        );
        assert_eq!(
            r.decide(&person("Magic Johnson", &["Johnson"]), &both),
            Decision::New
        );
        assert_eq!(
            r.decide(&person("Dustin Johnson", &[]), &both),
            same(7, Reason::FullName)
        );
        match r.decide(&person("Johnson", &[]), &both) {
            Decision::Ambiguous { candidates, why } => {
                assert_eq!(candidates.len(), 2);
                assert_eq!(
                    why,
                    "2 known people named Johnson: Boris Johnson (id 3), Dustin Johnson (id 7)"
                );
            }
            other => panic!("{other:?}"),
        }
        // A title in this article settles it.
        let pm = with_titles(person("Mr Johnson", &[]), &["former prime minister"]);
        assert_eq!(r.decide(&pm, &both), same(3, Reason::SurnameWithTitle));
        let golfer = with_titles(person("Johnson", &[]), &["Golfer"]);
        assert_eq!(r.decide(&golfer, &both), same(7, Reason::SurnameWithTitle));
        // The only Johnson known, but with other titles than here: not taken, even by a
        // resolver that joins unique surnames.
        let coach = with_titles(person("Johnson", &[]), &["Lakers coach"]);
        let joining = Resolver::new().joining_unique_surnames();
        match joining.decide(&coach, std::slice::from_ref(&boris)) {
            Decision::Ambiguous { why, .. } => assert!(why.contains("other titles"), "{why}"),
            other => panic!("{other:?}"),
        }
        // An initial that fits one of them.
        assert_eq!(
            r.decide(&person("D. Johnson", &[]), &both),
            same(7, Reason::SurnameWithFirstName)
        );
        // A full name whose surname is known only bare, beside a namesake: not taken.
        let bare = known(9, &person("Johnson", &[]));
        assert!(matches!(
            r.decide(&person("Magic Johnson", &[]), &[boris, bare]),
            Decision::Ambiguous { .. }
        ));
    }

    #[test]
    fn a_middle_name_or_suffix_on_one_side_only_is_ambiguous() {
        let r = Resolver::new();
        let w = known(1, &person("George W. Bush", &[]));
        let hw = known(2, &person("George H. W. Bush", &[]));
        match r.decide(&person("George Bush", &[]), std::slice::from_ref(&w)) {
            Decision::Ambiguous { candidates, why } => {
                assert_eq!(candidates, [1]);
                assert!(why.contains("George W. Bush (id 1)"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        // Different middle initials are different people.
        assert_eq!(
            r.decide(&person("George H.W. Bush", &[]), std::slice::from_ref(&w)),
            Decision::New
        );
        assert_eq!(
            r.decide(&person("George W Bush", &[]), &[w.clone(), hw.clone()]),
            same(1, Reason::FullName)
        );
        assert!(matches!(
            r.decide(&person("Bush", &[]), &[w, hw]),
            Decision::Ambiguous { .. }
        ));
        let senior = known(5, &person("Ken Griffey Sr.", &[]));
        assert_eq!(
            r.decide(
                &person("Ken Griffey Jr.", &[]),
                std::slice::from_ref(&senior)
            ),
            Decision::New
        );
        assert!(matches!(
            r.decide(&person("Ken Griffey", &[]), &[senior]),
            Decision::Ambiguous { .. }
        ));
    }

    #[test]
    fn people_of_the_same_article_are_not_one_another() {
        let r = Resolver::new().joining_unique_surnames();
        let magic = known(4, &person("Magic Johnson", &[]));
        let mut johnson = person("Johnson", &[]);
        assert_eq!(
            r.decide(&johnson, std::slice::from_ref(&magic)),
            same(4, Reason::SurnameOnlyUnique)
        );
        johnson.resolved_in_article = vec![4];
        assert_eq!(r.decide(&johnson, &[magic]), Decision::New);
    }

    #[test]
    fn acronyms_and_expansions_link_organisations_and_nothing_else() {
        let r = Resolver::new();
        let org = |name: &str| Mentioned::new(EntityKind::Org, name, &[]);
        let nato = known(1, &org("North Atlantic Treaty Organization"));
        assert_eq!(
            r.decide(&org("NATO"), std::slice::from_ref(&nato)),
            same(1, Reason::Acronym)
        );
        let un = known(2, &org("UN"));
        assert_eq!(
            r.decide(&org("the United Nations"), std::slice::from_ref(&un)),
            same(2, Reason::Expansion)
        );
        assert_eq!(
            r.decide(&org("U.N."), std::slice::from_ref(&un)),
            same(2, Reason::SameName)
        );
        let who = known(3, &org("World Health Organisation"));
        assert_eq!(
            r.decide(&org("the WHO"), std::slice::from_ref(&who)),
            same(3, Reason::Acronym)
        );
        assert_eq!(
            r.decide(
                &org("World Health Organization"),
                std::slice::from_ref(&who)
            ),
            same(3, Reason::SameName)
        );
        // The band is not the agency: an acronym is written in capitals.
        assert_eq!(
            r.decide(&org("The Who"), std::slice::from_ref(&who)),
            Decision::New
        );
        assert!(
            r.lookup_keys(&org("The Who"))
                .iter()
                .all(|k| !r.alias_keys(&who).contains(k))
        );
        // Two expansions of one acronym are not one another, and the acronym fits both.
        let other = known(4, &org("Western Hockey Office"));
        assert_eq!(
            r.decide(&org("Western Hockey Office"), std::slice::from_ref(&who)),
            Decision::New
        );
        assert!(matches!(
            r.decide(&org("WHO"), &[who, other]),
            Decision::Ambiguous { .. }
        ));
        // Not across types: a person "NATO"? No, and a LOC has no acronyms.
        let loc = Mentioned::new(EntityKind::Loc, "BS", &[]);
        assert_eq!(
            r.decide(
                &loc,
                &[known(5, &Mentioned::new(EntityKind::Loc, "Black Sea", &[]))]
            ),
            Decision::New
        );
    }

    #[test]
    fn demonyms_and_country_names_need_the_table_and_stay_in_their_types() {
        let table = Resolver::with_countries(&countries());
        let gpe = |name: &str| Mentioned::new(EntityKind::Gpe, name, &[]);
        let norp = |name: &str| Mentioned::new(EntityKind::Norp, name, &[]);
        let russia = known(1, &gpe("Russia"));
        let uk = known(2, &gpe("United Kingdom"));
        let all = [russia.clone(), uk.clone()];
        assert_eq!(
            table.decide(&norp("Russian"), &all),
            same(1, Reason::Demonym)
        );
        assert_eq!(
            table.decide(&norp("Russians"), &all),
            same(1, Reason::Demonym)
        );
        assert_eq!(
            table.decide(&gpe("Britain"), &all),
            same(2, Reason::SameCountry)
        );
        assert_eq!(
            table.decide(&gpe("the U.K."), &all),
            same(2, Reason::Acronym)
        );
        assert_eq!(
            table.decide(&norp("British"), &all),
            same(2, Reason::Demonym)
        );
        // A country found after its nationality takes it, and the identity becomes the
        // country, whose keys the nationality and the country's other names find.
        let british = known(3, &norp("British"));
        assert_eq!(
            table.decide(&gpe("UK"), std::slice::from_ref(&british)),
            same(3, Reason::Demonym)
        );
        let mut country = british.clone();
        country.absorb(&gpe("UK"));
        assert_eq!(
            (country.entity_type, country.canonical_name.as_str()),
            (EntityKind::Gpe, "UK")
        );
        assert!(
            table
                .alias_keys(&country)
                .contains(&"gpe:acronym:uk".to_owned())
        );
        assert_eq!(
            table.decide(&gpe("United Kingdom"), std::slice::from_ref(&country)),
            same(3, Reason::Expansion)
        );
        assert_eq!(
            table.decide(&norp("British"), std::slice::from_ref(&country)),
            same(3, Reason::Demonym)
        );
        // The same name comes before a demonym.
        assert_eq!(
            table.decide(&norp("British"), &[uk.clone(), british]),
            same(3, Reason::SameName)
        );
        // Without the table nothing crosses, and a demonym of two countries links nothing.
        let plain = Resolver::new();
        assert_eq!(plain.decide(&norp("Russian"), &all), Decision::New);
        assert_eq!(plain.decide(&gpe("Britain"), &all), Decision::New);
        let dominica = known(4, &gpe("Dominica"));
        assert_eq!(table.decide(&norp("Dominican"), &[dominica]), Decision::New);
        let france = known(7, &gpe("France"));
        assert_eq!(
            table.decide(&norp("French"), &[france]),
            same(7, Reason::Demonym)
        );
        // A person named Paris is not the city, the city is not the person.
        let paris = known(5, &gpe("Paris"));
        let hilton = known(6, &person("Paris Hilton", &["Hilton"]));
        assert_eq!(
            table.decide(&person("Paris", &[]), std::slice::from_ref(&paris)),
            Decision::New
        );
        assert_eq!(
            table.decide(&gpe("Paris"), std::slice::from_ref(&hilton)),
            Decision::New
        );
        assert_eq!(
            table.decide(&gpe("Paris"), &[hilton, paris]),
            same(5, Reason::SameName)
        );
    }

    #[test]
    fn copies_in_the_store_are_one_unless_an_operator_kept_them_apart() {
        let r = Resolver::new();
        let mut small = known(2, &person("Chris Evans", &[]));
        let mut big = known(9, &person("Chris Evans", &[]));
        big.articles = 40;
        let m = person("Chris Evans", &[]);
        assert_eq!(
            r.decide(&m, &[small.clone(), big.clone()]),
            same(9, Reason::FullName)
        );
        small.kept_apart = vec![9];
        assert!(kept_apart(&big, &small) && kept_apart(&small, &big));
        match r.decide(&m, &[small, big]) {
            Decision::Ambiguous { candidates, why } => {
                assert_eq!(candidates, [9, 2]);
                assert!(why.contains("kept some of them apart"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn absorbing_adds_new_names_and_titles_and_prefers_a_full_name() {
        let mut k = known(1, &person("Putin", &["President Putin"]));
        assert_eq!(k.aliases, ["Putin", "President Putin"]);
        let added = k.absorb(&with_titles(
            person("Vladimir Putin", &["Putin", " Putin "]),
            &["Russian President"],
        ));
        assert_eq!(added, ["Vladimir Putin"]);
        assert_eq!(k.canonical_name, "Vladimir Putin");
        assert_eq!(k.titles, ["Russian President"]);
        assert!(!better_canonical(
            EntityKind::Person,
            "Vladimir Putin",
            "Putin"
        ));
        assert!(!better_canonical(
            EntityKind::Org,
            "NATO",
            "North Atlantic Treaty Organization"
        ));
        for i in 0..200 {
            k.absorb(&person(&format!("Name{i} Putin"), &[]));
        }
        assert_eq!(k.aliases.len(), MAX_ALIASES);
    }

    #[test]
    fn any_text_is_handled_without_panic_and_within_the_caps() {
        let r = Resolver::with_countries(&countries());
        let long_word = "x".repeat(10_000);
        let many_words = "Ab ".repeat(5_000);
        let many_names: Vec<String> = (0..1_000).map(|i| format!("Person{i} Smith")).collect();
        let texts = [
            "",
            "   ",
            "'s",
            "...",
            "- - -",
            "the",
            "The",
            "Mr",
            "THE",
            "\u{0301}\u{0301}",
            "\u{130}stanbul",
            "李明",
            "A.",
            "O'",
            long_word.as_str(),
            many_words.as_str(),
        ];
        for kind in [
            EntityKind::Person,
            EntityKind::Org,
            EntityKind::Gpe,
            EntityKind::Norp,
            EntityKind::Other,
        ] {
            for text in texts {
                let m = Mentioned::new(kind, text, &[text, "Smith"]);
                let keys = r.lookup_keys(&m);
                assert!(keys.len() <= 3 * MAX_NAMES, "{keys:?}");
                assert!(keys.iter().all(|k| k.chars().count() < MAX_NAME_CHARS + 32));
                let k = known(1, &m);
                let _ = r.decide(&m, &[k.clone(), k]);
            }
            let mut m = Mentioned::new(kind, "John Smith", &[]);
            m.names = many_names.clone();
            m.titles = many_names.clone();
            assert!(r.lookup_keys(&m).len() <= 3 * MAX_NAMES);
            let crowd: Vec<Known> = (0..500).map(|i| known(i, &m)).collect();
            let _ = r.decide(&m, &crowd);
        }
        assert!(r.lookup_keys(&person(&many_words, &[])).is_empty());
    }
}
