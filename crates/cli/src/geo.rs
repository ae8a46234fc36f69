//! `newsflow eval geo`: geocoding scored on a TR-News-style XML file (articles with their text
//! and toponyms, each toponym's phrase, code-point span and GeoNames tag with coordinates).
//!
//! - `resolution`: the gold toponym spans resolved in their article's context (the article's
//!   other gold toponyms, and the outlet's country by the domain's country-code TLD). acc161 is
//!   the share placed within 161 km of the gold point (great-circle distance), mean and median
//!   the error in km, AUC that of Gritta et al. 2019 ([`newsflow_nlp::geo::auc`]); an
//!   unresolved toponym counts as the largest error, 20,039 km. Only toponyms whose gold tag
//!   has coordinates count (`n`). Besides the paper's scores: `same_id`, the share resolved to
//!   the gold GeoNames place itself, and `same_id_far`, the share resolved to it yet placed over
//!   161 km from the gold point (the gazetteer's point for that place is not GeoNames' own).
//! - `end_to_end`: toponyms found by the project's NER (GPE and LOC mentions, and NORP
//!   mentions that are a country's or continent's demonym), resolved together per article.
//!   A found toponym matches a gold one when their spans overlap (one to one, in text order);
//!   precision is over found toponyms, recall over all gold toponyms, and acc161 over the
//!   matched pairs whose gold tag has coordinates.
//!
//! `--baseline population` resolves every name to its most populous place, without context.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use newsflow_analysis::{Budget, EntityAnalysis, ModelArgs};
use newsflow_nlp::geo::{Gazetteer, GeoContext, MAX_ERROR_KM, Resolution, auc, great_circle_km};
use newsflow_proto::v1::EntityType;
use serde_json::json;

/// Arguments of `newsflow eval geo`.
#[derive(Args)]
pub struct EvalArgs {
    /// The XML file (`../shared/data/geo/tr-news.xml`).
    file: PathBuf,
    /// The NER models (end to end) and the gazetteers (`--gazetteers`).
    #[command(flatten)]
    models: ModelArgs,
    /// Score a baseline instead of the resolver.
    #[arg(long)]
    baseline: Option<Baseline>,
    /// Score resolution only (no NER).
    #[arg(long)]
    resolution_only: bool,
    /// Print exactly one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Print every resolution error over 161 km to standard error, with the gold GeoNames id.
    #[arg(long)]
    errors: bool,
}

/// A baseline resolver.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// The most populous place of the name, no context.
    Population,
}

/// One gold toponym.
#[derive(Debug, Clone)]
struct Toponym {
    phrase: String,
    start: usize,
    end: usize,
    /// The gold point, when the toponym is tagged with one.
    point: Option<(f64, f64)>,
    /// The gold GeoNames id, when tagged.
    geonameid: Option<u32>,
}

/// One article of the file.
#[derive(Debug, Clone)]
struct Article {
    domain: String,
    text: String,
    toponyms: Vec<Toponym>,
}

pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    let xml = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let articles = parse(&xml).with_context(|| format!("parsing {}", args.file.display()))?;
    let started = Instant::now();
    let gazetteer = Gazetteer::load(&args.models.gazetteers)?;
    let load_s = started.elapsed().as_secs_f64();
    let resolve = |names: &[&str], domain: &str| -> Vec<Resolution> {
        match args.baseline {
            Some(Baseline::Population) => {
                names.iter().map(|n| gazetteer.most_populous(n)).collect()
            }
            None => {
                let context = GeoContext {
                    outlet_country: gazetteer.country_of_host(domain),
                };
                gazetteer.resolve_article(names, &context)
            }
        }
    };

    // Resolution of the gold spans.
    let mut errors = Vec::new();
    let (mut same_id, mut same_id_far) = (0usize, 0usize);
    for article in &articles {
        let names: Vec<&str> = article.toponyms.iter().map(|t| t.phrase.as_str()).collect();
        let found = resolve(&names, &article.domain);
        for (toponym, resolution) in article.toponyms.iter().zip(&found) {
            let Some(gold) = toponym.point else { continue };
            let error = error_km(resolution, gold);
            if toponym.geonameid.is_some()
                && resolution.place().map(|p| p.geonameid) == toponym.geonameid
            {
                same_id += 1;
                if error > 161.0 {
                    same_id_far += 1;
                }
            }
            if args.errors && error > 161.0 {
                eprintln!(
                    "{:>8.0} km  {:<28} gold {:<9} -> {}",
                    error,
                    toponym.phrase,
                    toponym
                        .geonameid
                        .map_or("-".to_string(), |id| id.to_string()),
                    match resolution.place() {
                        Some(p) => format!(
                            "{} {} {} {}",
                            p.geonameid, p.name, p.country_code, p.feature_code
                        ),
                        None => "unresolved".into(),
                    }
                );
            }
            errors.push(error);
        }
    }
    let mut resolution = scores(&errors);
    // Not scores of the paper: the share resolved to the gold place itself, and the share
    // resolved to it whose point still lies over 161 km from the gold one (a country's point in
    // world-countries, a province placed at the middle of its towns), which tells wrong places
    // from right places whose points differ.
    resolution["same_id"] = json!(ratio(same_id, errors.len()));
    resolution["same_id_far"] = json!(ratio(same_id_far, errors.len()));

    let end_to_end = if args.resolution_only {
        serde_json::Value::Null
    } else {
        end_to_end(args, &articles, &gazetteer, &resolve)?
    };
    let out = json!({ "resolution": resolution, "end_to_end": end_to_end });
    if args.json {
        println!("{out}");
    } else {
        println!(
            "{} articles, {} toponyms ({} with a gold point); gazetteer: {} places, {} names, loaded in {:.2} s",
            articles.len(),
            articles.iter().map(|a| a.toponyms.len()).sum::<usize>(),
            errors.len(),
            gazetteer.len(),
            gazetteer.name_count(),
            load_s
        );
        println!(
            "resolution{}: acc161 {:.3}  mean {:.0} km  median {:.0} km  AUC {:.3}  n {}  (same GeoNames id {:.3}, of which over 161 km {:.3})",
            match args.baseline {
                Some(Baseline::Population) => " (population baseline)",
                None => "",
            },
            resolution["acc161"].as_f64().unwrap_or(f64::NAN),
            resolution["mean_km"].as_f64().unwrap_or(f64::NAN),
            resolution["median_km"].as_f64().unwrap_or(f64::NAN),
            resolution["auc"].as_f64().unwrap_or(f64::NAN),
            resolution["n"],
            resolution["same_id"].as_f64().unwrap_or(f64::NAN),
            resolution["same_id_far"].as_f64().unwrap_or(f64::NAN),
        );
        if !end_to_end.is_null() {
            println!(
                "end to end ({} NER): precision {:.3}  recall {:.3}  F1 {:.3}  acc161 {:.3} (of {} matched)",
                args.models.ner_mode,
                end_to_end["precision"].as_f64().unwrap_or(f64::NAN),
                end_to_end["recall"].as_f64().unwrap_or(f64::NAN),
                end_to_end["f1"].as_f64().unwrap_or(f64::NAN),
                end_to_end["acc161"].as_f64().unwrap_or(f64::NAN),
                end_to_end["matched"],
            );
        }
    }
    Ok(())
}

/// Finds toponyms with the NER, resolves them per article and matches them to the gold spans.
fn end_to_end(
    args: &EvalArgs,
    articles: &[Article],
    gazetteer: &Gazetteer,
    resolve: &dyn Fn(&[&str], &str) -> Vec<Resolution>,
) -> anyhow::Result<serde_json::Value> {
    let analysis = EntityAnalysis::load(&args.models, Budget::default())?;
    let (mut found_total, mut gold_total, mut matched, mut near) = (0usize, 0usize, 0usize, 0usize);
    let mut matched_with_point = 0usize;
    for article in articles {
        let entities = analysis.entities(article.text.clone())?;
        let mut found: Vec<(usize, usize, String)> = Vec::new();
        for entity in &entities {
            let kind = EntityType::try_from(entity.r#type).unwrap_or(EntityType::Unspecified);
            for mention in &entity.mentions {
                let place = match kind {
                    EntityType::Gpe | EntityType::Loc => true,
                    EntityType::Norp => gazetteer.is_demonym(&mention.text),
                    _ => false,
                };
                if let (true, Some(span)) = (place, mention.span) {
                    found.push((span.start as usize, span.end as usize, mention.text.clone()));
                }
            }
        }
        found.sort();
        let names: Vec<&str> = found.iter().map(|f| f.2.as_str()).collect();
        let resolutions = resolve(&names, &article.domain);
        found_total += found.len();
        gold_total += article.toponyms.len();
        let mut taken = vec![false; article.toponyms.len()];
        for ((start, end, _), resolution) in found.iter().zip(&resolutions) {
            let Some(g) = article
                .toponyms
                .iter()
                .enumerate()
                .position(|(i, t)| !taken[i] && t.start < *end && *start < t.end)
            else {
                continue;
            };
            taken[g] = true;
            matched += 1;
            if let Some(point) = article.toponyms[g].point {
                matched_with_point += 1;
                if error_km(resolution, point) <= 161.0 {
                    near += 1;
                }
            }
        }
    }
    let precision = ratio(matched, found_total);
    let recall = ratio(matched, gold_total);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Ok(json!({
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "acc161": ratio(near, matched_with_point),
        "found": found_total,
        "gold": gold_total,
        "matched": matched_with_point,
    }))
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The error of one resolution in km; the largest when unresolved.
fn error_km(resolution: &Resolution, (lat, lon): (f64, f64)) -> f64 {
    match resolution.place() {
        Some(p) => great_circle_km(p.lat, p.lon, lat, lon).min(MAX_ERROR_KM),
        None => MAX_ERROR_KM,
    }
}

/// acc161, mean, median, AUC and n of a list of errors.
fn scores(errors: &[f64]) -> serde_json::Value {
    let n = errors.len();
    let mut sorted = errors.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = match n {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    };
    json!({
        "acc161": ratio(errors.iter().filter(|&&e| e <= 161.0).count(), n),
        "mean_km": if n == 0 { 0.0 } else { errors.iter().sum::<f64>() / n as f64 },
        "median_km": median,
        "auc": auc(errors).unwrap_or(0.0),
        "n": n,
    })
}

/// Reads the articles of the XML file: `<article>` elements with `<domain>`, `<text>`
/// (CDATA or escaped) and `<toponyms>` of `<toponym>` with `<phrase>`, `<start>`, `<end>` and
/// an optional `<gaztag>` with `<lat>` and `<lon>`. The format is fixed and flat, so a few
/// string searches read it. A span whose text is not the phrase (some of TR-News' are off by a
/// character or two) is moved to the nearest occurrence of the phrase within 20 characters.
fn parse(xml: &str) -> anyhow::Result<Vec<Article>> {
    let mut articles = Vec::new();
    for chunk in elements(xml, "article") {
        let text = unescape(element(chunk, "text").unwrap_or_default());
        let chars: Vec<char> = text.chars().collect();
        let domain = unescape(element(chunk, "domain").unwrap_or_default())
            .trim()
            .to_string();
        let mut toponyms = Vec::new();
        for t in elements(element(chunk, "toponyms").unwrap_or_default(), "toponym") {
            let phrase = unescape(element(t, "phrase").context("a toponym without phrase")?);
            let start: usize = element(t, "start").context("no start")?.trim().parse()?;
            let end: usize = element(t, "end").context("no end")?.trim().parse()?;
            let point = element(t, "gaztag").and_then(|g| {
                let lat = element(g, "lat")?.trim().parse().ok()?;
                let lon = element(g, "lon")?.trim().parse().ok()?;
                Some((lat, lon))
            });
            let geonameid = t
                .split_once("geonameid=\"")
                .and_then(|(_, rest)| rest.split('"').next()?.parse().ok());
            let (start, end) = align(&chars, &phrase, start, end);
            toponyms.push(Toponym {
                phrase,
                start,
                end,
                point,
                geonameid,
            });
        }
        articles.push(Article {
            domain,
            text,
            toponyms,
        });
    }
    anyhow::ensure!(!articles.is_empty(), "no <article> elements");
    Ok(articles)
}

/// The span of `phrase` in `chars` nearest to `start..end`.
fn align(chars: &[char], phrase: &str, start: usize, end: usize) -> (usize, usize) {
    let want: Vec<char> = phrase.chars().collect();
    let at = |s: usize| {
        chars
            .get(s..s + want.len())
            .is_some_and(|w| w == want.as_slice())
    };
    if at(start) {
        return (start, start + want.len());
    }
    for shift in 1..=20 {
        if start >= shift && at(start - shift) {
            return (start - shift, start - shift + want.len());
        }
        if at(start + shift) {
            return (start + shift, start + shift + want.len());
        }
    }
    (start, end)
}

/// The contents of every `<name ...>...</name>` in `xml`, in order.
fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        // `<toponyms>` is not a `<toponym>`.
        if !after.starts_with(['>', ' ', '\n', '\t', '/']) {
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else { break };
        let body = &after[gt + 1..];
        let Some(end) = body.find(&close) else { break };
        out.push(&body[..end]);
        rest = &body[end + close.len()..];
    }
    out
}

/// The contents of the first `<name>` element.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    elements(xml, name).into_iter().next()
}

/// Text content: CDATA as is, else with XML's five entities and numeric references decoded.
fn unescape(raw: &str) -> String {
    let t = raw.trim_start_matches(char::is_whitespace);
    if let Some(inner) = t.strip_prefix("<![CDATA[") {
        return inner.split("]]>").next().unwrap_or("").to_string();
    }
    let raw = raw.trim();
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(semi) = tail.find(';').filter(|&s| s <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_articles_and_realigns_spans() {
        let xml = r#"<articles><article docid="1"><domain>www.cbc.ca</domain>
<text><![CDATA[Snow in Paris & Lyon.]]></text><toponyms>
<toponym><phrase>Paris</phrase><start>9</start><end>14</end>
<gaztag geonameid="2988507"><name>Paris</name><lat>48.85</lat><lon>2.35</lon></gaztag></toponym>
<toponym><phrase>Lyon</phrase><start>16</start><end>20</end></toponym>
</toponyms></article></articles>"#;
        let a = parse(xml).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].domain, "www.cbc.ca");
        assert_eq!(a[0].text, "Snow in Paris & Lyon.");
        assert_eq!((a[0].toponyms[0].start, a[0].toponyms[0].end), (8, 13));
        assert_eq!(a[0].toponyms[0].point, Some((48.85, 2.35)));
        assert_eq!((a[0].toponyms[1].start, a[0].toponyms[1].end), (16, 20));
        assert_eq!(a[0].toponyms[1].point, None);
        assert_eq!(unescape("A &amp; B &#233;"), "A & B é");
    }

    #[test]
    fn scores_of_hand_computed_errors() {
        let s = scores(&[0.0, 100.0, 200.0, MAX_ERROR_KM]);
        assert_eq!(s["acc161"], 0.5);
        assert_eq!(s["median_km"], 150.0);
        assert_eq!(s["n"], 4);
        assert!((s["mean_km"].as_f64().unwrap() - (300.0 + MAX_ERROR_KM) / 4.0).abs() < 1e-9);
    }
}
