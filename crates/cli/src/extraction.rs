//! `newsflow extract-text` (the main text of one HTML page) and `newsflow eval extraction`
//! (token precision, recall and F1 of that text against hand-checked gold, over a set of news
//! pages).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use newsflow_article::page::{self, NoArticle};
use serde_json::json;

/// Arguments of `newsflow extract-text`.
#[derive(Args)]
pub struct ExtractTextArgs {
    /// The HTML page, or `-` for standard input.
    file: PathBuf,
    /// The URL the page came from (resolves a relative canonical URL).
    #[arg(long)]
    url: Option<url::Url>,
    /// Print `{"title", "byline", "published_at", "language", "url", "text"}`.
    #[arg(long)]
    json: bool,
}

/// Largest page read, in bytes.
const MAX_PAGE_BYTES: u64 = 64 << 20;

/// Prints the main text of one page; exits 1 when the page has no article.
pub fn extract_text(args: &ExtractTextArgs) -> anyhow::Result<std::process::ExitCode> {
    let mut bytes = Vec::new();
    let reader: Box<dyn Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&args.file)
                .with_context(|| format!("cannot open {}", args.file.display()))?,
        )
    };
    reader.take(MAX_PAGE_BYTES + 1).read_to_end(&mut bytes)?;
    anyhow::ensure!(
        bytes.len() as u64 <= MAX_PAGE_BYTES,
        "the page is over {} MiB",
        MAX_PAGE_BYTES >> 20
    );
    let html = page::decode(&bytes, None);
    match page::main_text(&html, args.url.as_ref()) {
        Ok(page) => {
            if args.json {
                let text = page.text();
                println!(
                    "{}",
                    json!({
                        "title": page.title,
                        "byline": page.byline,
                        "published_at": page.published_at,
                        "language": page.language,
                        "url": page.url,
                        "text": text,
                    })
                );
            } else {
                println!("{}", page.text());
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(no_article) => {
            eprintln!("{}: {no_article}", args.file.display());
            Ok(std::process::ExitCode::FAILURE)
        }
    }
}

/// Arguments of `newsflow eval extraction`.
#[derive(Args)]
pub struct EvalExtractionArgs {
    /// The set: `name, kind (article | no-article), outlet, source, notes`, tab-separated, with
    /// a header.
    #[arg(long, default_value = "tests/extraction/pages.tsv")]
    set: PathBuf,
    /// The pages, `NAME.html` (`scripts/fetch-extraction-pages.sh` fetches them).
    #[arg(long, default_value = "target/extraction-pages")]
    pages: PathBuf,
    /// The gold main text of each article, `NAME.txt`.
    #[arg(long, default_value = "tests/extraction/gold")]
    gold: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// One page of the set, scored.
struct Scored {
    name: String,
    source: String,
    /// Gold tokens found, predicted tokens, gold tokens (all 0 for a page with no article).
    hit: usize,
    predicted: usize,
    gold: usize,
    /// What the extractor said: an article, or why none.
    found: Result<(), NoArticle>,
    article: bool,
}

pub fn eval(args: &EvalExtractionArgs) -> anyhow::Result<()> {
    let set = std::fs::read_to_string(&args.set)
        .with_context(|| format!("cannot read {}", args.set.display()))?;
    let mut scored = Vec::new();
    let started = Instant::now();
    let mut page_bytes = 0;
    for (number, line) in set.lines().enumerate().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        let [name, kind, _outlet, source, ..] = columns[..] else {
            anyhow::bail!(
                "{} line {}: fewer than 4 columns",
                args.set.display(),
                number + 1
            );
        };
        let path = args.pages.join(format!("{name}.html"));
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "cannot read {} (scripts/fetch-extraction-pages.sh fetches the pages)",
                path.display()
            )
        })?;
        page_bytes += bytes.len();
        let html = page::decode(&bytes, None);
        let found = page::main_text(&html, None);
        let article = kind == "article";
        let (mut hit, mut predicted, mut gold) = (0, 0, 0);
        if article {
            let gold_path = args.gold.join(format!("{name}.txt"));
            let gold_tokens = tokens(
                &std::fs::read_to_string(&gold_path)
                    .with_context(|| format!("cannot read {}", gold_path.display()))?,
            );
            let predicted_tokens = found
                .as_ref()
                .map(|p| tokens(&p.text()))
                .unwrap_or_default();
            hit = overlap(&predicted_tokens, &gold_tokens);
            predicted = predicted_tokens.len();
            gold = gold_tokens.len();
        }
        scored.push(Scored {
            name: name.to_owned(),
            // The package the page and its first draft of gold came from.
            source: source.split("==").next().unwrap_or(source).to_owned(),
            hit,
            predicted,
            gold,
            found: found.map(|_| ()),
            article,
        });
    }
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(!scored.is_empty(), "{} lists no pages", args.set.display());

    let articles: Vec<&Scored> = scored.iter().filter(|s| s.article).collect();
    let others: Vec<&Scored> = scored.iter().filter(|s| !s.article).collect();
    let overall = prf(
        articles.iter().map(|s| s.hit).sum(),
        articles.iter().map(|s| s.predicted).sum(),
        articles.iter().map(|s| s.gold).sum(),
    );
    let page_f1: Vec<f64> = articles
        .iter()
        .map(|s| prf(s.hit, s.predicted, s.gold).2)
        .collect();
    let mut by_source: BTreeMap<&str, (usize, usize, usize, usize)> = BTreeMap::new();
    for s in &articles {
        let entry = by_source.entry(&s.source).or_default();
        entry.0 += s.hit;
        entry.1 += s.predicted;
        entry.2 += s.gold;
        entry.3 += 1;
    }
    let articles_found = articles.iter().filter(|s| s.found.is_ok()).count();
    let others_refused = others.iter().filter(|s| s.found.is_err()).count();
    let summary = json!({
        "articles": articles.len(),
        "precision": overall.0,
        "recall": overall.1,
        "f1": overall.2,
        "mean_page_f1": page_f1.iter().sum::<f64>() / page_f1.len().max(1) as f64,
        "min_page_f1": page_f1.iter().copied().fold(f64::INFINITY, f64::min),
        "articles_recognised": articles_found,
        "no_article_pages": others.len(),
        "no_article_recognised": others_refused,
        "by_source": by_source.iter().map(|(source, &(hit, predicted, gold, n))| {
            let (p, r, f1) = prf(hit, predicted, gold);
            (source.to_string(), json!({"pages": n, "precision": p, "recall": r, "f1": f1}))
        }).collect::<serde_json::Map<_, _>>(),
        "per_page": scored.iter().map(|s| {
            let (p, r, f1) = prf(s.hit, s.predicted, s.gold);
            let found = match &s.found { Ok(()) => "article".to_owned(), Err(e) => e.reason().to_owned() };
            if s.article {
                json!({"name": s.name, "found": found, "precision": p, "recall": r, "f1": f1})
            } else {
                json!({"name": s.name, "found": found})
            }
        }).collect::<Vec<_>>(),
        "seconds": seconds,
        "megabytes": page_bytes as f64 / 1e6,
    });
    if args.json {
        println!("{summary}");
        return Ok(());
    }
    for s in &scored {
        let found = match &s.found {
            Ok(()) => "article".to_owned(),
            Err(e) => e.reason().to_owned(),
        };
        if s.article {
            let (p, r, f1) = prf(s.hit, s.predicted, s.gold);
            println!("{:<36} {found:<10} P {p:.3} R {r:.3} F1 {f1:.3}", s.name);
        } else {
            println!("{:<36} {found:<10} (no article expected)", s.name);
        }
    }
    println!(
        "{} articles: token P {:.4} R {:.4} F1 {:.4} (mean page F1 {:.4}, lowest {:.4}); \
         {articles_found}/{} read as articles; {others_refused}/{} pages without an article \
         recognised; {:.3} s for {:.1} MB",
        articles.len(),
        overall.0,
        overall.1,
        overall.2,
        summary["mean_page_f1"].as_f64().unwrap_or_default(),
        summary["min_page_f1"].as_f64().unwrap_or_default(),
        articles.len(),
        others.len(),
        seconds,
        page_bytes as f64 / 1e6,
    );
    Ok(())
}

/// Words as the scores count them: runs of letters and digits, lowercased.
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Tokens the two bags share, each counted as often as both hold it.
fn overlap(predicted: &[String], gold: &[String]) -> usize {
    let mut left: HashMap<&str, usize> = HashMap::new();
    for token in gold {
        *left.entry(token).or_default() += 1;
    }
    predicted
        .iter()
        .filter(|token| {
            left.get_mut(token.as_str()).is_some_and(|n| {
                *n > 0 && {
                    *n -= 1;
                    true
                }
            })
        })
        .count()
}

fn prf(hit: usize, predicted: usize, gold: usize) -> (f64, f64, f64) {
    let p = hit as f64 / predicted.max(1) as f64;
    let r = hit as f64 / gold.max(1) as f64;
    let f1 = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (p, r, f1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_overlap_counts_each_token_as_often_as_both_hold_it() {
        let gold = tokens("Putin warned, Putin said.");
        let predicted = tokens("putin PUTIN putin warned home");
        assert_eq!(overlap(&predicted, &gold), 3);
        let (p, r, f1) = prf(3, predicted.len(), gold.len());
        assert!((p - 0.6).abs() < 1e-9 && (r - 0.75).abs() < 1e-9, "{p} {r}");
        assert!((f1 - 2.0 * 0.6 * 0.75 / 1.35).abs() < 1e-9);
        assert_eq!(prf(0, 0, 5), (0.0, 0.0, 0.0));
    }
}
