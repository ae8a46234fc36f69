//! The dependency rules of ARCHITECTURE.md, checked against `cargo metadata`: each crate's
//! normal dependencies (dev-dependencies are the tests' business) stay within its layer's
//! allowance, only `bus` knows lapin, only `store` knows sqlx, no crate depends on a
//! service, and only the command line links the training code.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use newsflow_test_support::run_ok;
use serde_json::Value;

/// The services: thin binaries that nothing else may depend on.
const SERVICES: &[&str] = &[
    "newsflow-ingest",
    "newsflow-extractor",
    "newsflow-stance",
    "newsflow-storage",
    "newsflow-web",
    "newsflow-feeds",
];

/// Test infrastructure: free to reach the broker and the database directly.
const TEST_CRATES: &[&str] = &["newsflow-test-support", "newsflow-e2e"];

/// Every workspace crate's normal dependencies: name -> [(dependency, features)].
fn dependencies() -> BTreeMap<String, Vec<(String, Vec<String>)>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = run_ok(
        Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .current_dir(env!("CARGO_MANIFEST_DIR")),
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|package| {
            let normal = package["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|dependency| dependency["kind"].is_null())
                .map(|dependency| {
                    let features = dependency["features"]
                        .as_array()
                        .expect("features")
                        .iter()
                        .map(|feature| feature.as_str().expect("a name").to_owned())
                        .collect();
                    (
                        dependency["name"].as_str().expect("a name").to_owned(),
                        features,
                    )
                })
                .collect();
            (package["name"].as_str().expect("a name").to_owned(), normal)
        })
        .collect()
}

fn workspace_deps(deps: &[(String, Vec<String>)]) -> BTreeSet<&str> {
    deps.iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| name.starts_with("newsflow-"))
        .collect()
}

#[test]
fn crates_depend_only_on_the_layers_below_them() {
    // What each library crate may depend on in the workspace; services and the command line
    // are checked below.
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("newsflow-proto", &[][..]),
        ("newsflow-nlp", &[][..]),
        ("newsflow-bus", &[][..]),
        ("newsflow-article", &["newsflow-proto", "newsflow-nlp"][..]),
        ("newsflow-analysis", &["newsflow-proto", "newsflow-nlp"][..]),
        ("newsflow-runtime", &["newsflow-proto", "newsflow-bus"][..]),
        ("newsflow-knowledge", &[][..]),
        (
            "newsflow-store",
            &["newsflow-proto", "newsflow-knowledge"][..],
        ),
    ]);
    let service_may_use = [
        "newsflow-proto",
        "newsflow-bus",
        "newsflow-runtime",
        "newsflow-analysis",
        "newsflow-article",
        "newsflow-knowledge",
        "newsflow-store",
    ];
    let all = dependencies();
    let mut broken = Vec::new();
    for (name, deps) in &all {
        let used = workspace_deps(deps);
        let may: BTreeSet<&str> = if let Some(layer) = allowed.get(name.as_str()) {
            layer.iter().copied().collect()
        } else if SERVICES.contains(&name.as_str()) {
            service_may_use.into_iter().collect()
        } else {
            // The command line and the test crates use every library, never a service.
            all.keys()
                .map(String::as_str)
                .filter(|crate_name| !SERVICES.contains(crate_name))
                .collect()
        };
        for dependency in used.difference(&may) {
            broken.push(format!("{name} depends on {dependency}"));
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
    for library in allowed.keys() {
        assert!(
            all.contains_key(*library),
            "{library} is not in the workspace"
        );
    }
}

#[test]
fn only_bus_knows_the_broker_and_only_store_the_database() {
    let all = dependencies();
    let mut broken = Vec::new();
    for (name, deps) in &all {
        if TEST_CRATES.contains(&name.as_str()) {
            continue;
        }
        for (dependency, _) in deps {
            let owner = match dependency.as_str() {
                "lapin" => "newsflow-bus",
                "sqlx" => "newsflow-store",
                _ => continue,
            };
            if name != owner {
                broken.push(format!(
                    "{name} depends on {dependency}, which only {owner} may"
                ));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn the_analysis_library_knows_no_async_runtime_network_or_contract() {
    let all = dependencies();
    for library in ["newsflow-nlp", "newsflow-analysis"] {
        let forbidden = ["tokio", "tonic", "lapin", "sqlx", "axum", "hyper"];
        for (dependency, _) in &all[library] {
            assert!(
                !forbidden.contains(&dependency.as_str()),
                "{library} depends on {dependency}"
            );
        }
    }
    assert!(
        !workspace_deps(&all["newsflow-nlp"]).contains("newsflow-proto"),
        "newsflow-nlp knows the contract"
    );
}

#[test]
fn only_the_command_line_links_the_training_code() {
    let all = dependencies();
    let with_training: Vec<&str> = all
        .iter()
        .filter(|(_, deps)| {
            deps.iter().any(|(name, features)| {
                name == "newsflow-nlp" && features.iter().any(|f| f == "train")
            })
        })
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(with_training, ["newsflow-cli"]);
}
