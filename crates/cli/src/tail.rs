//! `newsflow tail`: follows `article.processed` from a queue of its own and prints one JSON
//! line per article (the `ArticleProcessed` event in protobuf's canonical JSON mapping).
//!
//! The queue is a stage queue like the pipeline's own (retries, dead letters, reconnection),
//! bound to `article.processed`. With `--durable NAME` it is `<prefix>.tail.NAME` and keeps
//! events while nobody reads, for a consumer that must not miss any; without it the queue has
//! a random name and the broker deletes it a minute after the last reader has gone.

use std::{
    io::Write,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use clap::Args;
use newsflow_bus::{Consumer, Handler, Incoming, Outcome, Publisher, Topology};
use newsflow_proto::v1::ArticleProcessed;
use newsflow_runtime::BusArgs;
use tokio_util::sync::CancellationToken;

/// Arguments of `newsflow tail`.
#[derive(Args)]
pub struct TailArgs {
    #[command(flatten)]
    bus: BusArgs,
    /// Read from the durable queue `<prefix>.tail.NAME`, which keeps events while no one reads.
    #[arg(long, value_name = "NAME")]
    durable: Option<String>,
    /// Stop after this many events.
    #[arg(long)]
    count: Option<usize>,
    /// Print only the article id, its entity, statement and stance counts, not the analysis.
    #[arg(long)]
    brief: bool,
}

/// The subscriber topology: one stage queue `<prefix>.tail.NAME` bound to
/// `article.processed`.
pub fn subscription(bus: &BusArgs, name: &str, durable: bool) -> (Topology, String) {
    let idle_expiry = (!durable).then_some(Duration::from_secs(60));
    bus.subscription(&format!("tail.{name}"), idle_expiry)
}

pub fn run(args: &TailArgs) -> anyhow::Result<()> {
    let (name, durable) = match &args.durable {
        Some(name) => (name.clone(), true),
        None => (format!("{:016x}", rand_suffix()), false),
    };
    let (topology, stage) = subscription(&args.bus, &name, durable);
    let mut config = args.bus.config("tail");
    // One at a time, so lines come out in the order the queue holds them.
    config.prefetch = 1;
    let shutdown = CancellationToken::new();
    let printer = Printer {
        brief: args.brief,
        limit: args.count,
        printed: AtomicUsize::new(0),
        done: shutdown.clone(),
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let publisher = Publisher::new(config.clone(), topology.clone());
        let consumer = Consumer::new(config, topology, &stage, printer, publisher);
        let signals = newsflow_runtime::shutdown::on_signals();
        let run = consumer.run(shutdown.clone());
        tokio::pin!(run);
        tokio::select! {
            result = &mut run => result?,
            () = signals.cancelled() => { shutdown.cancel(); run.await? }
        }
        anyhow::Ok(())
    })
}

/// Prints each event, and ends the run after `limit` of them or when standard output closes.
struct Printer {
    brief: bool,
    limit: Option<usize>,
    printed: AtomicUsize,
    done: CancellationToken,
}

impl Handler for Printer {
    async fn handle(&self, message: &Incoming) -> Outcome {
        let event: ArticleProcessed = match message.decode() {
            Ok(event) => event,
            Err(error) => return Outcome::Reject(format!("undecodable ArticleProcessed: {error}")),
        };
        let line = if self.brief {
            brief(&event)
        } else {
            newsflow_proto::json::to_json(&event)
        };
        let mut stdout = std::io::stdout().lock();
        if let Err(error) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
            // A closed pipe (`newsflow tail | head`): stop, and leave the event for next time.
            self.done.cancel();
            return Outcome::Retry(format!("writing to standard output: {error}"));
        }
        let printed = self.printed.fetch_add(1, Ordering::SeqCst) + 1;
        if self.limit.is_some_and(|limit| printed >= limit) {
            self.done.cancel();
        }
        Outcome::Done
    }
}

/// The article id and the size of its analysis.
fn brief(event: &ArticleProcessed) -> serde_json::Value {
    let document = event.article.clone().unwrap_or_default();
    let analysis = document.analysis.unwrap_or_default();
    serde_json::json!({
        "id": document.article.map(|a| a.id).unwrap_or_default(),
        "entities": analysis.entities.len(),
        "statements": analysis.statements.len(),
        "stances": analysis.stances.len(),
    })
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}
