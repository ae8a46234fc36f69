//! The local RabbitMQ, under names of the test's own.

use std::time::Duration;

use lapin::{
    Connection, ConnectionProperties,
    message::Delivery,
    options::{BasicAckOptions, BasicGetOptions, QueueDeclareOptions},
    types::FieldTable,
};
use newsflow_bus::{
    BusConfig, Topology,
    topology::{ARTICLE_CLASSIFIED, ARTICLE_EXTRACTED, ARTICLE_INGESTED, ARTICLE_PROCESSED},
};

/// The stage name of the queue [`TestBus::pipeline`] binds to `article.processed`.
pub const DOWNSTREAM: &str = "downstream";

/// The broker the tests use: `AMQP_URL`, or the local one.
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A connection to the broker; fails the test, saying how to start RabbitMQ, when it does not
/// answer.
pub async fn connect() -> Connection {
    let url = amqp_url();
    Connection::connect(&url, ConnectionProperties::default())
        .await
        .unwrap_or_else(|error| {
            panic!(
                "RabbitMQ does not answer at {url} ({error}). Start it with \
                 `rabbitmq-server -detached && rabbitmqctl await_startup`, or set AMQP_URL."
            )
        })
}

/// A topology of the test's own (a unique prefix), deleted with its messages when the value is
/// dropped, and bus settings with short delays for it.
pub struct TestBus {
    /// The unique prefix: exchange name and queue prefix.
    pub prefix: String,
    /// The topology under it.
    pub topology: Topology,
    /// Bus settings for clients of this test (connection names carry the prefix).
    pub config: BusConfig,
}

impl TestBus {
    /// The pipeline's topology under a unique prefix, with one retry delay of 200 ms, and a
    /// `downstream` queue bound to `article.processed` as a consumer of the events would bind
    /// one.
    pub async fn pipeline(name: &str) -> Self {
        Self::new(name, |prefix| {
            Topology::new(
                prefix,
                vec![Duration::from_millis(200)],
                [
                    ("extractor", ARTICLE_INGESTED),
                    ("stance", ARTICLE_EXTRACTED),
                    ("storage", ARTICLE_CLASSIFIED),
                    (DOWNSTREAM, ARTICLE_PROCESSED),
                ],
            )
        })
        .await
    }

    /// The topology `make` builds for a unique prefix.
    pub async fn new(name: &str, make: impl FnOnce(String) -> Topology) -> Self {
        let prefix = crate::unique_name(&format!("test-{name}"), '-');
        let topology = make(prefix.clone());
        let mut config = BusConfig::new(amqp_url(), prefix.clone());
        config.reconnect_min = Duration::from_millis(50);
        config.reconnect_max = Duration::from_millis(500);
        config.shutdown_grace = Duration::from_secs(5);
        connect().await.close(200, "reachable".into()).await.ok();
        Self {
            prefix,
            topology,
            config,
        }
    }

    /// The work queue of a stage.
    pub fn work_queue(&self, stage: &str) -> String {
        self.topology.work_queue(stage)
    }

    /// The dead-letter queue of a stage.
    pub fn dead_letter_queue(&self, stage: &str) -> String {
        self.topology.dead_letter_queue(&self.work_queue(stage))
    }

    /// Closes, from the broker's side, every connection this test opened (their names carry
    /// the prefix); returns how many.
    pub fn close_connections_from_broker(&self) -> usize {
        // One line per connection: its pid, a tab, its client properties (which hold the
        // connection name, and so this test's prefix).
        let output = std::process::Command::new("rabbitmqctl")
            .args(["-q", "list_connections", "pid", "client_properties"])
            .output()
            .expect("rabbitmqctl runs");
        let listed = String::from_utf8_lossy(&output.stdout);
        let mut closed = 0;
        for line in listed.lines().filter(|line| line.contains(&self.prefix)) {
            let pid = line.split_whitespace().next().expect("a pid");
            let status = std::process::Command::new("rabbitmqctl")
                .args(["close_connection", pid, "test closes the connection"])
                .status()
                .expect("rabbitmqctl runs");
            assert!(status.success(), "close_connection {pid} failed");
            closed += 1;
        }
        closed
    }
}

impl Drop for TestBus {
    fn drop(&mut self) {
        delete_later(self.topology.clone());
    }
}

/// Deletes `topology` (queues, messages, exchange) from a `Drop`.
pub fn delete_later(topology: Topology) {
    crate::block_on_cleanup(async move {
        let Ok(connection) =
            Connection::connect(&amqp_url(), ConnectionProperties::default()).await
        else {
            return;
        };
        if let Ok(channel) = connection.create_channel().await {
            let _ = topology.delete(&channel).await;
        }
        let _ = connection.close(200, "cleanup".into()).await;
    });
}

/// Takes the next message from `queue` (acking it), waiting up to ten seconds for one.
pub async fn take(queue: &str) -> Delivery {
    take_many(queue, 1).await.remove(0)
}

/// Takes `count` messages from `queue` (acking each), waiting up to twenty seconds for them.
pub async fn take_many(queue: &str, count: usize) -> Vec<Delivery> {
    let connection = connect().await;
    let channel = connection.create_channel().await.expect("a channel");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut taken = Vec::new();
    while taken.len() < count {
        match get(&channel, queue).await {
            Some(delivery) => taken.push(delivery),
            None if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            None => panic!("{} of {count} messages arrived in {queue}", taken.len()),
        }
    }
    let _ = connection.close(200, "taken".into()).await;
    taken
}

/// Takes every message ready in `queue` now (acking each).
pub async fn drain(queue: &str) -> Vec<Delivery> {
    let connection = connect().await;
    let channel = connection.create_channel().await.expect("a channel");
    let mut taken = Vec::new();
    while let Some(delivery) = get(&channel, queue).await {
        taken.push(delivery);
    }
    let _ = connection.close(200, "drained".into()).await;
    taken
}

/// The next ready message of `queue`, acked, if there is one.
async fn get(channel: &lapin::Channel, queue: &str) -> Option<Delivery> {
    let message = channel
        .basic_get(queue.into(), BasicGetOptions::default())
        .await
        .expect("the queue exists")?;
    let delivery = message.delivery;
    delivery
        .acker
        .ack(BasicAckOptions::default())
        .await
        .expect("ack");
    Some(delivery)
}

/// Messages ready in a queue (not counting those delivered and unacked).
pub async fn ready(queue: &str) -> u32 {
    let connection = connect().await;
    let channel = connection.create_channel().await.expect("a channel");
    let passive = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let declared = channel
        .queue_declare(queue.into(), passive, FieldTable::default())
        .await
        .expect("the queue exists");
    let _ = connection.close(200, "counted".into()).await;
    declared.message_count()
}
