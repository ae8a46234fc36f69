//! `newsflow eval ner --json` prints exactly one JSON object of the documented shape.

use std::process::Command;

#[test]
fn eval_json_is_one_object_with_overall_and_per_type() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::temp_dir().join(format!("newsflow-cli-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("tiny.txt");
    std::fs::write(
        &file,
        "-DOCSTART- O\n\nVladimir B-PER\nPutin I-PER\nvisited O\nParis B-LOC\n. O\n\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_newsflow"))
        .args(["eval", "ner"])
        .arg(&file)
        .arg("--model")
        .arg(root.join("models/ner-perceptron"))
        .args(["--mode", "fast", "--json"])
        .output()
        .expect("run newsflow");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    for key in ["precision", "recall", "f1"] {
        assert!(v["overall"][key].is_number(), "{v}");
        assert!(v["per_type"]["PER"][key].is_number(), "{v}");
        assert!(v["per_type"]["LOC"][key].is_number(), "{v}");
    }
}
