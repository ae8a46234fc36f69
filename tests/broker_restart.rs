//! RabbitMQ restarted while a batch is in the pipeline: every service and the `tail` consumer
//! reconnect, and every article is still stored exactly once and announced.

use std::{collections::HashSet, process::Command, time::Duration};

use newsflow_e2e::{Options, Pipeline, assert_stored_once, bbc_csv, event_id, scratch};

const ARTICLES: usize = 40;

fn rabbitmqctl(args: &[&str]) {
    let output = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl runs (the test restarts the local broker)");
    assert!(
        output.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_restarted_mid_batch_loses_and_duplicates_nothing() {
    let pipeline = Pipeline::start(
        "broker",
        Options {
            env: vec![("extractor", "NEWSFLOW_PREFETCH", "4".into())],
            ..Options::default()
        },
    )
    .await;
    let tail = pipeline.tail().await;
    let csv = bbc_csv(ARTICLES, &scratch("broker").join("bbc.csv"));
    let ids = pipeline.submit_accepted(&[csv.to_str().unwrap()]);
    assert_eq!(ids.len(), ARTICLES);

    pipeline.wait_mid_batch(ARTICLES).await;
    rabbitmqctl(&["stop_app"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    rabbitmqctl(&["start_app"]);
    rabbitmqctl(&["await_startup"]);

    let events = tail
        .wait_for(&ids, Duration::from_secs(900), Duration::from_secs(3))
        .await;
    let announced: HashSet<String> = events.iter().map(event_id).collect();
    assert_eq!(announced, ids.iter().cloned().collect::<HashSet<_>>());
    assert_stored_once(&pipeline.database().await, &ids).await;
    println!(
        "{} events for {} articles across the restart",
        events.len(),
        ids.len()
    );

    drop(tail);
    pipeline.stop().await;
}
