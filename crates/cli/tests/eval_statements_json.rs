//! `newsflow eval statements DIR --json` prints exactly one JSON object of the documented
//! shape, on a tiny PolNeAR-layout directory.

use std::process::Command;

#[test]
fn eval_statements_json_is_one_object_with_six_figures_per_role() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::temp_dir().join(format!("newsflow-cli-stmt-{}", std::process::id()));
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
    let out = Command::new(env!("CARGO_BIN_EXE_newsflow"))
        .args(["eval", "statements"])
        .arg(&dir)
        .arg("--model")
        .arg(root.join("models/statements"))
        .arg("--ner-model")
        .arg(root.join("models/ner-perceptron"))
        .arg("--gazetteers")
        .arg(root.join("models/gazetteers"))
        .arg("--json")
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
