//! The load benchmark of BENCHMARKS.md, not a test: starts a pipeline, runs `newsflow load`
//! against it (pipeline, bus ceiling and analysis alone in one run), then starts a second
//! replica of the stance service, the slowest stage, and runs the load again.
//!
//! ```sh
//! cargo build --workspace --all-targets --locked
//! NEWSFLOW_LOAD_COUNT=30 NEWSFLOW_LOAD_RUNS=3 cargo test --workspace --test load -- --ignored --nocapture
//! ```
//!
//! With `--release` (after `cargo build --release --workspace --bins`) it runs the release
//! build's services and `newsflow`: the figures BENCHMARKS.md quotes for release builds.
//!
//! `NEWSFLOW_LOAD_RATE` (articles per second) submits at that rate instead of as fast as ingest
//! accepts.

use newsflow_e2e::{Options, Pipeline};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn load(pipeline: &Pipeline, count: usize, analysis: bool) {
    let count = count.to_string();
    let rate = std::env::var("NEWSFLOW_LOAD_RATE").unwrap_or_else(|_| "0".into());
    let mut args = vec!["load", "--count", &count, "--rate", &rate, "--json"];
    if !analysis {
        args.extend(["--no-analysis", "--no-ceiling"]);
    }
    let output = pipeline.newsflow(&args);
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "newsflow load found articles lost or duplicated"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark of several minutes: run it by name with --ignored"]
async fn load_benchmark() {
    let count = setting("NEWSFLOW_LOAD_COUNT", 40);
    let runs = setting("NEWSFLOW_LOAD_RUNS", 3);
    let mut pipeline = Pipeline::start("load", Options::default()).await;
    for run in 1..=runs {
        println!("\n=== one replica of each service, run {run} of {runs}");
        load(&pipeline, count, true);
    }
    pipeline.add_replica("stance").await;
    for run in 1..=runs {
        println!("\n=== two stance replicas, run {run} of {runs}");
        load(&pipeline, count, false);
    }
    pipeline.stop().await;
}
