//! A broker memory alarm while a stage publishes its output, against the real local RabbitMQ:
//! the stage offers the same output again until the alarm clears, and does not redo its work.
//! The test raises the alarm on the local broker for a few seconds
//! (`rabbitmqctl set_vm_memory_high_watermark`), so it is the only test in this binary.

use std::{
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use newsflow_bus::{
    Outgoing, Publisher, TraceContext,
    topology::{ARTICLE_EXTRACTED, ARTICLE_INGESTED},
};
use newsflow_proto::v1::{AnalyzedArticle, Article};
use newsflow_runtime::{AnalysisStage, CpuSlots};
use newsflow_test_support::{broker, broker::TestBus, run_ok};
use tokio_util::sync::CancellationToken;

/// Puts the local broker's memory watermark back when the test ends, however it ends.
struct AlarmGuard;

impl AlarmGuard {
    fn raise() -> Self {
        run_ok(Command::new("rabbitmqctl").args(["set_vm_memory_high_watermark", "absolute", "1"]));
        AlarmGuard
    }
}

impl Drop for AlarmGuard {
    fn drop(&mut self) {
        run_ok(Command::new("rabbitmqctl").args(["set_vm_memory_high_watermark", "0.4"]));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_broker_makes_the_stage_wait_with_its_output_not_redo_the_work() {
    let mut bus = TestBus::pipeline("alarm").await;
    bus.config.confirm_timeout = Duration::from_secs(1);
    let input = Publisher::connect(bus.config.clone(), bus.topology.clone())
        .await
        .expect("publisher connects");
    let analysed = Arc::new(AtomicUsize::new(0));
    let alarm_on = Arc::new(AtomicBool::new(false));
    let (count, wait) = (Arc::clone(&analysed), Arc::clone(&alarm_on));
    // The work finishes only once the alarm is on, so its output meets the blocked broker.
    let stage = AnalysisStage::new(
        "extractor",
        ARTICLE_EXTRACTED,
        "test",
        CpuSlots::new(1),
        move |articles: &mut [AnalyzedArticle]| -> Vec<Result<(), String>> {
            count.fetch_add(articles.len(), Ordering::SeqCst);
            while !wait.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            articles.iter().map(|_| Ok(())).collect()
        },
    );
    let consumer =
        newsflow_runtime::stage::consumer(bus.config.clone(), bus.topology.clone(), stage);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(consumer.run(shutdown.clone()));

    let article = AnalyzedArticle {
        article: Some(Article {
            id: "a1".into(),
            body: "Text.".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let message = Outgoing::protobuf(ARTICLE_INGESTED, "a1", &article, TraceContext::new_root());
    input.publish(&message).await.unwrap();
    while analysed.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    {
        let _alarm = AlarmGuard::raise();
        // The monitor notices within a few seconds; then the output's confirm times out, more
        // than once.
        tokio::time::sleep(Duration::from_secs(3)).await;
        alarm_on.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(6)).await;
    }
    let out = broker::take(&bus.work_queue("stance")).await;
    assert_eq!(out.properties.message_id().as_ref().unwrap().as_str(), "a1");
    shutdown.cancel();
    running.await.unwrap().unwrap();
    assert_eq!(analysed.load(Ordering::SeqCst), 1, "the work was done once");
    assert_eq!(broker::ready(&bus.dead_letter_queue("extractor")).await, 0);
    let retries = bus
        .topology
        .retry_queue(&bus.work_queue("extractor"), Duration::from_millis(200));
    assert_eq!(
        broker::ready(&retries).await,
        0,
        "nothing was sent to retry"
    );
}
