//! The storage stage on the real broker and database: `article.classified` in, stored once,
//! `article.processed` out, whatever the redeliveries; undecodable input dead-lettered; replay.

use newsflow_bus::{Outgoing, Publisher, TraceContext, topology::ARTICLE_CLASSIFIED};
use newsflow_proto::v1::{AnalyzedArticle, ArticleProcessed, EntityType, ProcessedReason};
use newsflow_storage::{config::ReplayAs, republish::replay, stage::StoreStage};
use newsflow_store::{ReplayFilter, Store};
use newsflow_test_support::{
    broker::{self, DOWNSTREAM, TestBus},
    database::TestSchema,
    fixtures::{Doc, at},
};
use prost::Message;
use tokio_util::sync::CancellationToken;

/// The `article.processed` events that reached the downstream queue, `count` of them.
async fn events(bus: &TestBus, count: usize) -> Vec<ArticleProcessed> {
    broker::take_many(&bus.work_queue(DOWNSTREAM), count)
        .await
        .iter()
        .map(|delivery| ArticleProcessed::decode(delivery.data.as_slice()).unwrap())
        .collect()
}

/// A migrated store in a schema of the test's own.
async fn store(schema: &TestSchema) -> Store {
    let store = Store::new(schema.pool.clone());
    store.migrate().await.expect("migrations apply");
    store
}

fn classified(id: &str) -> AnalyzedArticle {
    Doc::new(id, "test", Some(at(2025, 9, 4, 10)))
        .entity("e1", EntityType::Person, "Vladimir Putin", 2)
        .entity("e2", EntityType::Gpe, "Ukraine", 1)
        .statement("s1", "e1")
        .stance("e1", "s1", "e2", -0.8)
        .build()
}

#[tokio::test]
async fn classified_articles_are_stored_once_and_announced_downstream() {
    let db = TestSchema::new(4).await;
    let store = store(&db).await;
    let bus = TestBus::pipeline("storage-flow").await;
    let publisher = Publisher::connect(bus.config.clone(), bus.topology.clone())
        .await
        .expect("publisher connects");
    let stage = StoreStage::new(store.clone());
    let consumer =
        newsflow_runtime::stage::consumer(bus.config.clone(), bus.topology.clone(), stage);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(consumer.run(shutdown.clone()));

    let article = classified("a1");
    let message = Outgoing::protobuf(ARTICLE_CLASSIFIED, "a1", &article, TraceContext::new_root());
    // The same article delivered twice (a redelivery after a crash), and a second article.
    publisher.publish(&message).await.unwrap();
    publisher.publish(&message).await.unwrap();
    let other = classified("a2");
    publisher
        .publish(&Outgoing::protobuf(
            ARTICLE_CLASSIFIED,
            "a2",
            &other,
            TraceContext::new_root(),
        ))
        .await
        .unwrap();
    // And a message that is not an AnalyzedArticle at all.
    let mut garbage = message.clone();
    garbage.body = vec![0xff; 16];
    publisher.publish(&garbage).await.unwrap();

    let events = events(&bus, 3).await;
    shutdown.cancel();
    running.await.unwrap().unwrap();

    let ids: Vec<String> = events
        .iter()
        .map(|e| {
            e.article
                .as_ref()
                .unwrap()
                .article
                .as_ref()
                .unwrap()
                .id
                .clone()
        })
        .collect();
    assert_eq!(ids.iter().filter(|id| *id == "a1").count(), 2, "{ids:?}");
    assert_eq!(ids.iter().filter(|id| *id == "a2").count(), 1, "{ids:?}");
    assert!(
        events
            .iter()
            .all(|e| e.reason == ProcessedReason::Live as i32)
    );
    assert!(events.iter().all(|e| e.stored_at.is_some()));
    // Messages are handled concurrently, so events come in any order.
    let first_a1 = events
        .iter()
        .find(|e| e.article.as_ref().unwrap().article.as_ref().unwrap().id == "a1")
        .unwrap();
    assert_eq!(
        first_a1.article.as_ref().unwrap(),
        &article,
        "the full analysis"
    );
    assert_eq!(db.count("articles").await, 2, "stored once each");
    assert_eq!(db.count("statements").await, 2);
    assert_eq!(db.count("stances").await, 2);
    let dead = broker::take(&bus.dead_letter_queue("storage")).await;
    assert_eq!(
        dead.data,
        vec![0xff; 16],
        "the undecodable message is parked"
    );
}

#[tokio::test]
async fn stored_articles_replay_as_events_or_as_new_input() {
    let db = TestSchema::new(4).await;
    let store = store(&db).await;
    let bus = TestBus::pipeline("storage-replay").await;
    let publisher = Publisher::connect(bus.config.clone(), bus.topology.clone())
        .await
        .expect("publisher connects");
    for id in ["r1", "r2", "r3"] {
        store.save(&classified(id)).await.unwrap();
    }

    let count = replay(&store, &publisher, ReplayFilter::all(), ReplayAs::Processed)
        .await
        .unwrap();
    assert_eq!(count, 3);
    let events = events(&bus, 3).await;
    assert!(
        events
            .iter()
            .all(|e| e.reason == ProcessedReason::Replay as i32)
    );

    let count = replay(&store, &publisher, ReplayFilter::all(), ReplayAs::Ingested)
        .await
        .unwrap();
    assert_eq!(count, 3);
    let again = broker::take_many(&bus.work_queue("extractor"), 3).await;
    assert_eq!(again.len(), 3);
    let first = AnalyzedArticle::decode(again[0].data.as_slice()).unwrap();
    assert_eq!(first.article.as_ref().unwrap().id, "r1");
    assert!(
        first.analysis.unwrap().entities.is_empty(),
        "the analysis starts afresh"
    );
}
