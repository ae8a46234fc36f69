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
    let places: Vec<_> = resolutions.iter().filter_map(|r| r.place()).collect();
    let chosen = places.iter().max_by_key(|place| {
        let votes = places
            .iter()
            .filter(|other| other.geonameid == place.geonameid)
            .count();
        // max_by_key keeps the last maximum: rank earlier mentions higher to keep the first.
        let first = places
            .iter()
            .position(|other| other.geonameid == place.geonameid)
            .unwrap_or(0);
        (votes, std::cmp::Reverse(first))
    });
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

    #[test]
    fn hosts_of_urls() {
        assert_eq!(host("https://www.bbc.co.uk/news/x"), Some("www.bbc.co.uk"));
        assert_eq!(host("http://user@cbc.ca:8080/a?b"), Some("cbc.ca"));
        assert_eq!(host("lemonde.fr"), Some("lemonde.fr"));
        assert_eq!(host(""), None);
        assert_eq!(host("https:///path"), None);
    }
}
