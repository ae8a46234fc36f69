//! `newsflow bench scaling`: the whole analysis (ingest's validation, the extractor's and the
//! stance service's parts) of generated hostile inputs at doubling sizes, with the seconds and
//! the output size of each, and the ratio between consecutive sizes: under 2.5 where the cost
//! is linear (2 plus noise), about 4 where it is quadratic. Times are medians of `--runs`.

use std::time::Instant;

use clap::Args;
use newsflow_analysis::hostile::SHAPES;
use newsflow_proto::v1::SubmitRequest;

use crate::analyze::{AnalysisArgs, Analyzer};

/// Arguments of `newsflow bench scaling`.
#[derive(Args)]
pub struct ScalingArgs {
    /// Input sizes in KB.
    #[arg(long, value_delimiter = ',', default_value = "10,20,40,80,160")]
    sizes: Vec<usize>,
    /// Only the shapes whose name contains this.
    #[arg(long)]
    shape: Option<String>,
    /// Runs of each input; the time shown is their median (small timings are noisy).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The models and budget, as the services take them.
    #[command(flatten)]
    analysis: AnalysisArgs,
}

/// Largest ratio of time or output between consecutive sizes that linear cost allows here.
const LINEAR_RATIO: f64 = 2.5;

pub fn run(args: &ScalingArgs) -> anyhow::Result<std::process::ExitCode> {
    let analyzer = Analyzer::load(&args.analysis)?;
    let runtime = tokio::runtime::Runtime::new()?;
    println!(
        "{:<20} {:>7} {:>9} {:>12} {:>10} {:>10}  outcome",
        "shape", "KB", "seconds", "output B", "time x", "output x"
    );
    let mut superlinear = Vec::new();
    for shape in SHAPES {
        if args
            .shape
            .as_ref()
            .is_some_and(|s| !shape.name.contains(s.as_str()))
        {
            continue;
        }
        let mut previous: Option<(f64, usize)> = None;
        for &kb in &args.sizes {
            let body = (shape.generate)(kb * 1000);
            let request = SubmitRequest {
                body,
                ..Default::default()
            };
            let mut times = Vec::new();
            let mut result = None;
            for _ in 0..args.runs.max(1) {
                let started = Instant::now();
                result = Some(runtime.block_on(analyzer.analyze(request.clone())));
                times.push(started.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            let seconds = times[times.len() / 2];
            let (output, outcome) = match result.expect("at least one run") {
                Ok(document) => (
                    newsflow_proto::json::to_json(&document).to_string().len(),
                    "analysed".to_owned(),
                ),
                Err(error) => (0, format!("{error:#}")),
            };
            let ratio = |now: f64, before: f64| now / before.max(1e-3);
            let (time_x, output_x) = previous.map_or((None, None), |(s, o)| {
                (
                    Some(ratio(seconds, s)),
                    Some(ratio(output as f64, o as f64)),
                )
            });
            // Ratios of small figures are noise: only times over a tenth of a second count.
            if time_x.is_some_and(|x| x > LINEAR_RATIO && seconds > 0.1)
                || output_x.is_some_and(|x| x > LINEAR_RATIO && output > 10_000)
            {
                superlinear.push(format!("{} at {kb} KB", shape.name));
            }
            let show = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{x:.2}"));
            println!(
                "{:<20} {:>7} {:>9.3} {:>12} {:>10} {:>10}  {outcome}",
                shape.name,
                kb,
                seconds,
                output,
                show(time_x),
                show(output_x)
            );
            previous = Some((seconds, output));
        }
    }
    if superlinear.is_empty() {
        println!("every ratio under {LINEAR_RATIO}");
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        println!("over {LINEAR_RATIO}: {}", superlinear.join(", "));
        Ok(std::process::ExitCode::FAILURE)
    }
}
