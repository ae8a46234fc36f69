//! The StorageService queries against the real PostgreSQL, through the store and through the
//! gRPC implementation.

mod common;

use common::*;
use newsflow_proto::v1::{
    EntityTimelineRequest, EntityType, ListArticlesRequest, Polarity, SearchEntitiesRequest,
    StanceFilter,
};
use newsflow_store::{SaveStatus, StoreError};

async fn list(db: &TestDb, req: ListArticlesRequest) -> Vec<String> {
    ids(&db.store.list_articles(&req).await.unwrap())
}

#[tokio::test]
async fn list_filters_by_every_field() {
    let db = TestDb::new().await;
    save_all(&db.store, &corpus()).await;
    let all = ListArticlesRequest::default();
    assert_eq!(list(&db, all.clone()).await, ["a3", "a2", "a1", "a4"]);

    let by = |f: fn(&mut ListArticlesRequest)| {
        let mut req = all.clone();
        f(&mut req);
        req
    };
    assert_eq!(
        list(&db, by(|r| r.entity_key = PUTIN.into())).await,
        ["a3", "a2", "a1"]
    );
    assert_eq!(
        list(&db, by(|r| r.entity_type = EntityType::Org as i32)).await,
        ["a2"]
    );
    assert_eq!(
        list(&db, by(|r| r.source = "reuters".into())).await,
        ["a3", "a1"]
    );
    assert_eq!(
        list(
            &db,
            by(|r| {
                r.from = Some(ts(at(2024, 11, 20, 0)));
                r.to = Some(ts(at(2024, 11, 21, 0)));
            })
        )
        .await,
        ["a2", "a1"]
    );
    // a3 has no published time: its ingested time (the 21st) counts.
    assert_eq!(
        list(&db, by(|r| r.from = Some(ts(at(2024, 11, 21, 0))))).await,
        ["a3"]
    );
    let stance = |polarity: Polarity| StanceFilter {
        entity_key: PUTIN.into(),
        polarity: polarity as i32,
    };
    let mut req = all.clone();
    req.stance = Some(stance(Polarity::Negative));
    assert_eq!(list(&db, req.clone()).await, ["a3", "a2"]);
    req.stance = Some(stance(Polarity::Positive));
    assert_eq!(list(&db, req.clone()).await, ["a1"]);
    req.stance = Some(stance(Polarity::Unspecified));
    assert_eq!(list(&db, req.clone()).await, ["a3", "a2", "a1"]);
    // Every filter at once must hold.
    assert_eq!(
        list(
            &db,
            by(|r| {
                r.source = "bbc".into();
                r.entity_key = UKRAINE.into();
            })
        )
        .await,
        ["a4"]
    );

    let page = db.store.list_articles(&all).await.unwrap();
    let a1 = &page.articles[2];
    assert_eq!(
        (a1.entity_count, a1.statement_count, a1.stance_count),
        (3, 1, 3)
    );
    assert_eq!(a1.article.as_ref(), corpus()[0].article.as_ref());
}

#[tokio::test]
async fn list_pages_walk_every_article_once() {
    let db = TestDb::new().await;
    save_all(&db.store, &corpus()).await;
    // Five articles at one instant: the id breaks the tie.
    for i in 0..5 {
        let doc = Doc::new(&format!("tie{i}"), "tie", Some(at(2024, 11, 20, 12))).build();
        db.store.save(&doc).await.unwrap();
    }
    let expected = [
        "a3", "a2", "tie4", "tie3", "tie2", "tie1", "tie0", "a1", "a4",
    ];
    for page_size in [1, 2, 4, 8, 9, 10] {
        let mut req = ListArticlesRequest {
            page_size,
            ..Default::default()
        };
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = db.store.list_articles(&req).await.unwrap();
            assert!(page.articles.len() <= page_size as usize);
            seen.extend(ids(&page));
            pages += 1;
            if page.next_page_token.is_empty() {
                break;
            }
            req.page_token = page.next_page_token;
        }
        assert_eq!(seen, expected, "page size {page_size}");
        assert_eq!(
            pages,
            expected.len().div_ceil(page_size as usize),
            "page size {page_size}"
        );
    }

    // Pagination combined with a filter.
    let mut req = ListArticlesRequest {
        entity_key: PUTIN.into(),
        page_size: 2,
        ..Default::default()
    };
    let first = db.store.list_articles(&req).await.unwrap();
    assert_eq!(ids(&first), ["a3", "a2"]);
    req.page_token = first.next_page_token;
    let second = db.store.list_articles(&req).await.unwrap();
    assert_eq!(ids(&second), ["a1"]);
    assert!(second.next_page_token.is_empty());
}

#[tokio::test]
async fn bad_page_tokens_and_filters_are_invalid_arguments() {
    let db = TestDb::new().await;
    save_all(&db.store, &corpus()).await;
    let bad_requests = [
        ListArticlesRequest {
            page_token: "not-a-token".into(),
            ..Default::default()
        },
        ListArticlesRequest {
            page_token: "ff00".into(),
            ..Default::default()
        },
        ListArticlesRequest {
            page_token: "01".into(),
            ..Default::default()
        },
        ListArticlesRequest {
            entity_type: 99,
            ..Default::default()
        },
        ListArticlesRequest {
            stance: Some(StanceFilter::default()),
            ..Default::default()
        },
        ListArticlesRequest {
            from: Some(prost_types::Timestamp {
                seconds: 0,
                nanos: -5,
            }),
            ..Default::default()
        },
        ListArticlesRequest {
            source: "a\0b".into(),
            ..Default::default()
        },
    ];
    for req in bad_requests {
        let err = db.store.list_articles(&req).await.expect_err("refused");
        assert!(
            matches!(err, StoreError::InvalidArgument(ref why) if !why.is_empty()),
            "{req:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn entity_timeline_buckets_by_utc_day() {
    let db = TestDb::new().await;
    save_all(&db.store, &corpus()).await;
    let req = EntityTimelineRequest {
        entity_key: PUTIN.into(),
        ..Default::default()
    };
    let timeline = db.store.entity_timeline(&req).await.unwrap();
    assert_eq!(timeline.entity_key, PUTIN);
    assert_eq!(timeline.canonical_name, "Vladimir Putin");
    assert_eq!(timeline.days.len(), 2);

    let day = &timeline.days[0];
    assert_eq!(day.date, "2024-11-20");
    assert_eq!((day.mentions, day.articles), (3, 2));
    assert_eq!((day.negative, day.neutral, day.positive), (2, 0, 1));
    assert!((day.mean_polarity - (0.8 - 0.6 - 0.4) / 3.0).abs() < 1e-5);
    let speakers: Vec<(&str, &str, u32)> = day
        .speakers
        .iter()
        .map(|s| (s.speaker_key.as_str(), s.speaker_name.as_str(), s.stances))
        .collect();
    // The text's own stance (no holder) is not a speaker.
    assert_eq!(
        speakers,
        [
            (NATO, "NATO", 1),
            ("PERSON:dmitry peskov", "Dmitry Peskov", 1)
        ]
    );
    assert!((day.speakers[1].mean_polarity - 0.8).abs() < 1e-6);

    let day = &timeline.days[1];
    assert_eq!(day.date, "2024-11-21");
    assert_eq!((day.mentions, day.articles), (1, 1));
    assert_eq!((day.negative, day.neutral, day.positive), (1, 0, 0));
    assert_eq!(day.speakers[0].speaker_name, "Volodymyr Zelensky");

    // An entity with mentions but no stance: zeros.
    let ukraine = db
        .store
        .entity_timeline(&EntityTimelineRequest {
            entity_key: UKRAINE.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let dates: Vec<&str> = ukraine.days.iter().map(|d| d.date.as_str()).collect();
    assert_eq!(dates, ["2024-11-19", "2024-11-20"]);
    assert_eq!(ukraine.days[0].mentions, 3);
    assert_eq!(ukraine.days[1].neutral, 1);
    assert_eq!(ukraine.days[0].mean_polarity, 0.0);

    // A period.
    let period = db
        .store
        .entity_timeline(&EntityTimelineRequest {
            entity_key: PUTIN.into(),
            from: Some(ts(at(2024, 11, 21, 0))),
            to: None,
            include_copies: false,
        })
        .await
        .unwrap();
    assert_eq!(period.days.len(), 1);
    assert_eq!(period.days[0].date, "2024-11-21");

    // An unset end means up to now: an article dated tomorrow waits.
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let future = Doc::new("future", "bbc", Some(tomorrow))
        .entity("e1", EntityType::Person, "Vladimir Putin", 1)
        .build();
    db.store.save(&future).await.unwrap();
    assert_eq!(db.store.entity_timeline(&req).await.unwrap().days.len(), 2);
    let until_later = EntityTimelineRequest {
        to: Some(ts(tomorrow + chrono::Duration::days(1))),
        ..req.clone()
    };
    let days = db.store.entity_timeline(&until_later).await.unwrap().days;
    assert_eq!(days.len(), 3);

    // Unknown and missing keys.
    let unknown = EntityTimelineRequest {
        entity_key: "PERSON:nobody".into(),
        ..Default::default()
    };
    let error = db.store.entity_timeline(&unknown).await.unwrap_err();
    assert!(matches!(error, StoreError::NotFound(_)), "{error:?}");
    let missing = EntityTimelineRequest::default();
    let error = db.store.entity_timeline(&missing).await.unwrap_err();
    assert!(matches!(error, StoreError::InvalidArgument(_)), "{error:?}");
}

async fn search(db: &TestDb, query: &str, fuzzy: bool, ty: EntityType) -> Vec<(String, f32)> {
    db.store
        .search_entities(&SearchEntitiesRequest {
            query: query.into(),
            r#type: ty as i32,
            fuzzy,
            limit: 0,
        })
        .await
        .unwrap()
        .entities
        .into_iter()
        .map(|e| (e.key, e.score))
        .collect()
}

fn keys(found: &[(String, f32)]) -> Vec<&str> {
    found.iter().map(|(k, _)| k.as_str()).collect()
}

#[tokio::test]
async fn search_entities_by_prefix_word_and_similarity() {
    let db = TestDb::new().await;
    save_all(&db.store, &corpus()).await;
    let none = EntityType::Unspecified;

    let exact = search(&db, "Vladimir Putin", false, none).await;
    assert_eq!(exact, [(PUTIN.to_owned(), 1.0)]);
    let prefix = search(&db, "vladimir p", false, none).await;
    assert_eq!(keys(&prefix), [PUTIN]);
    assert!(prefix[0].1 < 1.0 && prefix[0].1 > 0.5);
    // A later word of the name.
    assert_eq!(keys(&search(&db, "puti", false, none).await), [PUTIN]);
    // Several matches: best score first.
    let v = search(&db, "v", false, none).await;
    assert_eq!(keys(&v), [PUTIN, "PERSON:volodymyr zelensky"]);
    // Type filter.
    assert_eq!(
        keys(&search(&db, "u", false, EntityType::Gpe).await),
        [UKRAINE]
    );
    assert!(search(&db, "u", false, EntityType::Org).await.is_empty());
    // LIKE metacharacters match themselves.
    assert!(search(&db, "%", false, none).await.is_empty());
    assert!(search(&db, "_", false, none).await.is_empty());

    // A misspelling needs fuzzy.
    assert!(search(&db, "Vladmir Putn", false, none).await.is_empty());
    let fuzzy = search(&db, "Vladmir Putn", true, none).await;
    assert_eq!(keys(&fuzzy)[0], PUTIN);
    assert!(fuzzy[0].1 > 0.3 && fuzzy[0].1 < 1.0);
    assert_eq!(
        keys(&search(&db, "zelenskyy", true, none).await),
        ["PERSON:volodymyr zelensky"]
    );

    let found = db
        .store
        .search_entities(&SearchEntitiesRequest {
            query: "vladimir".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.entities[0].article_count, 3);
    assert_eq!(found.entities[0].canonical_name, "Vladimir Putin");
    assert_eq!(found.entities[0].r#type, EntityType::Person as i32);

    // An entity no article mentions any more is not found.
    let mut a2 = corpus().remove(1);
    let analysis = a2.analysis.as_mut().unwrap();
    analysis.entities.truncate(1);
    analysis.summaries.truncate(1);
    analysis.stances.retain(|s| s.holder_entity_id.is_empty());
    assert_eq!(
        db.store.save(&a2).await.unwrap().status,
        SaveStatus::Replaced
    );
    assert!(search(&db, "nato", false, none).await.is_empty());

    let blank = SearchEntitiesRequest {
        query: "   ".into(),
        ..Default::default()
    };
    let error = db.store.search_entities(&blank).await.unwrap_err();
    assert!(matches!(error, StoreError::InvalidArgument(_)), "{error:?}");
}

#[tokio::test]
async fn exists_answers_in_request_order() {
    let db = TestDb::new().await;
    save_all(&db.store, &corpus()).await;
    let ids: Vec<String> = ["zz", "a3", "nope", "a1"].map(String::from).into();
    assert_eq!(db.store.exists(&ids).await.unwrap(), ["a3", "a1"]);
    assert!(db.store.exists(&[]).await.unwrap().is_empty());

    let many: Vec<String> = (0..1001).map(|i| format!("id{i}")).collect();
    let error = db.store.exists(&many).await.unwrap_err();
    assert!(matches!(error, StoreError::InvalidArgument(_)), "{error:?}");
    assert!(db.store.exists(&many[..1000]).await.unwrap().is_empty());
}
