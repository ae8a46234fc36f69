//! An export of 4,000 stored articles (40 MB of text) as CSV through the real `newsflow-web`, with the
//! service's memory measured (peak resident set, from /proc) before and after: the export is
//! streamed batch by batch, so the peak grows by a small fraction of what is sent.
//!
//! `cargo test --workspace --test export -- --nocapture` prints the figures.

mod support;

use futures::{StreamExt, stream};
use newsflow_proto::v1::EntityType;
use newsflow_test_support::fixtures::{Doc, at};
use support::{Web, memory_kib};

/// Sixteen of the store's export batches (`newsflow_store::EXPORT_BATCH`).
const ARTICLES: usize = 4_000;
/// Characters of each article's body, so the export is tens of megabytes.
const BODY_CHARS: usize = 10_000;
/// What the service's peak memory may grow by while it sends the export.
const GROWTH_LIMIT_KIB: u64 = 16 * 1024;

#[tokio::test(flavor = "multi_thread")]
async fn four_thousand_articles_export_as_csv_in_bounded_memory() {
    let web = Web::start("export-memory", &[]).await;
    let filler = "Officials said the talks would continue next week. ".repeat(BODY_CHARS / 50);
    let started = std::time::Instant::now();
    stream::iter(0..ARTICLES)
        .map(|i| {
            let mut doc = Doc::new(
                &format!("bulk{i:05}"),
                "bulk",
                Some(at(2025, 1, 1, 0) + chrono::Duration::minutes(i as i64)),
            )
            .entity("e1", EntityType::Person, "Vladimir Putin", 2)
            .entity("e2", EntityType::Org, "NATO", 1)
            .statement("s1", "e1")
            .stance("e1", "s1", "e2", -0.7);
            doc.article_mut().body = format!("Article {i}. Vladimir Putin spoke. {filler}");
            let store = web.store.clone();
            async move { store.save(&doc.build()).await.expect("saved") }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    eprintln!(
        "stored {ARTICLES} articles in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Warm the service's pool and code paths with a small export first.
    let small = web.get("/api/v1/export?limit_check=no").await;
    assert_eq!(small.status, 400, "unknown parameters are refused");
    let warm = web.get("/api/v1/export?to=2025-01-01T01:00:00Z").await;
    assert_eq!(warm.status, 200);

    let (peak_before, resident_before) = memory_kib(web.pid());
    let started = std::time::Instant::now();
    let mut body =
        newsflow_test_support::http::open(&format!("{}/api/v1/export", web.url), &[]).await;
    assert_eq!(body.status, 200);
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next_chunk().await {
        bytes.extend_from_slice(&chunk);
    }
    let seconds = started.elapsed().as_secs_f64();
    let (peak_after, _) = memory_kib(web.pid());

    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let mut ids = Vec::with_capacity(ARTICLES);
    for record in reader.records() {
        let record = record.expect("a CSV record");
        ids.push(record[0].to_owned());
        assert!(
            record[12].starts_with("Article "),
            "the body is exported whole"
        );
    }
    assert_eq!(ids.len(), ARTICLES);
    assert_eq!(ids[0], format!("bulk{:05}", ARTICLES - 1), "newest first");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), ARTICLES, "no article twice");

    let growth = peak_after.saturating_sub(peak_before.max(resident_before));
    eprintln!(
        "exported {ARTICLES} articles: {:.1} MB of CSV in {seconds:.1} s; newsflow-web resident \
         before {} KiB, peak before {} KiB, peak after {} KiB (grew {} KiB)",
        bytes.len() as f64 / 1e6,
        resident_before,
        peak_before,
        peak_after,
        growth
    );
    assert!(
        bytes.len() as u64 > 30 * 1024 * 1024,
        "the export is large enough to tell"
    );
    assert!(
        growth < GROWTH_LIMIT_KIB,
        "peak memory grew by {growth} KiB while sending {} bytes",
        bytes.len()
    );
}
