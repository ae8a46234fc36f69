//! Test fixtures against the real local RabbitMQ: each test gets its own exchange and queues
//! under a unique prefix, deleted when the test ends.

#![allow(dead_code)] // each test file uses a different part

use std::{
    collections::HashSet,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use lapin::{
    Connection, ConnectionProperties,
    options::{ExchangeDeleteOptions, QueueDeclareOptions, QueueDeleteOptions},
    types::FieldTable,
};
use newsflow_bus::{BusConfig, Outgoing, Publisher, Topology, TraceContext};

pub const STAGE: &str = "extractor";
pub const INPUT_KEY: &str = "article.ingested";

pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A unique exchange and queue prefix for one test.
pub struct Fixture {
    pub prefix: String,
    pub topology: Topology,
    pub config: BusConfig,
}

impl Fixture {
    pub async fn new(name: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let prefix = format!(
            "test-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let topology = Topology::new(
            prefix.clone(),
            vec![Duration::from_millis(100), Duration::from_millis(300)],
            [(STAGE, INPUT_KEY)],
        );
        let mut config = BusConfig::new(amqp_url(), prefix.clone());
        config.prefetch = 16;
        config.max_attempts = 3;
        config.reconnect_min = Duration::from_millis(50);
        config.reconnect_max = Duration::from_millis(500);
        config.shutdown_grace = Duration::from_secs(5);
        if let Err(error) = Connection::connect(&config.url, ConnectionProperties::default()).await
        {
            panic!(
                "RabbitMQ does not answer at {} ({error}). Start it with \
                 `rabbitmq-server -detached && rabbitmqctl await_startup`, or set AMQP_URL.",
                config.url
            );
        }
        Self {
            prefix,
            topology,
            config,
        }
    }

    pub fn work_queue(&self) -> String {
        self.topology.work_queue(STAGE)
    }

    pub fn dead_letter_queue(&self) -> String {
        self.topology.dead_letter_queue(&self.work_queue())
    }

    pub async fn publisher(&self) -> Publisher {
        Publisher::connect(self.config.clone(), self.topology.clone())
            .await
            .expect("publisher connects")
    }

    /// Publishes `count` messages with ids `m0`, `m1`, ... and bodies equal to their ids.
    pub async fn publish_numbered(&self, publisher: &Publisher, count: usize) -> HashSet<String> {
        let mut ids = HashSet::new();
        for i in 0..count {
            let id = format!("m{i}");
            publisher
                .publish(&message(&id))
                .await
                .expect("publish confirmed");
            ids.insert(id);
        }
        ids
    }

    /// Messages ready in a queue (not counting those delivered and unacked).
    pub async fn ready(&self, queue: &str) -> u32 {
        let connection = Connection::connect(&self.config.url, ConnectionProperties::default())
            .await
            .expect("connect");
        let channel = connection.create_channel().await.expect("channel");
        let passive = QueueDeclareOptions {
            passive: true,
            ..Default::default()
        };
        let declared = channel
            .queue_declare(queue.into(), passive, FieldTable::default())
            .await
            .expect("queue exists");
        let _ = connection.close(200, "done".into()).await;
        declared.message_count()
    }

    /// Closes, from the broker's side, every connection this test opened.
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

impl Drop for Fixture {
    fn drop(&mut self) {
        // Async cleanup from Drop: a thread with its own runtime, joined so the queues are gone
        // before the next test starts.
        let url = self.config.url.clone();
        let topology = self.topology.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let Ok(connection) =
                    Connection::connect(&url, ConnectionProperties::default()).await
                else {
                    return;
                };
                let Ok(channel) = connection.create_channel().await else {
                    return;
                };
                let work = topology.work_queue(STAGE);
                let mut queues = vec![topology.dead_letter_queue(&work)];
                for retry in 1..=4 {
                    queues.push(topology.retry_queue(&work, topology.retry_delay(retry)));
                }
                queues.push(work);
                queues.dedup();
                for queue in queues {
                    let _ = channel
                        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                        .await;
                }
                let _ = channel
                    .exchange_delete(topology.exchange().into(), ExchangeDeleteOptions::default())
                    .await;
                let _ = connection.close(200, "cleanup".into()).await;
            });
        })
        .join();
    }
}

/// A test message routed to the test stage, its body its id.
pub fn message(id: &str) -> Outgoing {
    Outgoing {
        routing_key: INPUT_KEY.to_owned(),
        message_id: id.to_owned(),
        type_name: "test.Message".to_owned(),
        content_type: "text/plain".to_owned(),
        body: id.as_bytes().to_vec(),
        trace: TraceContext::new_root(),
        mandatory: true,
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
pub async fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}
