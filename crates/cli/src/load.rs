//! `newsflow load`: drives a running pipeline with N articles from a CSV and measures it, with
//! the two figures that say what it costs beside it, measured in the same run:
//!
//! - the pipeline: articles accepted per second, processed per second (first submit to last
//!   `article.processed`), submit-to-processed latency (p50, p95, p99, max), the time between
//!   the stages (from the stage records each article carries: queueing plus work), the peak
//!   memory of every local `newsflow-*` process, and whether anything was lost or duplicated;
//! - the bus ceiling: as many messages as the pipeline moved (four hops an article), of the
//!   same size, published with confirms and consumed with acks through the same broker, with no
//!   work in between;
//! - the analysis alone: the same articles through the same stages in this process
//!   ([`crate::analyze::Analyzer`]), as many calls at once as there are cores, each over up to
//!   `NEWSFLOW_BATCH_ARTICLES` articles, as the services take them under a backlog.
//!
//! Each run submits the articles under fresh external ids, so none is taken for a duplicate.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use anyhow::{Context, bail};
use clap::Args;
use futures::StreamExt;
use newsflow_bus::{
    Consumer, Handler, Incoming, Outcome, Outgoing, Publisher, Topology, TraceContext,
    topology::ARTICLE_PROCESSED,
};
use newsflow_proto::v1::{Analysis, AnalyzedArticle, Article, ArticleProcessed, SubmitRequest};
use newsflow_runtime::BusArgs;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::submit::{IngestTarget, Outcome as Submitted, Submitter};

/// Arguments of `newsflow load`.
#[derive(Args)]
pub struct LoadArgs {
    /// CSV of articles with a `text` column.
    #[arg(long, default_value = "../shared/data/bbc/val.csv")]
    csv: PathBuf,
    /// Articles to submit (the CSV's rows are reused, under new ids, past its end).
    #[arg(long, default_value_t = 200)]
    count: usize,
    /// Articles per second to submit; 0 submits as fast as ingest accepts.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// How long to wait for the last `article.processed`.
    #[arg(long, default_value = "30m", value_parser = newsflow_runtime::config::parse_duration)]
    timeout: Duration,
    /// Skip the bus-ceiling run.
    #[arg(long)]
    no_ceiling: bool,
    /// Skip the analysis-alone run.
    #[arg(long)]
    no_analysis: bool,
    /// Articles the analysis-alone run works on at once (default: the cores).
    #[arg(long)]
    analysis_workers: Option<usize>,
    /// Articles per call in the analysis-alone run, the services' batch under a backlog (the
    /// same variable the extractor and the stance service read).
    #[arg(long, env = "NEWSFLOW_BATCH_ARTICLES", default_value_t = newsflow_runtime::config::DEFAULT_BATCH_ARTICLES)]
    batch_articles: usize,
    #[command(flatten)]
    target: IngestTarget,
    #[command(flatten)]
    bus: BusArgs,
    #[command(flatten)]
    analysis: crate::analyze::AnalysisArgs,
    /// Print the figures as one JSON object too.
    #[arg(long)]
    json: bool,
}

/// What the subscriber saw: for each article id, when each event arrived and its document.
#[derive(Default)]
struct Seen {
    arrivals: HashMap<String, Vec<Instant>>,
    documents: HashMap<String, ArticleProcessed>,
}

struct Collector {
    seen: Arc<Mutex<Seen>>,
}

impl Handler for Collector {
    async fn handle(&self, message: &Incoming) -> Outcome {
        let Ok(event) = message.decode::<ArticleProcessed>() else {
            return Outcome::Reject("undecodable ArticleProcessed".into());
        };
        let id = event
            .article
            .as_ref()
            .and_then(|d| d.article.as_ref())
            .map(|a| a.id.clone())
            .unwrap_or_default();
        let mut seen = self.seen.lock().expect("seen");
        seen.arrivals
            .entry(id.clone())
            .or_default()
            .push(Instant::now());
        seen.documents.entry(id).or_insert(event);
        Outcome::Done
    }
}

fn nonce() -> String {
    use std::hash::{BuildHasher, RandomState};
    format!(
        "{:08x}",
        RandomState::new().hash_one(SystemTime::now()) as u32
    )
}

fn read_bodies(csv_path: &PathBuf) -> anyhow::Result<Vec<String>> {
    let mut reader = csv::Reader::from_path(csv_path)
        .with_context(|| format!("opening {}", csv_path.display()))?;
    let column = reader
        .headers()?
        .iter()
        .position(|h| h == "text")
        .context("the CSV has no `text` column")?;
    let mut bodies = Vec::new();
    for record in reader.records() {
        bodies.push(record?.get(column).unwrap_or_default().to_owned());
    }
    if bodies.is_empty() {
        bail!("{} has no rows", csv_path.display());
    }
    Ok(bodies)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    percentile(values, 50.0)
}

/// Peak and current resident memory (kB) of every `newsflow-*` process on this machine.
fn service_memory() -> Vec<(String, u32, u64, u64)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        // The binary's file name: `Name:` in status is cut at 15 characters.
        let name = std::fs::read(entry.path().join("cmdline"))
            .ok()
            .and_then(|cmdline| {
                let program = cmdline.split(|&b| b == 0).next()?.to_vec();
                let program = String::from_utf8(program).ok()?;
                Some(program.rsplit('/').next()?.to_owned())
            })
            .unwrap_or_default();
        if name.starts_with("newsflow-") && pid != std::process::id() {
            found.push((
                name,
                pid,
                field("VmHWM:").unwrap_or(0),
                field("VmRSS:").unwrap_or(0),
            ));
        }
    }
    found.sort();
    found
}

fn seconds_between(from: &prost_types::Timestamp, to: &prost_types::Timestamp) -> f64 {
    (to.seconds - from.seconds) as f64 + f64::from(to.nanos - from.nanos) / 1e9
}

pub fn run(args: &LoadArgs) -> anyhow::Result<std::process::ExitCode> {
    let bodies = read_bodies(&args.csv)?;
    let run_id = nonce();
    let requests: Vec<SubmitRequest> = (0..args.count)
        .map(|i| SubmitRequest {
            external_id: format!("load-{run_id}-{i}"),
            source: "newsflow-load".into(),
            body: bodies[i % bodies.len()].clone(),
            ..Default::default()
        })
        .collect();
    let runtime = tokio::runtime::Runtime::new()?;
    let mut report = serde_json::Map::new();
    let pipeline = runtime.block_on(pipeline_run(args, &requests, &run_id))?;
    print_pipeline(&pipeline);
    report.insert("pipeline".into(), pipeline.json.clone());

    if !args.no_ceiling {
        let messages = 4 * requests.len();
        let rate = runtime.block_on(ceiling_run(
            args,
            messages,
            pipeline.mean_message_bytes,
            &run_id,
        ))?;
        println!(
            "\nbus ceiling: {messages} messages of {} bytes published with confirms and consumed with acks: {rate:.0} messages/s, {:.1} articles/s at four hops an article",
            pipeline.mean_message_bytes,
            rate / 4.0
        );
        println!(
            "the pipeline's rate is {:.3}% of the bus ceiling's",
            100.0 * pipeline.processed_per_second / (rate / 4.0)
        );
        report.insert("ceiling_messages_per_second".into(), json!(rate));
    }
    if !args.no_analysis {
        let workers = args
            .analysis_workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let rate = runtime.block_on(analysis_run(args, &requests, workers))?;
        println!(
            "\nanalysis alone: {} articles, {workers} calls at once of up to {} articles each, in this process: {rate:.2} articles/s",
            requests.len(),
            args.batch_articles.max(1)
        );
        report.insert("analysis_articles_per_second".into(), json!(rate));
        if args.rate > 0.0 {
            // Below saturation the pipeline's rate is the offered rate: no cost to compare.
            println!("(not compared with the pipeline: it was fed at a fixed rate)");
        } else {
            let overhead = rate / pipeline.processed_per_second - 1.0;
            println!(
                "pipeline time per article over the analysis alone: {:+.1}%",
                overhead * 100.0
            );
            report.insert("overhead_over_analysis".into(), json!(overhead));
        }
    }
    if args.json {
        println!("{}", serde_json::Value::Object(report));
    }
    Ok(if pipeline.lost + pipeline.duplicated == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

struct PipelineFigures {
    processed_per_second: f64,
    mean_message_bytes: usize,
    lost: usize,
    duplicated: usize,
    json: serde_json::Value,
}

async fn pipeline_run(
    args: &LoadArgs,
    requests: &[SubmitRequest],
    run_id: &str,
) -> anyhow::Result<PipelineFigures> {
    // Subscribe before the first submit, so no event is missed.
    let stage = format!("load-{run_id}");
    let topology = Topology::new(
        args.bus.bus_prefix.clone(),
        args.bus.retry_delays.clone(),
        [(stage.as_str(), ARTICLE_PROCESSED)],
    )
    .expire_when_idle(Duration::from_secs(60));
    let mut config = args.bus.config("load");
    config.prefetch = 64;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let publisher = Publisher::new(config.clone(), topology.clone());
    let consumer = Consumer::new(
        config.clone(),
        topology.clone(),
        &stage,
        Collector {
            seen: Arc::clone(&seen),
        },
        publisher.clone(),
    );
    let stop = CancellationToken::new();
    let consuming = tokio::spawn(consumer.run(stop.clone()));
    // The consumer declares its queue as it connects: wait for the queue to exist.
    let probe = Publisher::connect(config.clone(), topology.clone())
        .await
        .context("connecting to the broker")?;
    drop(probe);

    let mut submitter = Submitter::connect(&args.target).await?;
    let started = Instant::now();
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    let (mut accepted, mut refused) = (0usize, 0usize);
    let mut last_accept = started;
    let pace = (args.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / args.rate));
    let batch = if pace.is_some() {
        1
    } else {
        args.target.batch.max(1)
    };
    for (n, chunk) in requests.chunks(batch).enumerate() {
        if let Some(pace) = pace {
            let due = started + pace * n as u32;
            tokio::time::sleep_until(due.into()).await;
        }
        let at = Instant::now();
        let outcomes =
            crate::submit::submit_all(&mut submitter, chunk, &args.target, |_, _| {}).await?;
        for outcome in outcomes {
            match outcome {
                Submitted::Accepted { id } => {
                    accepted += 1;
                    sent_at.insert(id, at);
                }
                _ => refused += 1,
            }
        }
        last_accept = Instant::now();
    }
    let accept_seconds = last_accept.duration_since(started).as_secs_f64();

    let deadline = Instant::now() + args.timeout;
    loop {
        let done = {
            let seen = seen.lock().expect("seen");
            sent_at.keys().all(|id| seen.arrivals.contains_key(id))
        };
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A moment for late duplicates to show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let memory = service_memory();
    stop.cancel();
    let _ = consuming.await;

    let seen = seen.lock().expect("seen");
    let mut latencies = Vec::new();
    let (mut lost, mut duplicated) = (0, 0);
    let mut last_event = started;
    for (id, at) in &sent_at {
        match seen.arrivals.get(id) {
            None => lost += 1,
            Some(arrivals) => {
                if arrivals.len() > 1 {
                    duplicated += 1;
                }
                let first = arrivals[0];
                last_event = last_event.max(first);
                latencies.push(first.duration_since(*at).as_secs_f64());
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let processed_seconds = last_event.duration_since(started).as_secs_f64();
    let processed = sent_at.len() - lost;
    let processed_per_second = processed as f64 / processed_seconds.max(1e-9);

    let mut stage_gaps: [(&str, Vec<f64>); 3] = [
        ("ingest -> extractor", Vec::new()),
        ("extractor -> stance", Vec::new()),
        ("stance -> stored", Vec::new()),
    ];
    let mut bytes = Vec::new();
    for event in seen.documents.values() {
        let Some(document) = &event.article else {
            continue;
        };
        bytes.push(prost::Message::encoded_len(document));
        let at = |stage: &str| {
            document
                .stages
                .iter()
                .find(|s| s.stage == stage)
                .and_then(|s| s.finished_at)
        };
        let points = [at("ingest"), at("extractor"), at("stance"), event.stored_at];
        for (i, (_, gaps)) in stage_gaps.iter_mut().enumerate() {
            if let (Some(from), Some(to)) = (&points[i], &points[i + 1]) {
                gaps.push(seconds_between(from, to));
            }
        }
    }
    let mean_message_bytes = bytes.iter().sum::<usize>() / bytes.len().max(1);
    let stages: Vec<(String, f64)> = stage_gaps
        .iter_mut()
        .map(|(name, gaps)| (name.to_string(), median(gaps)))
        .collect();
    let json = json!({
        "articles": requests.len(),
        "accepted": accepted,
        "refused": refused,
        "accepted_per_second": accepted as f64 / accept_seconds.max(1e-9),
        "processed_per_second": processed_per_second,
        "latency_seconds": {
            "p50": percentile(&latencies, 50.0), "p95": percentile(&latencies, 95.0),
            "p99": percentile(&latencies, 99.0), "max": latencies.last().copied().unwrap_or(f64::NAN),
        },
        "stage_seconds_median": stages.iter().map(|(n, s)| json!({"between": n, "seconds": s})).collect::<Vec<_>>(),
        "memory_kb": memory.iter().map(|(name, pid, peak, now)| json!({"process": name, "pid": pid, "peak": peak, "now": now})).collect::<Vec<_>>(),
        "lost": lost,
        "duplicated": duplicated,
        "mean_message_bytes": mean_message_bytes,
    });
    Ok(PipelineFigures {
        processed_per_second,
        mean_message_bytes,
        lost,
        duplicated,
        json,
    })
}

fn print_pipeline(figures: &PipelineFigures) {
    let j = &figures.json;
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    println!(
        "pipeline: {} articles, {} accepted ({:.1}/s), {} refused; processed {:.2} articles/s",
        j["articles"],
        j["accepted"],
        f(&j["accepted_per_second"]),
        j["refused"],
        f(&j["processed_per_second"])
    );
    let l = &j["latency_seconds"];
    println!(
        "submit to processed: p50 {:.2} s, p95 {:.2} s, p99 {:.2} s, max {:.2} s",
        f(&l["p50"]),
        f(&l["p95"]),
        f(&l["p99"]),
        f(&l["max"])
    );
    println!("between stages (median, queueing included):");
    if let Some(stages) = j["stage_seconds_median"].as_array() {
        for stage in stages {
            println!(
                "  {:<22} {:.3} s",
                stage["between"].as_str().unwrap_or(""),
                f(&stage["seconds"])
            );
        }
    }
    println!("peak memory of the local services:");
    if let Some(processes) = j["memory_kb"].as_array() {
        for p in processes {
            println!(
                "  {:<20} pid {:<7} peak {:>7.1} MiB",
                p["process"].as_str().unwrap_or(""),
                p["pid"],
                f(&p["peak"]) / 1024.0
            );
        }
    }
    if figures.lost + figures.duplicated == 0 {
        println!("nothing lost, nothing duplicated");
    } else {
        println!(
            "LOST {} and DUPLICATED {} of {} accepted articles",
            figures.lost, figures.duplicated, j["accepted"]
        );
    }
}

/// Messages per second through the broker alone: `messages` of `bytes` each published with
/// confirms (up to 64 awaiting their confirm at once) and consumed with acks, to a queue of
/// this run's own.
async fn ceiling_run(
    args: &LoadArgs,
    messages: usize,
    bytes: usize,
    run_id: &str,
) -> anyhow::Result<f64> {
    let stage = format!("load-ceiling-{run_id}");
    let key = format!("load.ceiling.{run_id}");
    let topology = Topology::new(
        args.bus.bus_prefix.clone(),
        args.bus.retry_delays.clone(),
        [(stage.as_str(), key.as_str())],
    )
    .expire_when_idle(Duration::from_secs(60));
    let mut config = args.bus.config("load-ceiling");
    config.prefetch = args.bus.prefetch.unwrap_or(64).max(1);
    let publisher = Publisher::connect(config.clone(), topology.clone()).await?;
    let received = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let all_in = CancellationToken::new();
    let counter = {
        let received = Arc::clone(&received);
        let all_in = all_in.clone();
        newsflow_bus::HandlerFn(move |_message: Incoming| {
            let received = Arc::clone(&received);
            let all_in = all_in.clone();
            async move {
                if received.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 >= messages {
                    all_in.cancel();
                }
                Outcome::Done
            }
        })
    };
    let payload = AnalyzedArticle {
        article: Some(Article {
            body: "x".repeat(bytes.saturating_sub(16)),
            ..Default::default()
        }),
        analysis: Some(Analysis::default()),
        stages: Vec::new(),
    };
    let started = Instant::now();
    let consumer = Consumer::new(config, topology, &stage, counter, publisher.clone());
    let stop = CancellationToken::new();
    let consuming = tokio::spawn(consumer.run(stop.clone()));
    let published = futures::stream::iter(0..messages)
        .map(|i| {
            let message = Outgoing::protobuf(
                &key,
                &format!("{run_id}-{i}"),
                &payload,
                TraceContext::new_root(),
            );
            let publisher = publisher.clone();
            async move { publisher.publish(&message).await }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    if let Some(Err(error)) = published.into_iter().find(Result::is_err) {
        bail!("publishing to the ceiling queue: {error}");
    }
    tokio::select! {
        () = all_in.cancelled() => {}
        () = tokio::time::sleep(args.timeout) => bail!("the ceiling run's messages did not all come back"),
    }
    let seconds = started.elapsed().as_secs_f64();
    stop.cancel();
    let _ = consuming.await;
    Ok(messages as f64 / seconds)
}

/// Articles per second of the analysis in this process, `workers` calls at a time, each over
/// up to `--batch-articles` articles (as a stage with a backlog).
async fn analysis_run(
    args: &LoadArgs,
    requests: &[SubmitRequest],
    workers: usize,
) -> anyhow::Result<f64> {
    let analyzer = Arc::new(crate::analyze::Analyzer::load(&args.analysis)?);
    let started = Instant::now();
    let results = futures::stream::iter(requests.chunks(args.batch_articles.max(1)))
        .map(|batch| {
            let analyzer = Arc::clone(&analyzer);
            async move { analyzer.analyze_many(batch.to_vec()).await }
        })
        .buffer_unordered(workers.max(1))
        .collect::<Vec<_>>()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    for batch in results {
        if let Some(Err(error)) = batch?.into_iter().find(Result::is_err) {
            bail!("the analysis failed: {error:#}");
        }
    }
    Ok(requests.len() as f64 / seconds)
}
