//! The workspace's own files: the root (under which `newsflow_analysis::ModelPaths::under`
//! finds the models), the binaries it builds, and the shared example article.

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root")
}

/// The shared example article (`../shared/examples` beside the checkout).
pub fn example_article() -> String {
    let path = root().join("../shared/examples/western-troops-ukraine.txt");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the tests read the shared examples beside the checkout",
            path.display()
        )
    })
}

/// A binary of the workspace (`newsflow`, `newsflow-web`, ...), as built into the target
/// folder beside the running test binary; fails the test, saying how to build it, when it is
/// missing. For binaries of other packages than the test's own (`CARGO_BIN_EXE_*` covers those).
pub fn binary(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let profile_dir = test_binary
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>");
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first (`cargo build --workspace --all-targets`)",
        path.display()
    );
    path
}
