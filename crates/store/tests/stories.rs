//! Stories against the real PostgreSQL: reports of one event saved over two days make one
//! story (names resolved to one identity count as one entity), an article on another event
//! or outside the window starts its own, a near-copy joins its original's story as a copy,
//! saving again keeps an article's story, an article without an embedding has none, reports
//! of a new event saved at once make one story, and stories are listed, filtered and paged.

mod common;

use common::*;
use newsflow_proto::v1::{
    AnalyzedArticle, EntityType, GetStoryRequest, ListArticlesRequest, ListStoriesRequest,
};

const DIMENSION: usize = 384;

/// A unit-ish vector along axis `event`, tilted by `variant` toward axis `event + 1`: the
/// embeddings of reports of one event (cosine above 0.9 for variants 0 to 3).
fn embedding(event: usize, variant: usize) -> Vec<f32> {
    let mut v = vec![0f32; DIMENSION];
    v[event] = 1.0;
    v[(event + 1) % DIMENSION] = 0.1 * variant as f32;
    v
}

/// A report of an event with `embedding`, published at `hour` hours after noon of Nov 20,
/// naming `people` and `orgs`.
fn report(
    id: &str,
    hour: i64,
    people: &[&str],
    orgs: &[&str],
    embedding: Vec<f32>,
) -> AnalyzedArticle {
    let published = at(2024, 11, 20, 12) + chrono::Duration::hours(hour);
    let mut doc = Doc::new(id, "wire", Some(published));
    let mut n = 0;
    for name in people {
        n += 1;
        doc = doc.entity(&format!("p{n}"), EntityType::Person, name, 2);
    }
    for name in orgs {
        n += 1;
        doc = doc.entity(&format!("o{n}"), EntityType::Org, name, 2);
    }
    // A date is no part of what an event is about: never a shared entity.
    doc = doc.entity("d", EntityType::Date, "Tuesday", 1);
    doc.article_mut().title = format!("Report {id}");
    doc.embedding(embedding).build()
}

async fn story_of(db: &TestDb, id: &str) -> u64 {
    let page = db
        .store
        .list_articles(&ListArticlesRequest {
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    page.articles
        .iter()
        .find(|a| a.article.as_ref().unwrap().id == id)
        .unwrap_or_else(|| panic!("{id} is stored"))
        .story_id
}

#[tokio::test]
async fn reports_of_one_event_make_one_story_and_others_their_own() {
    let db = TestDb::new().await;
    let summit = ["Vladimir Putin", "Emmanuel Macron"];
    save_all(
        &db.store,
        &[
            report("s1", 0, &summit, &["NATO"], embedding(0, 0)),
            // "Putin" alone resolves to Vladimir Putin's identity: one entity for the rules.
            report(
                "s2",
                20,
                &["Putin", "Emmanuel Macron"],
                &["NATO"],
                embedding(0, 2),
            ),
            report("s3", 40, &summit, &[], embedding(0, 3)),
            // The same people on another event (another embedding): a story of its own.
            report("other", 30, &summit, &["NATO"], embedding(10, 0)),
            // The summit's embedding, but nobody in common: no shared entity, no story.
            report(
                "unrelated",
                10,
                &["Ada Lovelace"],
                &["Acme"],
                embedding(0, 1),
            ),
            // Five days after the last report: outside the window.
            report("late", 160, &summit, &["NATO"], embedding(0, 1)),
        ],
    )
    .await;

    let summit_story = story_of(&db, "s1").await;
    assert_ne!(summit_story, 0, "an article with an embedding has a story");
    assert_eq!(story_of(&db, "s2").await, summit_story);
    assert_eq!(story_of(&db, "s3").await, summit_story);
    for alone in ["other", "unrelated", "late"] {
        let story = story_of(&db, alone).await;
        assert_ne!(story, 0);
        assert_ne!(story, summit_story, "{alone} is not a report of the summit");
    }
    assert_eq!(db.count("stories").await, 4);

    let story = db
        .store
        .story(&GetStoryRequest { id: summit_story })
        .await
        .unwrap()
        .expect("the story is stored");
    assert_eq!(story.article_count, 3);
    assert_eq!(story.copy_count, 0);
    let names: Vec<&str> = story.entities.iter().map(|e| e.name.as_str()).collect();
    assert!(
        names.contains(&"Vladimir Putin") && names.contains(&"Emmanuel Macron"),
        "the label names the summit's people: {names:?}"
    );
    assert!(!names.contains(&"Tuesday"), "dates are left out: {names:?}");
    assert!(story.title.starts_with("Report s"), "{}", story.title);
    assert_eq!(
        story.first_at.unwrap().seconds,
        at(2024, 11, 20, 12).timestamp()
    );

    let members = db
        .store
        .list_articles(&ListArticlesRequest {
            story_id: summit_story,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&members), ["s3", "s2", "s1"]);

    // Listed latest first; the entity filter takes any name's key of the identity.
    let all = db
        .store
        .list_stories(&ListStoriesRequest::default())
        .await
        .unwrap();
    assert_eq!(all.stories.len(), 4);
    assert_eq!(all.stories[0].id, story_of(&db, "late").await);
    let lovelace = db
        .store
        .list_stories(&ListStoriesRequest {
            entity_key: "PERSON:ada lovelace".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(lovelace.stories.len(), 1);
    assert_eq!(lovelace.stories[0].id, story_of(&db, "unrelated").await);

    // Pages neither skip nor repeat.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = db
            .store
            .list_stories(&ListStoriesRequest {
                page_size: 3,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.stories.iter().map(|s| s.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let listed: Vec<u64> = all.stories.iter().map(|s| s.id).collect();
    assert_eq!(seen, listed);

    let bad = db
        .store
        .list_stories(&ListStoriesRequest {
            page_token: "zz".into(),
            ..Default::default()
        })
        .await;
    assert!(bad.is_err(), "a corrupt page token is refused");
    assert_eq!(
        db.store
            .story(&GetStoryRequest { id: 999_999 })
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_copy_joins_its_originals_story_and_saving_again_keeps_the_story() {
    let db = TestDb::new().await;
    let words: Vec<String> = (0..200).map(|i| format!("w{i}")).collect();
    let mut original = report("orig", 0, &["Olaf Scholz"], &["SPD"], embedding(3, 0));
    original.article.as_mut().unwrap().body = words.join(" ");
    let mut copy = report("copy", 2, &["Olaf Scholz"], &["SPD"], embedding(3, 0));
    copy.article.as_mut().unwrap().body = words[..190].join(" ");
    copy.article.as_mut().unwrap().source = "other outlet".into();
    save_all(&db.store, &[original.clone(), copy.clone()]).await;

    let story = story_of(&db, "orig").await;
    assert_eq!(story_of(&db, "copy").await, story);
    let shown = db
        .store
        .story(&GetStoryRequest { id: story })
        .await
        .unwrap()
        .unwrap();
    assert_eq!((shown.article_count, shown.copy_count), (1, 1));

    // Saved again, changed or not, an article keeps its story and the story its size.
    let again = db.store.save(&copy).await.unwrap();
    assert_eq!(again.story_id, Some(story), "the save says the story");
    assert_eq!(
        db.store.get("copy").await.unwrap().unwrap().story_id,
        Some(story)
    );
    original.article.as_mut().unwrap().title = "A new headline".into();
    db.store.save(&original).await.unwrap();
    assert_eq!(story_of(&db, "orig").await, story);
    assert_eq!(story_of(&db, "copy").await, story);
    let size: i64 = sqlx::query_scalar("SELECT size FROM stories WHERE id = $1")
        .bind(story as i64)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(size, 1, "the copy and the re-save do not count again");

    // No embedding (a document analysed before embeddings): no story, and no error.
    let bare = Doc::new("bare", "wire", Some(at(2024, 11, 20, 13)))
        .entity("p", EntityType::Person, "Olaf Scholz", 1)
        .build();
    db.store.save(&bare).await.unwrap();
    assert_eq!(story_of(&db, "bare").await, 0);

    // An embedding holding NaN is refused as invalid, with nothing written.
    let mut broken = report("broken", 1, &["Olaf Scholz"], &[], embedding(3, 0));
    broken
        .analysis
        .as_mut()
        .unwrap()
        .embedding
        .as_mut()
        .unwrap()
        .values[0] = f32::NAN;
    let refused = db.store.save(&broken).await;
    assert!(
        matches!(refused, Err(newsflow_store::StoreError::InvalidArticle(_))),
        "{refused:?}"
    );
    assert!(db.store.get("broken").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_of_a_new_event_saved_at_once_make_one_story() {
    let db = TestDb::new().await;
    // The people are known already (an article without an embedding: no story), so the saves
    // below do not wait on one another to create their identities; only the story locks
    // serialize them.
    let mut known = report(
        "known",
        0,
        &["Jacinda Ardern"],
        &["Labour Party"],
        Vec::new(),
    );
    known.analysis.as_mut().unwrap().embedding = None;
    db.store.save(&known).await.unwrap();
    let saves: Vec<_> = (0..12)
        .map(|i| {
            let store = db.store.clone();
            let doc = report(
                &format!("r{i}"),
                i + 1,
                &["Jacinda Ardern"],
                &["Labour Party"],
                embedding(7, (i % 4) as usize),
            );
            tokio::spawn(async move { store.save(&doc).await })
        })
        .collect();
    for save in saves {
        save.await.unwrap().unwrap();
    }
    assert_eq!(db.count("stories").await, 1);
    let size: i64 = sqlx::query_scalar("SELECT size FROM stories")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(size, 12, "every report counts once in the story");
}
