//! The main-text extractor on the hand-checked news pages of `tests/extraction/` (fetched by
//! `scripts/fetch-extraction-pages.sh`, which CI runs), through `newsflow eval extraction` and
//! `newsflow extract-text`. The thresholds sit a little under the measured figures (token F1
//! 0.976 over 36 articles, lowest page 0.83), so a change that makes extraction worse fails.

use std::path::Path;
use std::process::Command;

use newsflow_test_support::run_ok;

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn main_text_of_the_news_pages_matches_the_hand_checked_text() {
    let out = run_ok(
        Command::new(env!("CARGO_BIN_EXE_newsflow"))
            .current_dir(root())
            .args(["eval", "extraction", "--json"]),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let figure = |key: &str| {
        report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {report}"))
    };
    assert!(figure("articles") >= 30.0, "{report}");
    assert!(figure("f1") >= 0.95, "token F1 {}", report["f1"]);
    assert!(
        figure("min_page_f1") >= 0.75,
        "lowest page F1 {}",
        report["min_page_f1"]
    );
    // Every article is read as one, and every page without an article is recognised.
    assert_eq!(
        report["articles_recognised"], report["articles"],
        "{report}"
    );
    assert!(figure("no_article_pages") >= 4.0, "{report}");
    assert_eq!(
        report["no_article_recognised"], report["no_article_pages"],
        "{report}"
    );
}

#[test]
fn extract_text_prints_the_article_and_its_fields() {
    let page = root().join("target/extraction-pages/bbc-obama-gun-laws.html");
    let out = run_ok(
        Command::new(env!("CARGO_BIN_EXE_newsflow"))
            .arg("extract-text")
            .arg(&page)
            .arg("--json"),
    );
    let page: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let text = page["text"].as_str().expect("text");
    let gold = std::fs::read_to_string(root().join("tests/extraction/gold/bbc-obama-gun-laws.txt"))
        .expect("gold");
    let first = gold.lines().next().expect("a first paragraph");
    assert!(text.starts_with(first), "{text}");
    for key in ["title", "byline", "published_at", "language", "url"] {
        assert!(page.get(key).is_some(), "{key} missing: {page}");
    }
    assert!(
        page["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{page}"
    );

    // A front page has no article: exit 1, and the reason on standard error.
    let front = root().join("target/extraction-pages/cnn-front.html");
    let out = Command::new(env!("CARGO_BIN_EXE_newsflow"))
        .arg("extract-text")
        .arg(&front)
        .output()
        .expect("run newsflow");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no article"));
}
