//! `newsflow eval stories` over BBC val (`../shared/data/bbc/val.csv`, read by path beside the
//! workspace) and the team-written set of `tests/stories/`: one JSON object of the documented
//! shape; unrelated articles never share a story; reports of one event do.

use std::path::Path;
use std::process::Command;

use newsflow_knowledge::story::{MIN_ENTITY_OVERLAP, MIN_SIMILARITY, WINDOW_SECONDS};
use newsflow_test_support::run_ok;

#[test]
fn eval_stories_keeps_unrelated_articles_apart_and_joins_reports_of_one_event() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = run_ok(
        Command::new(env!("CARGO_BIN_EXE_newsflow"))
            .current_dir(&root)
            .args(["eval", "stories", "--json"]),
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let count = |path: &[&str]| {
        path.iter()
            .fold(&v, |at, key| &at[*key])
            .as_u64()
            .unwrap_or_else(|| panic!("{path:?}: {v}"))
    };

    // The library's rules, as the command ran them.
    let rules = &v["rules"];
    assert_eq!(
        rules["min_similarity"].as_f64(),
        Some(f64::from(MIN_SIMILARITY)),
        "{v}"
    );
    assert_eq!(
        rules["min_entity_overlap"].as_f64(),
        Some(f64::from(MIN_ENTITY_OVERLAP)),
        "{v}"
    );
    assert_eq!(
        rules["window_seconds"].as_i64(),
        Some(WINDOW_SECONDS),
        "{v}"
    );

    // BBC val: all 334 articles read, stories formed, none holding unrelated articles: pairs of
    // different categories without a salient entity in common.
    let articles = count(&["bbc", "articles"]);
    assert_eq!(articles, 334, "{v}");
    let stories = count(&["bbc", "stories"]);
    let multi = count(&["bbc", "multi_article_stories"]);
    assert!(multi >= 1 && stories < articles, "{v}");
    let sizes: u64 = v["bbc"]["sizes"]
        .as_object()
        .expect("sizes")
        .iter()
        .map(|(size, n)| size.parse::<u64>().expect("size") * n.as_u64().expect("count"))
        .sum();
    assert_eq!(
        sizes, articles,
        "every article is in exactly one story: {v}"
    );
    let unrelated = count(&["bbc", "unrelated_pairs", "pairs"]);
    assert!(unrelated > 10_000, "{v}");
    assert_eq!(
        count(&["bbc", "unrelated_pairs", "together"]),
        0,
        "unrelated BBC articles share a story: {}",
        v["bbc"]["unrelated_pairs"]
    );
    for story in v["bbc"]["largest"].as_array().expect("largest") {
        assert!(story["size"].as_u64().expect("size") >= 2, "{story}");
        assert!(
            !story["label"]["title"].as_str().expect("title").is_empty(),
            "{story}"
        );
        assert!(
            !story["label"]["entities"]
                .as_array()
                .expect("entities")
                .is_empty(),
            "{story}"
        );
    }

    // The team-written set: every pair of reports of one event in one story, and no pair of
    // different events.
    let team = &v["team"];
    assert!(count(&["team", "events"]) >= 10, "{team}");
    assert!(count(&["team", "same_event_pairs"]) >= 15, "{team}");
    assert_eq!(
        count(&["team", "different_event_together"]),
        0,
        "different events share a story: {}",
        team["merged_pairs"]
    );
    assert_eq!(
        count(&["team", "same_event_together"]),
        count(&["team", "same_event_pairs"]),
        "reports of one event are split: {}",
        team["split_pairs"]
    );
}
