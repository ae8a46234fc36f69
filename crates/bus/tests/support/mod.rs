//! The bus tests' fixture: a one-stage topology of the test's own on the real local RabbitMQ
//! (`newsflow_test_support::broker::TestBus`), deleted when the test ends, and numbered test
//! messages.

#![allow(dead_code)] // each test file uses a different part

use std::{
    collections::HashSet,
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex},
    time::Duration,
};

use newsflow_bus::{
    BusError, Consumer, Handler, HandlerFn, Incoming, Outcome, Outgoing, Publisher, Topology,
    TraceContext,
    dead_letter::{self, DeadLetter},
};
use newsflow_test_support::broker::{self, TestBus};
#[allow(unused_imports)] // not every test file waits
pub use newsflow_test_support::eventually;
use tokio_util::sync::CancellationToken;

pub const STAGE: &str = "extractor";
pub const INPUT_KEY: &str = "article.ingested";

/// One stage's queues under a unique prefix, with short retry delays and a small prefetch.
pub struct Fixture(TestBus);

impl Fixture {
    pub async fn new(name: &str) -> Self {
        let mut bus = TestBus::new(&format!("bus-{name}"), |prefix| {
            Topology::new(
                prefix,
                vec![Duration::from_millis(100), Duration::from_millis(300)],
                [(STAGE, INPUT_KEY)],
            )
        })
        .await;
        bus.config.prefetch = 16;
        bus.config.max_attempts = 3;
        Self(bus)
    }

    pub fn work_queue(&self) -> String {
        self.0.work_queue(STAGE)
    }

    pub fn dead_letter_queue(&self) -> String {
        self.0.dead_letter_queue(STAGE)
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

    /// The dead-letter queue's messages, listed until `enough` holds of them (ten seconds at
    /// most).
    pub async fn parked(&self, enough: impl Fn(&[DeadLetter]) -> bool) -> Vec<DeadLetter> {
        let queue = self.dead_letter_queue();
        let mut parked = Vec::new();
        for _ in 0..100 {
            parked = dead_letter::list(&self.config, &queue, 10).await.unwrap();
            if enough(&parked) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        parked
    }

    /// Messages ready in a queue (not counting those delivered and unacked).
    pub async fn ready(&self, queue: &str) -> u32 {
        broker::ready(queue).await
    }
}

impl Deref for Fixture {
    type Target = TestBus;

    fn deref(&self) -> &TestBus {
        &self.0
    }
}

impl DerefMut for Fixture {
    fn deref_mut(&mut self) -> &mut TestBus {
        &mut self.0
    }
}

/// The messages a consumer's handler saw, in order.
pub type Seen = Arc<Mutex<Vec<Incoming>>>;

/// Runs a consumer with `decide` as its handler until the returned token is cancelled.
pub fn spawn_consumer(
    fixture: &Fixture,
    publisher: newsflow_bus::Publisher,
    decide: impl Fn(&Incoming) -> Outcome + Send + Sync + 'static,
) -> (
    Seen,
    CancellationToken,
    tokio::task::JoinHandle<Result<(), BusError>>,
) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let decide = Arc::new(decide);
    let handler = HandlerFn(move |message: Incoming| {
        let record = Arc::clone(&record);
        let decide = Arc::clone(&decide);
        async move {
            let outcome = decide(&message);
            record.lock().unwrap().push(message);
            outcome
        }
    });
    let (shutdown, task) = spawn(fixture, publisher, handler);
    (seen, shutdown, task)
}

/// Runs a consumer of the test stage with `handler` until the returned token is cancelled.
pub fn spawn(
    fixture: &Fixture,
    publisher: newsflow_bus::Publisher,
    handler: impl Handler,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<Result<(), BusError>>,
) {
    let consumer = Consumer::new(
        fixture.config.clone(),
        fixture.topology.clone(),
        STAGE,
        handler,
        publisher,
    );
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(consumer.run(shutdown.clone()));
    (shutdown, task)
}

/// The ids of the messages seen.
pub fn ids(seen: &Seen) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|m| m.message_id.clone().unwrap_or_default())
        .collect()
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
