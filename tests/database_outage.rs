//! PostgreSQL stopped in the middle of a batch (`pg_ctlcluster ... stop`, then `start`, on the
//! local cluster) for several times storage's whole retry budget: storage holds its messages
//! and waits instead of spending their retries, and once the database is back every article is
//! stored once, announced, and nothing is parked. It stops the local PostgreSQL, so it is the
//! only test in this binary.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use newsflow_e2e::{Options, Pipeline, assert_all_announced_and_stored_once, bbc_csv, scratch};
use newsflow_test_support::run_ok;

const ARTICLES: usize = 20;
/// The harness runs every service with 1 s retry delays and five attempts: a message that
/// spent its retries on the outage would be parked after about 4 seconds, far inside it (and
/// the pool's 5 s acquire timeout passes six times).
const OUTAGE: Duration = Duration::from_secs(30);

/// `pg_ctlcluster VERSION main ACTION` on the local cluster.
fn cluster(action: &str) {
    let versions = std::fs::read_dir("/etc/postgresql").expect("a local PostgreSQL cluster");
    let version = versions
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .max()
        .expect("a cluster version");
    run_ok(Command::new("pg_ctlcluster").args([
        "--skip-systemctl-redirect",
        &version,
        "main",
        action,
    ]));
}

/// Starts the cluster again when the test ends, however it ends.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        // Something else may have started it meanwhile (a developer's CI run on the same
        // machine): running is what matters.
        let running = |_: ()| {
            Command::new("pg_isready")
                .status()
                .is_ok_and(|status| status.success())
        };
        let start = std::panic::catch_unwind(|| cluster("start"));
        assert!(
            start.is_ok() || running(()),
            "PostgreSQL did not start again"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_outage_mid_batch_parks_nothing_and_stores_everything_once() {
    let pipeline = Pipeline::start(
        "outage",
        Options {
            ner_mode: "fast",
            ..Options::default()
        },
    )
    .await;
    let tail = pipeline.tail().await;
    let csv = bbc_csv(ARTICLES, &scratch("outage").join("bbc.csv"));
    let ids = pipeline.submit_accepted(&[csv.to_str().expect("a UTF-8 path")]);
    assert_eq!(ids.len(), ARTICLES);
    // Part of the batch stored, the rest on its way.
    let started = Instant::now();
    while tail.events().len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "nothing was stored"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    {
        let _restart = Restart;
        cluster("stop");
        eprintln!("PostgreSQL stopped after {} events", tail.events().len());
        tokio::time::sleep(OUTAGE).await;
    }
    eprintln!("PostgreSQL started again");

    assert_all_announced_and_stored_once(&pipeline, &tail, &ids).await;
    let parked = pipeline.dead_letters();
    assert!(
        parked.is_empty(),
        "nothing is parked for an outage: {parked:?}"
    );
    drop(tail);
    pipeline.stop().await;
}
