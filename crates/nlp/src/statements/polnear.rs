//! Reader of PolNeAR (Newell, Margolin and Ruths, LREC 2018) in its brat standoff layout:
//! `text/NAME.txt` is an article, `attributions/NAME_ANNOTATOR.ann` its attributions.
//!
//! In the `.ann` files, `T` lines are text-bound spans (`T3\tContent 115 290\ttext`, or with
//! discontinuous fragments `Source 10 14;20 31`), and `E` lines tie a trigger
//! (`Attribution` or `Attribution-no-source`) to its `Source`, `Cue` and `Content` spans.
//! Offsets count Unicode code points of the UTF-8 text file (checked on the data: slicing by
//! bytes breaks at every curly quote), so they are already the unit of [`Span`]. Spans the
//! events do not use (`Discuss`, `Discard`) are ignored, as are notes (`#` lines) and the
//! continuation lines of span texts that contain a line break.
//!
//! Some articles were annotated by more than one annotator; the reader takes, for every
//! article, the annotation file whose annotator code sorts first, so that a split always
//! reads the same annotations.

use crate::doc::Span;
use crate::error::NlpError;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// A gold span: one or more fragments (discontinuous in brat), in text order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldSpan {
    /// The fragments, code points, in text order.
    pub fragments: Vec<Span>,
}

impl GoldSpan {
    /// From the first fragment's start to the last fragment's end.
    pub fn hull(&self) -> Span {
        let start = self.fragments.iter().map(|f| f.start).min().unwrap_or(0);
        let end = self.fragments.iter().map(|f| f.end).max().unwrap_or(0);
        Span::new(start, end)
    }
}

/// One gold attribution: its source (none for `Attribution-no-source`), cue and content(s).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoldAttribution {
    /// Source spans (normally at most one).
    pub sources: Vec<GoldSpan>,
    /// Cue spans (normally one).
    pub cues: Vec<GoldSpan>,
    /// Content spans (normally one).
    pub contents: Vec<GoldSpan>,
}

/// One annotated article.
#[derive(Debug, Clone)]
pub struct Article {
    /// The file stem (`breitbart_2016-09-12_...`).
    pub name: String,
    /// The annotator code of the annotation file read.
    pub annotator: String,
    /// The article text exactly as in the file.
    pub text: String,
    /// The attributions.
    pub attributions: Vec<GoldAttribution>,
}

/// Reads every annotated article of a split directory (`DIR/text`, `DIR/attributions`), in
/// name order.
pub fn read_dir(dir: &Path) -> Result<Vec<Article>, NlpError> {
    let ann_dir = dir.join("attributions");
    let entries = std::fs::read_dir(&ann_dir).map_err(|e| NlpError::io(&ann_dir, e))?;
    // Article name -> (annotator, path), keeping the annotator code that sorts first.
    let mut chosen: BTreeMap<String, (String, PathBuf)> = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| NlpError::io(&ann_dir, e))?;
        let path = entry.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".ann") else {
            continue;
        };
        let Some((name, annotator)) = stem.rsplit_once('_') else {
            continue;
        };
        let keep = chosen
            .get(name)
            .is_none_or(|(current, _)| annotator < current.as_str());
        if keep {
            chosen.insert(name.to_string(), (annotator.to_string(), path));
        }
    }
    let mut articles = Vec::with_capacity(chosen.len());
    for (name, (annotator, ann_path)) in chosen {
        let text_path = dir.join("text").join(format!("{name}.txt"));
        let text = std::fs::read_to_string(&text_path).map_err(|e| NlpError::io(&text_path, e))?;
        let ann = std::fs::read_to_string(&ann_path).map_err(|e| NlpError::io(&ann_path, e))?;
        let attributions = parse_ann(&ann, text.chars().count(), &ann_path)?;
        articles.push(Article {
            name,
            annotator,
            text,
            attributions,
        });
    }
    Ok(articles)
}

/// Parses the attributions of one `.ann` file over a text of `char_len` code points.
pub fn parse_ann(
    ann: &str,
    char_len: usize,
    path: &Path,
) -> Result<Vec<GoldAttribution>, NlpError> {
    let err = |line: usize, message: String| NlpError::Annotation {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut spans: HashMap<&str, GoldSpan> = HashMap::new();
    let mut events: Vec<(usize, &str)> = Vec::new();
    for (i, line) in ann.lines().enumerate() {
        let n = i + 1;
        let mut fields = line.splitn(3, '\t');
        let id = fields.next().unwrap_or("");
        let is_id = |prefix: char| {
            id.strip_prefix(prefix)
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        };
        if is_id('T') {
            let Some(body) = fields.next() else {
                return Err(err(n, "a span line without label and offsets".into()));
            };
            let Some((_label, offsets)) = body.split_once(' ') else {
                return Err(err(n, format!("no offsets in {body:?}")));
            };
            let mut fragments = Vec::new();
            for part in offsets.split(';') {
                let mut nums = part.split_whitespace().map(str::parse::<usize>);
                match (nums.next(), nums.next(), nums.next()) {
                    (Some(Ok(s)), Some(Ok(e)), None) if s <= e && e <= char_len => {
                        fragments.push(Span::new(s, e));
                    }
                    _ => return Err(err(n, format!("bad offsets {part:?}"))),
                }
            }
            fragments.sort();
            spans.insert(id, GoldSpan { fragments });
        } else if is_id('E')
            && let Some(body) = fields.next()
        {
            events.push((n, body));
        }
    }
    let mut out = Vec::new();
    for (_, body) in events {
        let mut args = body.split_whitespace();
        let trigger = args.next().unwrap_or("");
        if !trigger.starts_with("Attribution") {
            continue;
        }
        let mut a = GoldAttribution::default();
        for arg in args {
            let Some((role, id)) = arg.split_once(':') else {
                continue;
            };
            let Some(span) = spans.get(id) else {
                continue;
            };
            let role = role.trim_end_matches(|c: char| c.is_ascii_digit());
            match role {
                "Source" => a.sources.push(span.clone()),
                "Cue" => a.cues.push(span.clone()),
                "Content" => a.contents.push(span.clone()),
                _ => {}
            }
        }
        out.push(a);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spans_events_and_discontinuous_fragments() {
        let ann = "T1\tSource 0 6\tPeskov\nT2\tCue 7 11\tsaid\nT3\tContent 13 17;20 22\tab cd\n\
                   T4\tAttribution 7 11\tsaid\nE1\tAttribution:T4 Content:T3 Cue:T2 Source:T1\n\
                   #1\tAnnotatorNotes T1\tnote\ncontinuation line\nT5\tDiscard 0 1\tP\n";
        let a = parse_ann(ann, 30, Path::new("x.ann")).expect("parse");
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].sources[0].fragments, vec![Span::new(0, 6)]);
        assert_eq!(a[0].cues[0].hull(), Span::new(7, 11));
        assert_eq!(
            a[0].contents[0].fragments,
            vec![Span::new(13, 17), Span::new(20, 22)]
        );
    }

    #[test]
    fn bad_offsets_are_errors_not_panics() {
        for ann in [
            "T1\tSource 5 2\tx",
            "T1\tSource 0 99\tx",
            "T1\tSource a b\tx",
            "T1",
        ] {
            assert!(parse_ann(ann, 30, Path::new("x.ann")).is_err(), "{ann}");
        }
    }
}
