//! `newsflow dead-letters list|replay`: what the pipeline parked, why, and sending it back to
//! the stage it failed in once the cause is fixed.

use clap::{Args, Subcommand};
use newsflow_bus::{Publisher, dead_letter};
use newsflow_runtime::BusArgs;

/// Arguments of `newsflow dead-letters`.
#[derive(Args)]
pub struct DeadLetterArgs {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    bus: BusArgs,
    /// The stage whose dead letters to look at (all three when left out).
    #[arg(long, global = true, value_parser = ["extractor", "stance", "storage"])]
    stage: Option<String>,
    /// At most this many messages per stage.
    #[arg(long, global = true, default_value_t = 100)]
    limit: usize,
    /// Only the messages whose reason contains this (`deadline`, `undecodable`).
    #[arg(long, global = true)]
    reason: Option<String>,
}

#[derive(Subcommand)]
enum Action {
    /// List parked messages (they stay parked), one JSON line each.
    List,
    /// Send parked messages back to the work queue they failed in, attempts reset.
    Replay,
}

pub fn run(args: &DeadLetterArgs) -> anyhow::Result<()> {
    let topology = args.bus.topology();
    let config = args.bus.config("dead-letters");
    let stages: Vec<String> = match &args.stage {
        Some(stage) => vec![stage.clone()],
        None => topology.stages().iter().map(|s| s.stage.clone()).collect(),
    };
    tokio::runtime::Runtime::new()?.block_on(async {
        let publisher = Publisher::new(config.clone(), topology.clone());
        for stage in stages {
            let queue = topology.dead_letter_queue(&topology.work_queue(&stage));
            match args.action {
                Action::List => {
                    let mut parked = dead_letter::list(&config, &queue, args.limit).await?;
                    if let Some(wanted) = &args.reason {
                        parked.retain(|letter| letter.reason.contains(wanted.as_str()));
                    }
                    for letter in &parked {
                        let line = serde_json::json!({
                            "queue": queue,
                            "message_id": letter.message_id,
                            "reason": letter.reason,
                            "attempts": letter.attempts,
                            "origin_queue": letter.origin_queue,
                            "dead_lettered_at": letter.dead_lettered_at,
                            "bytes": letter.body.len(),
                        });
                        println!("{line}");
                    }
                    eprintln!("{queue}: {} listed", parked.len());
                }
                Action::Replay => {
                    let reason = args.reason.as_deref();
                    let replayed =
                        dead_letter::replay(&config, &publisher, &queue, args.limit, reason)
                            .await?;
                    eprintln!("{queue}: {replayed} replayed");
                }
            }
        }
        anyhow::Ok(())
    })
}
