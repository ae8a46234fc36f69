//! Nothing panics on odd input, tokens cover every non-space character, and every span slices
//! the text it claims to.

mod common;

use common::{committed, tiny_corpus, typer};
use newsflow_nlp::ner::{NerTagger, TrainConfig, train};
use newsflow_nlp::statements::StatementFinder;
use newsflow_nlp::{Doc, entity_pipeline, statement_pipeline};

const ODD: &[&str] = &[
    "",
    " \n\n ",
    "\u{0}\u{1}\u{7f}",
    "\u{301}\u{301}",
    "Â",
    "â€",
    "Ã",
    "Â£Â£Â£",
    "......!!!???",
    "'s's's n't n't",
    "U.S.U.S. U. S. A.",
    "1,000,000.00% $ £ €5",
    "— – -- --- -",
    "“‘«»’”\"'",
    "مرحبا بالعالم. שלום עולם.",
    "😀 Putin 😀. Trump’s “deal”",
    "PUTIN SAYS WEST WILL PAY\nMoscow, Sept. 4 (Reuters) - Vladimir Putin said.",
    "Mr. Mrs. Dr. Gen. Sept. Inc. Ltd. Co.",
    "J. K. L. M. N. O. P.",
    "a\u{2028}b\u{2029}c\r\nd\re",
];

fn tiny_model() -> NerTagger {
    let docs = tiny_corpus();
    let config = TrainConfig {
        epochs: 3,
        ..TrainConfig::default()
    };
    NerTagger::new(train(&docs, None, &config, |_| {}).expect("train"))
}

#[test]
fn odd_input_runs_through_the_pipeline() {
    let pipeline = entity_pipeline(tiny_model(), typer());
    for raw in ODD {
        let doc = pipeline.run(raw).expect("pipeline");
        check(&doc, raw);
    }
}

#[test]
fn odd_input_runs_through_the_statement_stage() {
    let statements = committed("models/statements");
    let finders = [
        StatementFinder::rules(),
        StatementFinder::load(&statements).expect("committed statements model"),
    ];
    let extra = [
        "said",
        "“",
        "according to",
        ", said ,",
        "“a,” said",
        "he said:",
        "“a. b. c.” he said",
        "(said) (",
        "Trump, who said, said",
        "said “ ” said",
    ];
    for finder in finders {
        let pipeline = statement_pipeline(tiny_model(), typer(), finder);
        for raw in ODD.iter().chain(extra.iter()) {
            let doc = pipeline.run(raw).expect("pipeline");
            check(&doc, raw);
            for s in &doc.statements {
                for span in [Some(s.cue), Some(s.content), s.source]
                    .into_iter()
                    .flatten()
                {
                    assert!(!span.is_empty() && span.end <= doc.char_len(), "{raw:?}");
                }
                assert!(s.entity.is_none_or(|e| e < doc.entities.len()));
            }
        }
    }
}

fn check(doc: &Doc, raw: &str) {
    let text = doc.text();
    let joined: String = (0..doc.tokens.len()).map(|i| doc.token_text(i)).collect();
    let expected: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(joined, expected, "tokens of {raw:?}");
    for t in &doc.tokens {
        assert_eq!(doc.byte_range(t.span), Some(t.bytes.clone()), "{raw:?}");
        assert!(!t.span.is_empty());
    }
    let covered: usize = doc.sentences.iter().map(|s| s.tokens.len()).sum();
    assert_eq!(covered, doc.tokens.len(), "sentences of {raw:?}");
    for m in &doc.mentions {
        assert_eq!(doc.mention_text(m).chars().count(), m.span.len());
        assert!((0.0..=1.0).contains(&m.confidence));
        assert!(m.entity.is_some_and(|e| e < doc.entities.len()));
    }
    for e in &doc.entities {
        assert!((0.0..=1.0).contains(&e.salience));
        assert!(!e.mentions.is_empty());
    }
}
