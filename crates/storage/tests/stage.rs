//! The storage stage on the real broker and database: `article.classified` in, stored once,
//! `article.processed` out, whatever the redeliveries; undecodable input dead-lettered; replay.

mod common;

use std::time::Duration;

use common::{Doc, TestDb, at};
use futures::StreamExt;
use lapin::{
    Channel, Connection, ConnectionProperties,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicGetOptions, ExchangeDeleteOptions,
        QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
    },
    types::FieldTable,
};
use newsflow_bus::{
    BusConfig, Consumer, Outgoing, Publisher, Topology, TraceContext,
    topology::{ARTICLE_CLASSIFIED, ARTICLE_PROCESSED},
};
use newsflow_proto::v1::{AnalyzedArticle, ArticleProcessed, EntityType, ProcessedReason};
use newsflow_storage::{
    ReplayFilter,
    service::{ReplayAs, replay},
    stage::StoreStage,
};
use prost::Message;
use tokio_util::sync::CancellationToken;

fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

struct Bus {
    topology: Topology,
    config: BusConfig,
    channel: Channel,
    _connection: Connection,
    events: String,
}

impl Bus {
    /// A unique topology with a queue bound to `article.processed`, as a downstream consumer.
    async fn new(name: &str) -> Self {
        let prefix = format!("test-storage-{name}-{}", std::process::id());
        let topology = Topology::pipeline(prefix.clone(), vec![Duration::from_millis(200)]);
        let mut config = BusConfig::new(amqp_url(), prefix.clone());
        config.max_attempts = 2;
        config.shutdown_grace = Duration::from_secs(5);
        Publisher::connect(config.clone(), topology.clone())
            .await
            .expect("RabbitMQ answers (rabbitmq-server -detached)");
        let connection = Connection::connect(&config.url, ConnectionProperties::default())
            .await
            .unwrap();
        let channel = connection.create_channel().await.unwrap();
        let events = format!("{prefix}.downstream");
        channel
            .queue_declare(
                events.as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        channel
            .queue_bind(
                events.as_str().into(),
                prefix.as_str().into(),
                ARTICLE_PROCESSED.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        Self {
            topology,
            config,
            channel,
            _connection: connection,
            events,
        }
    }

    async fn take(&self, queue: &str) -> Vec<Vec<u8>> {
        let mut bodies = Vec::new();
        while let Some(message) = self
            .channel
            .basic_get(queue.into(), BasicGetOptions::default())
            .await
            .unwrap()
        {
            bodies.push(message.delivery.data.clone());
            message
                .delivery
                .acker
                .ack(BasicAckOptions::default())
                .await
                .unwrap();
        }
        bodies
    }

    async fn wait_for_events(&self, count: usize) -> Vec<ArticleProcessed> {
        let mut consumer = self
            .channel
            .basic_consume(
                self.events.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let mut events = Vec::new();
        while events.len() < count {
            let delivery = tokio::time::timeout(Duration::from_secs(20), consumer.next())
                .await
                .expect("events arrive")
                .unwrap()
                .unwrap();
            events.push(ArticleProcessed::decode(delivery.data.as_slice()).unwrap());
            delivery
                .acker
                .ack(BasicAckOptions::default())
                .await
                .unwrap();
        }
        events
    }

    async fn cleanup(&self) {
        let mut queues = vec![self.events.clone()];
        for stage in self.topology.stages() {
            let work = self.topology.work_queue(&stage.stage);
            queues.push(self.topology.retry_queue(&work, Duration::from_millis(200)));
            queues.push(self.topology.dead_letter_queue(&work));
            queues.push(work);
        }
        for queue in queues {
            let _ = self
                .channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        let _ = self
            .channel
            .exchange_delete(
                self.topology.exchange().into(),
                ExchangeDeleteOptions::default(),
            )
            .await;
    }
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
    let db = TestDb::new().await;
    let bus = Bus::new("flow").await;
    let publisher = Publisher::new(bus.config.clone(), bus.topology.clone());
    let stage = StoreStage {
        store: db.store.clone(),
        publisher: publisher.clone(),
    };
    let consumer = Consumer::new(
        bus.config.clone(),
        bus.topology.clone(),
        "storage",
        stage,
        publisher.clone(),
    );
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

    let events = bus.wait_for_events(3).await;
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
    let dead = bus
        .take(&format!("{}.storage.dead", bus.topology.exchange()))
        .await;
    assert_eq!(
        dead,
        vec![vec![0xff; 16]],
        "the undecodable message is parked"
    );
    bus.cleanup().await;
}

#[tokio::test]
async fn stored_articles_replay_as_events_or_as_new_input() {
    let db = TestDb::new().await;
    let bus = Bus::new("replay").await;
    let publisher = Publisher::new(bus.config.clone(), bus.topology.clone());
    for id in ["r1", "r2", "r3"] {
        db.store.save(&classified(id)).await.unwrap();
    }

    let count = replay(
        &db.store,
        &publisher,
        ReplayFilter::all(),
        ReplayAs::Processed,
    )
    .await
    .unwrap();
    assert_eq!(count, 3);
    let events = bus.wait_for_events(3).await;
    assert!(
        events
            .iter()
            .all(|e| e.reason == ProcessedReason::Replay as i32)
    );

    let count = replay(
        &db.store,
        &publisher,
        ReplayFilter::all(),
        ReplayAs::Ingested,
    )
    .await
    .unwrap();
    assert_eq!(count, 3);
    let again = bus.take(&bus.topology.work_queue("extractor")).await;
    assert_eq!(again.len(), 3);
    let first = AnalyzedArticle::decode(again[0].as_slice()).unwrap();
    assert_eq!(first.article.as_ref().unwrap().id, "r1");
    assert!(
        first.analysis.unwrap().entities.is_empty(),
        "the analysis starts afresh"
    );
    bus.cleanup().await;
}
