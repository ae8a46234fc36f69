//! The committed NER model on a real article from `../shared/examples`: the people it must
//! find, each grouped with its surname-only mentions.

use newsflow_nlp::ner::NerTagger;
use newsflow_nlp::{EntityType, entity_pipeline};
use std::path::PathBuf;

/// The fine-typing stage over the gazetteers scripts/fetch-gazetteers.sh fetched.
fn typer() -> newsflow_nlp::types::FineTyper {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/gazetteers");
    newsflow_nlp::types::FineTyper::load(&dir).unwrap_or_else(|e| panic!("{e}"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn finds_and_groups_the_people_of_the_example_article() {
    let article = root().join("../shared/examples/western-troops-ukraine.txt");
    let text = std::fs::read_to_string(&article).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; this test reads the shared examples beside the checkout",
            article.display()
        )
    });
    let tagger = NerTagger::load(&root().join("models/ner-perceptron")).expect("committed model");
    let doc = entity_pipeline(tagger, typer())
        .run(&text)
        .expect("pipeline");

    let people: Vec<&str> = doc
        .entities
        .iter()
        .filter(|e| e.label == EntityType::Person)
        .map(|e| e.canonical_name.as_str())
        .collect();
    for name in [
        "Vladimir Putin",
        "Dmitry Peskov",
        "Volodymyr Zelensky",
        "Emmanuel Macron",
        "Donald Trump",
    ] {
        assert!(people.contains(&name), "{name} missing from {people:?}");
    }
    // The article names Trump and Peskov twice, in full and by surname alone.
    for (name, surname) in [("Donald Trump", "Trump"), ("Dmitry Peskov", "Peskov")] {
        let entity = doc
            .entities
            .iter()
            .find(|e| e.canonical_name == name)
            .expect("found above");
        let texts: Vec<&str> = entity
            .mentions
            .iter()
            .map(|&m| doc.mention_text(&doc.mentions[m]))
            .collect();
        assert!(texts.contains(&surname), "{name}: {texts:?}");
    }
    // Every span slices the normalized text to the mention's words.
    for m in &doc.mentions {
        assert!(!doc.mention_text(m).is_empty());
        assert_eq!(doc.mention_text(m).chars().count(), m.span.len());
    }
}
