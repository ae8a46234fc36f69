//! The whole pipeline, as a user drives it: articles in through `newsflow submit` (HTTP and
//! gRPC), `article.processed` out through `newsflow tail`, and the stored result read back with
//! `newsflow get`, `newsflow entity`, `newsflow stories` and `newsflow story`.

use std::{collections::HashMap, time::Duration};

use newsflow_e2e::{Options, Pipeline, assert_stored_once, bbc_csv, event_id, root, scratch};
use newsflow_proto::v1::{
    AnalyzedArticle, EntityTimelineResponse, EntityType, ListStoriesResponse, Polarity, target,
};

/// The people and the topics stances were taken toward, by name.
fn people_and_stances(document: &AnalyzedArticle) -> (Vec<String>, Vec<(String, String, i32)>) {
    let analysis = document.analysis.clone().unwrap_or_default();
    let names: HashMap<String, String> = analysis
        .entities
        .iter()
        .map(|e| (e.id.clone(), e.canonical_name.clone()))
        .collect();
    let people = analysis
        .entities
        .iter()
        .filter(|e| e.r#type == EntityType::Person as i32)
        .map(|e| e.canonical_name.clone())
        .collect();
    let stances = analysis
        .stances
        .iter()
        .filter_map(
            |s| match s.target.as_ref().and_then(|t| t.target.as_ref()) {
                Some(target::Target::Topic(topic)) => Some((
                    names.get(&s.holder_entity_id).cloned().unwrap_or_default(),
                    topic.clone(),
                    s.polarity,
                )),
                _ => None,
            },
        )
        .collect();
    (people, stances)
}

#[tokio::test(flavor = "multi_thread")]
async fn example_article_over_http_and_grpc_comes_out_processed_and_queryable() {
    let pipeline = Pipeline::start(
        "example",
        Options {
            topics: "Western troops,air support,ground troops",
            ..Options::default()
        },
    )
    .await;
    let tail = pipeline.tail().await;

    let example = root().join("../shared/examples/western-troops-ukraine.txt");
    let text = std::fs::read_to_string(&example).expect("the shared example article");
    let over_grpc = pipeline.submit_accepted(&[example.to_str().unwrap()]);
    // The same text under another external id is another article, sent as JSON over HTTP.
    let json = scratch("example").join("example.json");
    std::fs::write(
        &json,
        serde_json::json!({"external_id": "western-troops-http", "title": "Western troops",
                           "source": "e2e", "body": text})
        .to_string(),
    )
    .unwrap();
    let over_http =
        pipeline.submit_accepted(&["--http", &pipeline.ingest_http, json.to_str().unwrap()]);
    let all: Vec<String> = over_grpc.iter().chain(&over_http).cloned().collect();
    assert_ne!(over_grpc, over_http);

    let events = tail
        .wait_for(&all, Duration::from_secs(300), Duration::from_secs(1))
        .await;
    for id in &all {
        let event = events
            .iter()
            .find(|e| &event_id(e) == id)
            .expect("an event per article");
        let document = event.article.as_ref().expect("the analyzed article");
        let (people, stances) = people_and_stances(document);
        for person in ["Putin", "Peskov", "Zelensky", "Macron", "Trump"] {
            assert!(
                people.iter().any(|name| name.contains(person)),
                "{person} among the people of {id}: {people:?}"
            );
        }
        assert!(
            stances
                .iter()
                .any(|(holder, topic, polarity)| holder.contains("Putin")
                    && topic == "Western troops"
                    && *polarity == Polarity::Negative as i32),
            "Putin against Western troops: {stances:?}"
        );
        let statements = &document.analysis.as_ref().unwrap().statements;
        assert!(
            statements
                .iter()
                .any(|s| s.speaker_text == "Peskov" && s.content.contains("You cannot guarantee")),
            "Peskov's quote attributed to him"
        );
        let stages: Vec<&str> = document.stages.iter().map(|s| s.stage.as_str()).collect();
        assert_eq!(stages, ["ingest", "extractor", "stance"]);

        // Stored, and `newsflow get` prints the same document in canonical JSON.
        let got = pipeline.newsflow(&["get", id, "--json"]);
        assert!(
            got.status.success(),
            "{}",
            String::from_utf8_lossy(&got.stderr)
        );
        let stored: AnalyzedArticle =
            newsflow_proto::json::from_json(&String::from_utf8_lossy(&got.stdout)).unwrap();
        assert_eq!(&stored, document);
    }

    // The same text under two external ids and two sources is a wire story run twice: the one
    // stored second is a near-copy of the first, and timelines count the story once unless
    // asked for copies.
    let duplicate_of: Vec<String> = all
        .iter()
        .map(|id| {
            let event = events.iter().find(|e| &event_id(e) == id).unwrap();
            event.duplicate_of.clone()
        })
        .collect();
    assert!(
        duplicate_of == [all[1].clone(), String::new()]
            || duplicate_of == [String::new(), all[0].clone()],
        "exactly one is a copy of the other: {duplicate_of:?} for {all:?}"
    );
    // Another article calls him "President Putin" and "Mr Putin" only: storage takes it for the
    // same person (the surname, and a title that agrees with "Russian President").
    let surname_only = root().join("tests/identity/articles/a08.txt");
    let surname_only = pipeline.submit_accepted(&[surname_only.to_str().unwrap()]);
    tail.wait_for(
        &surname_only,
        Duration::from_secs(300),
        Duration::from_secs(1),
    )
    .await;
    let timeline_of_putin = |extra: &[&str]| {
        let mut args = vec!["entity", "Putin", "--json"];
        args.extend_from_slice(extra);
        let timeline = pipeline.newsflow(&args);
        assert!(
            timeline.status.success(),
            "{}",
            String::from_utf8_lossy(&timeline.stderr)
        );
        let timeline: EntityTimelineResponse =
            newsflow_proto::json::from_json(&String::from_utf8_lossy(&timeline.stdout)).unwrap();
        timeline
    };
    let with_copies = timeline_of_putin(&["--copies"]);
    let articles: u32 = with_copies.days.iter().map(|d| d.articles).sum();
    assert_eq!(
        articles, 3,
        "both copies and the surname-only article: {with_copies:?}"
    );
    let timeline = timeline_of_putin(&[]);
    assert_eq!(timeline.canonical_name, "Vladimir Putin", "{timeline:?}");
    for alias in ["Vladimir Putin", "Putin"] {
        assert!(
            timeline.aliases.iter().any(|a| a == alias),
            "{alias} among the aliases: {timeline:?}"
        );
    }
    let articles: u32 = timeline.days.iter().map(|d| d.articles).sum();
    assert_eq!(articles, 2, "the wire story counts once: {timeline:?}");
    let printed = pipeline.newsflow(&["entity", "Putin"]);
    let printed = String::from_utf8_lossy(&printed.stdout);
    assert!(
        printed.starts_with("Vladimir Putin (") && printed.contains("also called: "),
        "{printed}"
    );
    assert!(
        timeline
            .days
            .iter()
            .map(|d| d.negative + d.neutral + d.positive)
            .sum::<u32>()
            > 0,
        "stances toward Putin are counted: {timeline:?}"
    );

    // The stance stage embeds each article, and storage groups the two copies in one story:
    // one article and one copy.
    for id in &all {
        let event = events.iter().find(|e| &event_id(e) == id).unwrap();
        let analysis = event.article.as_ref().unwrap().analysis.as_ref().unwrap();
        let embedding = analysis.embedding.as_ref().expect("an article embedding");
        assert_eq!(
            (embedding.model.as_str(), embedding.values.len()),
            ("all-MiniLM-L6-v2", 384)
        );
    }
    let story_ids: Vec<u64> = all
        .iter()
        .map(|id| events.iter().find(|e| &event_id(e) == id).unwrap().story_id)
        .collect();
    assert!(
        story_ids[0] != 0 && story_ids[0] == story_ids[1],
        "the copy is in its original's story: {story_ids:?}"
    );
    let listed = pipeline.newsflow(&["stories", "--entity", "Putin", "--json"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let stories: ListStoriesResponse =
        newsflow_proto::json::from_json(&String::from_utf8_lossy(&listed.stdout)).unwrap();
    let wire = stories
        .stories
        .iter()
        .find(|s| s.id == story_ids[0] && s.copy_count == 1)
        .unwrap_or_else(|| panic!("the wire story's story, with its copy: {stories:?}"));
    assert!(wire.article_count >= 1, "{wire:?}");
    assert!(
        wire.entities.iter().any(|e| e.name.contains("Putin")),
        "Putin labels the story: {wire:?}"
    );
    let shown = pipeline.newsflow(&["story", &wire.id.to_string()]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    for id in &all {
        assert!(shown.contains(id.as_str()), "{id} listed in {shown}");
    }

    assert_stored_once(&pipeline.database().await, &all).await;
    drop(tail);
    pipeline.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_bbc_articles_are_stored_and_published_exactly_once() {
    let pipeline = Pipeline::start("bbc", Options::default()).await;
    let tail = pipeline.tail().await;
    let csv = bbc_csv(100, &scratch("bbc").join("bbc-100.csv"));

    let submitted = pipeline.submit_accepted(&[csv.to_str().unwrap(), "--source", "bbc"]);
    assert_eq!(submitted.len(), 100);

    let events = tail
        .wait_for(&submitted, Duration::from_secs(900), Duration::from_secs(3))
        .await;
    let mut published: HashMap<String, usize> = HashMap::new();
    for event in &events {
        *published.entry(event_id(event)).or_default() += 1;
    }
    assert_eq!(published.len(), 100, "only the submitted articles came out");
    let twice: Vec<_> = published.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "published more than once: {twice:?}");
    assert_stored_once(&pipeline.database().await, &submitted).await;

    // Sent again, every one is a duplicate (ingest asks storage), and nothing flows.
    let again = pipeline.submit(&[csv.to_str().unwrap(), "--source", "bbc"]);
    assert!(
        again
            .iter()
            .all(|outcome| outcome["outcome"] == "duplicate"),
        "{again:?}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        tail.events().len(),
        events.len(),
        "duplicates are not processed again"
    );

    drop(tail);
    pipeline.stop().await;
}
