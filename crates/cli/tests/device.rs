//! The compute device setting: a CPU build asked to run its models on a GPU stops with a clear
//! error before it analyses anything, by flag or by environment, and never falls back to the
//! CPU quietly. (The GPU path itself is built only with the `cuda` feature; see the README.)

use std::path::Path;
use std::process::Command;

#[cfg(not(feature = "cuda"))]
#[test]
fn a_cpu_build_asked_for_a_gpu_stops_and_says_how_to_get_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let article = root.join("examples/articles/ceasefire-talks.txt");
    assert!(article.is_file(), "{} is missing", article.display());
    let newsflow = |args: &[&str], device: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_newsflow"));
        command.current_dir(&root).args(args).arg(&article);
        if let Some(device) = device {
            command.env("NEWSFLOW_DEVICE", device);
        }
        command.output().expect("newsflow runs")
    };
    let by_flag = newsflow(&["analyze", "--device", "cuda"], None);
    let by_env = newsflow(&["analyze"], Some("cuda:1"));
    for (how, out, device) in [("flag", by_flag, "cuda:0"), ("env", by_env, "cuda:1")] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{how}: succeeded on a CPU build");
        assert!(out.stdout.is_empty(), "{how}: printed an analysis");
        assert!(
            stderr.contains(&format!("NEWSFLOW_DEVICE={device}"))
                && stderr.contains("--features cuda"),
            "{how}: {stderr}"
        );
    }
    // A device that does not exist is refused by the argument parser, naming the choices.
    let out = newsflow(&["analyze", "--device", "tpu"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("expected cpu, cuda or cuda:N"), "{stderr}");
}
