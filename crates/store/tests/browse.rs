//! The analyst's queries (`newsflow-web` asks them) and the streamed exports, against the real
//! PostgreSQL, on the shared fixture corpus.

mod common;

use common::*;
use futures::TryStreamExt;
use newsflow_proto::v1::{Polarity, StatementKind};
use newsflow_store::{
    ArticleFilter, EdgeFilter, EdgeTarget, ExportBatch, ExportRows, StanceMatch, StatementFilter,
    StoreError,
};

const PESKOV: &str = "PERSON:dmitry peskov";
const ZELENSKY: &str = "PERSON:volodymyr zelensky";

async fn corpus_db() -> TestDb {
    let db = TestDb::new().await;
    save_all(&db.store, &corpus()).await;
    db
}

async fn found(db: &TestDb, filter: ArticleFilter) -> Vec<String> {
    ids(&db.store.find_articles(&filter, 0, "").await.unwrap())
}

fn stance(holder: Option<&str>, target: Option<&str>, polarity: Option<Polarity>) -> ArticleFilter {
    ArticleFilter {
        stance: StanceMatch {
            holder: holder.map(str::to_owned),
            target: target.map(str::to_owned),
            polarity,
        },
        ..ArticleFilter::default()
    }
}

#[tokio::test]
async fn articles_filter_by_place() {
    let db = corpus_db().await;
    let at = |place| ArticleFilter {
        place: Some(place),
        ..ArticleFilter::default()
    };
    assert_eq!(found(&db, at(UKRAINE_GEONAMES_ID)).await, ["a1", "a4"]);
    // Paris, which no article names.
    assert!(found(&db, at(2_988_507)).await.is_empty());
}

#[tokio::test]
async fn articles_filter_by_stance_holder_target_polarity_and_text() {
    let db = corpus_db().await;
    assert_eq!(found(&db, stance(Some(PESKOV), None, None)).await, ["a1"]);
    assert_eq!(
        found(&db, stance(Some(NATO), Some(PUTIN), None)).await,
        ["a2"]
    );
    assert_eq!(
        found(&db, stance(None, Some(PUTIN), Some(Polarity::Negative))).await,
        ["a3", "a2"]
    );
    assert_eq!(
        found(&db, stance(None, None, Some(Polarity::Positive))).await,
        ["a1"]
    );
    // A topic is a target too.
    assert_eq!(
        found(&db, stance(None, Some("Western troops"), None)).await,
        ["a1"]
    );
    assert!(
        found(&db, stance(Some(ZELENSKY), Some(NATO), None))
            .await
            .is_empty()
    );

    let text = |q: &str| ArticleFilter {
        text: Some(q.to_owned()),
        ..ArticleFilter::default()
    };
    assert_eq!(found(&db, text("putin")).await, ["a3", "a2", "a1", "a4"]);
    assert_eq!(found(&db, text("\"title of a4\"")).await, ["a4"]);
    assert_eq!(found(&db, text("putin -a2 -a3")).await, ["a1", "a4"]);
    assert!(matches!(
        db.store.find_articles(&text("  "), 0, "").await,
        Err(StoreError::InvalidArgument(_))
    ));
    // Filters combine.
    let both = ArticleFilter {
        source: Some("reuters".into()),
        ..stance(None, Some(PUTIN), None)
    };
    assert_eq!(found(&db, both).await, ["a3", "a1"]);
}

#[tokio::test]
async fn articles_page_by_keyset() {
    let db = corpus_db().await;
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = db
            .store
            .find_articles(&ArticleFilter::default(), 1, &token)
            .await
            .unwrap();
        seen.extend(ids(&page));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ["a3", "a2", "a1", "a4"]);
    assert!(matches!(
        db.store
            .find_articles(&ArticleFilter::default(), 1, "zz")
            .await,
        Err(StoreError::InvalidArgument(_))
    ));
}

#[tokio::test]
async fn statements_by_speaker_and_about_an_entity_page_in_order() {
    let db = corpus_db().await;
    let by_peskov = db
        .store
        .statements(
            &StatementFilter {
                speaker: Some(PESKOV.into()),
                ..StatementFilter::default()
            },
            0,
            "",
        )
        .await
        .unwrap();
    assert_eq!(by_peskov.statements.len(), 1);
    let statement = &by_peskov.statements[0];
    assert_eq!(
        (
            statement.article_id.as_str(),
            statement.statement_id.as_str()
        ),
        ("a1", "s1")
    );
    assert_eq!(statement.speaker_name.as_deref(), Some("Dmitry Peskov"));
    assert_eq!(statement.kind, StatementKind::Direct);
    assert_eq!(statement.content_span, Some((11, 30)));
    assert_eq!(statement.stance, None);
    assert!(by_peskov.next_page_token.is_empty());

    // About Putin: the statements that take a stance toward him, newest article first, one a
    // page.
    let about = StatementFilter {
        about: Some(PUTIN.into()),
        ..StatementFilter::default()
    };
    let first = db.store.statements(&about, 1, "").await.unwrap();
    assert_eq!(first.statements[0].article_id, "a3");
    assert_eq!(first.statements[0].speaker_key.as_deref(), Some(ZELENSKY));
    assert_eq!(
        first.statements[0].stance.map(|s| s.0),
        Some(Polarity::Negative)
    );
    assert!(!first.next_page_token.is_empty());
    let second = db
        .store
        .statements(&about, 1, &first.next_page_token)
        .await
        .unwrap();
    assert_eq!(second.statements[0].article_id, "a1");
    assert_eq!(
        second.statements[0].stance.map(|s| s.0),
        Some(Polarity::Positive)
    );
    assert!(second.next_page_token.is_empty(), "two statements in all");
    // An article page token is not a statement page token.
    assert!(matches!(
        db.store.statements(&about, 1, "01000000000000000061").await,
        Err(StoreError::InvalidArgument(_))
    ));

    let later = StatementFilter {
        from: Some(at(2024, 11, 21, 0)),
        ..about
    };
    let page = db.store.statements(&later, 0, "").await.unwrap();
    assert_eq!(page.statements.len(), 1);
}

#[tokio::test]
async fn stance_edges_count_holder_target_pairs_in_a_period() {
    let db = corpus_db().await;
    let edges = db.store.stance_edges(&EdgeFilter::default()).await.unwrap();
    let pairs: Vec<(&str, EdgeTarget, u32, u32)> = edges
        .iter()
        .map(|e| {
            (
                e.holder_key.as_str(),
                e.target.clone(),
                e.negative,
                e.positive,
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            (NATO, EdgeTarget::Entity(PUTIN.into()), 1, 0),
            (PESKOV, EdgeTarget::Entity(PUTIN.into()), 0, 1),
            (PUTIN, EdgeTarget::Topic("Western troops".into()), 1, 0),
            (ZELENSKY, EdgeTarget::Entity(PUTIN.into()), 1, 0),
        ]
    );
    assert_eq!(edges[1].holder_name, "Dmitry Peskov");
    assert_eq!(edges[1].target_name, "Vladimir Putin");
    assert_eq!(edges[2].target_name, "Western troops");

    let later = EdgeFilter {
        from: Some(at(2024, 11, 21, 0)),
        ..EdgeFilter::default()
    };
    let edges = db.store.stance_edges(&later).await.unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].holder_key, ZELENSKY);

    let against = EdgeFilter {
        stance: StanceMatch {
            polarity: Some(Polarity::Negative),
            ..StanceMatch::default()
        },
        entity: Some(NATO.into()),
        ..EdgeFilter::default()
    };
    let edges = db.store.stance_edges(&against).await.unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].holder_key, NATO);

    let one = EdgeFilter {
        limit: 1,
        ..EdgeFilter::default()
    };
    assert_eq!(db.store.stance_edges(&one).await.unwrap().len(), 1);
}

#[tokio::test]
async fn entity_facts_sum_its_articles() {
    let db = corpus_db().await;
    let putin = db
        .store
        .entity(PUTIN)
        .await
        .unwrap()
        .expect("Putin is stored");
    assert_eq!(putin.canonical_name, "Vladimir Putin");
    assert_eq!((putin.articles, putin.mentions), (3, 4));
    assert_eq!(putin.first, at(2024, 11, 20, 10));
    assert_eq!(putin.last, at(2024, 11, 21, 8));
    let peskov = db.store.entity(PESKOV).await.unwrap().unwrap();
    assert_eq!(peskov.statements, 1);
    assert_eq!(db.store.entity("PERSON:nobody").await.unwrap(), None);
}

#[tokio::test]
async fn exports_stream_every_kind_of_record() {
    let db = corpus_db().await;
    let all = |rows| {
        db.store
            .export(ArticleFilter::default(), rows)
            .try_collect::<Vec<ExportBatch>>()
    };
    let articles = all(ExportRows::Articles).await.unwrap();
    let ExportBatch::Articles(records) = &articles[0] else {
        panic!("article records: {articles:?}");
    };
    let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a3", "a2", "a1", "a4"]);
    assert_eq!(records[0].published_at, None);
    assert!(records[0].body.contains("Vladimir Putin"));

    let mentions: usize = all(ExportRows::Mentions)
        .await
        .unwrap()
        .iter()
        .map(ExportBatch::len)
        .sum();
    assert_eq!(mentions, db.count("mentions").await as usize);
    let stances = all(ExportRows::Stances).await.unwrap();
    let ExportBatch::Stances(records) = &stances[0] else {
        panic!("stance records: {stances:?}");
    };
    assert_eq!(records.len(), 6);
    assert_eq!(records[0].article_id, "a3");
    assert_eq!(
        records[0].holder_name.as_deref(),
        Some("Volodymyr Zelensky")
    );
    assert_eq!(records[0].target_name.as_deref(), Some("Putin"));
    // The evidence is the body's code points [0, 40), cut at its end.
    assert_eq!(
        records[0].evidence.as_deref(),
        Some("Body of a3. Vladimir Putin and others.")
    );

    // Only Reuters, as statements.
    let reuters = ArticleFilter {
        source: Some("reuters".into()),
        ..ArticleFilter::default()
    };
    let statements = db
        .store
        .export(reuters, ExportRows::Statements)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let ExportBatch::Statements(records) = &statements[0] else {
        panic!("statement records: {statements:?}");
    };
    let speakers: Vec<Option<&str>> = records.iter().map(|r| r.speaker_name.as_deref()).collect();
    assert_eq!(
        speakers,
        [Some("Volodymyr Zelensky"), Some("Dmitry Peskov")]
    );

    // A bad filter is the first item.
    let bad = ArticleFilter {
        source: Some("nul\0".into()),
        ..ArticleFilter::default()
    };
    let first = db
        .store
        .export(bad, ExportRows::Articles)
        .try_collect::<Vec<_>>()
        .await;
    assert!(matches!(first, Err(StoreError::InvalidArgument(_))));
}
