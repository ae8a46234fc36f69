//! The bus under trouble, against the real local RabbitMQ: the broker closing connections while
//! messages flow, and a consumer shut down with a message in flight. Nothing may be lost.

mod support;

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use newsflow_bus::{HandlerFn, Incoming, Outcome};
use support::{Fixture, eventually, message, spawn, spawn_consumer};

#[tokio::test]
async fn consumer_and_publisher_recover_when_the_broker_closes_their_connections() {
    let fixture = Fixture::new("reconnect").await;
    let publisher = fixture.publisher().await;
    let done: Arc<Mutex<HashSet<String>>> = Arc::default();
    let record = Arc::clone(&done);
    let handler = HandlerFn(move |message: Incoming| {
        let record = Arc::clone(&record);
        async move {
            // Slow enough that messages are in flight when the connection goes.
            tokio::time::sleep(Duration::from_millis(5)).await;
            record
                .lock()
                .unwrap()
                .insert(message.message_id.unwrap_or_default());
            Outcome::Done
        }
    });
    let (shutdown, task) = spawn(&fixture, publisher.clone(), handler);

    // Publish 300 messages, closing every connection of this test from the broker's side after
    // the first 100 and again after 200. A publish that fails because its connection just went
    // is retried by the caller, as ingest's client would.
    let mut published = HashSet::new();
    let mut closes = 0;
    for i in 0..300 {
        if i == 100 || i == 200 {
            assert!(
                eventually(Duration::from_secs(10), || done.lock().unwrap().len()
                    >= i / 2)
                .await,
                "consumer is not keeping up"
            );
            closes += fixture.close_connections_from_broker();
        }
        let id = format!("m{i}");
        let mut attempts = 0;
        loop {
            match publisher.publish(&message(&id)).await {
                Ok(()) => break,
                Err(error) if error.is_unavailable() && attempts < 50 => {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("publish {id}: {error}"),
            }
        }
        published.insert(id);
    }
    assert!(
        closes >= 4,
        "closed publisher and consumer connections twice ({closes})"
    );

    assert!(
        eventually(Duration::from_secs(30), || done.lock().unwrap().len()
            == 300)
        .await,
        "consumed {} of 300 after reconnecting",
        done.lock().unwrap().len()
    );
    shutdown.cancel();
    task.await.unwrap().expect("clean shutdown");
    assert_eq!(*done.lock().unwrap(), published, "none lost");
    assert_eq!(fixture.ready(&fixture.work_queue()).await, 0, "all acked");
    assert_eq!(fixture.ready(&fixture.dead_letter_queue()).await, 0);
}

/// Starts a consumer whose handler takes `handling` per message, publishes `id`, and shuts the
/// consumer down once the handler has started on it: how many handlers finished.
async fn shut_down_mid_message(fixture: &Fixture, id: &str, handling: Duration) -> usize {
    let publisher = fixture.publisher().await;
    let (started, finished) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (counting_starts, counting_finishes) = (Arc::clone(&started), Arc::clone(&finished));
    let handler = HandlerFn(move |_message: Incoming| {
        let started = Arc::clone(&counting_starts);
        let finished = Arc::clone(&counting_finishes);
        async move {
            started.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(handling).await;
            finished.fetch_add(1, Ordering::SeqCst);
            Outcome::Done
        }
    });
    let (shutdown, task) = spawn(fixture, publisher.clone(), handler);
    publisher.publish(&message(id)).await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || started.load(Ordering::SeqCst)
            == 1)
        .await
    );
    shutdown.cancel();
    task.await.unwrap().unwrap();
    finished.load(Ordering::SeqCst)
}

#[tokio::test]
async fn shutdown_finishes_the_message_in_flight_within_the_grace_period() {
    let fixture = Fixture::new("graceful").await;
    let finished = shut_down_mid_message(&fixture, "in-flight", Duration::from_millis(800)).await;
    assert_eq!(finished, 1, "finished before closing");
    assert_eq!(fixture.ready(&fixture.work_queue()).await, 0, "and acked");
}

#[tokio::test]
async fn shutdown_past_the_grace_period_leaves_the_message_for_redelivery() {
    let mut fixture = Fixture::new("abrupt").await;
    fixture.config.shutdown_grace = Duration::from_millis(50);
    let finished = shut_down_mid_message(&fixture, "interrupted", Duration::from_secs(3)).await;
    assert_eq!(finished, 0, "cut short");
    let mut back = 0;
    for _ in 0..50 {
        back = fixture.ready(&fixture.work_queue()).await;
        if back == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(back, 1, "the unacked message is back in the queue");

    // A new consumer gets it, flagged as redelivered.
    let (seen, shutdown, task) =
        spawn_consumer(&fixture, fixture.publisher().await, |_| Outcome::Done);
    assert!(eventually(Duration::from_secs(10), || !seen.lock().unwrap().is_empty()).await);
    shutdown.cancel();
    task.await.unwrap().unwrap();
    let redelivered = seen.lock().unwrap()[0].clone();
    assert_eq!(redelivered.message_id.as_deref(), Some("interrupted"));
    assert!(redelivered.redelivered);
}
