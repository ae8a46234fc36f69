//! `newsflow bench ner`: throughput of the entity pipeline over real articles (the BBC CSV),
//! on the calling thread, and the process's peak resident memory. `newsflow bench articles`:
//! the same articles through the extractor's entity pipeline and then the stance service's
//! whole analysis (statements, targets, classification), each part timed on its own, through the
//! calls the services make.

use anyhow::Context;
use clap::Args;
use newsflow_nlp::tokenize::Tokenizer;
use newsflow_nlp::{Doc, Stage};
use newsflow_proto::v1::{AnalyzedArticle, Article};
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `newsflow bench ner`.
#[derive(Args)]
pub struct BenchArgs {
    /// CSV of articles with a header `text,category`.
    #[arg(long, default_value = "../shared/data/bbc/val.csv")]
    csv: PathBuf,
    #[command(flatten)]
    models: crate::ner::NerArgs,
    /// Only the first this many articles.
    #[arg(long)]
    limit: Option<usize>,
    /// Timed runs over the whole file; the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
}

/// Arguments of `newsflow bench articles`.
#[derive(Args)]
pub struct ArticlesArgs {
    /// CSV of articles with a header `text,category`.
    #[arg(long, default_value = "../shared/data/bbc/val.csv")]
    csv: PathBuf,
    /// The models and topics, as the services take them.
    #[command(flatten)]
    analysis: crate::analyze::AnalysisArgs,
    /// Only the first this many articles.
    #[arg(long)]
    limit: Option<usize>,
    /// Timed runs over the articles; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Analyse this many articles per call, their sentences and targets in shared batches, as
    /// the services do under a backlog (`NEWSFLOW_BATCH_ARTICLES`); 1: each alone, as with no
    /// backlog.
    #[arg(long, default_value_t = 1)]
    together: usize,
}

fn read_articles(args: &BenchArgs) -> anyhow::Result<Vec<String>> {
    read_csv(&args.csv)
}

pub(crate) fn read_csv(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let text_col = headers
        .iter()
        .position(|h| h == "text")
        .context("the CSV has no `text` column")?;
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record?;
        out.push(record.get(text_col).unwrap_or_default().to_string());
    }
    Ok(out)
}

/// Peak resident set size in kB (VmHWM), where /proc offers it.
pub(crate) fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// CPU seconds this process has used (user + system), where /proc offers it: on a shared
/// machine wall time says more about the neighbours than about the code.
pub(crate) fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Threads the tensor library may use (`RAYON_NUM_THREADS`, else the cores).
pub(crate) fn threads() -> String {
    std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| {
        std::thread::available_parallelism()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into())
    })
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times normalization + tokenization alone and with NER, and prints a table.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    let mut articles = read_articles(args)?;
    if let Some(limit) = args.limit {
        articles.truncate(limit);
    }
    let load_started = Instant::now();
    let tagger = args.models.load()?;
    let load_s = load_started.elapsed().as_secs_f64();

    let mut words = 0usize;
    let mut mentions = 0usize;
    let mut tokenize_s = Vec::new();
    let mut full_s = Vec::new();
    let mut full_cpu_s = Vec::new();
    for _ in 0..args.runs {
        let started = Instant::now();
        let mut docs = Vec::with_capacity(articles.len());
        for a in &articles {
            let mut doc = Doc::new(a);
            Tokenizer.process(&mut doc)?;
            docs.push(doc);
        }
        tokenize_s.push(started.elapsed().as_secs_f64());
        words = docs.iter().map(|d| d.tokens.len()).sum();

        let started = Instant::now();
        let cpu_started = cpu_seconds();
        mentions = 0;
        for a in &articles {
            let mut doc = Doc::new(a);
            Tokenizer.process(&mut doc)?;
            tagger.process(&mut doc)?;
            mentions += doc.mentions.len();
        }
        full_s.push(started.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu_started, cpu_seconds()) {
            full_cpu_s.push(b - a);
        }
    }
    let tok = median(tokenize_s);
    let full = median(full_s);
    println!(
        "{} mode: {} articles, {} words (tokens), {} mentions, {} runs, {} thread(s); models loaded in {:.2}s",
        tagger.mode(),
        articles.len(),
        words,
        mentions,
        args.runs,
        threads(),
        load_s
    );
    println!("{:<34} {:>10} {:>12}", "stage", "median s", "words/s");
    println!(
        "{:<34} {:>10.3} {:>12.0}",
        "normalize + tokenize",
        tok,
        words as f64 / tok
    );
    println!(
        "{:<34} {:>10.3} {:>12.0}",
        "normalize + tokenize + NER",
        full,
        words as f64 / full
    );
    if full_cpu_s.len() == args.runs {
        let cpu = median(full_cpu_s);
        println!(
            "{:<34} {:>10.3} {:>12.0}",
            "  the same per CPU second",
            cpu,
            words as f64 / cpu
        );
    }
    match peak_rss_kb() {
        Some(kb) => println!("peak RSS (VmHWM) {:.1} MB", kb as f64 / 1024.0),
        None => println!("peak RSS unavailable (no /proc/self/status)"),
    }
    Ok(())
}

/// Times the extractor's and the stance service's parts of the analysis, and
/// prints a table: articles/s of each part and of both, targets/s of the stance part.
pub fn articles(args: &ArticlesArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    anyhow::ensure!(args.together > 0, "--together must be at least 1");
    let mut articles = read_csv(&args.csv)?;
    if let Some(limit) = args.limit {
        articles.truncate(limit);
    }
    let texts: Vec<String> = articles
        .iter()
        .map(|a| newsflow_analysis::normalize(a))
        .collect();
    let load_started = Instant::now();
    let budget = newsflow_analysis::Budget::from(&args.analysis.budget);
    let analysis =
        newsflow_analysis::Analysis::load(&args.analysis.models, &args.analysis.topics, budget)?;
    let load_s = load_started.elapsed().as_secs_f64();
    let topics = analysis.stance.topics();

    let (mut extract_s, mut stance_s, mut stance_cpu_s) = (Vec::new(), Vec::new(), Vec::new());
    let mut embed_s = Vec::new();
    let (mut entities_n, mut statements_n, mut targets_n) = (0usize, 0usize, 0usize);
    for _ in 0..args.runs {
        let mut documents: Vec<AnalyzedArticle> = texts.iter().map(|text| document(text)).collect();
        // Each part as its service runs it: `together` articles per call.
        let started = Instant::now();
        for group in documents.chunks_mut(args.together) {
            for result in analysis.entities.apply_many(group) {
                result?;
            }
        }
        extract_s.push(started.elapsed().as_secs_f64());

        let started = Instant::now();
        let cpu_started = cpu_seconds();
        for group in documents.chunks_mut(args.together) {
            for result in analysis.stance.apply_many(group) {
                result?;
            }
        }
        stance_s.push(started.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu_started, cpu_seconds()) {
            stance_cpu_s.push(b - a);
        }
        let analysed = documents.iter().filter_map(|d| d.analysis.as_ref());
        (entities_n, statements_n, targets_n) = analysed.fold((0, 0, 0), |(e, s, t), a| {
            (
                e + a.entities.len(),
                s + a.statements.len(),
                t + a.stances.len(),
            )
        });

        // The embedding's share of the stance part, timed again on its own.
        let started = Instant::now();
        for text in &texts {
            analysis.stance.embed("", text)?;
        }
        embed_s.push(started.elapsed().as_secs_f64());
    }
    let (extract, stance) = (median(extract_s), median(stance_s));
    let n = texts.len() as f64;
    println!(
        "{} articles from {}, NER {} mode, {} entities, {} statements, {} targets ({} topics), {} runs, {} thread(s); models loaded in {:.2}s",
        texts.len(),
        args.csv.display(),
        args.analysis.models.ner_mode,
        entities_n,
        statements_n,
        targets_n,
        topics.len(),
        args.runs,
        threads(),
        load_s
    );
    println!(
        "{:<54} {:>10} {:>12} {:>12}",
        "part", "median s", "articles/s", "targets/s"
    );
    println!(
        "{:<54} {:>10.3} {:>12.2} {:>12}",
        "extraction (entity pipeline)",
        extract,
        n / extract,
        "-"
    );
    println!(
        "{:<54} {:>10.3} {:>12.2} {:>12.1}",
        "stance analysis (statements+targets+stance+embedding)",
        stance,
        n / stance,
        targets_n as f64 / stance
    );
    let embedding = median(embed_s);
    println!(
        "{:<54} {:>10.3} {:>12.2} {:>12}",
        "  of which the article embedding (timed apart)",
        embedding,
        n / embedding,
        "-"
    );
    if stance_cpu_s.len() == args.runs {
        let cpu = median(stance_cpu_s);
        println!(
            "{:<54} {:>10.3} {:>12.2} {:>12.1}",
            "  the same per CPU second",
            cpu,
            n / cpu,
            targets_n as f64 / cpu
        );
    }
    println!(
        "{:<54} {:>10.3} {:>12.2} {:>12.1}",
        "both (extractor + stance service)",
        extract + stance,
        n / (extract + stance),
        targets_n as f64 / (extract + stance)
    );
    match peak_rss_kb() {
        Some(kb) => println!("peak RSS (VmHWM) {:.1} MB", kb as f64 / 1024.0),
        None => println!("peak RSS unavailable (no /proc/self/status)"),
    }
    Ok(())
}

/// A document as the ingest service publishes it: the article's (normalized) body alone.
fn document(text: &str) -> AnalyzedArticle {
    AnalyzedArticle {
        article: Some(Article {
            body: text.to_owned(),
            ..Default::default()
        }),
        ..Default::default()
    }
}
