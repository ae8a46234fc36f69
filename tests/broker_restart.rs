//! RabbitMQ restarted while a batch is in the pipeline: every service and the `tail` consumer
//! reconnect, and every article is still stored exactly once and announced.

use std::{process::Command, time::Duration};

use newsflow_e2e::{assert_all_announced_and_stored_once, batch_in_flight};
use newsflow_test_support::run_ok;

const ARTICLES: usize = 20;

/// The test restarts the local broker with `rabbitmqctl`.
fn rabbitmqctl(args: &[&str]) {
    run_ok(Command::new("rabbitmqctl").args(args));
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
