//! Sentence embeddings with the real base encoder: unit length, the same text the same vector,
//! and sentences about one thing closer than unrelated ones.

mod common;

use newsflow_nlp::embedding::{MAX_PIECES, SentenceEmbedder, cosine};

fn embedder() -> SentenceEmbedder {
    SentenceEmbedder::load(&common::base_encoder()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn similar_sentences_score_a_higher_cosine_than_unrelated_ones() {
    let embedder = embedder();
    let texts = [
        "The central bank raised interest rates by half a point to fight inflation.",
        "Interest rates were increased by the central bank as prices keep rising.",
        "The striker scored twice as the home side won the cup final.",
        "A new species of frog was found in the rainforest of Borneo.",
    ];
    let v = embedder.embed_batch(&texts).expect("embeddings");
    assert_eq!(v.len(), 4);
    for e in &v {
        assert_eq!(e.len(), embedder.dimension());
        let norm: f32 = e.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }
    let same = cosine(&v[0], &v[1]);
    for unrelated in [
        cosine(&v[0], &v[2]),
        cosine(&v[0], &v[3]),
        cosine(&v[1], &v[2]),
    ] {
        assert!(
            same > unrelated + 0.2,
            "paraphrase {same} vs unrelated {unrelated}"
        );
    }
    // One text alone gives what it gives in a padded batch.
    let alone = embedder.embed(texts[2]).expect("embedding");
    assert!(cosine(&alone, &v[2]) > 0.9999, "{}", cosine(&alone, &v[2]));
}

#[test]
fn long_and_empty_texts_are_embedded_within_the_cap() {
    let embedder = embedder();
    let lead = "Ministers agreed a new budget on Monday after weeks of talks.";
    // Whatever follows the first MAX_PIECES pieces does not change the embedding.
    let filler: String = (0..MAX_PIECES).map(|i| format!(" word{i}")).collect();
    let long = format!("{lead}{filler}");
    let longer = format!("{long} and then a great deal more text about other things entirely");
    let a = embedder.embed(&long).expect("embedding");
    let b = embedder.embed(&longer).expect("embedding");
    assert!(cosine(&a, &b) > 0.9999, "{}", cosine(&a, &b));
    let huge = lead.repeat(10_000);
    assert_eq!(embedder.embed(&huge).expect("embedding").len(), 384);
    let empty = embedder.embed("   ").expect("embedding");
    assert_eq!(empty.len(), 384);
    assert!(empty.iter().all(|x| x.is_finite()));
    let titled = embedder
        .embed_article("Budget agreed", lead)
        .expect("embedding");
    assert!(cosine(&titled, &embedder.embed(lead).expect("embedding")) > 0.7);
}
