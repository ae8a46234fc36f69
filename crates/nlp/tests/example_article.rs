//! The committed NER model on a real article from `../shared/examples`: the people it must
//! find, each grouped with its surname-only mentions.

use newsflow_nlp::entity_pipeline;
use newsflow_nlp::ner::NerTagger;
mod common;

use common::{committed, example_article, people, typer};

#[test]
fn finds_and_groups_the_people_of_the_example_article() {
    let text = example_article();
    let tagger = NerTagger::load(&committed("models/ner-perceptron")).expect("committed model");
    let doc = entity_pipeline(tagger, typer())
        .run(&text)
        .expect("pipeline");

    let people = people(&doc);
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
