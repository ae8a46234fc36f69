//! The word lists the rules read, kept as data: one plain-text file per list under
//! `crates/nlp/lexicon/` (one entry per line; blank lines and lines starting with `#` are
//! skipped; each file opens with a comment saying what the list is for). The files are
//! embedded at build time and parsed once, on first use:
//!
//! ```text
//! static MONTHS: WordSet = words!("types/months.txt");
//! if MONTHS.contains(word) { ... }
//! ```
//!
//! [`words!`] collects the entries into the static's type: a [`WordSet`] for membership tests,
//! a [`WordList`] where file order matters; [`word_table!`] reads `KEY<TAB>VALUE` lines into a
//! [`WordTable`].

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// A word list read as a set.
pub(crate) type WordSet = LazyLock<HashSet<&'static str>>;

/// A word list read in file order.
pub(crate) type WordList = LazyLock<Vec<&'static str>>;

/// A table of `KEY<TAB>VALUE` lines.
pub(crate) type WordTable = LazyLock<HashMap<&'static str, &'static str>>;

/// The entries of a list file: trimmed lines, without blank lines and `#` comments.
pub(crate) fn entries(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// The `KEY<TAB>VALUE` pairs of a table file (a line without a tab is not a pair; the tests
/// check that every file has none).
pub(crate) fn pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    entries(text).filter_map(|line| {
        line.split_once('\t')
            .map(|(key, value)| (key.trim(), value.trim()))
    })
}

/// The text of a file under `crates/nlp/lexicon/`, embedded.
macro_rules! lexicon_file {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/lexicon/", $file))
    };
}

/// The entries of a file under `crates/nlp/lexicon/`, collected on first use into the
/// static's type ([`WordSet`] or [`WordList`]).
macro_rules! words {
    ($file:literal) => {
        std::sync::LazyLock::new(|| {
            $crate::lexicon::entries($crate::lexicon::lexicon_file!($file)).collect()
        })
    };
}

/// A [`WordTable`] of a file under `crates/nlp/lexicon/`.
macro_rules! word_table {
    ($file:literal) => {
        std::sync::LazyLock::new(|| {
            $crate::lexicon::pairs($crate::lexicon::lexicon_file!($file)).collect()
        })
    };
}

pub(crate) use {lexicon_file, word_table, words};

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("lexicon directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_list_has_a_header_and_distinct_entries() {
        let mut all = Vec::new();
        files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("lexicon"),
            &mut all,
        );
        assert!(all.len() > 20, "{} lists", all.len());
        for path in all {
            let text = std::fs::read_to_string(&path).expect("read");
            let text = text.as_str();
            assert!(text.starts_with("# "), "{}: no header", path.display());
            let entries: Vec<&str> = entries(text).collect();
            assert!(!entries.is_empty(), "{}: empty", path.display());
            let distinct: HashSet<&str> = entries.iter().copied().collect();
            assert_eq!(distinct.len(), entries.len(), "{}: repeats", path.display());
            if path.extension().is_some_and(|e| e == "tsv") {
                assert_eq!(pairs(text).count(), entries.len(), "{}", path.display());
            } else {
                assert!(entries.iter().all(|e| !e.contains('\t')));
            }
        }
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let text = "# what the list is for\n\nfirst\n  second  \n# more\nthird words\n";
        assert_eq!(
            entries(text).collect::<Vec<_>>(),
            vec!["first", "second", "third words"]
        );
        let table: HashMap<_, _> = pairs("# t\nu.s.\tUnited States\nbad line\n").collect();
        assert_eq!(table.len(), 1);
        assert_eq!(table["u.s."], "United States");
    }
}
