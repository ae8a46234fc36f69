//! The accurate NER mode: fine-tuning a few steps, saving and loading the compact weights,
//! long sentences cut into windows, odd input, and the committed model on a real article.
//! Every test here needs the base encoder (`scripts/fetch-base-model.sh`, run by CI); without
//! it they fail, naming the script.

use newsflow_nlp::entity_pipeline;
use newsflow_nlp::ner::neural::train::{NeuralTrainConfig, train};
use newsflow_nlp::ner::neural::{DELTA_FILE, NeuralModel};
use newsflow_nlp::ner::{NerMode, NerPaths, NerTagger, TrainConfig};
mod common;

use common::{base_encoder, committed, example_article, people, tiny_corpus, typer};

#[test]
fn fine_tunes_saves_loads_and_tags_long_and_odd_sentences() {
    let base = base_encoder();
    let out = std::env::temp_dir().join(format!("newsflow-neural-{}", std::process::id()));
    // The tiny corpus is one batch an epoch: three planned steps, two run.
    let config = NeuralTrainConfig {
        epochs: 3,
        max_steps: Some(2),
        window: 16,
        ..NeuralTrainConfig::default()
    };
    let mut steps = 0;
    let trained = train(&base, &out, &tiny_corpus(), &config, |p| steps = p.step).expect("train");
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
        &tiny_corpus(),
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
fn a_tagger_of_fewer_layers_keeps_only_those_layers() {
    let base = base_encoder();
    let train_dir = |name: &str| {
        std::env::temp_dir().join(format!("newsflow-neural-{name}-{}", std::process::id()))
    };
    let (all_dir, two_dir) = (train_dir("all"), train_dir("two"));
    let one_step = |layers| NeuralTrainConfig {
        max_steps: Some(1),
        window: 16,
        layers,
        ..NeuralTrainConfig::default()
    };
    train(&base, &all_dir, &tiny_corpus(), &one_step(None), |_| {}).expect("train all");
    let two = train(&base, &two_dir, &tiny_corpus(), &one_step(Some(2)), |_| {})
        .expect("train two layers");
    assert_eq!(two.config().layers, 2);
    let loaded = NeuralModel::load(&two_dir, &base).expect("load");
    assert_eq!(loaded.config().layers, 2);
    let tagged = loaded
        .word_log_probs(&[&["Putin", "spoke"][..]])
        .expect("tag");
    assert_eq!(tagged[0].len(), 2 * loaded.labels().len());
    // Four of the six layers' weights are left out of the delta.
    let size = |dir: &std::path::Path| {
        std::fs::metadata(dir.join(DELTA_FILE))
            .expect("delta")
            .len()
    };
    let (all, two) = (size(&all_dir), size(&two_dir));
    assert!(two < all / 2, "{two} bytes with two layers, {all} with all");
    std::fs::remove_dir_all(&all_dir).ok();
    std::fs::remove_dir_all(&two_dir).ok();
}

#[test]
fn committed_accurate_model_finds_the_people_of_the_example_article() {
    let paths = NerPaths {
        perceptron: committed("models/ner-perceptron"),
        neural: committed("models/ner-minilm"),
        base: base_encoder(),
    };
    let tagger = NerTagger::load_mode(NerMode::Accurate, &paths).expect("committed models");
    let text = example_article();
    let doc = entity_pipeline(tagger, typer())
        .run(&text)
        .expect("pipeline");
    let people = people(&doc);
    for name in ["Vladimir Putin", "Emmanuel Macron", "Donald Trump"] {
        assert!(people.contains(&name), "{name} missing from {people:?}");
    }
}
