//! dom_smoothie beside rs-trafilatura on the extraction set: token precision, recall and F1 of
//! each (bag of lowercased letter-and-digit runs, as `newsflow eval extraction` counts), overall
//! and by the package each page came from, whether each tells the pages without an article,
//! and the time each took. Run from the repository root after
//! `scripts/fetch-extraction-pages.sh`.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

const SET: &str = "tests/extraction/pages.tsv";
const PAGES: &str = "target/extraction-pages";
const GOLD: &str = "tests/extraction/gold";

fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn overlap(predicted: &[String], gold: &[String]) -> usize {
    let mut left: HashMap<&str, usize> = HashMap::new();
    for token in gold {
        *left.entry(token).or_default() += 1;
    }
    predicted
        .iter()
        .filter(|t| {
            left.get_mut(t.as_str()).is_some_and(|n| {
                *n > 0 && {
                    *n -= 1;
                    true
                }
            })
        })
        .count()
}

/// The main text, and whether the extractor took the page for an article.
fn dom_smoothie(html: &str) -> (String, bool) {
    let config = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        ..Default::default()
    };
    let Ok(mut readability) = dom_smoothie::Readability::new(html, None, Some(config)) else {
        return (String::new(), false);
    };
    let readable = readability.is_probably_readable();
    match readability.parse() {
        Ok(article) if readable => (article.text_content.to_string(), true),
        _ => (String::new(), false),
    }
}

fn trafilatura(html: &str) -> (String, bool) {
    match rs_trafilatura::extract(html) {
        Ok(result) => {
            let article = result.metadata.page_type.as_deref() == Some("article");
            (result.content_text, article)
        }
        Err(_) => (String::new(), false),
    }
}

fn main() {
    let set = std::fs::read_to_string(SET).expect("run from the repository root");
    let extractors: [(&str, fn(&str) -> (String, bool)); 2] = [
        ("dom_smoothie", dom_smoothie),
        ("rs-trafilatura", trafilatura),
    ];
    // extractor -> source -> (hit, predicted, gold)
    let mut counts: BTreeMap<&str, BTreeMap<String, [usize; 3]>> = BTreeMap::new();
    let mut told = [[0usize; 2]; 2]; // [extractor][articles taken for articles, others refused]
    let mut seconds = [0f64; 2];
    let (mut articles, mut others) = (0, 0);
    for line in set.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        let (name, kind, source) = (columns[0], columns[1], columns[3]);
        let source = source.split("==").next().unwrap_or(source).to_owned();
        let bytes = std::fs::read(format!("{PAGES}/{name}.html")).expect("the page (fetch it)");
        let html = String::from_utf8_lossy(&bytes);
        let gold = (kind == "article")
            .then(|| tokens(&std::fs::read_to_string(format!("{GOLD}/{name}.txt")).expect("gold")));
        if gold.is_some() {
            articles += 1
        } else {
            others += 1
        }
        let mut row = format!("{name:<36}");
        for (i, (extractor, extract)) in extractors.iter().enumerate() {
            let started = Instant::now();
            let (text, article) = extract(&html);
            seconds[i] += started.elapsed().as_secs_f64();
            match &gold {
                Some(gold) => {
                    told[i][0] += usize::from(article);
                    let predicted = tokens(&text);
                    let hit = overlap(&predicted, gold);
                    let c = counts
                        .entry(extractor)
                        .or_default()
                        .entry(source.clone())
                        .or_default();
                    c[0] += hit;
                    c[1] += predicted.len();
                    c[2] += gold.len();
                    let (p, r) = (
                        hit as f64 / predicted.len().max(1) as f64,
                        hit as f64 / gold.len() as f64,
                    );
                    row += &format!("  {extractor} F1 {:.3}", 2.0 * p * r / (p + r).max(1e-9));
                }
                None => {
                    told[i][1] += usize::from(!article);
                    row += &format!(
                        "  {extractor} {}",
                        if article { "article" } else { "no article" }
                    );
                }
            }
        }
        println!("{row}");
    }
    for (i, (extractor, _)) in extractors.iter().enumerate() {
        let mut all = [0usize; 3];
        for (source, c) in &counts[extractor] {
            let (p, r) = (c[0] as f64 / c[1] as f64, c[0] as f64 / c[2] as f64);
            println!(
                "{extractor} {source}: P {p:.4} R {r:.4} F1 {:.4}",
                2.0 * p * r / (p + r)
            );
            for k in 0..3 {
                all[k] += c[k]
            }
        }
        let (p, r) = (all[0] as f64 / all[1] as f64, all[0] as f64 / all[2] as f64);
        println!(
            "{extractor}: P {p:.4} R {r:.4} F1 {:.4}; {}/{articles} articles taken for articles, \
             {}/{others} pages without one refused; {:.3} s",
            2.0 * p * r / (p + r),
            told[i][0],
            told[i][1],
            seconds[i]
        );
    }
}
