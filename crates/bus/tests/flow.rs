//! Publishing and consuming against the real local RabbitMQ: the happy path, retries, dead
//! letters, poison messages.

mod support;

use std::{collections::HashSet, sync::Arc, time::Duration};

use newsflow_bus::{BusError, Outcome, TraceContext, dead_letter};
use support::{Fixture, eventually, ids, message, spawn_consumer};

#[tokio::test]
async fn published_messages_are_consumed_and_acked() {
    let fixture = Fixture::new("happy").await;
    let publisher = fixture.publisher().await;
    let (seen, shutdown, task) = spawn_consumer(&fixture, publisher.clone(), |_| Outcome::Done);

    let trace = TraceContext::new_root();
    let mut traced = message("traced");
    traced.trace = trace;
    publisher.publish(&traced).await.expect("confirmed");
    let published = fixture.publish_numbered(&publisher, 50).await;

    assert!(
        eventually(Duration::from_secs(10), || seen.lock().unwrap().len() >= 51).await,
        "only {} of 51 messages consumed",
        seen.lock().unwrap().len()
    );
    let consumed: HashSet<String> = ids(&seen).into_iter().collect();
    assert!(published.is_subset(&consumed));
    let first = seen
        .lock()
        .unwrap()
        .iter()
        .find(|m| m.message_id.as_deref() == Some("traced"))
        .cloned()
        .unwrap();
    assert_eq!(first.message_id.as_deref(), Some("traced"));
    assert_eq!(first.body, b"traced");
    assert_eq!(first.attempts, 0);
    assert_eq!(first.trace.trace_id(), trace.trace_id(), "trace id carried");
    assert_eq!(
        first.parent,
        Some(trace),
        "the publisher's context, from the header"
    );
    assert_ne!(
        first.trace.span_id(),
        trace.span_id(),
        "consumer has its own span"
    );

    shutdown.cancel();
    task.await.unwrap().expect("clean shutdown");
    assert_eq!(
        fixture.ready(&fixture.work_queue()).await,
        0,
        "everything acked"
    );
    assert_eq!(ids(&seen).len(), 51, "each message handled once");
}

#[tokio::test]
async fn unroutable_mandatory_publish_is_an_error() {
    let fixture = Fixture::new("unroutable").await;
    let publisher = fixture.publisher().await;
    let mut stray = message("stray");
    stray.routing_key = "nobody.listens".into();
    let error = publisher.publish(&stray).await.expect_err("must fail");
    assert!(
        matches!(error, BusError::Unroutable { ref routing_key, .. } if routing_key == "nobody.listens"),
        "{error:?}"
    );
    // An event nobody is bound to yet is fine when not mandatory.
    publisher
        .publish(&stray.not_mandatory())
        .await
        .expect("non-mandatory publish confirmed");
}

#[tokio::test]
async fn a_transient_failure_is_retried_then_done() {
    let fixture = Fixture::new("retry").await;
    let publisher = fixture.publisher().await;
    let (seen, shutdown, task) = spawn_consumer(&fixture, publisher.clone(), |message| {
        if message.attempts < 2 {
            Outcome::Retry(format!(
                "flaky dependency, attempt {}",
                message.attempts + 1
            ))
        } else {
            Outcome::Done
        }
    });
    publisher.publish(&message("flaky")).await.unwrap();

    assert!(eventually(Duration::from_secs(10), || seen.lock().unwrap().len() >= 3).await);
    // Give a wrong fourth delivery the chance to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let attempts: Vec<u32> = seen.lock().unwrap().iter().map(|m| m.attempts).collect();
    assert_eq!(attempts, [0, 1, 2], "counted in the header, once each");
    let trace_ids: HashSet<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.trace.trace_id())
        .collect();
    assert_eq!(trace_ids.len(), 1, "a retry stays in the same trace");

    shutdown.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(fixture.ready(&fixture.dead_letter_queue()).await, 0);
    assert_eq!(fixture.ready(&fixture.work_queue()).await, 0);
}

#[tokio::test]
async fn permanent_and_exhausted_failures_are_dead_lettered_with_reasons() {
    let fixture = Fixture::new("dead").await;
    let publisher = fixture.publisher().await;
    let (seen, shutdown, task) =
        spawn_consumer(&fixture, publisher.clone(), |message| {
            match message.message_id.as_deref() {
                Some("broken") => Outcome::Reject("undecodable body".into()),
                _ => Outcome::Retry("dependency down".into()),
            }
        });
    publisher.publish(&message("broken")).await.unwrap();
    publisher.publish(&message("hopeless")).await.unwrap();

    let dead_queue = fixture.dead_letter_queue();
    let parked = fixture.parked(|parked| parked.len() == 2).await;
    shutdown.cancel();
    task.await.unwrap().unwrap();

    assert_eq!(parked.len(), 2, "both parked: {parked:?}");
    let broken = parked
        .iter()
        .find(|p| p.message_id.as_deref() == Some("broken"))
        .unwrap();
    assert_eq!(broken.reason, "undecodable body");
    assert_eq!(broken.attempts, 1, "rejected at once");
    assert_eq!(
        broken.origin_queue.as_deref(),
        Some(fixture.work_queue().as_str())
    );
    assert_eq!(broken.body, b"broken");
    let hopeless = parked
        .iter()
        .find(|p| p.message_id.as_deref() == Some("hopeless"))
        .unwrap();
    assert_eq!(hopeless.reason, "gave up after 3 attempts: dependency down");
    assert_eq!(hopeless.attempts, 3);
    let tries = ids(&seen).iter().filter(|id| *id == "hopeless").count();
    assert_eq!(tries, 3, "max_attempts = 3");
    // Listing does not remove them.
    assert_eq!(fixture.ready(&dead_queue).await, 2);
}

#[tokio::test]
async fn dead_letters_can_be_replayed() {
    let fixture = Fixture::new("replay").await;
    let publisher = fixture.publisher().await;
    let fixed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let is_fixed = Arc::clone(&fixed);
    let (seen, shutdown, task) = spawn_consumer(&fixture, publisher.clone(), move |message| {
        if message.body == b"garbage" {
            Outcome::Reject("undecodable body".into())
        } else if is_fixed.load(std::sync::atomic::Ordering::SeqCst) {
            Outcome::Done
        } else {
            Outcome::Reject("model not loaded".into())
        }
    });
    publisher.publish(&message("garbage")).await.unwrap();
    publisher.publish(&message("later")).await.unwrap();
    let dead_queue = fixture.dead_letter_queue();
    assert!(eventually(Duration::from_secs(10), || seen.lock().unwrap().len() == 2).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fixture.ready(&dead_queue).await, 2);

    // Only the messages parked for the cause that is now fixed go back.
    fixed.store(true, std::sync::atomic::Ordering::SeqCst);
    let reason = Some("model not loaded");
    let replayed = dead_letter::replay(&fixture.config, &publisher, &dead_queue, 10, reason)
        .await
        .unwrap();
    assert_eq!(replayed, 1);
    assert!(eventually(Duration::from_secs(10), || seen.lock().unwrap().len() == 3).await);
    let replayed = seen.lock().unwrap()[2].clone();
    assert_eq!(replayed.body, b"later");
    assert_eq!(replayed.attempts, 0, "a replay starts its attempts afresh");
    shutdown.cancel();
    task.await.unwrap().unwrap();
    let still = fixture.parked(|parked| parked.len() == 1).await;
    assert_eq!(still.len(), 1, "the other cause stays parked");
    assert_eq!(still[0].message_id.as_deref(), Some("garbage"));
    assert_eq!(fixture.ready(&fixture.work_queue()).await, 0);
}

#[tokio::test]
async fn a_poison_message_does_not_hold_up_the_ones_behind_it() {
    let mut fixture = Fixture::new("poison").await;
    // One message at a time: if the poison blocked the queue, nothing else would move.
    fixture.config.prefetch = 1;
    fixture.config.max_attempts = 4;
    let publisher = fixture.publisher().await;
    let (seen, shutdown, task) = spawn_consumer(&fixture, publisher.clone(), |message| {
        if message.body == b"poison" {
            Outcome::Retry("crashes the parser".into())
        } else {
            Outcome::Done
        }
    });
    let mut poison = message("poison");
    poison.body = b"poison".to_vec();
    publisher.publish(&poison).await.unwrap();
    let good = fixture.publish_numbered(&publisher, 20).await;

    let parked = fixture.parked(|parked| !parked.is_empty()).await;
    shutdown.cancel();
    task.await.unwrap().unwrap();

    let order = ids(&seen);
    let last_poison = order.iter().rposition(|id| id == "poison").unwrap();
    let done: HashSet<String> = order.iter().filter(|id| *id != "poison").cloned().collect();
    assert_eq!(done, good, "every good message handled");
    let good_before_poison_parked = order[..last_poison]
        .iter()
        .filter(|id| *id != "poison")
        .count();
    assert_eq!(
        good_before_poison_parked, 20,
        "all good messages went through while the poison was still being retried: {order:?}"
    );
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].message_id.as_deref(), Some("poison"));
}
