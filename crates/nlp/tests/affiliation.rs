//! Affiliations on the example article: titles tie the speakers to their institutions and
//! countries, and what names one country (Russia, Moscow, Russian, the Kremlin) stands
//! together; nothing ties a speaker to the other side.

use newsflow_nlp::gazetteer::Nations;
use newsflow_nlp::ner::NerTagger;
use newsflow_nlp::stance::affiliation::{AffiliationKind, affiliations, is_affiliated};
use newsflow_nlp::{Doc, entity_pipeline};
mod common;

use common::{committed, example_article, root, typer};

fn entity(doc: &Doc, name: &str) -> usize {
    doc.entities
        .iter()
        .position(|e| e.canonical_name == name)
        .unwrap_or_else(|| {
            let names: Vec<&str> = doc
                .entities
                .iter()
                .map(|e| e.canonical_name.as_str())
                .collect();
            panic!("no entity {name:?} in {names:?}")
        })
}

#[test]
fn speakers_are_on_their_own_countrys_side_and_not_the_other() {
    let tagger = NerTagger::load(&committed("models/ner-perceptron")).expect("committed model");
    let doc = entity_pipeline(tagger, typer())
        .run(&example_article())
        .expect("pipeline");
    let nations = Nations::load(&root().join("models/gazetteers")).expect("gazetteers");
    let list = affiliations(&doc, &nations);
    let linked = |a: &str, b: &str| is_affiliated(&list, entity(&doc, a), entity(&doc, b));

    // "Kremlin spokesperson Dmitry Peskov": by title, then everything naming Russia.
    let peskov = entity(&doc, "Dmitry Peskov");
    let kremlin = entity(&doc, "Kremlin");
    assert!(
        list.iter().any(|a| a.entity == peskov
            && a.affiliate == kremlin
            && a.kind == AffiliationKind::Title),
        "{list:?}"
    );
    for side in ["Moscow", "Russia"] {
        assert!(linked("Dmitry Peskov", side), "Peskov and {side}");
        assert!(linked("Vladimir Putin", side), "Putin and {side}");
    }
    assert!(linked("Emmanuel Macron", "French") || linked("Emmanuel Macron", "France"));
    // Nobody is on the other side's.
    for (person, other) in [
        ("Dmitry Peskov", "Ukraine"),
        ("Vladimir Putin", "Ukraine"),
        ("Volodymyr Zelensky", "Moscow"),
        ("Donald Trump", "Moscow"),
    ] {
        assert!(!linked(person, other), "{person} and {other}");
    }
    // One pair, one link; each evidence span lies in the text.
    let mut pairs: Vec<(usize, usize)> = list.iter().map(|a| (a.entity, a.affiliate)).collect();
    pairs.dedup();
    assert_eq!(pairs.len(), list.len());
    assert!(list.iter().all(|a| a.evidence.end <= doc.char_len()));
}

#[test]
fn country_names_resolve_to_one_country() {
    let nations = Nations::load(&root().join("models/gazetteers")).expect("gazetteers");
    for name in [
        "Russia",
        "Moscow",
        "Russian",
        "Russians",
        "Kremlin",
        "the Kremlin",
    ] {
        assert_eq!(nations.of(name), Some("rus"), "{name}");
    }
    assert_eq!(nations.of("Kyiv"), Some("ukr"));
    assert_eq!(nations.of("U.S."), Some("usa"));
    assert_eq!(nations.of("French"), Some("fra"));
    assert_eq!(nations.of("Vladivostok"), None);
}
