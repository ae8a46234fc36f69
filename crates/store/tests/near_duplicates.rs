//! Near-copies against the real PostgreSQL: a copy stored after its original is linked to it
//! (`duplicate_of`), timelines and stance edges count it only when asked, two copies stored at
//! once leave exactly one original, and an article stored before signatures existed is signed
//! when it is saved again.

mod common;

use common::*;
use newsflow_proto::v1::{AnalyzedArticle, EntityTimelineRequest, EntityType};
use newsflow_store::{EdgeFilter, SaveStatus};

/// A 200-word story of its own: words `w<seed>_0 ... w<seed>_199`.
fn story(seed: u32) -> Vec<String> {
    (0..200).map(|i| format!("w{seed}_{i}")).collect()
}

/// An article with `words` as its body, from `source`, naming Putin and holding NATO's stance
/// against him.
fn article(id: &str, source: &str, words: &[String]) -> AnalyzedArticle {
    let mut doc = Doc::new(id, source, Some(at(2024, 11, 20, 10)))
        .entity("e1", EntityType::Person, "Vladimir Putin", 1)
        .entity("e2", EntityType::Org, "NATO", 1)
        .stance("e2", "", "e1", -0.6);
    doc.article_mut().body = words.join(" ");
    doc.build()
}

/// The wire copy of `words`: another headline (the first five words), the last ten cut, a
/// byline in front.
fn wire_copy(words: &[String]) -> Vec<String> {
    let mut copy: Vec<String> = ["By", "Staff", "Reporter,", "Wire", "Service"]
        .map(String::from)
        .to_vec();
    copy.extend(["New", "headline", "for", "the", "copy"].map(String::from));
    copy.extend_from_slice(&words[5..words.len() - 10]);
    copy
}

async fn duplicate_of(db: &TestDb, id: &str) -> Option<String> {
    db.store.get(id).await.unwrap().unwrap().duplicate_of
}

#[tokio::test]
async fn a_copy_is_linked_to_its_original_and_counts_once() {
    let db = TestDb::new().await;
    let original = story(1);
    let first = db
        .store
        .save(&article("orig", "reuters", &original))
        .await
        .unwrap();
    assert_eq!(first.duplicate_of, None);
    let copy = db
        .store
        .save(&article("copy", "ap", &wire_copy(&original)))
        .await
        .unwrap();
    assert_eq!(copy.duplicate_of.as_deref(), Some("orig"));
    let other = db
        .store
        .save(&article("other", "bbc", &story(2)))
        .await
        .unwrap();
    assert_eq!(
        other.duplicate_of, None,
        "a different story on the same people"
    );
    assert_eq!(duplicate_of(&db, "copy").await.as_deref(), Some("orig"));
    assert_eq!(duplicate_of(&db, "orig").await, None);

    // A redelivery keeps the link; so does saving the original again.
    let again = db
        .store
        .save(&article("copy", "ap", &wire_copy(&original)))
        .await
        .unwrap();
    assert_eq!(again.status, SaveStatus::Unchanged);
    assert_eq!(again.duplicate_of.as_deref(), Some("orig"));
    db.store
        .save(&article("orig", "reuters-2", &original))
        .await
        .unwrap();
    assert_eq!(duplicate_of(&db, "orig").await, None);
    assert_eq!(duplicate_of(&db, "copy").await.as_deref(), Some("orig"));

    // Putin is in three articles, one of them a copy: two by default, three with copies.
    let articles_that_day = |include_copies| {
        let store = db.store.clone();
        async move {
            let timeline = store
                .entity_timeline(&EntityTimelineRequest {
                    entity_key: PUTIN.into(),
                    include_copies,
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(timeline.days.len(), 1);
            (timeline.days[0].articles, timeline.days[0].negative)
        }
    };
    assert_eq!(articles_that_day(false).await, (2, 2));
    assert_eq!(articles_that_day(true).await, (3, 3));

    let nato_against_putin = |include_copies| {
        let store = db.store.clone();
        async move {
            let edges = store
                .stance_edges(&EdgeFilter {
                    include_copies,
                    ..EdgeFilter::default()
                })
                .await
                .unwrap();
            assert_eq!(edges.len(), 1, "{edges:?}");
            (edges[0].negative, edges[0].articles)
        }
    };
    assert_eq!(nato_against_putin(false).await, (2, 2));
    assert_eq!(nato_against_putin(true).await, (3, 3));

    // An edit that makes it a different story unlinks it.
    db.store
        .save(&article("copy", "ap", &story(3)))
        .await
        .unwrap();
    assert_eq!(duplicate_of(&db, "copy").await, None);
}

#[tokio::test]
async fn copies_stored_at_once_leave_exactly_one_original() {
    let db = TestDb::new().await;
    let original = story(7);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(6));
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let store = db.store.clone();
            let barrier = barrier.clone();
            let words = if i == 0 {
                original.clone()
            } else {
                wire_copy(&original)
            };
            tokio::spawn(async move {
                let doc = article(&format!("c{i}"), &format!("outlet{i}"), &words);
                barrier.wait().await;
                store.save(&doc).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("save succeeds");
    }
    let originals: Vec<String> =
        sqlx::query_scalar("SELECT id FROM articles WHERE duplicate_of IS NULL ORDER BY id")
            .fetch_all(db.store.pool())
            .await
            .unwrap();
    assert_eq!(originals.len(), 1, "{originals:?}");
    let linked: i64 = sqlx::query_scalar("SELECT count(*) FROM articles WHERE duplicate_of = $1")
        .bind(&originals[0])
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(linked, 5);
}

#[tokio::test]
async fn an_article_stored_before_signatures_is_signed_when_saved_again() {
    let db = TestDb::new().await;
    let original = story(9);
    db.store
        .save(&article("old", "reuters", &original))
        .await
        .unwrap();
    // As the migration leaves an article stored before it.
    sqlx::query("UPDATE articles SET near_duplicate_signature = NULL")
        .execute(db.store.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM article_bands")
        .execute(db.store.pool())
        .await
        .unwrap();
    // Unsigned, it is nobody's original.
    let copy = db
        .store
        .save(&article("copy", "ap", &wire_copy(&original)))
        .await
        .unwrap();
    assert_eq!(copy.duplicate_of, None);

    // A replay saves the unchanged document again: it is signed, and found a copy of the
    // article stored (and signed) meanwhile.
    let replayed = db
        .store
        .save(&article("old", "reuters", &original))
        .await
        .unwrap();
    assert_eq!(replayed.status, SaveStatus::Unchanged);
    assert_eq!(replayed.duplicate_of.as_deref(), Some("copy"));
    let signed: bool = sqlx::query_scalar(
        "SELECT near_duplicate_signature IS NOT NULL FROM articles WHERE id = 'old'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert!(signed);
}
