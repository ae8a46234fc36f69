//! The workspace's own files: the root (under which `newsflow_analysis::ModelPaths::under`
//! finds the models) and the shared example article.

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
