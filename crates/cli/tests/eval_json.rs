//! `newsflow eval ... --json` prints exactly one JSON object of the documented shape: NER on a
//! tiny CoNLL file, statements on a tiny PolNeAR-layout directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use newsflow_test_support::run_ok;

/// Runs `newsflow ARGS` with the committed models under the workspace root and returns the one
/// JSON object it printed.
fn newsflow_json(args: &[&str], input: &Path) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = run_ok(
        Command::new(env!("CARGO_BIN_EXE_newsflow"))
            .current_dir(&root)
            .args(args)
            .arg(input)
            .arg("--json"),
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("newsflow-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn eval_ner_json_is_one_object_with_overall_and_per_type() {
    let dir = scratch("eval-ner");
    let file = dir.join("tiny.txt");
    std::fs::write(
        &file,
        "-DOCSTART- O\n\nVladimir B-PER\nPutin I-PER\nvisited O\nParis B-LOC\n. O\n\n",
    )
    .expect("write");
    let v = newsflow_json(&["eval", "ner", "--ner-mode", "fast"], &file);
    std::fs::remove_dir_all(&dir).ok();
    for key in ["precision", "recall", "f1"] {
        assert!(v["overall"][key].is_number(), "{v}");
        assert!(v["per_type"]["PER"][key].is_number(), "{v}");
        assert!(v["per_type"]["LOC"][key].is_number(), "{v}");
    }
}

#[test]
fn eval_statements_json_is_one_object_with_six_figures_per_role() {
    let dir = scratch("eval-statements");
    std::fs::create_dir_all(dir.join("text")).expect("temp dir");
    std::fs::create_dir_all(dir.join("attributions")).expect("temp dir");
    // 0         1         2         3         4
    // 01234567890123456789012345678901234567890123456
    // “We will not allow it,” Peskov said on Friday.
    std::fs::write(
        dir.join("text/a.txt"),
        "“We will not allow it,” Peskov said on Friday.\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("attributions/a_x1.ann"),
        "T1\tSource 24 30\tPeskov\nT2\tCue 31 35\tsaid\nT3\tContent 1 21\tWe will not allow it\n\
         T4\tAttribution 31 35\tsaid\nE1\tAttribution:T4 Content:T3 Cue:T2 Source:T1\n",
    )
    .expect("write");
    let v = newsflow_json(&["eval", "statements"], &dir);
    std::fs::remove_dir_all(&dir).ok();
    for role in ["source", "cue", "content"] {
        for m in ["exact", "partial"] {
            for key in ["precision", "recall", "f1"] {
                assert!(v[role][m][key].is_number(), "{v}");
            }
        }
    }
    assert_eq!(v["source"]["exact"]["f1"], 1.0, "{v}");
    assert_eq!(v["content"]["partial"]["recall"], 1.0, "{v}");
}

#[test]
fn eval_dse_json_is_one_object_with_five_classes_and_a_reliability_diagram() {
    let dir = scratch("eval-dse");
    let file = dir.join("tiny.txt");
    // sentence, p, q, label (1: p for q, 3: p against q, 0: neutral); the first bracket is p.
    std::fs::write(
        &file,
        "[Smith] praised [Jones] for the deal.\tSmith\tJones\t1\n\
         [Lee] attacked [Park] over the budget.\tLee\tPark\t3\n\
         [Kim] met [Cho] on Tuesday.\tKim\tCho\t0\n",
    )
    .expect("write");
    let v = newsflow_json(&["eval", "dse"], &file);
    // The committed model decides with the weights chosen on its held-out sentences;
    // `--argmax` scores its plain argmax.
    let argmax = newsflow_json(&["eval", "dse", "--argmax"], &file);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        v["decision_weights"].as_array().map(Vec::len),
        Some(3),
        "{v}"
    );
    assert!(argmax["decision_weights"].is_null(), "{argmax}");
    assert_eq!(v["pairs"], 3, "{v}");
    assert!(v["f1m"].is_number() && v["accuracy"].is_number(), "{v}");
    let classes = v["per_class"].as_object().expect("per_class");
    assert_eq!(classes.len(), 5, "{v}");
    assert_eq!(classes["p_positive_q"]["support"], 1, "{v}");
    // Both directions of every pair fall in one reliability bin or another.
    let counted: u64 = v["reliability"]
        .as_array()
        .expect("bins")
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 6, "{v}");
}
