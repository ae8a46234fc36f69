//! `kill -9` of the extractor while it holds part of a batch: after a restart every article is
//! still stored exactly once, and announced.

use std::{collections::HashSet, time::Duration};

use newsflow_e2e::{Options, Pipeline, assert_stored_once, bbc_csv, event_id, scratch};

const ARTICLES: usize = 40;

#[tokio::test(flavor = "multi_thread")]
async fn extractor_killed_mid_batch_loses_and_duplicates_nothing() {
    let mut pipeline = Pipeline::start(
        "kill",
        Options {
            // A small prefetch keeps most of the batch queued, so the kill lands mid-batch.
            env: vec![("extractor", "NEWSFLOW_PREFETCH", "4".into())],
            ..Options::default()
        },
    )
    .await;
    let tail = pipeline.tail().await;
    let csv = bbc_csv(ARTICLES, &scratch("kill").join("bbc.csv"));
    let ids = pipeline.submit_accepted(&[csv.to_str().unwrap()]);
    assert_eq!(ids.len(), ARTICLES);

    // Mid-batch: the extractor has taken some articles and others still wait for it.
    pipeline.wait_mid_batch(ARTICLES).await;
    pipeline.kill("extractor");
    let waiting = pipeline.ready_in("extractor").await;
    assert!(waiting > 0, "articles wait while the extractor is down");
    tokio::time::sleep(Duration::from_secs(2)).await;
    pipeline.restart("extractor").await;

    let events = tail
        .wait_for(&ids, Duration::from_secs(900), Duration::from_secs(3))
        .await;
    let announced: HashSet<String> = events.iter().map(event_id).collect();
    assert_eq!(announced, ids.iter().cloned().collect::<HashSet<_>>());
    assert_stored_once(&pipeline.database().await, &ids).await;
    // Articles the killed extractor had passed on but not acked are extracted again, stored
    // again (the same row, replaced) and announced again: at least once, stored once.
    println!(
        "{} events for {} articles after the kill",
        events.len(),
        ids.len()
    );

    drop(tail);
    pipeline.stop().await;
}
