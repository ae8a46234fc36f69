//! `newsflow eval geo` on TR-News (`../shared/data/geo/tr-news.xml`, read by path beside the
//! workspace): one JSON object of the documented shape, and the resolution figure kept.

use std::path::Path;
use std::process::Command;

use newsflow_test_support::run_ok;

/// The resolver's acc161 on TR-News is 0.765 (the population baseline 0.688); the bar is
/// 0.80, which the resolver does not reach: it picks the gold GeoNames place for 85.1% of the
/// toponyms, but for 12.9% it picks the gold place and still lands over 161 km from GeoNames'
/// point, because the gazetteer's points for countries (world-countries'; the other registry
/// packages checked place them the same way) and provinces (the middle of their towns) are not
/// GeoNames' own: the United States (235 km off), Canada (1,031 km), Australia, Alberta, Quebec
/// and Ontario.
/// This floor keeps the figure from sliding back; raise it to 0.80 with GeoNames' own points.
const ACC161_FLOOR: f64 = 0.75;

#[test]
fn eval_geo_on_tr_news_prints_the_figures_and_keeps_the_resolution_floor() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = run_ok(
        Command::new(env!("CARGO_BIN_EXE_newsflow"))
            .current_dir(&root)
            .args(["eval", "geo", "../shared/data/geo/tr-news.xml", "--json"]),
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    for key in ["acc161", "mean_km", "median_km", "auc", "n"] {
        assert!(v["resolution"][key].is_number(), "{v}");
    }
    for key in ["precision", "recall", "f1", "acc161"] {
        assert!(v["end_to_end"][key].is_number(), "{v}");
    }
    assert_eq!(v["resolution"]["n"], 1275, "{v}");
    let acc161 = v["resolution"]["acc161"].as_f64().unwrap();
    assert!(
        acc161 >= ACC161_FLOOR,
        "resolution acc161 {acc161} < {ACC161_FLOOR}: {v}"
    );
    // A toponym resolved to the gold place within 161 km counts in acc161, so the right-place
    // share less the right-place-but-far share cannot exceed it.
    let same_id = v["resolution"]["same_id"].as_f64().unwrap();
    let same_id_far = v["resolution"]["same_id_far"].as_f64().unwrap();
    assert!(
        (0.0..=same_id).contains(&same_id_far) && same_id - same_id_far <= acc161 + 1e-9,
        "{v}"
    );
    let auc = v["resolution"]["auc"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&auc), "{v}");
    // The end-to-end figures are shares, and some toponyms are found.
    assert!(v["end_to_end"]["recall"].as_f64().unwrap() > 0.5, "{v}");
}
