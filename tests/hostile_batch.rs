//! Twenty BBC articles with three hostile ones mixed in, through the four services: the twenty
//! are stored once each and announced, each hostile one is stored (its analysis capped) or
//! parked with a reason, and the pipeline never stalls longer than the analysis deadline.

use std::time::Duration;

use newsflow_analysis::hostile::SHAPES;
use newsflow_e2e::{
    Options, Pipeline, assert_all_announced_and_stored_once, bbc_csv, event_id, scratch,
};

const ARTICLES: usize = 20;
/// The analysis deadline the stages run with here, shorter than the default so that the
/// slowest hostile article meets it.
const DEADLINE: Duration = Duration::from_secs(20);

fn shape(name: &str, bytes: usize) -> String {
    let shape = SHAPES
        .iter()
        .find(|shape| shape.name == name)
        .unwrap_or_else(|| panic!("no shape {name}"));
    (shape.generate)(bytes)
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_articles_in_a_batch_are_capped_or_parked_and_hold_up_nothing() {
    let deadline = format!("{}s", DEADLINE.as_secs());
    let env = ["extractor", "stance"]
        .into_iter()
        .map(|service| (service, "NEWSFLOW_ANALYSIS_DEADLINE", deadline.clone()))
        .collect();
    let pipeline = Pipeline::start(
        "hostile",
        Options {
            env,
            ..Options::default()
        },
    )
    .await;
    let tail = pipeline.tail().await;
    let dir = scratch("hostile");
    let hostile = [
        ("he-said", shape("he-said", 500_000)),
        ("names", shape("distinct-names", 140_000)),
        ("deep-html", shape("deep-html", 180_000)),
    ];
    let lines: Vec<String> = hostile
        .iter()
        .map(|(name, body)| {
            serde_json::json!({"external_id": format!("hostile-{name}"), "body": body}).to_string()
        })
        .collect();
    let hostile_file = dir.join("hostile.ndjson");
    std::fs::write(&hostile_file, lines.join("\n")).expect("the hostile articles");
    let csv = bbc_csv(ARTICLES, &dir.join("bbc.csv"));
    let hostile_ids = pipeline.submit_accepted(&[hostile_file.to_str().expect("UTF-8")]);
    let ids = pipeline.submit_accepted(&[csv.to_str().expect("UTF-8")]);
    assert_eq!((hostile_ids.len(), ids.len()), (hostile.len(), ARTICLES));

    assert_all_announced_and_stored_once(&pipeline, &tail, &ids).await;
    // Each hostile article comes out, or is parked with a reason.
    let mut outcomes = Vec::new();
    for (id, (name, _)) in hostile_ids.iter().zip(&hostile) {
        let mut outcome = None;
        for _ in 0..120 {
            if tail.events().iter().any(|event| &event_id(event) == id) {
                outcome = Some("stored".to_owned());
                break;
            }
            let parked = pipeline.dead_letters();
            if let Some(letter) = parked.iter().find(|l| l["message_id"] == id.as_str()) {
                let reason = letter["reason"].as_str().unwrap_or_default().to_owned();
                assert!(!reason.is_empty(), "{name}: parked without a reason");
                outcome = Some(format!("parked: {reason}"));
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let outcome = outcome.unwrap_or_else(|| panic!("{name} neither stored nor parked"));
        eprintln!("{name}: {outcome}");
        outcomes.push(outcome);
    }
    // No stall: between two articles coming out, never longer than the deadline (plus the
    // time one BBC article takes).
    let arrivals = tail.arrivals();
    let longest = arrivals
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .max()
        .unwrap_or_default();
    eprintln!("longest wait between two processed articles: {longest:?}");
    assert!(
        longest < DEADLINE + Duration::from_secs(30),
        "the pipeline stalled for {longest:?}"
    );
    drop(tail);
    pipeline.stop().await;
}
