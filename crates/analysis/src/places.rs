//! The extractor's geocoding: every GPE and LOC entity of an article gets its GeoNames place,
//! or an explicit "unresolved" ([`Entity::geo`]).
//!
//! The place mentions of the article (GPE and LOC names, and NORP mentions that are a
//! country's demonym, "Russian", which name a place without being one) are resolved together
//! by [`Gazetteer::resolve_article`], each in the context of the others and of the outlet's
//! country (by the country-code domain of the article's URL). This is what `newsflow eval geo`
//! scores end to end. An entity's mentions can resolve differently ("Georgia" next to
//! "Atlanta" and next to "Tbilisi"); the entity takes the place most of its mentions resolve
//! to, the first mention's on a tie.

use std::collections::HashMap;

use newsflow_nlp::geo::{Gazetteer, GeoContext, Resolution};
use newsflow_proto::v1::{Entity, EntityType, Geo, GeoStatus};

/// Sets `geo` on every GPE and LOC entity of `entities` (and clears it on the others).
/// `url` is the article's URL, which may be empty.
pub fn geocode(gazetteer: &Gazetteer, entities: &mut [Entity], url: &str) {
    let context = GeoContext {
        outlet_country: host(url).and_then(|host| gazetteer.country_of_host(host)),
    };
    // (entity index or None for context only, mention text), in entity order.
    let mut names: Vec<(Option<usize>, &str)> = Vec::new();
    for (index, entity) in entities.iter().enumerate() {
        let placed = is_place(entity);
        for mention in &entity.mentions {
            if placed {
                names.push((Some(index), &mention.text));
            } else if entity.r#type == EntityType::Norp as i32
                && gazetteer.is_demonym(&mention.text)
            {
                names.push((None, &mention.text));
            }
        }
    }
    let toponyms: Vec<&str> = names.iter().map(|(_, name)| *name).collect();
    let resolutions = gazetteer.resolve_article(&toponyms, &context);
    let mut per_entity: Vec<Vec<&Resolution>> = vec![Vec::new(); entities.len()];
    for ((entity, _), resolution) in names.iter().zip(&resolutions) {
        if let Some(entity) = entity {
            per_entity[*entity].push(resolution);
        }
    }
    for (entity, resolutions) in entities.iter_mut().zip(per_entity) {
        entity.geo = is_place(entity).then(|| geo(&resolutions));
    }
}

fn is_place(entity: &Entity) -> bool {
    entity.r#type == EntityType::Gpe as i32 || entity.r#type == EntityType::Loc as i32
}

/// The place most of an entity's mention resolutions name (the first on a tie), or
/// unresolved when none resolved.
fn geo(resolutions: &[&Resolution]) -> Geo {
    // Votes and first position per place: one pass, however many mentions the entity has.
    let mut votes: HashMap<u32, (usize, std::cmp::Reverse<usize>)> = HashMap::new();
    let places: Vec<_> = resolutions.iter().filter_map(|r| r.place()).collect();
    for (position, place) in places.iter().enumerate() {
        votes
            .entry(place.geonameid)
            .or_insert((0, std::cmp::Reverse(position)))
            .0 += 1;
    }
    let chosen = votes
        .into_values()
        .max()
        .map(|(_, std::cmp::Reverse(first))| places[first]);
    match chosen {
        Some(place) => Geo {
            status: GeoStatus::Resolved as i32,
            geonames_id: place.geonameid,
            name: place.name.clone(),
            latitude: place.lat,
            longitude: place.lon,
            country_code: place.country_code.clone(),
            feature_class: place.feature_class.clone(),
            feature_code: place.feature_code.clone(),
            population: place.population,
        },
        None => Geo {
            status: GeoStatus::Unresolved as i32,
            ..Geo::default()
        },
    }
}

/// The host of a URL ("https://www.bbc.co.uk/news/x" -> "www.bbc.co.uk"), if it has one.
fn host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    let host = host.split(':').next()?;
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(geonameid: u32) -> Resolution {
        Resolution::Resolved(newsflow_nlp::geo::Resolved {
            geonameid,
            name: format!("place {geonameid}"),
            lat: 0.0,
            lon: 0.0,
            country_code: "FR".into(),
            feature_class: "P".into(),
            feature_code: "PPL".into(),
            population: 1,
        })
    }

    #[test]
    fn an_entity_takes_the_place_most_mentions_name_the_first_on_a_tie() {
        let unresolved = Resolution::Unresolved(newsflow_nlp::geo::Unresolved::NotInGazetteer);
        let (a, b, c) = (at(1), at(2), at(3));
        assert_eq!(geo(&[&a, &b, &b, &unresolved]).geonames_id, 2);
        assert_eq!(geo(&[&c, &a, &a, &c]).geonames_id, 3);
        let none = geo(&[&unresolved]);
        assert_eq!(
            (none.status, none.geonames_id),
            (GeoStatus::Unresolved as i32, 0)
        );
        assert_eq!(geo(&[]).status, GeoStatus::Unresolved as i32);
    }

    #[test]
    fn hosts_of_urls() {
        assert_eq!(host("https://www.bbc.co.uk/news/x"), Some("www.bbc.co.uk"));
        assert_eq!(host("http://user@cbc.ca:8080/a?b"), Some("cbc.ca"));
        assert_eq!(host("lemonde.fr"), Some("lemonde.fr"));
        assert_eq!(host(""), None);
        assert_eq!(host("https:///path"), None);
    }
}
