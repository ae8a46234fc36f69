//! What the tests of the analysis library share: the workspace's committed models and the
//! fetched base encoder and gazetteers (a test that needs one fails, naming the script that
//! fetches it, rather than passing without it), the shared example article, and a tiny
//! training corpus.

#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A committed model directory, by its path under the workspace root (`models/statements`).
pub fn committed(path: &str) -> PathBuf {
    let dir = root().join(path);
    assert!(dir.is_dir(), "no committed model in {}", dir.display());
    dir
}

/// The base encoder directory; fails when `scripts/fetch-base-model.sh` has not fetched it.
pub fn base_encoder() -> PathBuf {
    let dir = root().join("models/base/all-MiniLM-L6-v2");
    assert!(
        dir.join("model.safetensors").is_file() && dir.join("tokenizer.json").is_file(),
        "no base encoder in {}: run scripts/fetch-base-model.sh",
        dir.display()
    );
    dir
}

/// The fine-typing stage over the gazetteers `scripts/fetch-gazetteers.sh` fetched.
pub fn typer() -> newsflow_nlp::types::FineTyper {
    let dir = root().join("models/gazetteers");
    newsflow_nlp::types::FineTyper::load(&dir).unwrap_or_else(|e| panic!("{e}"))
}

/// The canonical names of the people (PERSON entities) a document found.
pub fn people(doc: &newsflow_nlp::Doc) -> Vec<&str> {
    doc.entities
        .iter()
        .filter(|e| e.label == newsflow_nlp::EntityType::Person)
        .map(|e| e.canonical_name.as_str())
        .collect()
}

/// The text of the shared example article (`../shared/examples` beside the checkout).
pub fn example_article() -> String {
    let path = root().join("../shared/examples/western-troops-ukraine.txt");
    read(&path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; this test reads the shared examples beside the checkout",
            path.display()
        )
    })
}

/// Three tagged sentences: enough for a training run to go through every step.
#[cfg(feature = "train")]
pub fn tiny_corpus() -> Vec<newsflow_nlp::conll::TaggedDocument> {
    use newsflow_nlp::conll::{TaggedDocument, TaggedSentence};
    let sentence = |pairs: &[(&str, &str)]| TaggedSentence {
        tokens: pairs.iter().map(|p| p.0.to_string()).collect(),
        tags: pairs.iter().map(|p| p.1.to_string()).collect(),
    };
    vec![TaggedDocument {
        sentences: vec![
            sentence(&[
                ("Vladimir", "B-PER"),
                ("Putin", "I-PER"),
                ("said", "O"),
                (".", "O"),
            ]),
            sentence(&[
                ("Moscow", "B-LOC"),
                ("agreed", "O"),
                ("with", "O"),
                ("NATO", "B-ORG"),
            ]),
            sentence(&[("Russian", "B-MISC"), ("troops", "O"), ("left", "O")]),
        ],
    }]
}
