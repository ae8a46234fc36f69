//! `newsflow eval stories`: the story rules ([`newsflow_knowledge::story`]) over the BBC
//! articles of `val.csv` and the team-written set of `tests/stories/`.
//!
//! Each article gets what the pipeline would give it: its sentence embedding (all-MiniLM-L6-v2
//! over its title and lead, [`newsflow_nlp::embedding`]) and its entities from the project's
//! own extractor ([`EntityAnalysis`], the NER mode of `--ner-mode`), dates left out. The
//! articles are then fed to the rules in time order as a store saves them: an in-memory index
//! from entity key to stories stands for the database's, each article's lookup keys fetch the
//! candidate stories within the window (the most recent [`MAX_CANDIDATES`]), `decide` picks one
//! or none, and the article joins it or starts a story.
//!
//! - BBC: `val.csv` has no story labels and no dates. Every article gets the same time unless
//!   `--minutes-apart` spreads them in row order, so by default all of them are in one window
//!   and every story is a candidate for every article: the strictest setting for false joins,
//!   but also one where two reports on one subject months apart in reality may join. The CSV
//!   runs the headline into the body; an article's title here is its first sentence (headline
//!   and lead) cut to [`BBC_TITLE_WORDS`] words. Reported: the number of stories, their sizes,
//!   the largest with their labels and members (examples), the share of multi-article stories
//!   whose members all have one BBC category (a purity proxy: categories are five coarse
//!   sections, so a pure story may still join two events and an impure one is surely wrong),
//!   and the check that unrelated articles never share a story: pairs of articles of
//!   different categories whose salient entities are disjoint.
//! - The team-written set: short articles about made-up events, several reports of each as
//!   different outlets would write them, and unrelated ones, some on the same subject or with
//!   the same people (`tests/stories/README.md`). Scored by pairs: same-event pairs put in one
//!   story (recall) and different-event pairs put in one story (must be none).
//! - Pair figures, to choose the thresholds: the cosine and entity overlap of article pairs
//!   that share a salient entity, by class; and with `--sweep`, the figures above over a grid
//!   of thresholds.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use newsflow_analysis::{Budget, EntityAnalysis, ModelArgs, normalize};
use newsflow_knowledge::story::{
    self, Article, Comparison, Decision, MAX_CANDIDATES, Rules, Story,
};
use newsflow_nlp::embedding::{MAX_PIECES, SentenceEmbedder, article_text};
use newsflow_proto::v1::EntityType;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::progress::Progress;

/// Words of a BBC article's first sentence used as its title.
pub const BBC_TITLE_WORDS: usize = 12;

/// Articles read from each file at most; a longer file is an error rather than a slow run.
const MAX_ARTICLES: usize = 10_000;

/// Thresholds of `--sweep`: cosine to the centroid, and entity overlap.
const SWEEP_SIMILARITY: [f32; 8] = [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75];
const SWEEP_OVERLAP: [f32; 5] = [0.0, 0.05, 0.1, 0.15, 0.2];

/// Arguments of `newsflow eval stories`.
#[derive(Args)]
pub struct EvalArgs {
    /// The BBC articles (a CSV with `text` and `category` columns), read by path beside the
    /// checkout.
    #[arg(long, default_value = "../shared/data/bbc/val.csv")]
    bbc: PathBuf,
    /// Read only the first N BBC articles.
    #[arg(long)]
    limit: Option<usize>,
    /// Minutes between consecutive BBC articles in row order (0: all at one time).
    #[arg(long, default_value_t = 0)]
    minutes_apart: i64,
    /// The team-written set, one JSON object a line (`tests/stories/README.md`).
    #[arg(long, default_value = "tests/stories/articles.jsonl")]
    set: PathBuf,
    /// Least cosine of an article to a story's centroid (default: the library's).
    #[arg(long)]
    min_similarity: Option<f32>,
    /// Least weighted Jaccard overlap of entity weights (default: the library's).
    #[arg(long)]
    min_entity_overlap: Option<f32>,
    /// Largest BBC stories shown.
    #[arg(long, default_value_t = 8)]
    examples: usize,
    /// Also group both sets over a grid of thresholds and print the figures of each.
    #[arg(long)]
    sweep: bool,
    /// The NER models and the base encoder (`--base-model`).
    #[command(flatten)]
    models: ModelArgs,
    /// Print exactly one JSON object instead of a report.
    #[arg(long)]
    json: bool,
}

/// One line of the team-written set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetLine {
    id: String,
    /// The event it reports; equal labels are one event.
    event: String,
    /// Hours after the set's start.
    hour: i64,
    /// Who it is written as (for a reader).
    #[serde(default, rename = "outlet")]
    _outlet: Option<String>,
    title: String,
    body: String,
}

/// An article with what the rules read and what the report shows.
struct Prepared {
    /// The row of val.csv or the id of the set.
    id: String,
    /// The BBC category or the set's event.
    group: String,
    article: Article,
}

/// The grouping of a list of articles: the story of each and the stories.
struct Grouping {
    story_of: Vec<usize>,
    stories: Vec<Story>,
    /// Per article, the candidate it was most similar to when it arrived (joined or not) and
    /// how it compared: how close each decision was.
    nearest: Vec<Option<(usize, Comparison)>>,
}

pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    let defaults = Rules::default();
    let rules = Rules {
        min_similarity: args.min_similarity.unwrap_or(defaults.min_similarity),
        min_entity_overlap: args
            .min_entity_overlap
            .unwrap_or(defaults.min_entity_overlap),
        ..defaults
    };
    let bbc_rows = read_bbc(&args.bbc, args.limit)?;
    let set_lines = read_set(&args.set)?;

    let started = Instant::now();
    let entities = EntityAnalysis::load(&args.models, Budget::default())?;
    let embedder = SentenceEmbedder::load(&args.models.base_model).with_context(|| {
        format!(
            "loading the base encoder of {}",
            args.models.base_model.display()
        )
    })?;
    let load_seconds = started.elapsed().as_secs_f64();
    let mut timer = Timer::default();

    let mut progress = Progress::new(bbc_rows.len() + set_lines.len());
    let mut bbc = Vec::with_capacity(bbc_rows.len());
    for (row, (text, category)) in bbc_rows.iter().enumerate() {
        let text = normalize(text);
        let title = bbc_title(&text);
        // The CSV's text holds the headline already: embedded as it is.
        let article = prepare(&entities, &embedder, &mut timer, &text, "", &text, title)?;
        let time = (row as i64).saturating_mul(args.minutes_apart.saturating_mul(60));
        bbc.push(Prepared {
            id: row.to_string(),
            group: category.clone(),
            article: Article { time, ..article },
        });
        progress.advance("");
    }
    let mut set = Vec::with_capacity(set_lines.len());
    for line in &set_lines {
        let (title, body) = (normalize(&line.title), normalize(&line.body));
        let text = article_text(&title, &body);
        let article = prepare(
            &entities,
            &embedder,
            &mut timer,
            &text,
            &title,
            &body,
            title.clone(),
        )?;
        set.push(Prepared {
            id: line.id.clone(),
            group: line.event.clone(),
            article: Article {
                time: line.hour.saturating_mul(3_600),
                ..article
            },
        });
        progress.advance("");
    }
    progress.finish();

    let bbc_grouping = group(&bbc, &rules);
    let set_grouping = group(&set, &rules);
    let mut out = json!({
        "rules": {
            "min_similarity": rules.min_similarity,
            "min_entity_overlap": rules.min_entity_overlap,
            "window_seconds": rules.window_seconds,
            "max_candidates": MAX_CANDIDATES,
            "max_article_entities": story::MAX_ARTICLE_ENTITIES,
            "max_story_entities": story::MAX_STORY_ENTITIES,
            "embedding_pieces": MAX_PIECES,
            "ner_mode": args.models.ner_mode.to_string(),
        },
        "bbc": bbc_report(&bbc, &bbc_grouping, args),
        "team": set_report(&set, &set_grouping),
        "pairs": {
            "bbc": pair_figures(&bbc, &rules, "same_category", "different_category"),
            "team": pair_figures(&set, &rules, "same_event", "different_event"),
        },
        "timing": {
            "load_seconds": load_seconds,
            "ner_ms_per_article": timer.per_article(timer.ner),
            "embedding_ms_per_article": timer.per_article(timer.embedding),
            "articles": timer.articles,
        },
    });
    if args.sweep {
        out["sweep"] = sweep(&bbc, &set, &rules);
    }
    if args.json {
        println!("{out}");
        return Ok(());
    }
    print_report(&out);
    Ok(())
}

/// Milliseconds spent per part.
#[derive(Default)]
struct Timer {
    ner: f64,
    embedding: f64,
    articles: usize,
}

impl Timer {
    fn per_article(&self, seconds: f64) -> f64 {
        1e3 * seconds / self.articles.max(1) as f64
    }
}

/// The article as the rules read it (time 0): the entities of `text` (dates left out), the
/// embedding of `title` and `body`.
fn prepare(
    entities: &EntityAnalysis,
    embedder: &SentenceEmbedder,
    timer: &mut Timer,
    text: &str,
    title: &str,
    body: &str,
    shown_title: String,
) -> anyhow::Result<Article> {
    let started = Instant::now();
    let found = entities.entities(text.to_owned())?;
    let ner_done = Instant::now();
    let embedding = embedder.embed_article(title, body)?;
    timer.ner += (ner_done - started).as_secs_f64();
    timer.embedding += ner_done.elapsed().as_secs_f64();
    timer.articles += 1;
    let entities = found
        .iter()
        .filter(|e| EntityType::try_from(e.r#type).is_ok_and(|t| t != EntityType::Date))
        .map(|e| (e.key.clone(), e.salience))
        .collect();
    Ok(Article {
        embedding,
        entities,
        time: 0,
        title: shown_title,
    })
}

/// Feeds the articles to the rules in time order (input order within a time), as a store
/// saves them, with an in-memory index from entity key to the stories indexed under it.
fn group(articles: &[Prepared], rules: &Rules) -> Grouping {
    let mut order: Vec<usize> = (0..articles.len()).collect();
    order.sort_by_key(|&i| articles[i].article.time);
    let mut stories: Vec<Story> = Vec::new();
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    let mut story_of = vec![0; articles.len()];
    let mut nearest = vec![None; articles.len()];
    for i in order {
        let article = &articles[i].article;
        // What the database lookup returns: stories sharing a key, within the window, the
        // most recent first, capped.
        let mut found: Vec<usize> = article
            .lookup_keys()
            .iter()
            .filter_map(|key| index.get(key))
            .flatten()
            .copied()
            .filter(|&s| stories[s].within_window(article.time, rules.window_seconds))
            .collect();
        found.sort_unstable();
        found.dedup();
        found.sort_by_key(|&s| std::cmp::Reverse(stories[s].last_time));
        found.truncate(MAX_CANDIDATES);
        let candidates: Vec<Story> = found.iter().map(|&s| stories[s].clone()).collect();
        nearest[i] = found
            .iter()
            .zip(&candidates)
            .map(|(&s, story)| (s, rules.compare(article, story)))
            .max_by(|a, b| a.1.similarity.total_cmp(&b.1.similarity));
        let chosen = match rules.decide(article, &candidates) {
            Decision::Join { index: at, .. } => {
                let s = found[at];
                let before = stories[s].index_keys();
                if stories[s].absorb(article) {
                    for key in before {
                        if let Some(ids) = index.get_mut(&key) {
                            ids.retain(|&id| id != s);
                        }
                    }
                    for key in stories[s].index_keys() {
                        index.entry(key).or_default().push(s);
                    }
                }
                s
            }
            Decision::New => {
                let s = stories.len();
                stories.push(Story::new(article));
                for key in stories[s].index_keys() {
                    index.entry(key).or_default().push(s);
                }
                s
            }
        };
        story_of[i] = chosen;
    }
    Grouping {
        story_of,
        stories,
        nearest,
    }
}

/// The members of each story, in input order.
fn members(grouping: &Grouping) -> Vec<Vec<usize>> {
    let mut members = vec![Vec::new(); grouping.stories.len()];
    for (article, &s) in grouping.story_of.iter().enumerate() {
        members[s].push(article);
    }
    members
}

fn bbc_report(articles: &[Prepared], grouping: &Grouping, args: &EvalArgs) -> Value {
    let members = members(grouping);
    let mut sizes: BTreeMap<usize, usize> = BTreeMap::new();
    for m in &members {
        *sizes.entry(m.len()).or_default() += 1;
    }
    let multi: Vec<&Vec<usize>> = members.iter().filter(|m| m.len() > 1).collect();
    let pure = multi
        .iter()
        .filter(|m| m.iter().all(|&a| articles[a].group == articles[m[0]].group))
        .count();
    let mut by_size: Vec<usize> = (0..members.len())
        .filter(|&s| members[s].len() > 1)
        .collect();
    by_size.sort_by_key(|&s| (std::cmp::Reverse(members[s].len()), s));
    let largest: Vec<Value> = by_size
        .iter()
        .take(args.examples)
        .map(|&s| story_json(articles, &grouping.stories[s], &members[s]))
        .collect();
    let unrelated = unrelated_pairs(articles, grouping);
    json!({
        "articles": articles.len(),
        "minutes_apart": args.minutes_apart,
        "stories": members.len(),
        "multi_article_stories": multi.len(),
        "articles_in_multi_article_stories": multi.iter().map(|m| m.len()).sum::<usize>(),
        "sizes": sizes.iter().map(|(size, n)| (size.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "purity_proxy": {
            "multi_article_stories": multi.len(),
            "one_category": pure,
            "share": ratio(pure, multi.len()),
        },
        "unrelated_pairs": unrelated,
        "largest": largest,
    })
}

fn story_json(articles: &[Prepared], story: &Story, members: &[usize]) -> Value {
    let label = story.label();
    json!({
        "size": members.len(),
        "label": {"entities": label.entities, "title": label.title},
        "members": members.iter().map(|&a| json!({
            "id": articles[a].id,
            "group": articles[a].group,
            "title": articles[a].article.title,
        })).collect::<Vec<_>>(),
    })
}

/// Pairs of articles of different groups whose salient entities are disjoint: how many there
/// are, how many ended in one story (each should be none), and the first few that did.
fn unrelated_pairs(articles: &[Prepared], grouping: &Grouping) -> Value {
    let keys: Vec<Vec<String>> = articles.iter().map(|a| a.article.lookup_keys()).collect();
    let (mut pairs, mut together) = (0usize, 0usize);
    let mut examples = Vec::new();
    for a in 0..articles.len() {
        for b in a + 1..articles.len() {
            let unrelated = articles[a].group != articles[b].group
                && !keys[a].iter().any(|k| keys[b].contains(k));
            if !unrelated {
                continue;
            }
            pairs += 1;
            if grouping.story_of[a] == grouping.story_of[b] {
                together += 1;
                if examples.len() < 10 {
                    examples.push(json!([articles[a].id, articles[b].id]));
                }
            }
        }
    }
    json!({"pairs": pairs, "together": together, "examples": examples})
}

fn set_report(articles: &[Prepared], grouping: &Grouping) -> Value {
    let members = members(grouping);
    let (mut same, mut same_together, mut different, mut different_together) = (0, 0, 0, 0);
    let mut split = Vec::new();
    let mut merged = Vec::new();
    for a in 0..articles.len() {
        for b in a + 1..articles.len() {
            let together = grouping.story_of[a] == grouping.story_of[b];
            let pair = json!([articles[a].id, articles[b].id]);
            if articles[a].group == articles[b].group {
                same += 1;
                if together {
                    same_together += 1;
                } else {
                    split.push(pair);
                }
            } else {
                different += 1;
                if together {
                    different_together += 1;
                    merged.push(pair);
                }
            }
        }
    }
    let mut events: Vec<&str> = articles.iter().map(|a| a.group.as_str()).collect();
    events.sort_unstable();
    events.dedup();
    json!({
        "articles": articles.len(),
        "events": events.len(),
        "stories": members.len(),
        "same_event_pairs": same,
        "same_event_together": same_together,
        "pair_recall": ratio(same_together, same),
        "different_event_pairs": different,
        "different_event_together": different_together,
        "split_pairs": split,
        "merged_pairs": merged,
        "decisions": decisions(articles, grouping),
        "stories_found": members
            .iter()
            .zip(&grouping.stories)
            .map(|(m, s)| story_json(articles, s, m))
            .collect::<Vec<_>>(),
    })
}

/// Per article, in input order: the story it went to and the nearest candidate story it was
/// compared with on arrival (by the id of that story's first article).
fn decisions(articles: &[Prepared], grouping: &Grouping) -> Vec<Value> {
    let members = members(grouping);
    let first_of = |s: usize| members[s].first().map_or("", |&a| articles[a].id.as_str());
    articles
        .iter()
        .enumerate()
        .map(|(a, article)| {
            let nearest = grouping.nearest[a].map(|(s, c)| {
                json!({
                    "story_of": first_of(s),
                    "similarity": c.similarity,
                    "entity_overlap": c.entity_overlap,
                    "shared_keys": c.shared_keys,
                })
            });
            json!({
                "id": article.id,
                "story_of": first_of(grouping.story_of[a]),
                "nearest_candidate": nearest,
            })
        })
        .collect()
}

/// Cosine and entity overlap of every pair of articles that shares a salient entity (the
/// second read as a story of one), by whether the two are of one group, with how many pairs
/// would pass the rule on their own.
fn pair_figures(articles: &[Prepared], rules: &Rules, same: &str, different: &str) -> Value {
    let stories: Vec<Story> = articles.iter().map(|a| Story::new(&a.article)).collect();
    let mut classes: [(Vec<f64>, Vec<f64>, usize); 2] = Default::default();
    for a in 0..articles.len() {
        for b in a + 1..articles.len() {
            let mut article = articles[a].article.clone();
            article.time = stories[b].last_time;
            let c = rules.compare(&article, &stories[b]);
            if c.shared_keys == 0 {
                continue;
            }
            let class = &mut classes[usize::from(articles[a].group != articles[b].group)];
            class.0.push(f64::from(c.similarity));
            class.1.push(f64::from(c.entity_overlap));
            class.2 += usize::from(rules.joins(&c));
        }
    }
    let figures = |(similarity, overlap, passing): &(Vec<f64>, Vec<f64>, usize)| {
        json!({
            "pairs_sharing_an_entity": similarity.len(),
            "passing_the_rule": passing,
            "similarity": quantiles(similarity.clone()),
            "entity_overlap": quantiles(overlap.clone()),
        })
    };
    json!({same: figures(&classes[0]), different: figures(&classes[1])})
}

/// The figures of both sets over a grid of thresholds (the window as given).
fn sweep(bbc: &[Prepared], set: &[Prepared], rules: &Rules) -> Value {
    let mut rows = Vec::new();
    for &min_similarity in &SWEEP_SIMILARITY {
        for &min_entity_overlap in &SWEEP_OVERLAP {
            let rules = Rules {
                min_similarity,
                min_entity_overlap,
                ..*rules
            };
            let bbc_grouping = group(bbc, &rules);
            let set_grouping = group(set, &rules);
            let members = members(&bbc_grouping);
            let multi: Vec<&Vec<usize>> = members.iter().filter(|m| m.len() > 1).collect();
            let pure = multi
                .iter()
                .filter(|m| m.iter().all(|&a| bbc[a].group == bbc[m[0]].group))
                .count();
            let team = set_report(set, &set_grouping);
            rows.push(json!({
                "min_similarity": min_similarity,
                "min_entity_overlap": min_entity_overlap,
                "bbc_stories": members.len(),
                "bbc_multi_article_stories": multi.len(),
                "bbc_largest": members.iter().map(Vec::len).max().unwrap_or(0),
                "bbc_purity_proxy": ratio(pure, multi.len()),
                "bbc_unrelated_together": unrelated_pairs(bbc, &bbc_grouping)["together"],
                "team_pair_recall": team["pair_recall"],
                "team_different_event_together": team["different_event_together"],
            }));
        }
    }
    Value::Array(rows)
}

fn print_report(out: &Value) {
    let rules = &out["rules"];
    let b = &out["bbc"];
    let t = &out["team"];
    println!(
        "rules: cosine to centroid >= {:.2}, entity overlap >= {:.2}, window {} h, NER {}; embeddings of the first {} pieces",
        rules["min_similarity"].as_f64().unwrap_or(f64::NAN),
        rules["min_entity_overlap"].as_f64().unwrap_or(f64::NAN),
        rules["window_seconds"].as_i64().unwrap_or(0) / 3600,
        rules["ner_mode"].as_str().unwrap_or(""),
        MAX_PIECES
    );
    println!(
        "\nBBC val: {} articles, {} minutes apart -> {} stories, {} with more than one article ({} articles)",
        b["articles"],
        b["minutes_apart"],
        b["stories"],
        b["multi_article_stories"],
        b["articles_in_multi_article_stories"]
    );
    let sizes: Vec<String> = b["sizes"]
        .as_object()
        .map(|m| m.iter().map(|(size, n)| format!("{size}: {n}")).collect())
        .unwrap_or_default();
    println!("sizes (size: stories): {}", sizes.join(", "));
    println!(
        "purity proxy: {} of {} multi-article stories have one BBC category ({:.3})",
        b["purity_proxy"]["one_category"],
        b["purity_proxy"]["multi_article_stories"],
        b["purity_proxy"]["share"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "unrelated pairs (different categories, no salient entity shared): {} of {} in one story",
        b["unrelated_pairs"]["together"], b["unrelated_pairs"]["pairs"]
    );
    println!("\nlargest stories:");
    for s in b["largest"].as_array().into_iter().flatten() {
        print_story(s);
    }
    println!(
        "\nteam set: {} articles, {} events -> {} stories; same-event pairs together {} of {}; different-event pairs together {} of {}",
        t["articles"],
        t["events"],
        t["stories"],
        t["same_event_together"],
        t["same_event_pairs"],
        t["different_event_together"],
        t["different_event_pairs"]
    );
    for s in t["stories_found"].as_array().into_iter().flatten() {
        print_story(s);
    }
    println!("\npairs sharing a salient entity (cosine / entity overlap: min, median, p90, max):");
    for (set, classes) in out["pairs"].as_object().into_iter().flatten() {
        for (class, f) in classes.as_object().into_iter().flatten() {
            println!(
                "  {set:<5} {class:<19} {:>6} pairs, {:>4} pass; cosine {}; overlap {}",
                f["pairs_sharing_an_entity"],
                f["passing_the_rule"],
                brief(&f["similarity"]),
                brief(&f["entity_overlap"])
            );
        }
    }
    if let Some(rows) = out["sweep"].as_array() {
        println!(
            "\nsweep: cosine overlap | BBC stories multi largest purity unrelated-together | team recall different-together"
        );
        for r in rows {
            println!(
                "  {:>6.2} {:>7.2} | {:>4} {:>4} {:>4} {:>6.3} {:>4} | {:>6.3} {:>3}",
                r["min_similarity"].as_f64().unwrap_or(f64::NAN),
                r["min_entity_overlap"].as_f64().unwrap_or(f64::NAN),
                r["bbc_stories"],
                r["bbc_multi_article_stories"],
                r["bbc_largest"],
                r["bbc_purity_proxy"].as_f64().unwrap_or(f64::NAN),
                r["bbc_unrelated_together"],
                r["team_pair_recall"].as_f64().unwrap_or(f64::NAN),
                r["team_different_event_together"]
            );
        }
    }
    let timing = &out["timing"];
    println!(
        "\n{:.1} ms NER and {:.1} ms embedding per article over {} articles (models loaded in {:.1} s)",
        timing["ner_ms_per_article"].as_f64().unwrap_or(f64::NAN),
        timing["embedding_ms_per_article"]
            .as_f64()
            .unwrap_or(f64::NAN),
        timing["articles"],
        timing["load_seconds"].as_f64().unwrap_or(f64::NAN)
    );
}

fn print_story(s: &Value) {
    let entities: Vec<&str> = s["label"]["entities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    println!(
        "  [{}] {} | {}",
        s["size"],
        s["label"]["title"].as_str().unwrap_or(""),
        entities.join("; ")
    );
    for m in s["members"].as_array().into_iter().flatten() {
        println!(
            "      {:>4} {:<14} {}",
            m["id"].as_str().unwrap_or(""),
            m["group"].as_str().unwrap_or(""),
            m["title"].as_str().unwrap_or("")
        );
    }
}

/// `min median p90 max` of a quantiles object, to three places.
fn brief(q: &Value) -> String {
    ["min", "median", "p90", "max"]
        .iter()
        .map(|k| q[k].as_f64().map_or("-".into(), |v| format!("{v:.3}")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `{min, median, p90, max}` of the values (nulls when there are none).
fn quantiles(mut values: Vec<f64>) -> Value {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| -> Option<f64> {
        let last = values.len().checked_sub(1)?;
        values.get(((last as f64) * q).round() as usize).copied()
    };
    json!({"min": values.first(), "median": at(0.5), "p90": at(0.9), "max": values.last()})
}

/// A BBC article's title: its first sentence (the headline runs into the lead in val.csv), cut
/// to [`BBC_TITLE_WORDS`] words with an ellipsis.
fn bbc_title(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let sentence_end = words
        .windows(2)
        .position(|pair| {
            pair[0].ends_with(['.', '!', '?'])
                && pair[1].chars().next().is_some_and(char::is_uppercase)
        })
        .map_or(words.len(), |i| i + 1);
    let end = sentence_end.min(BBC_TITLE_WORDS);
    let mut title = words[..end].join(" ");
    if end < sentence_end {
        title.push('…');
    }
    title
}

/// The `text` and `category` columns of the CSV, in row order, the first `limit` rows.
fn read_bbc(path: &Path, limit: Option<usize>) -> anyhow::Result<Vec<(String, String)>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| {
        format!(
            "cannot open {} (the BBC articles, read beside the checkout: run from the \
             workspace root with ../shared present, or pass --bbc)",
            path.display()
        )
    })?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{} has no `{name}` column", path.display()))
    };
    let (text, category) = (column("text")?, column("category")?);
    let mut rows = Vec::new();
    for record in reader.records().take(limit.unwrap_or(MAX_ARTICLES)) {
        let record = record.with_context(|| format!("reading {}", path.display()))?;
        rows.push((
            record.get(text).unwrap_or_default().to_owned(),
            record.get(category).unwrap_or_default().to_owned(),
        ));
    }
    Ok(rows)
}

fn read_set(path: &Path) -> anyhow::Result<Vec<SetLine>> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read {} (run from the workspace root)",
            path.display()
        )
    })?;
    let mut lines = Vec::new();
    for (index, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        anyhow::ensure!(
            lines.len() < MAX_ARTICLES,
            "{}: too many lines",
            path.display()
        );
        let parsed: SetLine = serde_json::from_str(line)
            .with_context(|| format!("{} line {}", path.display(), index + 1))?;
        anyhow::ensure!(
            !parsed.id.is_empty() && !parsed.event.is_empty() && !parsed.body.trim().is_empty(),
            "{} line {}: empty id, event or body",
            path.display(),
            index + 1
        );
        lines.push(parsed);
    }
    anyhow::ensure!(!lines.is_empty(), "{} has no articles", path.display());
    Ok(lines)
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bbc_title_is_the_first_sentence_cut_to_twelve_words() {
        assert_eq!(
            bbc_title("Markets fall Shares fell on Monday. Oil rose."),
            "Markets fall Shares fell on Monday."
        );
        assert_eq!(
            bbc_title("one two three four five six seven eight nine ten eleven twelve thirteen."),
            "one two three four five six seven eight nine ten eleven twelve…"
        );
        assert_eq!(bbc_title(""), "");
    }

    #[test]
    fn quantiles_of_nothing_are_null() {
        let q = quantiles(Vec::new());
        assert!(q["min"].is_null() && q["p90"].is_null());
        let q = quantiles(vec![3.0, 1.0, 2.0]);
        assert_eq!(q["median"], json!(2.0));
        assert_eq!(q["max"], json!(3.0));
    }
}
