//! A downstream consumer of newsflow, in the shape a user's own service would take: its own
//! durable queue bound to `article.processed`, each event decoded from protobuf, acked once
//! handled. Run it beside a pipeline:
//!
//! ```sh
//! cargo run -p newsflow-proto --example consume_processed
//! ```
//!
//! Only lapin, prost and the generated types are needed; events are persistent and the queue
//! durable, so nothing published while this consumer is down is missed once it has run once.

use futures::StreamExt;
use lapin::{
    Connection, ConnectionProperties, ExchangeKind,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
        ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
    },
    types::FieldTable,
};
use newsflow_proto::v1::{ArticleProcessed, Polarity, target};
use prost::Message;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("NEWSFLOW_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let exchange = std::env::var("NEWSFLOW_BUS_PREFIX").unwrap_or_else(|_| "newsflow".into());
    let queue = format!("{exchange}.my-app");

    let connection = Connection::connect(&url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(
            exchange.as_str().into(),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await?;
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .queue_declare(queue.as_str().into(), durable, FieldTable::default())
        .await?;
    channel
        .queue_bind(
            queue.as_str().into(),
            exchange.as_str().into(),
            "article.processed".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    channel.basic_qos(16, BasicQosOptions::default()).await?;
    let mut deliveries = channel
        .basic_consume(
            queue.as_str().into(),
            "my-app".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;

    while let Some(delivery) = deliveries.next().await {
        let delivery = delivery?;
        let Ok(event) = ArticleProcessed::decode(delivery.data.as_slice()) else {
            // Not an event this version understands: set it aside rather than loop on it.
            delivery.nack(BasicNackOptions::default()).await?;
            continue;
        };
        let document = event.article.unwrap_or_default();
        let article = document.article.unwrap_or_default();
        let analysis = document.analysis.unwrap_or_default();
        println!(
            "{} {:?}: {} entities",
            article.id,
            article.title,
            analysis.entities.len()
        );
        for stance in &analysis.stances {
            let holder = analysis
                .entities
                .iter()
                .find(|e| e.id == stance.holder_entity_id)
                .map_or("the text", |e| e.canonical_name.as_str());
            let toward = match stance.target.as_ref().and_then(|t| t.target.as_ref()) {
                Some(target::Target::Topic(topic)) => topic.clone(),
                Some(target::Target::EntityId(id)) => analysis
                    .entities
                    .iter()
                    .find(|e| &e.id == id)
                    .map_or_else(|| id.clone(), |e| e.canonical_name.clone()),
                None => continue,
            };
            let polarity = Polarity::try_from(stance.polarity).unwrap_or(Polarity::Unspecified);
            println!(
                "  {holder} -> {toward}: {} ({:+.2})",
                polarity.as_str_name(),
                stance.score
            );
        }
        // Events may come twice (at-least-once): key what you store by article id.
        delivery.ack(BasicAckOptions::default()).await?;
    }
    Ok(())
}
