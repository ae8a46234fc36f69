//! Statements through the whole pipeline (committed NER and statements models) on a real
//! article from `../shared/examples`: Putin's warning is Putin's, Peskov's quote is Peskov's
//! (by name, not through "He"), and "He added" resolves to Peskov.

use newsflow_nlp::ner::NerTagger;
use newsflow_nlp::statements::StatementFinder;
use newsflow_nlp::{Doc, StatementKind, statement_pipeline};
mod common;

use common::{committed, example_article, typer};

fn speaker(doc: &Doc, i: usize) -> Option<&str> {
    doc.statements[i]
        .entity
        .and_then(|e| doc.entities.get(e))
        .map(|e| e.canonical_name.as_str())
}

#[test]
fn putin_warns_and_peskov_is_quoted_in_the_example_article() {
    let text = example_article();
    let tagger = NerTagger::load(&committed("models/ner-perceptron")).expect("NER model");
    let finder = StatementFinder::load(&committed("models/statements")).expect("statements model");
    let doc = statement_pipeline(tagger, typer(), finder)
        .run(&text)
        .expect("pipeline");
    let find = |needle: &str| {
        doc.statements
            .iter()
            .position(|s| doc.span_text(s.content).contains(needle))
            .unwrap_or_else(|| panic!("no statement with {needle:?}: {:#?}", doc.statements))
    };

    let warning = find("Western troops deployed to Ukraine");
    let s = &doc.statements[warning];
    assert_eq!(speaker(&doc, warning), Some("Vladimir Putin"));
    assert!(doc.span_text(s.cue).contains("warned"), "{s:?}");
    assert!(
        doc.span_text(s.source.expect("source")).contains("Putin"),
        "{s:?}"
    );
    assert_eq!(s.kind, StatementKind::Indirect);

    let quote = find("You cannot guarantee the security");
    let s = &doc.statements[quote];
    assert_eq!(speaker(&doc, quote), Some("Dmitry Peskov"));
    assert_eq!(doc.span_text(s.source.expect("source")), "Peskov");
    assert_eq!(doc.span_text(s.cue), "said");
    assert_eq!(s.kind, StatementKind::Direct);
    assert!(!doc.span_text(s.content).starts_with('“'));

    let added = find("Moscow would view international forces");
    assert_eq!(
        doc.span_text(doc.statements[added].source.expect("source")),
        "He"
    );
    assert_eq!(speaker(&doc, added), Some("Dmitry Peskov"));

    // Every span slices the normalized text and every statement has content.
    for s in &doc.statements {
        assert!(!doc.span_text(s.content).is_empty());
        assert!(!doc.span_text(s.cue).is_empty());
        assert!((0.0..=1.0).contains(&s.confidence));
    }
}
