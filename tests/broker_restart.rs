//! RabbitMQ restarted while a batch is in the pipeline: every service and the `tail` consumer
//! reconnect, and every article is still stored exactly once and announced.

use std::{process::Command, time::Duration};

use newsflow_e2e::{assert_all_announced_and_stored_once, batch_in_flight};

const ARTICLES: usize = 40;

fn rabbitmqctl(args: &[&str]) {
    let output = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl runs (the test restarts the local broker)");
    assert!(
        output.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_restarted_mid_batch_loses_and_duplicates_nothing() {
    let (pipeline, tail, ids) = batch_in_flight("broker", ARTICLES).await;
    rabbitmqctl(&["stop_app"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    rabbitmqctl(&["start_app"]);
    rabbitmqctl(&["await_startup"]);

    let events = assert_all_announced_and_stored_once(&pipeline, &tail, &ids).await;
    println!(
        "{events} events for {} articles across the restart",
        ids.len()
    );

    drop(tail);
    pipeline.stop().await;
}
