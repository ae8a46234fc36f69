//! Hostile input through the whole analysis, as ingest validates it and the extractor and the
//! stance service analyse it, with the committed models: every shape that once made a stage
//! quadratic, at a size where quadratic cost would take minutes to hours. Each must finish,
//! without a panic, within a bound linear in its length, and give output linear in it too.
//!
//! The NER runs in its fast mode here: the accurate mode adds a linear cost of about a
//! millisecond a word in this build (its linearity is measured by `newsflow bench scaling`),
//! which would make this test minutes long without showing anything more. The time bound is
//! deliberately loose (these machines are noisy, and this is not a benchmark); it is hundreds
//! of times below what the quadratic cost of these shapes was.

use std::time::{Duration, Instant};

use newsflow_analysis::{Analysis, Budget, ModelArgs, ModelPaths, NerMode, hostile::SHAPES};
use newsflow_article::{Policy, validate};
use newsflow_proto::v1::{Analysis as Found, AnalyzedArticle, SubmitRequest};
use newsflow_test_support::workspace;

/// Time allowed for an input of `bytes`: 20 seconds, which covers classifying the most
/// stance targets an article may have (`Limits::max_targets`, each a forward pass of the
/// encoder), plus 50 microseconds a byte (a 1 MiB body: about 70 s).
fn time_bound(bytes: usize) -> Duration {
    Duration::from_secs(20) + Duration::from_micros(50 * bytes as u64)
}

/// Output allowed for an input of `bytes`, in bytes of canonical JSON.
fn output_bound(bytes: usize) -> usize {
    300_000 + 20 * bytes
}

/// The cases of the issue, by name, and every generated shape at 100 KB.
fn cases() -> Vec<(String, String)> {
    let mut cases: Vec<(String, String)> = vec![
        ("'a ' x 40,000".into(), "a ".repeat(40_000)),
        ("10,000 one-word sentences".into(), "Yes. ".repeat(10_000)),
        (
            "100,000 newlines".into(),
            format!("x{}y", "\n".repeat(100_000)),
        ),
        ("a 200,000-character word".into(), "a".repeat(200_000)),
        (
            "'.)' x 10,000 inside one word".into(),
            format!("x{}y", ".)".repeat(10_000)),
        ),
        (
            "'he said ' to the body limit".into(),
            "he said ".repeat(Policy::default().max_body_bytes / 8),
        ),
        (
            "<dl><dd> x 20,000".into(),
            format!(
                "<dl>{}text{}</dl>",
                "<dd>".repeat(20_000),
                "</dd>".repeat(20_000)
            ),
        ),
        (
            "an HTML page of <div> x 20,000".into(),
            format!(
                "<html><body>{}Putin warned.{}</body></html>",
                "<div>".repeat(20_000),
                "</div>".repeat(20_000)
            ),
        ),
    ];
    for shape in SHAPES {
        cases.push((
            format!("{} at 100 KB", shape.name),
            (shape.generate)(100_000),
        ));
    }
    // 20,000 distinct capitalized names: seven bytes each.
    let names = SHAPES
        .iter()
        .find(|shape| shape.name == "distinct-names")
        .expect("the names shape");
    cases.push(("20,000 distinct names".into(), (names.generate)(140_000)));
    cases
}

#[test]
fn hostile_input_is_analysed_in_time_and_space_linear_in_its_length() {
    let models = ModelArgs::with_paths(NerMode::Fast, ModelPaths::under(&workspace::root()));
    let topics = ["Western troops", "ceasefire"].map(String::from);
    let analysis =
        Analysis::load(&models, &topics, Budget::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut report = Vec::new();
    for (name, body) in cases() {
        let bytes = body.len();
        let started = Instant::now();
        let request = SubmitRequest {
            body,
            ..Default::default()
        };
        let article = match validate(request, &Policy::default()) {
            Ok(article) => article,
            // Refused with a reason by ingest: bounded by construction.
            Err(refused) => {
                report.push(format!("{name}: refused by ingest ({refused})"));
                continue;
            }
        };
        let mut document = AnalyzedArticle {
            article: Some(article),
            analysis: Some(Found::default()),
            stages: Vec::new(),
        };
        analysis
            .apply(&mut document)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let took = started.elapsed();
        let output = newsflow_proto::json::to_json(&document).to_string().len();
        report.push(format!(
            "{name}: {bytes} B in, {output} B out, {:.2}s",
            took.as_secs_f64()
        ));
        assert!(
            took <= time_bound(bytes),
            "{name}: {bytes} B took {took:?}, over {:?}",
            time_bound(bytes)
        );
        assert!(
            output <= output_bound(bytes),
            "{name}: {bytes} B gave {output} B of output, over {}",
            output_bound(bytes)
        );
    }
    eprintln!("{}", report.join("\n"));
}
