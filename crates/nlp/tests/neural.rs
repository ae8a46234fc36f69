//! The accurate NER mode: fine-tuning a few steps, saving and loading the compact weights,
//! long sentences cut into windows, odd input, and the committed model on a real article.
//! Every test here needs the base encoder (`scripts/fetch-base-model.sh`); without it they
//! print a note and pass.

use newsflow_nlp::conll::{TaggedDocument, TaggedSentence};
use newsflow_nlp::ner::neural::train::{NeuralTrainConfig, train};
use newsflow_nlp::ner::neural::{DELTA_FILE, NeuralModel};
use newsflow_nlp::ner::{NerMode, NerPaths, NerTagger, TrainConfig};
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

fn base() -> Option<PathBuf> {
    let dir = root().join("models/base/all-MiniLM-L6-v2");
    if dir.join("model.safetensors").is_file() && dir.join("tokenizer.json").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: no base encoder in {} (run scripts/fetch-base-model.sh)",
            dir.display()
        );
        None
    }
}

fn corpus() -> Vec<TaggedDocument> {
    let s = |pairs: &[(&str, &str)]| TaggedSentence {
        tokens: pairs.iter().map(|p| p.0.to_string()).collect(),
        tags: pairs.iter().map(|p| p.1.to_string()).collect(),
    };
    vec![TaggedDocument {
        sentences: vec![
            s(&[
                ("Vladimir", "B-PER"),
                ("Putin", "I-PER"),
                ("said", "O"),
                (".", "O"),
            ]),
            s(&[
                ("Moscow", "B-LOC"),
                ("agreed", "O"),
                ("with", "O"),
                ("NATO", "B-ORG"),
            ]),
            s(&[("Russian", "B-MISC"), ("troops", "O"), ("left", "O")]),
        ],
    }]
}

#[test]
fn fine_tunes_saves_loads_and_tags_long_and_odd_sentences() {
    let Some(base) = base() else { return };
    let out = std::env::temp_dir().join(format!("newsflow-neural-{}", std::process::id()));
    // The tiny corpus is one batch an epoch: three planned steps, two run.
    let config = NeuralTrainConfig {
        epochs: 3,
        max_steps: Some(2),
        window: 16,
        ..NeuralTrainConfig::default()
    };
    let mut steps = 0;
    let trained = train(&base, &out, &corpus(), &config, |p| steps = p.step).expect("train");
    assert_eq!(steps, 2);
    let size = std::fs::metadata(out.join(DELTA_FILE))
        .expect("delta")
        .len();
    assert!(size < 30_000_000, "{size} bytes");
    let loaded = NeuralModel::load(&out, &base).expect("load");
    assert_eq!(loaded.labels(), trained.labels());

    // A sentence far longer than the 16-piece window, an empty one, odd characters.
    let long: Vec<String> = (0..100).map(|i| format!("Word{i}")).collect();
    let odd = ["\u{0}", "", "\u{2028}", "ﬁ", "😀", "a\u{301}"];
    let empty: [&str; 0] = [];
    let long_refs: Vec<&str> = long.iter().map(String::as_str).collect();
    let lp = loaded
        .word_log_probs(&[&long_refs[..], &empty[..], &odd[..]])
        .expect("tag");
    let l = loaded.labels().len();
    assert_eq!(lp[0].len(), 100 * l);
    assert!(lp[1].is_empty());
    assert_eq!(lp[2].len(), odd.len() * l);
    for row in lp[0].chunks(l).chain(lp[2].chunks(l)) {
        let total: f32 = row.iter().map(|x| x.exp()).sum();
        assert!((total - 1.0).abs() < 1e-3, "{row:?}");
    }

    // The combination with a perceptron of the same labels runs as a pipeline stage.
    let perceptron = newsflow_nlp::ner::train(
        &corpus(),
        None,
        &TrainConfig {
            epochs: 2,
            ..TrainConfig::default()
        },
        |_| {},
    )
    .expect("perceptron");
    let tagger = NerTagger::with_neural(perceptron, loaded).expect("same labels");
    assert_eq!(tagger.mode(), NerMode::Accurate);
    let text = format!("{}.\n\nVladimir Putin said. \u{0}😀", long.join(" "));
    let doc = entity_pipeline(tagger, typer())
        .run(&text)
        .expect("pipeline");
    for m in &doc.mentions {
        assert!((0.0..=1.0).contains(&m.confidence));
    }
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn committed_accurate_model_finds_the_people_of_the_example_article() {
    if base().is_none() {
        return;
    }
    let paths = NerPaths {
        perceptron: root().join("models/ner-perceptron"),
        neural: root().join("models/ner-minilm"),
        base: root().join("models/base/all-MiniLM-L6-v2"),
    };
    let tagger = NerTagger::load_mode(NerMode::Accurate, &paths).expect("committed models");
    let article = root().join("../shared/examples/western-troops-ukraine.txt");
    let text =
        std::fs::read_to_string(&article).unwrap_or_else(|e| panic!("{}: {e}", article.display()));
    let doc = entity_pipeline(tagger, typer())
        .run(&text)
        .expect("pipeline");
    let people: Vec<&str> = doc
        .entities
        .iter()
        .filter(|e| e.label == EntityType::Person)
        .map(|e| e.canonical_name.as_str())
        .collect();
    for name in ["Vladimir Putin", "Emmanuel Macron", "Donald Trump"] {
        assert!(people.contains(&name), "{name} missing from {people:?}");
    }
}
