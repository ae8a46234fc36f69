//! A message that kills its consumer's process, again and again, against the real local
//! RabbitMQ: with crash isolation the messages delivered beside it are all handled, and only
//! it is parked. The consumer runs in child processes (this test binary, started again with
//! the `crashing_consumer_process` test and an environment variable naming the fixture), one
//! after another, each aborting when it handles the poison message.

mod support;

use std::{collections::HashSet, process::Command, time::Duration};

use newsflow_bus::{Consumer, HandlerFn, Incoming, Outcome, Publisher, Topology};
use newsflow_test_support::broker::{self, TestBus};
use support::{INPUT_KEY, STAGE, message};
use tokio_util::sync::CancellationToken;

/// The variable that makes `crashing_consumer_process` act: the fixture's bus prefix.
const CHILD_PREFIX: &str = "NEWSFLOW_TEST_CRASH_PREFIX";

fn topology(prefix: String) -> Topology {
    Topology::new(
        prefix,
        vec![Duration::from_millis(100)],
        [(STAGE, INPUT_KEY)],
    )
}

/// Where the child reports each message it handled.
fn done_queue(prefix: &str) -> String {
    format!("{prefix}.done")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_that_keeps_killing_its_consumer_is_parked_and_its_neighbours_pass() {
    let bus = TestBus::new("crash", topology).await;
    let publisher = Publisher::connect(bus.config.clone(), bus.topology.clone())
        .await
        .expect("publisher connects");
    let done = done_queue(&bus.prefix);
    let connection = broker::connect().await;
    let channel = connection.create_channel().await.unwrap();
    channel
        .queue_declare(done.as_str().into(), Default::default(), Default::default())
        .await
        .unwrap();

    let innocent: HashSet<String> = (0..20).map(|i| format!("m{i}")).collect();
    for i in 0..20 {
        if i == 3 {
            publisher.publish(&message("poison")).await.unwrap();
        }
        publisher.publish(&message(&format!("m{i}"))).await.unwrap();
    }

    // Consumers one after another, each until it dies or everything is settled.
    let mut handled: HashSet<String> = HashSet::new();
    let mut crashes = 0;
    for _ in 0..12 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crashing_consumer_process",
                "--ignored",
                "--nocapture",
            ])
            .env(CHILD_PREFIX, &bus.prefix)
            .spawn()
            .expect("the child starts");
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            for delivery in broker::drain(&done).await {
                handled.insert(String::from_utf8(delivery.data).unwrap());
            }
            if let Some(status) = child.try_wait().unwrap() {
                assert!(!status.success(), "the child only ends by crashing");
                crashes += 1;
                break;
            }
            if handled.is_superset(&innocent)
                && broker::ready(&bus.dead_letter_queue(STAGE)).await == 1
            {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
        }
        if handled.is_superset(&innocent) && broker::ready(&bus.dead_letter_queue(STAGE)).await == 1
        {
            break;
        }
    }
    assert_eq!(
        handled, innocent,
        "every innocent message was handled, after {crashes} crashes"
    );
    assert!(
        crashes >= 2,
        "the poison crashed more than one consumer ({crashes})"
    );
    let parked = newsflow_bus::dead_letter::list(&bus.config, &bus.dead_letter_queue(STAGE), 10)
        .await
        .unwrap();
    assert_eq!(parked.len(), 1, "only the poison is parked");
    assert_eq!(parked[0].message_id.as_deref(), Some("poison"));
    assert!(
        parked[0]
            .reason
            .contains("crashed its consumer while handled alone"),
        "{}",
        parked[0].reason
    );
    assert_eq!(
        parked[0].origin_queue.as_deref(),
        Some(bus.work_queue(STAGE).as_str())
    );
    assert_eq!(broker::ready(&bus.work_queue(STAGE)).await, 0);
    assert_eq!(
        broker::ready(&bus.topology.suspect_queue(&bus.work_queue(STAGE))).await,
        0
    );
    let _ = channel
        .queue_delete(done.as_str().into(), Default::default())
        .await;
}

/// The consumer process the test above starts: crash isolation on, four messages at a time,
/// aborting the process (as an out-of-memory kill would) on the poison message and reporting
/// every other message it handled.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a child process of the crash test, not a test of its own"]
async fn crashing_consumer_process() {
    let prefix = std::env::var(CHILD_PREFIX).expect("started by the crash test, with its prefix");
    let topology = topology(prefix.clone());
    let mut config = newsflow_bus::BusConfig::new(broker::amqp_url(), format!("{prefix}-child"));
    config.prefetch = 4;
    config.isolate_redeliveries = true;
    let publisher = Publisher::connect(config.clone(), topology.clone())
        .await
        .expect("publisher connects");
    let reporter = publisher.clone();
    let done = done_queue(&prefix);
    let handler = HandlerFn(move |message: Incoming| {
        let reporter = reporter.clone();
        let done = done.clone();
        async move {
            if message.body == b"poison" {
                std::process::abort();
            }
            // Long enough that the poison is in flight beside other messages.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let properties = lapin::BasicProperties::default();
            match reporter
                .publish_to_queue(&done, &message.body, properties)
                .await
            {
                Ok(()) => Outcome::Done,
                Err(error) => Outcome::Retry(error.to_string()),
            }
        }
    });
    let consumer = Consumer::new(config, topology, STAGE, handler, publisher);
    consumer
        .run(CancellationToken::new())
        .await
        .expect("consumes until killed");
}
