//! The example article through both parts of the analysis, with the committed models: who
//! said what, who stands for or against what, and that no speaker comes out against their own
//! side (the Kremlin's spokesman against Moscow).

use std::path::PathBuf;

use newsflow_analysis::{
    Analysis, Budget, ModelArgs, ModelPaths, NerMode, StanceAnalysis, normalize,
};
use newsflow_proto::v1::{
    AnalyzedArticle, Article, Entity, Polarity, Stance, StanceMethod, target,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The stances `holder` takes toward `target` (an entity id or a topic, as the contract's
/// `Target` holds them).
fn held_toward<'a>(
    stances: &'a [Stance],
    holder: &str,
    target: &target::Target,
) -> Vec<&'a Stance> {
    stances
        .iter()
        .filter(|s| s.holder_entity_id == holder)
        .filter(|s| s.target.as_ref().and_then(|t| t.target.as_ref()) == Some(target))
        .collect()
}

fn toward_entity<'a>(stances: &'a [Stance], holder: &str, entity: &str) -> Vec<&'a Stance> {
    held_toward(stances, holder, &target::Target::EntityId(entity.into()))
}

fn stances_toward<'a>(stances: &'a [Stance], holder: &str, topic: &str) -> Vec<&'a Stance> {
    held_toward(stances, holder, &target::Target::Topic(topic.into()))
}

#[test]
fn western_troops_example() {
    let example = root().join("../shared/examples/western-troops-ukraine.txt");
    let raw = std::fs::read_to_string(&example).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared examples sit beside the checkout)",
            example.display()
        )
    });
    let models = ModelArgs::with_paths(NerMode::Accurate, ModelPaths::under(&root()));
    assert!(
        models.base_model.join("model.safetensors").exists(),
        "the base encoder is missing: run scripts/fetch-base-model.sh"
    );
    let topics = ["Western troops", "air support", "ground troops"].map(String::from);
    let analysis = Analysis::load(&models, &topics, Budget::default()).expect("models load");
    let text = normalize(&raw);
    let entities = analysis.entities.entities(text.clone()).unwrap();
    let id_of = |name: &str| {
        entities
            .iter()
            .find(|e| e.canonical_name == name)
            .unwrap_or_else(|| panic!("{name} not found"))
            .id
            .clone()
    };
    let (putin, peskov, trump) = (
        id_of("Vladimir Putin"),
        id_of("Dmitry Peskov"),
        id_of("Donald Trump"),
    );
    let result = analysis.stance.classify(text, &entities, &[]).unwrap();

    let warning = result
        .statements
        .iter()
        .find(|s| s.speaker_entity_id == putin && s.content.contains("Western troops"))
        .expect("Putin's warning is attributed to Putin");
    assert!(warning.cue.contains("warned"), "{warning:?}");
    let quote = result
        .statements
        .iter()
        .find(|s| s.content.contains("You cannot guarantee the security"))
        .expect("Peskov's quote is found");
    assert_eq!(quote.speaker_entity_id, peskov, "{quote:?}");
    assert_eq!(
        quote.speaker_text, "Peskov",
        "attributed to Peskov, not to 'He'"
    );

    let against_troops = stances_toward(&result.stances, &putin, "Western troops");
    assert!(
        against_troops
            .iter()
            .any(|s| s.polarity == Polarity::Negative as i32),
        "Putin against Western troops: {against_troops:?}"
    );
    let air = stances_toward(&result.stances, &trump, "air support");
    assert!(
        air.iter().any(|s| s.polarity == Polarity::Positive as i32),
        "Trump for air support: {air:?}"
    );
    // The model reads the sentence as neutral toward the troops (+0.20); "ruled out" governs
    // them in Trump's statement, and the stance predicate takes precedence.
    let ground = stances_toward(&result.stances, &trump, "ground troops");
    assert!(
        !ground.is_empty()
            && ground
                .iter()
                .all(|s| s.polarity == Polarity::Negative as i32),
        "Trump against ground troops: {ground:?}"
    );

    // Peskov against NATO ("NATO troops near its borders, as a threat").
    let nato = toward_entity(&result.stances, &peskov, &id_of("NATO"));
    assert!(
        nato.iter().any(|s| s.polarity == Polarity::Negative as i32),
        "Peskov against NATO: {nato:?}"
    );
    // Holder stances come from the holder-stance model or a predicate, portrayal from the
    // target-sentiment model.
    for s in &result.stances {
        let method = s.method();
        if s.holder_entity_id.is_empty() {
            assert_eq!(method, StanceMethod::Portrayal, "{s:?}");
        } else {
            assert!(
                matches!(
                    method,
                    StanceMethod::HolderModel | StanceMethod::Predicate | StanceMethod::OwnSide
                ),
                "{s:?}"
            );
        }
    }
    // Nobody is against their own country, capital or government: the Kremlin's spokesman is
    // not against Moscow, nor Putin against Russia.
    let russia_side = ["Moscow", "Russia", "Russian", "Kremlin"];
    let affiliated = |holder: &str, entity: &str| {
        result
            .affiliations
            .iter()
            .any(|a| a.entity_id == holder && a.affiliate_entity_id == entity)
    };
    for name in russia_side {
        if entities.iter().any(|e| e.canonical_name == name) {
            assert!(affiliated(&peskov, &id_of(name)), "Peskov and {name}");
            assert!(affiliated(&putin, &id_of(name)), "Putin and {name}");
        }
    }
    let own_side_negative: Vec<&Stance> = result
        .stances
        .iter()
        .filter(|s| s.polarity == Polarity::Negative as i32)
        .filter(
            |s| match s.target.as_ref().and_then(|t| t.target.as_ref()) {
                Some(target::Target::EntityId(id)) => affiliated(&s.holder_entity_id, id),
                _ => false,
            },
        )
        .collect();
    assert!(
        own_side_negative.is_empty(),
        "against their own side: {own_side_negative:?}"
    );
    assert!(
        result.affiliations.len() < entities.len() * entities.len(),
        "affiliations are pairs, each once"
    );

    // With the compose file's topics, which do not name them, the ground troops Trump ruled
    // out are still a target: the object of his stance verb.
    let compose_topics = ["Western troops", "ceasefire", "security guarantees"].map(String::from);
    let unconfigured = StanceAnalysis::load(&models, &compose_topics, Budget::default())
        .expect("models load")
        .classify(normalize(&raw), &entities, &[])
        .unwrap();
    let ground = stances_toward(&unconfigured.stances, &trump, "ground troops");
    assert!(
        !ground.is_empty()
            && ground
                .iter()
                .all(|s| s.polarity == Polarity::Negative as i32
                    && s.method() == StanceMethod::Predicate),
        "Trump against ground troops, unconfigured: {ground:?}"
    );

    let summary = result
        .summaries
        .iter()
        .find(|s| s.entity_id == putin)
        .unwrap();
    assert!(summary.statement_count >= 1);
    assert_eq!(result.summaries.len(), entities.len());
}

/// The extractor's part places the example article's GPE and LOC entities: Paris, Kyiv,
/// Moscow, Vladivostok and Washington at their GeoNames ids, every place entity resolved or
/// explicitly not, and no other entity with a place.
#[test]
fn example_places_carry_their_geonames_ids() {
    use newsflow_analysis::EntityAnalysis;
    use newsflow_proto::v1::{EntityType, GeoStatus};

    let example = root().join("../shared/examples/western-troops-ukraine.txt");
    let raw =
        std::fs::read_to_string(&example).expect("the shared examples sit beside the checkout");
    let models = ModelArgs::with_paths(NerMode::Accurate, ModelPaths::under(&root()));
    let extractor = EntityAnalysis::load(&models, Budget::default()).expect("models load");
    let mut article = AnalyzedArticle {
        article: Some(Article {
            body: normalize(&raw),
            url: "https://www.example.com/world/western-troops-ukraine".into(),
            ..Article::default()
        }),
        ..AnalyzedArticle::default()
    };
    extractor.apply(&mut article).expect("entities");
    let entities = &article.analysis.as_ref().expect("analysis").entities;

    let place_of = |name: &str| {
        let entity = entities
            .iter()
            .find(|e| e.mentions.iter().any(|m| m.text == name))
            .unwrap_or_else(|| panic!("no entity is mentioned as {name}"));
        let geo = entity
            .geo
            .as_ref()
            .unwrap_or_else(|| panic!("{name} has no place"));
        assert_eq!(geo.status, GeoStatus::Resolved as i32, "{name}: {geo:?}");
        geo.clone()
    };
    for (name, id, country) in [
        ("Paris", 2_988_507, "FR"),
        ("Kyiv", 703_448, "UA"),
        ("Moscow", 524_901, "RU"),
        ("Vladivostok", 2_013_348, "RU"),
        ("Washington", 4_140_963, "US"),
    ] {
        let geo = place_of(name);
        assert_eq!(
            (geo.geonames_id, geo.country_code.as_str()),
            (id, country),
            "{name}: {geo:?}"
        );
        assert_eq!(geo.feature_class, "P", "{name}: {geo:?}");
    }
    let paris = place_of("Paris");
    assert!(
        (paris.latitude - 48.85).abs() < 0.1 && (paris.longitude - 2.35).abs() < 0.1,
        "{paris:?}"
    );
    let ukraine = place_of("Ukraine");
    assert_eq!(
        (ukraine.country_code.as_str(), ukraine.feature_code.as_str()),
        ("UA", "PCLI")
    );

    for entity in entities {
        let is_place = [EntityType::Gpe as i32, EntityType::Loc as i32].contains(&entity.r#type);
        assert_eq!(entity.geo.is_some(), is_place, "{entity:?}");
    }
}

/// Several articles analysed together (their sentences and targets in shared batches, as the
/// extractor and the stance service do under a backlog) come out as each does alone: the same
/// entities, statements and stances, scores equal up to the rounding that other padding brings.
#[test]
fn articles_analysed_together_come_out_as_one_at_a_time() {
    let raw = std::fs::read_to_string(root().join("../shared/examples/western-troops-ukraine.txt"))
        .expect("the shared example beside the checkout");
    let models = ModelArgs::with_paths(NerMode::Accurate, ModelPaths::under(&root()));
    let topics = ["Western troops", "air support", "ground troops"].map(String::from);
    let analysis = Analysis::load(&models, &topics, Budget::default()).expect("models load");
    // Three articles of different lengths: the example, its first paragraphs, its last ones;
    // and an empty one, which fails alone.
    let text = normalize(&raw);
    let paragraphs: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(paragraphs.len() >= 4, "the example has paragraphs");
    let half = paragraphs.len() / 2;
    let texts = [
        text.clone(),
        paragraphs[..half].join("\n"),
        String::new(),
        paragraphs[half..].join("\n"),
    ];
    let documents: Vec<AnalyzedArticle> = texts
        .iter()
        .map(|body| AnalyzedArticle {
            article: Some(Article {
                body: body.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let mut alone = documents.clone();
    let alone_results: Vec<bool> = alone
        .iter_mut()
        .map(|document| analysis.apply(document).is_ok())
        .collect();
    let mut together = documents;
    let extracted = analysis.entities.apply_many(&mut together);
    let classified = analysis.stance.apply_many(&mut together);
    let together_results: Vec<bool> = extracted
        .iter()
        .zip(&classified)
        .map(|(e, c)| e.is_ok() && c.is_ok())
        .collect();
    assert_eq!(alone_results, [true, true, false, true]);
    assert_eq!(together_results, alone_results);

    for (one, many) in alone.iter().zip(&together) {
        let (Some(one), Some(many)) = (&one.analysis, &many.analysis) else {
            assert_eq!(
                one.analysis, many.analysis,
                "the empty article has no analysis"
            );
            continue;
        };
        assert!(!one.stances.is_empty(), "every part has stances");
        assert_eq!(one.entities.len(), many.entities.len());
        for (a, b) in one.entities.iter().zip(&many.entities) {
            let key = |e: &Entity| {
                (
                    e.canonical_name.clone(),
                    e.r#type,
                    e.mentions.len(),
                    e.geo.clone(),
                )
            };
            assert_eq!(key(a), key(b));
            assert!(
                (a.salience - b.salience).abs() < 1e-3,
                "{a:?} against {b:?}"
            );
        }
        assert_eq!(one.statements, many.statements);
        assert_eq!(one.affiliations, many.affiliations);
        assert_eq!(one.stances.len(), many.stances.len());
        for (a, b) in one.stances.iter().zip(&many.stances) {
            let key = |s: &Stance| {
                (
                    s.holder_entity_id.clone(),
                    s.target.clone(),
                    s.polarity,
                    s.method,
                )
            };
            assert_eq!(key(a), key(b));
            assert!((a.score - b.score).abs() < 1e-3, "{a:?} against {b:?}");
        }
        // Each article's embedding is computed on its own either way.
        assert!(one.embedding.is_some());
        assert_eq!(one.embedding, many.embedding);
    }
}
