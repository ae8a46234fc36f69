//! The plain-text format of the statements models (`cues.tsv`, `frames.tsv`): a header line,
//! then tab-separated records: the model's settings (`NAME\tVALUE`) and records of its own,
//! then the weights (`w\tFEATURE\tWEIGHT`, sorted by feature, five decimals).

use crate::error::NlpError;
use crate::model_file::in_dir_or_itself;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Writes `file_name` into `dir` (created if missing): `header`, the `settings`, the lines
/// `records` (without their newline) and the weights; returns the file's path.
pub(crate) fn save(
    dir: &Path,
    file_name: &str,
    header: &str,
    settings: &[(&str, f32)],
    records: impl IntoIterator<Item = String>,
    weights: &HashMap<String, f32>,
) -> Result<PathBuf, NlpError> {
    std::fs::create_dir_all(dir).map_err(|e| NlpError::io(dir, e))?;
    let path = dir.join(file_name);
    let mut out = String::new();
    let _ = writeln!(out, "{header}");
    for (name, value) in settings {
        let _ = writeln!(out, "{name}\t{value}");
    }
    for record in records {
        let _ = writeln!(out, "{record}");
    }
    let mut sorted: Vec<_> = weights.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    for (feature, weight) in sorted {
        let _ = writeln!(out, "w\t{feature}\t{weight:.5}");
    }
    std::fs::write(&path, out).map_err(|e| NlpError::io(&path, e))?;
    Ok(path)
}

/// Reads `file_name` from a model directory (or the file `path` itself), checking `header`
/// (`what` names the model in the error). Returns the weights; every other record goes to
/// `record`, which returns `None` for a record it does not know or cannot parse.
pub(crate) fn load(
    path: &Path,
    file_name: &str,
    header: &str,
    what: &str,
    mut record: impl FnMut(&[&str]) -> Option<()>,
) -> Result<HashMap<String, f32>, NlpError> {
    let file = in_dir_or_itself(path, file_name);
    let text = std::fs::read_to_string(&file).map_err(|e| NlpError::io(&file, e))?;
    let bad = |message: String| NlpError::Model {
        path: file.clone(),
        message,
    };
    let mut lines = text.lines();
    if lines.next() != Some(header) {
        return Err(bad(format!("not a statements {what} model (bad header)")));
    }
    let mut weights = HashMap::new();
    for (n, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        let parsed = match fields.as_slice() {
            ["w", feature, weight] => {
                finite(weight).map(|weight| weights.insert((*feature).to_string(), weight))
            }
            [""] => Some(None),
            fields => record(fields).map(|()| None),
        };
        if parsed.is_none() {
            return Err(bad(format!("line {}: {line:?}", n + 2)));
        }
    }
    Ok(weights)
}

/// A finite number.
pub(crate) fn finite(text: &str) -> Option<f32> {
    text.parse::<f32>().ok().filter(|v| v.is_finite())
}
