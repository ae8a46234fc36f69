//! `kill -9` of the extractor while it holds part of a batch: after a restart every article is
//! still stored exactly once, and announced.

use std::time::Duration;

use newsflow_e2e::{assert_all_announced_and_stored_once, batch_in_flight};

const ARTICLES: usize = 20;

#[tokio::test(flavor = "multi_thread")]
async fn extractor_killed_mid_batch_loses_and_duplicates_nothing() {
    let (mut pipeline, tail, ids) = batch_in_flight("kill", ARTICLES).await;
    pipeline.kill("extractor");
    let waiting = pipeline.ready_in("extractor").await;
    assert!(waiting > 0, "articles wait while the extractor is down");
    tokio::time::sleep(Duration::from_secs(2)).await;
    pipeline.restart("extractor").await;

    // Articles the killed extractor had passed on but not acked are extracted again, stored
    // again (the same row, replaced) and announced again: at least once, stored once.
    let events = assert_all_announced_and_stored_once(&pipeline, &tail, &ids).await;
    println!("{events} events for {} articles after the kill", ids.len());

    drop(tail);
    pipeline.stop().await;
}
