//! The write path against the real PostgreSQL: migrations, idempotency, concurrent saves,
//! validation, get and replay.

mod common;

use common::*;
use futures::TryStreamExt;
use newsflow_proto::v1::EntityType;
use newsflow_store::{ReplayFilter, SaveStatus, Store, StoreError, TimeBasis};
use newsflow_test_support::database::database_url;

#[tokio::test]
async fn migrations_create_the_schema_from_empty_and_rerun_as_no_op() {
    let db = TestDb::new().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = $1 ORDER BY table_name",
    )
    .bind(&db.schema)
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "_sqlx_migrations",
            "article_bands",
            "article_entities",
            "articles",
            "feed_items",
            "feeds",
            "identities",
            "identity_aliases",
            "identity_kept_apart",
            "identity_keys",
            "identity_titles",
            "mentions",
            "stances",
            "statements",
            "stories",
            "story_keys"
        ]
    );
    let trgm: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert!(trgm, "pg_trgm is installed");
    db.store.migrate().await.expect("a second run is a no-op");
}

#[tokio::test]
async fn migrations_install_pg_trgm_in_a_new_database() {
    let db = TestDb::new_database().await;
    let trgm: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert!(trgm, "the migration created pg_trgm");
    save_all(&db.store, &corpus()).await;
    let found = db
        .store
        .search_entities(&newsflow_proto::v1::SearchEntitiesRequest {
            query: "Vladmir Putn".into(),
            fuzzy: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.entities[0].key, PUTIN);
}

#[tokio::test]
async fn redelivery_and_reprocessing_never_duplicate() {
    let db = TestDb::new().await;
    let docs = corpus();
    let a1 = &docs[0];

    let first = db.store.save(a1).await.unwrap();
    assert_eq!((first.status, first.revision), (SaveStatus::New, 1));
    let after_first = db.counts().await;
    assert_eq!(after_first, [1, 3, 3, 4, 1, 3]);

    // A redelivery: the same bytes.
    let again = db.store.save(a1).await.unwrap();
    assert_eq!(again.status, SaveStatus::Unchanged);
    assert_eq!((again.revision, again.stored_at), (1, first.stored_at));
    assert_eq!(db.counts().await, after_first);

    // A reprocess with a different analysis replaces every row of the article.
    let mut changed = a1.clone();
    let analysis = changed.analysis.as_mut().unwrap();
    analysis.stances.truncate(1);
    analysis.entities[0].mentions.truncate(1);
    let replaced = db.store.save(&changed).await.unwrap();
    assert_eq!(
        (replaced.status, replaced.revision),
        (SaveStatus::Replaced, 2)
    );
    assert_eq!(db.counts().await, [1, 3, 3, 3, 1, 1]);
    let stored = db.store.get("a1").await.unwrap().unwrap();
    assert_eq!(stored.article, changed);
    assert_eq!(stored.revision, 2);

    // And back again: still one copy.
    assert_eq!(
        db.store.save(a1).await.unwrap().status,
        SaveStatus::Replaced
    );
    assert_eq!(db.counts().await, after_first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_of_one_article_leave_one_consistent_copy() {
    let db = TestDb::new().await;
    let v1 = corpus().remove(0);
    let mut v2 = v1.clone();
    v2.analysis.as_mut().unwrap().stances.clear();
    v2.article.as_mut().unwrap().title = "Second version".into();

    // Both versions at once from several "replicas", started together.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = db.store.clone();
            let doc = if i % 2 == 0 { v1.clone() } else { v2.clone() };
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store.save(&doc).await
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap().expect("save succeeds").status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == SaveStatus::New).count(),
        1,
        "{statuses:?}"
    );

    // The rows match whichever version committed last, whole.
    let stored = db.store.get("a1").await.unwrap().unwrap().article;
    let expected = if stored == v1 {
        [1, 3, 3, 4, 1, 3]
    } else {
        assert_eq!(stored, v2);
        [1, 3, 3, 4, 1, 0]
    };
    assert_eq!(db.counts().await, expected);
    let title: String = sqlx::query_scalar("SELECT title FROM articles WHERE id = 'a1'")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(title, stored.article.unwrap().title);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_sharing_entities_do_not_deadlock() {
    let db = TestDb::new().await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = db.store.clone();
            // Entities in a different order in every article.
            let names = [
                "Alpha Person",
                "Beta Person",
                "Gamma Person",
                "Delta Person",
            ];
            let mut doc = Doc::new(&format!("art{i}"), "src", Some(at(2024, 1, 1, 0)));
            for k in 0..names.len() {
                let name = names[(k + i) % names.len()];
                doc = doc.entity(&format!("e{k}"), EntityType::Person, name, 1);
            }
            let doc = doc.build();
            tokio::spawn(async move { store.save(&doc).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("save succeeds");
    }
    // One identity per person, however the saves interleaved.
    assert_eq!(db.count("identities").await, 4);
    assert_eq!(db.count("article_entities").await, 64);
}

#[tokio::test]
async fn get_returns_the_saved_document_exactly() {
    let db = TestDb::new().await;
    let mut doc = corpus().remove(0);
    // Nanoseconds survive (the document is stored whole), as does a NUL in the body, which
    // PostgreSQL text columns cannot hold.
    doc.article
        .as_mut()
        .unwrap()
        .published_at
        .as_mut()
        .unwrap()
        .nanos = 123_456_789;
    doc.article.as_mut().unwrap().body.push('\0');
    db.store.save(&doc).await.unwrap();
    let stored = db.store.get("a1").await.unwrap().expect("stored");
    assert_eq!(stored.article, doc);
    assert_eq!(stored.revision, 1);
    assert!(db.store.get("nope").await.unwrap().is_none());
    assert!(matches!(
        db.store.get("").await,
        Err(StoreError::InvalidArgument(_))
    ));
}

#[tokio::test]
async fn an_article_without_times_sorts_by_when_it_was_stored() {
    let db = TestDb::new().await;
    let mut doc = Doc::new("bare", "src", None).build();
    doc.article.as_mut().unwrap().ingested_at = None;
    let saved = db.store.save(&doc).await.unwrap();
    assert!(db.store.ping().await.is_ok());
    let sort_time: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT sort_time FROM articles WHERE id = 'bare'")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(sort_time, saved.stored_at);
    // The stored document stays as given, without an invented time.
    assert_eq!(db.store.get("bare").await.unwrap().unwrap().article, doc);
}

#[tokio::test]
async fn summaries_are_projected_per_article_entity() {
    let db = TestDb::new().await;
    let mut doc = corpus().remove(0);
    let summary = &mut doc.analysis.as_mut().unwrap().summaries[0];
    summary.mean_polarity = 0.8;
    summary.positive = 1;
    summary.strongest_evidence = Some(newsflow_proto::v1::Span { start: 3, end: 9 });
    summary.strongest_score = 0.8;
    db.store.save(&doc).await.unwrap();
    let row: (String, i32, f32, i32, i64, i64) = sqlx::query_as(
        "SELECT entity_key, summary_mention_count, summary_mean_polarity, summary_positive, \
         summary_strongest_start, summary_strongest_end FROM article_entities \
         WHERE article_id = 'a1' AND entity_id = 'e1'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(row, (PUTIN.to_owned(), 2, 0.8, 1, 3, 9));
}

/// entity_id, geo_status, geonames_id, latitude, longitude, country_code.
type PlaceRow = (
    String,
    i16,
    Option<i64>,
    Option<f64>,
    Option<f64>,
    Option<String>,
);

#[tokio::test]
async fn places_are_projected_per_article_entity() {
    let db = TestDb::new().await;
    let doc = corpus().remove(0);
    db.store.save(&doc).await.unwrap();
    let rows: Vec<PlaceRow> = sqlx::query_as(
        "SELECT entity_id, geo_status, geonames_id, latitude, longitude, country_code \
         FROM article_entities WHERE article_id = 'a1' ORDER BY ordinal",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            ("e1".to_owned(), 0, None, None, None, None),
            ("e2".to_owned(), 0, None, None, None, None),
            (
                "e3".to_owned(),
                1,
                Some(i64::from(UKRAINE_GEONAMES_ID)),
                Some(49.0),
                Some(32.0),
                Some("UA".to_owned())
            ),
        ]
    );
}

#[tokio::test]
async fn invalid_articles_are_refused_without_writing() {
    let db = TestDb::new().await;
    let good = corpus().remove(0);
    let refuse = |why: &str, doc: newsflow_proto::v1::AnalyzedArticle| {
        let store = db.store.clone();
        let why = why.to_owned();
        async move {
            let err = store.save(&doc).await.expect_err(&why);
            assert!(matches!(err, StoreError::InvalidArticle(_)), "{why}: {err}");
            assert!(!err.is_transient());
        }
    };

    let mut no_article = good.clone();
    no_article.article = None;
    refuse("no article", no_article).await;

    let mut no_id = good.clone();
    no_id.article.as_mut().unwrap().id.clear();
    refuse("no id", no_id).await;

    let mut dangling = good.clone();
    dangling.analysis.as_mut().unwrap().stances[0].holder_entity_id = "e9".into();
    refuse("unknown holder", dangling).await;

    let mut dangling = good.clone();
    dangling.analysis.as_mut().unwrap().stances[0].statement_id = "s9".into();
    refuse("unknown statement", dangling).await;

    let mut duplicate = good.clone();
    let e = duplicate.analysis.as_ref().unwrap().entities[0].clone();
    duplicate.analysis.as_mut().unwrap().entities.push(e);
    refuse("duplicate entity id", duplicate).await;

    let mut nan = good.clone();
    nan.analysis.as_mut().unwrap().stances[0].score = f32::NAN;
    refuse("NaN score", nan).await;

    let mut bad_time = good.clone();
    bad_time
        .article
        .as_mut()
        .unwrap()
        .ingested_at
        .as_mut()
        .unwrap()
        .nanos = -1;
    refuse("bad timestamp", bad_time).await;

    // Entity e3 of a1 is Ukraine, placed.
    for (latitude, longitude) in [(91.0, 30.0), (49.0, -181.0), (f64::NAN, 30.0)] {
        let mut off_globe = good.clone();
        let geo = off_globe.analysis.as_mut().unwrap().entities[2]
            .geo
            .as_mut()
            .unwrap();
        (geo.latitude, geo.longitude) = (latitude, longitude);
        refuse("a place off the globe", off_globe).await;
    }

    assert_eq!(db.counts().await, [0; 6]);
}

#[tokio::test]
async fn replay_streams_in_time_order_across_batches() {
    let db = TestDb::new().await;
    let docs = corpus();
    save_all(&db.store, &docs).await;
    // More than one replay batch (200) of articles without analysis.
    for i in 0..205 {
        let doc = Doc::new(&format!("bulk{i:03}"), "bulk", Some(at(2020, 1, 1, 0))).build();
        db.store.save(&doc).await.unwrap();
    }

    let all: Vec<_> = db
        .store
        .replay(ReplayFilter::all())
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<String> = all
        .iter()
        .map(|s| s.article.article.as_ref().unwrap().id.clone())
        .collect();
    let mut expected: Vec<String> = (0..205).map(|i| format!("bulk{i:03}")).collect();
    expected.extend(["a4", "a1", "a2", "a3"].map(String::from));
    assert_eq!(ids, expected);
    assert_eq!(
        all[205].article, docs[3],
        "replay returns the documents whole"
    );

    let range = ReplayFilter {
        basis: TimeBasis::Article,
        from: Some(at(2024, 11, 20, 0)),
        to: Some(at(2024, 11, 21, 0)),
    };
    let ids: Vec<String> = db
        .store
        .replay(range)
        .map_ok(|s| s.article.article.unwrap().id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["a1", "a2"]);

    // By ingested time a3 (ingested 2024-11-21 08:00) is the latest, a1 (11:00 on the 20th)
    // comes before a2 (16:00).
    let by_ingest = ReplayFilter {
        basis: TimeBasis::Ingested,
        from: Some(at(2024, 11, 1, 0)),
        to: None,
    };
    let ids: Vec<String> = db
        .store
        .replay(by_ingest)
        .map_ok(|s| s.article.article.unwrap().id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["a4", "a1", "a2", "a3"]);
}

#[tokio::test]
async fn a_database_that_is_down_is_unavailable() {
    // Nothing listens on port 1.
    let store = Store::connect_lazy("postgres://postgres@127.0.0.1:1/test").unwrap();
    let err = store.get("a1").await.expect_err("no database");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn a_schema_can_be_chosen_in_the_url() {
    let db = TestDb::new().await;
    save_all(&db.store, &corpus()).await;
    let url = database_url();
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = Store::connect(&format!(
        "{url}{sep}options[search_path]={},public",
        db.schema
    ))
    .await
    .unwrap();
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(schema, db.schema);
    assert_eq!(store.exists(&["a1".to_owned()]).await.unwrap(), ["a1"]);
}

#[tokio::test]
async fn a_statement_past_the_timeout_is_cancelled_and_said_to_be_a_timeout() {
    let database = newsflow_test_support::database::TestDatabase::new("timeout").await;
    let settings = newsflow_store::PoolSettings {
        max_connections: 2,
        statement_timeout: std::time::Duration::from_millis(300),
    };
    let store = Store::connect_with(&database.url, settings).await.unwrap();
    store.migrate().await.expect("migrations apply");
    // Another session holds the articles table, so the save waits on its lock until
    // PostgreSQL cancels the statement.
    let holder = database.pool(1).await;
    let mut lock = holder.begin().await.unwrap();
    sqlx::query("LOCK TABLE articles IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let doc = &corpus()[0];
    let error = store
        .save(doc)
        .await
        .expect_err("the save waits past 300 ms");
    assert!(matches!(error, StoreError::TimedOut(_)), "{error:?}");
    assert!(error.is_transient(), "a timeout is worth a later retry");
    lock.rollback().await.unwrap();
    assert_eq!(
        store
            .save(doc)
            .await
            .expect("saved once the lock is gone")
            .status,
        SaveStatus::New
    );
}
