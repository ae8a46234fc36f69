//! `newsflow eval duplicates`: the near-duplicate detector ([`newsflow_knowledge::near_duplicate`])
//! on the team-made pairs of `tests/near-duplicates/pairs.tsv`.
//!
//! The set holds no article text: each row names two BBC articles of `val.csv` by row and the
//! edits that make each side's text (a wire copy of an article is the article with a new
//! headline, a byline, a trimmed ending, ...), so the texts are built here at run time. A pair
//! is called a duplicate by the rule the database applies: the two signatures share an LSH
//! band key and their estimated similarity is at least the threshold. Printed: precision,
//! recall and F1 of the `duplicate` class, the counts, the similarity distribution of each
//! expected class (how far the threshold sits from each), and the mean time of a signature.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use newsflow_knowledge::near_duplicate::{
    self, BANDS, ROWS_PER_BAND, Signature, THRESHOLD, similarity,
};
use serde_json::json;

/// Arguments of `newsflow eval duplicates`.
#[derive(Args)]
pub struct EvalArgs {
    /// The pairs: `left_row, right_row, left_edits, right_edits, expected, kind`,
    /// tab-separated, with a header (`tests/near-duplicates/README.md`).
    #[arg(long, default_value = "tests/near-duplicates/pairs.tsv")]
    pairs: PathBuf,
    /// The BBC articles the rows index (a CSV with a `text` column), read by path beside the
    /// checkout.
    #[arg(long, default_value = "../shared/data/bbc/val.csv")]
    bbc: PathBuf,
    /// Print exactly one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// One pair of the set, with its texts built.
struct Pair {
    line: usize,
    kind: String,
    expected_duplicate: bool,
    left: String,
    right: String,
}

/// One pair, decided.
struct Decided {
    line: usize,
    kind: String,
    expected_duplicate: bool,
    similarity: f64,
    shares_band: bool,
    called_duplicate: bool,
}

pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    let articles = read_articles(&args.bbc)?;
    let set = std::fs::read_to_string(&args.pairs)
        .with_context(|| format!("cannot read {}", args.pairs.display()))?;
    let pairs =
        parse_pairs(&set, &articles).with_context(|| format!("in {}", args.pairs.display()))?;
    anyhow::ensure!(!pairs.is_empty(), "{} lists no pairs", args.pairs.display());

    let mut signature_seconds = 0.0;
    let mut signatures = 0usize;
    let mut timed_signature = |text: &str| -> Signature {
        let started = Instant::now();
        let sig = near_duplicate::signature(text);
        signature_seconds += started.elapsed().as_secs_f64();
        signatures += 1;
        sig
    };
    let mut decided = Vec::with_capacity(pairs.len());
    for pair in &pairs {
        let left = timed_signature(&pair.left);
        let right = timed_signature(&pair.right);
        let left_keys = near_duplicate::band_keys(&left);
        let shares_band = near_duplicate::band_keys(&right)
            .iter()
            .zip(&left_keys)
            .any(|(a, b)| a == b);
        let score = similarity(&left, &right);
        decided.push(Decided {
            line: pair.line,
            kind: pair.kind.clone(),
            expected_duplicate: pair.expected_duplicate,
            similarity: score,
            shares_band,
            // What storing the right article would do: find the left one by a band key, then
            // keep it when similar enough.
            called_duplicate: shares_band && score >= THRESHOLD,
        });
    }

    let count = |expected: bool, called: bool| {
        decided
            .iter()
            .filter(|d| d.expected_duplicate == expected && d.called_duplicate == called)
            .count()
    };
    let (tp, fp, fn_, tn) = (
        count(true, true),
        count(false, true),
        count(true, false),
        count(false, false),
    );
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    let spread = |expected: bool| {
        let scores: Vec<f64> = decided
            .iter()
            .filter(|d| d.expected_duplicate == expected)
            .map(|d| d.similarity)
            .collect();
        distribution(scores)
    };
    let distinct_candidates = decided
        .iter()
        .filter(|d| !d.expected_duplicate && d.shares_band)
        .count();
    let mut kinds: Vec<&str> = decided.iter().map(|d| d.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let by_kind: serde_json::Map<String, serde_json::Value> = kinds
        .iter()
        .map(|&kind| {
            let of_kind: Vec<&Decided> = decided.iter().filter(|d| d.kind == kind).collect();
            let right = of_kind
                .iter()
                .filter(|d| d.called_duplicate == d.expected_duplicate)
                .count();
            let scores = of_kind.iter().map(|d| d.similarity).collect();
            (
                kind.to_owned(),
                json!({"n": of_kind.len(), "right": right, "similarity": distribution(scores)}),
            )
        })
        .collect();
    let microseconds_per_signature = 1e6 * signature_seconds / signatures.max(1) as f64;
    let out = json!({
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "n": decided.len(),
        "tp": tp,
        "fp": fp,
        "fn": fn_,
        "tn": tn,
        "similarity": {"duplicate": spread(true), "distinct": spread(false)},
        "threshold": THRESHOLD,
        "bands": BANDS,
        "rows_per_band": ROWS_PER_BAND,
        "distinct_pairs_sharing_a_band": distinct_candidates,
        "by_kind": by_kind,
        "microseconds_per_signature": microseconds_per_signature,
    });

    for d in decided
        .iter()
        .filter(|d| d.called_duplicate != d.expected_duplicate)
    {
        eprintln!(
            "{} line {}: {} pair called {} (similarity {:.3}, shares a band: {})",
            args.pairs.display(),
            d.line,
            d.kind,
            if d.called_duplicate {
                "duplicate"
            } else {
                "distinct"
            },
            d.similarity,
            d.shares_band
        );
    }
    if args.json {
        println!("{out}");
        return Ok(());
    }
    println!(
        "{} pairs ({} duplicate, {} distinct); threshold {THRESHOLD}, {BANDS} bands of {ROWS_PER_BAND} rows",
        decided.len(),
        tp + fn_,
        fp + tn
    );
    println!(
        "precision {precision:.3}  recall {recall:.3}  F1 {f1:.3}   tp {tp}  fp {fp}  fn {fn_}  tn {tn}"
    );
    println!(
        "{:<22} {:>5} {:>6} {:>7} {:>6}",
        "similarity", "n", "min", "median", "max"
    );
    let row = |label: &str, n: usize, d: &serde_json::Value| {
        println!(
            "{label:<22} {n:>5} {:>6.3} {:>7.3} {:>6.3}",
            d["min"].as_f64().unwrap_or(f64::NAN),
            d["median"].as_f64().unwrap_or(f64::NAN),
            d["max"].as_f64().unwrap_or(f64::NAN)
        );
    };
    row("duplicate", tp + fn_, &out["similarity"]["duplicate"]);
    row("distinct", fp + tn, &out["similarity"]["distinct"]);
    for (kind, figures) in &by_kind {
        let n = figures["n"].as_u64().unwrap_or(0) as usize;
        row(&format!("  {kind}"), n, &figures["similarity"]);
    }
    println!(
        "distinct pairs that share a band (a lookup candidate): {distinct_candidates}; {microseconds_per_signature:.1} µs per signature over {signatures} texts"
    );
    Ok(())
}

/// The `text` column of the CSV, in row order (row 0 is the first after the header).
fn read_articles(path: &Path) -> anyhow::Result<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| {
        format!(
            "cannot open {} (the BBC articles, read beside the checkout: run from the \
             workspace root with ../shared present, or pass --bbc)",
            path.display()
        )
    })?;
    let column = reader
        .headers()?
        .iter()
        .position(|h| h == "text")
        .with_context(|| format!("{} has no `text` column", path.display()))?;
    let mut texts = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("reading {}", path.display()))?;
        texts.push(record.get(column).unwrap_or_default().to_owned());
    }
    Ok(texts)
}

fn parse_pairs(set: &str, articles: &[String]) -> anyhow::Result<Vec<Pair>> {
    let mut pairs = Vec::new();
    for (index, line) in set.lines().enumerate().skip(1) {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let columns: Vec<&str> = line.split('\t').collect();
        let [left_row, right_row, left_edits, right_edits, expected, kind] = columns[..] else {
            anyhow::bail!("line {number}: {} columns, not 6", columns.len());
        };
        let article = |row: &str| -> anyhow::Result<&str> {
            let row: usize = row
                .parse()
                .with_context(|| format!("line {number}: row {row:?} is not a number"))?;
            articles.get(row).map(String::as_str).with_context(|| {
                format!(
                    "line {number}: row {row} is past the last article ({})",
                    articles.len()
                )
            })
        };
        let left = apply_edits(article(left_row)?, left_edits)
            .with_context(|| format!("line {number}: left edits"))?;
        let right = apply_edits(article(right_row)?, right_edits)
            .with_context(|| format!("line {number}: right edits"))?;
        let expected_duplicate = match expected {
            "duplicate" => true,
            "distinct" => false,
            other => anyhow::bail!("line {number}: expected {other:?}, not duplicate or distinct"),
        };
        pairs.push(Pair {
            line: number,
            kind: kind.to_owned(),
            expected_duplicate,
            left,
            right,
        });
    }
    Ok(pairs)
}

/// The text after the edits, applied left to right; `-` is none. Edits are separated by `|`
/// (texts such as bylines hold commas and semicolons).
fn apply_edits(text: &str, edits: &str) -> anyhow::Result<String> {
    let mut words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    if edits.trim() == "-" {
        return Ok(words.join(" "));
    }
    for edit in edits.split('|').map(str::trim) {
        let (name, argument) = edit.split_once(':').unwrap_or((edit, ""));
        let number = || -> anyhow::Result<usize> {
            argument
                .parse()
                .with_context(|| format!("{name}: {argument:?} is not a count"))
        };
        match name {
            "headline" => {
                let (count, headline) = argument
                    .split_once(':')
                    .context("headline: want `headline:WORDS:NEW HEADLINE`")?;
                let count: usize = count
                    .parse()
                    .with_context(|| format!("headline: {count:?} is not a count"))?;
                anyhow::ensure!(
                    count < words.len(),
                    "headline: {count} words is the whole text"
                );
                words.splice(..count, headline.split_whitespace().map(str::to_owned));
            }
            "byline" | "dateline" => {
                words.splice(..0, argument.split_whitespace().map(str::to_owned));
            }
            "append" => words.extend(argument.split_whitespace().map(str::to_owned)),
            "trim-last-paragraph" => drop_last_sentences(&mut words, 2)?,
            "trim-sentences" => drop_last_sentences(&mut words, number()?)?,
            "drop-sentence" => {
                let sentences = sentence_starts(&words);
                let which = number()?;
                let start = *sentences
                    .get(which)
                    .with_context(|| format!("drop-sentence: no sentence {which}"))?;
                let end = sentences.get(which + 1).copied().unwrap_or(words.len());
                words.drain(start..end);
            }
            "typos" => {
                for at in spread_positions(words.len(), number()?) {
                    // The next word long enough to misspell: its second and third letters swap.
                    if let Some(word) = words[at..].iter_mut().find(|w| {
                        w.chars().count() >= 4 && w.chars().take(3).all(char::is_alphabetic)
                    }) {
                        let mut chars: Vec<char> = word.chars().collect();
                        chars.swap(1, 2);
                        *word = chars.into_iter().collect();
                    }
                }
            }
            "swap-words" => {
                for at in spread_positions(words.len(), number()?) {
                    if at + 1 < words.len() {
                        words.swap(at, at + 1);
                    }
                }
            }
            _ => anyhow::bail!("unknown edit {edit:?}"),
        }
    }
    anyhow::ensure!(!words.is_empty(), "the edits leave no text");
    Ok(words.join(" "))
}

/// Drops the last `count` sentences, keeping at least one.
fn drop_last_sentences(words: &mut Vec<String>, count: usize) -> anyhow::Result<()> {
    let sentences = sentence_starts(words);
    if count == 0 {
        return Ok(());
    }
    anyhow::ensure!(
        count < sentences.len(),
        "cannot drop {count} of {} sentences",
        sentences.len()
    );
    words.truncate(sentences[sentences.len() - count]);
    Ok(())
}

/// The index of the first word of each sentence. A sentence ends at a word ending in `.`, `!`
/// or `?` (closing quotes and brackets aside) when the next word starts with a capital, a digit
/// or an opening quote. val.csv has no paragraph breaks and its headline runs into the first
/// sentence, so sentence 0 begins with the headline.
fn sentence_starts(words: &[String]) -> Vec<usize> {
    let mut starts = vec![0];
    for (i, pair) in words.windows(2).enumerate() {
        let ends = pair[0]
            .trim_end_matches(['"', '\'', ')', '\u{2019}', '\u{201d}'])
            .ends_with(['.', '!', '?']);
        let next_starts = pair[1]
            .chars()
            .find(|c| c.is_alphanumeric())
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
            || pair[1].starts_with(['"', '\u{201c}']);
        if ends && next_starts {
            starts.push(i + 1);
        }
    }
    if words.is_empty() {
        starts.clear();
    }
    starts
}

/// `count` word positions spread evenly over `len` words (none at the very start).
fn spread_positions(len: usize, count: usize) -> Vec<usize> {
    (1..=count).map(|i| i * len / (count + 1)).collect()
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// `{min, median, max}` of the scores (nulls when there are none).
fn distribution(mut scores: Vec<f64>) -> serde_json::Value {
    scores.sort_by(f64::total_cmp);
    let median = match scores.len() {
        0 => None,
        n if n % 2 == 1 => Some(scores[n / 2]),
        n => Some((scores[n / 2 - 1] + scores[n / 2]) / 2.0),
    };
    json!({"min": scores.first(), "median": median, "max": scores.last()})
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Markets fall sharply Shares fell on Monday. \"It was bad,\" a trader \
        said. Oil rose 2.5% to $50. Analysts expect more falls.";

    #[test]
    fn sentences_split_after_end_marks_before_a_capital_or_quote() {
        let words: Vec<String> = TEXT.split_whitespace().map(str::to_owned).collect();
        let starts = sentence_starts(&words);
        let firsts: Vec<&str> = starts.iter().map(|&i| words[i].as_str()).collect();
        assert_eq!(firsts, ["Markets", "\"It", "Oil", "Analysts"]);
    }

    #[test]
    fn edits_apply_in_order_and_bad_recipes_are_errors() {
        let edited = apply_edits(
            TEXT,
            "headline:3:Stocks slide | trim-last-paragraph | byline:By Jo Bloggs, Reuters | append:Editing by Ann Lee",
        )
        .expect("edits");
        assert_eq!(
            edited,
            "By Jo Bloggs, Reuters Stocks slide Shares fell on Monday. \"It was bad,\" a trader said. Editing by Ann Lee"
        );
        assert_eq!(
            apply_edits(TEXT, "drop-sentence:1").expect("edit"),
            "Markets fall sharply Shares fell on Monday. Oil rose 2.5% to $50. Analysts expect more falls."
        );
        assert_eq!(
            apply_edits(TEXT, "typos:1").expect("edit"),
            TEXT.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .replace("trader", "tarder")
        );
        for bad in ["trim-sentences:4", "headline:x:y", "shout", "typos:many"] {
            assert!(apply_edits(TEXT, bad).is_err(), "{bad}");
        }
        assert_eq!(apply_edits(TEXT, "-").expect("none").split(' ').count(), 22);
        assert_eq!(
            apply_edits(TEXT, "trim-sentences:0 | typos:0 | swap-words:0").expect("no-ops"),
            apply_edits(TEXT, "-").expect("none")
        );
    }
}
