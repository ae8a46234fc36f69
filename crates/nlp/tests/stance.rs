//! Stance classifier tests. They need the base encoder (`scripts/fetch-base-model.sh`, run by
//! CI) and fail, naming the script, without it.

use newsflow_nlp::encoder::WordPieceTokenizer;
use newsflow_nlp::stance::input::{Marking, SpecialIds, build_input};
use newsflow_nlp::stance::{Polarity, StanceClassifier, StanceExample, TrainConfig};
use newsflow_nlp::{NlpError, Span};
mod common;

use common::{base_encoder, committed};

#[test]
fn markers_wrap_the_target_pieces() {
    let base = base_encoder();
    let tok = WordPieceTokenizer::load(&base).unwrap();
    let special = SpecialIds::from_tokenizer(&tok).unwrap();
    // Accents and curly quotes before the target: offsets must still be code points.
    let sentence = "Café owners praised “Angela Merkel” today.";
    let start = sentence
        .find("Angela")
        .map(|b| sentence[..b].chars().count())
        .unwrap();
    let span = Span::new(start, start + "Angela Merkel".len());
    let input = build_input(&tok, special, sentence, span, None, 128, Marking::Markers).unwrap();
    assert_eq!(input.ids[0], special.cls);
    assert_eq!(*input.ids.last().unwrap(), special.sep);
    let open = input.ids.iter().position(|&i| i == special.open).unwrap();
    let close = input.ids.iter().position(|&i| i == special.close).unwrap();
    assert_eq!(input.target, open + 1..close);
    let inside: Vec<u32> = input.ids[open + 1..close].to_vec();
    let expected: Vec<u32> = tok
        .pieces("angela merkel")
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(inside, expected);
}

#[test]
fn long_sentences_keep_the_target_in_the_window() {
    let base = base_encoder();
    let tok = WordPieceTokenizer::load(&base).unwrap();
    let special = SpecialIds::from_tokenizer(&tok).unwrap();
    let filler = "the committee met again and again ".repeat(30);
    let sentence = format!("{filler}and Obama spoke.");
    let start = sentence.find("Obama").unwrap();
    for marking in [Marking::Markers, Marking::Plain] {
        let input = build_input(
            &tok,
            special,
            &sentence,
            Span::new(start, start + 5),
            None,
            64,
            marking,
        )
        .unwrap();
        assert_eq!(input.ids.len(), 64);
        let obama = tok.pieces("obama").unwrap()[0].id;
        assert_eq!(input.ids[input.target.start], obama, "{marking:?}");
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let base = base_encoder();
    let tok = WordPieceTokenizer::load(&base).unwrap();
    let special = SpecialIds::from_tokenizer(&tok).unwrap();
    for (s, span) in [
        ("", Span::new(0, 1)),
        ("   ", Span::new(0, 1)),
        ("Short.", Span::new(3, 30)),
        ("Short.", Span::new(2, 2)),
    ] {
        for marking in [Marking::Markers, Marking::Plain] {
            assert!(matches!(
                build_input(&tok, special, s, span, None, 128, marking),
                Err(NlpError::InvalidInput(_))
            ));
        }
    }
}

#[test]
fn plain_inputs_of_one_sentence_are_one_sequence() {
    let base = base_encoder();
    let tok = WordPieceTokenizer::load(&base).unwrap();
    let special = SpecialIds::from_tokenizer(&tok).unwrap();
    let sentence = "Peskov said Moscow would view Western troops as targets.";
    let at = |word: &str| {
        let start = sentence[..sentence.find(word).unwrap()].chars().count();
        Span::new(start, start + word.len())
    };
    let plain = |target: Span, holder: Option<Span>| {
        build_input(&tok, special, sentence, target, holder, 128, Marking::Plain).unwrap()
    };
    let moscow = plain(at("Moscow"), None);
    let troops = plain(at("Western troops"), Some(at("Peskov")));
    // The same ids (one encoder pass for both), no marker among them.
    assert_eq!(moscow.ids, troops.ids);
    let sentence_ids: Vec<u32> = tok.pieces(sentence).unwrap().iter().map(|p| p.id).collect();
    assert_eq!(moscow.ids[1..moscow.ids.len() - 1], sentence_ids[..]);
    let pieces = |w: &str| -> Vec<u32> { tok.pieces(w).unwrap().iter().map(|p| p.id).collect() };
    assert_eq!(moscow.ids[moscow.target.clone()].to_vec(), pieces("moscow"));
    assert_eq!(
        troops.ids[troops.target.clone()].to_vec(),
        pieces("western troops")
    );
    let holder = troops.holder.clone().expect("holder positions");
    assert_eq!(troops.ids[holder].to_vec(), pieces("peskov"));
}

#[test]
fn a_plain_model_reads_each_target_of_a_shared_pass_as_alone() {
    plain_model_round_trip(false);
}

#[test]
fn a_plain_model_with_target_attention_reads_each_target_of_a_shared_pass_as_alone() {
    plain_model_round_trip(true);
}

/// Trains a plain model (with or without target attention), saves and loads it, and checks
/// that targets sharing a pass read as they do alone, and differently from each other.
fn plain_model_round_trip(target_attention: bool) {
    let base = base_encoder();
    let mut train = four_examples();
    // Two targets of one sentence, opposite polarities: only the pooled positions tell them
    // apart.
    train.push(example(
        "Critics slammed Smith but praised Jones.",
        "Smith",
        Polarity::Negative,
    ));
    train.push(example(
        "Critics slammed Smith but praised Jones.",
        "Jones",
        Polarity::Positive,
    ));
    let out = std::env::temp_dir().join(format!(
        "newsflow-plain-test-{target_attention}-{}",
        std::process::id()
    ));
    let config = TrainConfig {
        epochs: 1,
        trained_layers: 1,
        batch_size: 2,
        marking: Marking::Plain,
        target_attention,
        ..TrainConfig::default()
    };
    let (trained, _) =
        newsflow_nlp::stance::train::train(&base, &train, &[], &config, &out, &mut |_| {}).unwrap();
    let loaded = StanceClassifier::load_with_base(&out, &base).unwrap();
    assert_eq!(loaded.config().marking, Marking::Plain);
    assert_eq!(loaded.config().target_attention, target_attention);
    // In one call the last two share a pass (and their row); one at a time, each has its own.
    let batch = batched_as_alone(&loaded, &train);
    // Different targets of the shared pass get their own probabilities.
    assert_ne!(batch[4].1, batch[5].1);
    // The saved model (int8 layers) reads as the trained one did.
    for (e, (_, p)) in train.iter().zip(&batch) {
        let (_, q) = trained.classify(&e.sentence, e.span).unwrap();
        for c in 0..3 {
            assert!((p[c] - q[c]).abs() < 0.02, "{p:?} vs {q:?}");
        }
    }
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn a_plain_student_learns_what_a_marked_teacher_reads() {
    let base = base_encoder();
    let gold = four_examples();
    // A teacher that learnt the wrong labels, so what the student takes from it shows.
    let flipped = wrong_labels(&gold);
    let dir = |name: &str| {
        std::env::temp_dir().join(format!("newsflow-distill-{name}-{}", std::process::id()))
    };
    let quick = TrainConfig {
        epochs: 4,
        trained_layers: 1,
        batch_size: 2,
        lr: 5e-4,
        ..TrainConfig::default()
    };
    let teach = |examples: &[StanceExample], config: &TrainConfig, out: &std::path::Path| {
        newsflow_nlp::stance::train::train(&base, examples, &[], config, out, &mut |_| {})
            .unwrap()
            .0
    };
    let teacher = teach(&flipped, &quick, &dir("teacher"));
    let student = |distill: f64, name: &str| {
        let config = TrainConfig {
            marking: Marking::Plain,
            teachers: vec![dir("teacher")],
            distill,
            ..quick.clone()
        };
        teach(&gold, &config, &dir(name))
    };
    let taught = student(1.0, "taught");
    let untaught = student(0.0, "untaught");
    assert_eq!(taught.config().marking, Marking::Plain);
    // Cross-entropy of each student against the teacher's probabilities.
    let teacher_probs = batched_as_alone(&teacher, &gold);
    let against_teacher = |model: &StanceClassifier| -> f32 {
        batched_as_alone(model, &gold)
            .iter()
            .zip(&teacher_probs)
            .map(|((_, p), (_, t))| (0..3).map(|c| -t[c] * p[c].max(1e-9).ln()).sum::<f32>())
            .sum()
    };
    let (taught_ce, untaught_ce) = (against_teacher(&taught), against_teacher(&untaught));
    assert!(
        taught_ce < untaught_ce,
        "taught {taught_ce} vs untaught {untaught_ce}"
    );
    for name in ["teacher", "taught", "untaught"] {
        std::fs::remove_dir_all(dir(name)).ok();
    }
}

/// The same examples with wrong labels: negative and positive swapped, neutral made negative.
fn wrong_labels(examples: &[StanceExample]) -> Vec<StanceExample> {
    examples
        .iter()
        .map(|e| StanceExample {
            polarity: match e.polarity {
                Polarity::Negative => Polarity::Positive,
                _ => Polarity::Negative,
            },
            ..e.clone()
        })
        .collect()
}

fn example(sentence: &str, mention: &str, polarity: Polarity) -> StanceExample {
    let start = sentence[..sentence.find(mention).unwrap()].chars().count();
    StanceExample {
        sentence: sentence.into(),
        span: Span::new(start, start + mention.chars().count()),
        holder: None,
        polarity,
    }
}

/// Four targets, each class at least once.
fn four_examples() -> Vec<StanceExample> {
    vec![
        example(
            "Critics slammed Smith for the failed reform.",
            "Smith",
            Polarity::Negative,
        ),
        example(
            "Smith met the delegation on Tuesday.",
            "Smith",
            Polarity::Neutral,
        ),
        example(
            "Voters praised Jones for her courage.",
            "Jones",
            Polarity::Positive,
        ),
        example(
            "Jones was accused of fraud by prosecutors.",
            "Jones",
            Polarity::Negative,
        ),
    ]
}

/// Classifies `examples` in one call, checks that each comes out as it does alone, and
/// returns the batch's answers.
fn batched_as_alone(
    model: &StanceClassifier,
    examples: &[StanceExample],
) -> Vec<(Polarity, [f32; 3])> {
    let items: Vec<(&str, Span)> = examples
        .iter()
        .map(|e| (e.sentence.as_str(), e.span))
        .collect();
    let batch = model.classify_batch(&items).unwrap();
    for (e, (pol, probs)) in examples.iter().zip(&batch) {
        let (one_pol, one) = model.classify(&e.sentence, e.span).unwrap();
        assert_eq!(*pol, one_pol);
        for c in 0..3 {
            assert!((probs[c] - one[c]).abs() < 1e-4, "{probs:?} vs {one:?}");
        }
    }
    batch
}

#[test]
fn train_save_load_classify_round_trip() {
    let base = base_encoder();
    let train = four_examples();
    let out = std::env::temp_dir().join(format!("newsflow-stance-test-{}", std::process::id()));
    let config = TrainConfig {
        epochs: 1,
        seeds: vec![1, 2],
        trained_layers: 1,
        batch_size: 2,
        ..TrainConfig::default()
    };
    let (trained, report) = newsflow_nlp::stance::train::train(
        &base,
        &train,
        &[("train".into(), train.clone())],
        &config,
        &out,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(report.per_seed.len(), 2);
    assert_eq!(trained.members(), 2);
    let loaded = StanceClassifier::load_with_base(&out, &base).unwrap();
    assert_eq!(loaded.members(), 2);
    let (_, p) = loaded.classify(&train[0].sentence, train[0].span).unwrap();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    // Saved weights are int8: close to, not equal to, the trained ones.
    let (_, q) = trained.classify(&train[0].sentence, train[0].span).unwrap();
    for c in 0..3 {
        assert!((p[c] - q[c]).abs() < 0.02, "{p:?} vs {q:?}");
    }
    batched_as_alone(&loaded, &train);
    assert!(matches!(
        loaded.classify("", Span::new(0, 1)),
        Err(NlpError::InvalidInput(_))
    ));
    assert!(
        loaded
            .classify_batch(&[("Fine.", Span::new(0, 4)), ("x", Span::new(0, 9))])
            .is_err()
    );
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn best_epoch_keeps_the_epoch_that_scored_best_on_the_dev_set() {
    let base = base_encoder();
    let train = four_examples();
    // The same sentences with wrong labels: the better the model fits its training examples,
    // the worse it scores here, so a later epoch is rarely the best.
    let flipped = wrong_labels(&train);
    let out = std::env::temp_dir().join(format!("newsflow-best-epoch-{}", std::process::id()));
    let config = TrainConfig {
        epochs: 4,
        trained_layers: 1,
        batch_size: 2,
        lr: 5e-4,
        best_epoch: true,
        ..TrainConfig::default()
    };
    let mut lines = Vec::new();
    let (trained, report) = newsflow_nlp::stance::train::train(
        &base,
        &train,
        &[("flipped".into(), flipped.clone())],
        &config,
        &out,
        &mut |line| lines.push(line.to_string()),
    )
    .unwrap();
    // Each epoch's line says "flipped F1m 0.xxxx"; the member kept is the best of them.
    let per_epoch: Vec<f64> = lines
        .iter()
        .filter(|l| l.contains(" done in "))
        .map(|l| {
            let at = l.find("flipped F1m ").unwrap() + "flipped F1m ".len();
            l[at..at + 6].parse().unwrap()
        })
        .collect();
    assert_eq!(per_epoch.len(), 4, "{lines:?}");
    let best = per_epoch.iter().cloned().fold(f64::MIN, f64::max);
    // The set-up makes the last epoch worse than an earlier one, so keeping it would show.
    assert!(best > per_epoch[3], "{per_epoch:?}");
    let kept = report.per_seed[0].1[0].scores.f1m;
    assert!(
        (kept - best).abs() < 1e-4,
        "kept {kept}, epochs {per_epoch:?}"
    );
    // The classifier returned reads with the kept epoch's weights, not the last epoch's.
    let items: Vec<(&str, Span)> = flipped
        .iter()
        .map(|e| (e.sentence.as_str(), e.span))
        .collect();
    let said: Vec<Polarity> = trained
        .classify_batch(&items)
        .unwrap()
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let gold: Vec<Polarity> = flipped.iter().map(|e| e.polarity).collect();
    let rescored = newsflow_nlp::stance::score(&gold, &said).unwrap().f1m;
    assert!(
        (rescored - best).abs() < 1e-4,
        "{rescored} vs {per_epoch:?}"
    );
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn committed_model_classifies() {
    let base = base_encoder();
    let dir = committed("models/stance-minilm");
    let model = StanceClassifier::load_with_base(&dir, &base).unwrap();
    let s = "Opposition leaders condemned Johnson's handling of the crisis as a disgrace.";
    let start = s.find("Johnson").unwrap();
    let (pol, p) = model.classify(s, Span::new(start, start + 7)).unwrap();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    assert_eq!(pol, Polarity::Negative, "{p:?}");
}

#[test]
fn holder_markers_wrap_the_holder_and_both_stay_in_the_window() {
    let base = base_encoder();
    let tok = WordPieceTokenizer::load(&base).unwrap();
    let special = SpecialIds::from_tokenizer(&tok).unwrap();
    let filler = "the committee met again and again ".repeat(30);
    let sentence = format!("{filler}and Peskov said Moscow would respond, {filler}");
    let at = |word: &str| {
        let start = sentence[..sentence.find(word).unwrap()].chars().count();
        Span::new(start, start + word.len())
    };
    let input = build_input(
        &tok,
        special,
        &sentence,
        at("Moscow"),
        Some(at("Peskov")),
        64,
        Marking::Markers,
    )
    .unwrap();
    assert_eq!(input.ids.len(), 64);
    let holder = input.holder.clone().expect("holder marked");
    assert_eq!(input.ids[holder.start - 1], special.holder_open);
    assert_eq!(input.ids[holder.end], special.holder_close);
    let pieces = |w: &str| -> Vec<u32> { tok.pieces(w).unwrap().iter().map(|p| p.id).collect() };
    assert_eq!(input.ids[holder].to_vec(), pieces("peskov"));
    assert_eq!(input.ids[input.target.clone()].to_vec(), pieces("moscow"));
    assert_eq!(input.ids[input.target.start - 1], special.open);
}

#[test]
fn holder_stance_model_trains_saves_and_reads_holders() {
    let base = base_encoder();
    let held = |sentence: &str, holder: &str, target: &str, polarity| {
        let at = |word: &str| {
            let start = sentence[..sentence.find(word).unwrap()].chars().count();
            Span::new(start, start + word.chars().count())
        };
        StanceExample {
            sentence: sentence.into(),
            span: at(target),
            holder: Some(at(holder)),
            polarity,
        }
    };
    let train = vec![
        held(
            "Smith attacked Jones over the budget.",
            "Smith",
            "Jones",
            Polarity::Negative,
        ),
        held(
            "Smith attacked Jones over the budget.",
            "Jones",
            "Smith",
            Polarity::Neutral,
        ),
        held(
            "Lee praised Park for the deal.",
            "Lee",
            "Park",
            Polarity::Positive,
        ),
    ];
    let out = std::env::temp_dir().join(format!("newsflow-holder-test-{}", std::process::id()));
    let config = TrainConfig {
        epochs: 1,
        trained_layers: 4,
        batch_size: 2,
        balanced: true,
        // Its top three tuned layers start from the target-sentiment model's (which tuned
        // those three), the fourth from the base encoder's.
        init_from: Some(committed("models/stance-minilm")),
        ..TrainConfig::default()
    };
    newsflow_nlp::stance::train::train(&base, &train, &[], &config, &out, &mut |_| {}).unwrap();
    let model = StanceClassifier::load_with_base(&out, &base).unwrap();
    assert!(model.reads_holder());
    // Balanced training records its class weights (one example of each class: 1 each), which
    // inference undoes.
    assert_eq!(model.config().class_weights, Some([1.0; 3]));
    let e = &train[0];
    let (_, p) = model
        .classify_held(&e.sentence, e.span, e.holder.unwrap())
        .unwrap();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    // A holder-stance model needs the holder; a target-sentiment model takes none.
    assert!(matches!(
        model.classify(&e.sentence, e.span),
        Err(NlpError::InvalidInput(_))
    ));
    let sentiment =
        StanceClassifier::load_with_base(&committed("models/stance-minilm"), &base).unwrap();
    assert!(!sentiment.reads_holder());
    assert!(
        sentiment
            .classify_held(&e.sentence, e.span, e.holder.unwrap())
            .is_err()
    );
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn merged_members_average_and_decision_weights_round_trip() {
    let base = base_encoder();
    let committed_holder = committed("models/holder-minilm");
    let out = std::env::temp_dir().join(format!("newsflow-merge-test-{}", std::process::id()));
    let merged = newsflow_nlp::stance::model::merge_members(
        &[committed_holder.as_path(), committed_holder.as_path()],
        &out,
    )
    .unwrap();
    assert_eq!(merged.members, 2);
    // Decision weights belong to one model's probabilities: the ensemble starts without.
    assert_eq!(merged.decision_weights, None);
    let single = StanceClassifier::load_with_base(&committed_holder, &base).unwrap();
    let mut pair = StanceClassifier::load_with_base(&out, &base).unwrap();
    assert_eq!(pair.members(), 2);
    let sentence = "Peskov said NATO troops near the border were a threat.";
    let (holder, target) = (Span::new(0, 6), Span::new(12, 16));
    let (_, one) = single.classify_held(sentence, target, holder).unwrap();
    let (_, two) = pair.classify_held(sentence, target, holder).unwrap();
    // Like the decision weights, the temperature belongs to one model's probabilities: the
    // ensemble starts without it.
    assert_eq!(merged.temperature, None);
    let temperature = single.config().temperature;
    let two_tempered = newsflow_nlp::stance::model::tempered(two, temperature);
    for c in 0..3 {
        // Two copies of one member average to that member (int8 layers dequantized alike).
        assert!(
            (one[c] - two_tempered[c]).abs() < 1e-5,
            "{one:?} {two_tempered:?}"
        );
    }

    // Weights that favour the least likely class make it the decision; the stated
    // probabilities stay as they were.
    let least = (0..3).fold(0, |b, c| if two[c] < two[b] { c } else { b });
    let mut weights = [1.0f32; 3];
    weights[least] = 10.0 * two.iter().cloned().fold(0.0, f32::max) / two[least].max(1e-6);
    newsflow_nlp::stance::model::write_decision_weights(&out, Some(weights)).unwrap();
    pair = StanceClassifier::load_with_base(&out, &base).unwrap();
    assert_eq!(pair.decision_weights(), Some(weights));
    let (decided, probs) = pair.classify_held(sentence, target, holder).unwrap();
    assert_eq!(decided, Polarity::ALL[least]);
    assert_eq!(probs, two);
    // Two models trained differently do not merge.
    assert!(
        newsflow_nlp::stance::model::merge_members(
            &[
                committed_holder.as_path(),
                committed("models/stance-minilm").as_path()
            ],
            &out.join("bad"),
        )
        .is_err()
    );
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn averaged_members_are_one_member_with_the_members_mean_weights() {
    let base = base_encoder();
    let ensemble = committed("models/stance-minilm");
    let out = std::env::temp_dir().join(format!("newsflow-soup-test-{}", std::process::id()));
    let soup = newsflow_nlp::stance::model::average_members(&[ensemble.as_path()], &out).unwrap();
    assert_eq!(soup.members, 1);
    let read = |dir: &std::path::Path| {
        candle_core::safetensors::load(dir.join("stance.safetensors"), &candle_core::Device::Cpu)
            .unwrap()
    };
    let (two, one) = (read(&ensemble), read(&out));
    assert!(two.keys().any(|k| k.starts_with("member.1.")));
    assert!(!one.keys().any(|k| k.starts_with("member.1.")));
    let values = |tensors: &std::collections::HashMap<String, candle_core::Tensor>, key: &str| {
        tensors[key]
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    };
    // The head is kept in f32: exactly the mean of the two members' heads.
    let (a, b) = (
        values(&two, "member.0.head.weight"),
        values(&two, "member.1.head.weight"),
    );
    let mean = values(&one, "member.0.head.weight");
    assert!(a.iter().zip(&b).any(|(a, b)| a != b), "the members differ");
    for ((a, b), m) in a.iter().zip(&b).zip(&mean) {
        assert!(
            (m - (a + b) / 2.0).abs() < 1e-6,
            "{m} is not the mean of {a} and {b}"
        );
    }
    // The layers are int8 rows again, with their scales.
    let layer = "member.0.layer.2.intermediate.dense.weight";
    assert_eq!(one[layer].dtype(), two[layer].dtype());
    assert!(one.contains_key(&format!("{layer}.scale")));
    let model = StanceClassifier::load_with_base(&out, &base).unwrap();
    assert_eq!(model.members(), 1);
    let sentence = "The senator praised the new treaty.";
    let (_, p) = model.classify(sentence, Span::new(24, 34)).unwrap();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);

    // A model averaged with itself reads as that model (up to quantizing its layers again).
    let holder = committed("models/holder-minilm");
    let same = out.join("same");
    newsflow_nlp::stance::model::average_members(&[holder.as_path(), holder.as_path()], &same)
        .unwrap();
    let (single, doubled) = (
        StanceClassifier::load_with_base(&holder, &base).unwrap(),
        StanceClassifier::load_with_base(&same, &base).unwrap(),
    );
    let (holder_span, target) = (Span::new(0, 6), Span::new(12, 16));
    let text = "Peskov said NATO troops near the border were a threat.";
    let (_, p1) = single.classify_held(text, target, holder_span).unwrap();
    let (_, p2) = doubled.classify_held(text, target, holder_span).unwrap();
    let p2 = newsflow_nlp::stance::model::tempered(p2, single.config().temperature);
    for c in 0..3 {
        assert!((p1[c] - p2[c]).abs() < 1e-3, "{p1:?} {p2:?}");
    }
    std::fs::remove_dir_all(&out).ok();
}
