//! Scoring statements against PolNeAR gold attributions, per role (source, cue, content), by
//! span overlap as in the PARC and PolNeAR papers, exact and partial.
//!
//! How spans are matched:
//!
//! - Per article and role, the gold spans are those of every attribution, identical spans
//!   counted once (one source "he" may serve two cues); likewise the predicted spans of the
//!   document's statements.
//! - Both are trimmed first: leading and trailing whitespace and punctuation (quotation marks,
//!   commas, periods, dashes) do not count, so `“We will win,”` equals `We will win`.
//! - Partial: a predicted span matches when it overlaps, by at least one code point after
//!   trimming, some fragment of a gold span of the same role.
//! - Exact: a predicted span matches when its trimmed boundaries equal the trimmed boundaries
//!   of a gold span of the same role (for a discontinuous gold span: from its first fragment's
//!   start to its last fragment's end).
//! - Precision is the share of predicted spans that match some gold span; recall the share of
//!   gold spans that some predicted span matches; F1 their harmonic mean. Counts are summed
//!   over articles (micro-average).

use crate::doc::{Span, Statement};
use crate::eval::Scores;
use crate::statements::polnear::{GoldAttribution, GoldSpan};

/// Match counts of one role under one matching rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpanCounts {
    /// Predicted spans.
    pub predicted: usize,
    /// Predicted spans that match a gold span.
    pub predicted_matched: usize,
    /// Gold spans.
    pub gold: usize,
    /// Gold spans that a predicted span matches.
    pub gold_matched: usize,
}

impl SpanCounts {
    /// Precision, recall and F1; 0 where a denominator is 0.
    pub fn scores(&self) -> Scores {
        Scores::from_counts(
            self.predicted_matched,
            self.predicted,
            self.gold_matched,
            self.gold,
        )
    }

    fn add(&mut self, other: &SpanCounts) {
        self.predicted += other.predicted;
        self.predicted_matched += other.predicted_matched;
        self.gold += other.gold;
        self.gold_matched += other.gold_matched;
    }
}

/// Exact and partial counts of one role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleCounts {
    /// Same boundaries modulo surrounding punctuation and whitespace.
    pub exact: SpanCounts,
    /// Overlap.
    pub partial: SpanCounts,
}

/// The evaluation of statements: counts for each role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatementEvaluation {
    /// Sources (speakers).
    pub source: RoleCounts,
    /// Cues.
    pub cue: RoleCounts,
    /// Contents.
    pub content: RoleCounts,
}

/// The three roles, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The speaker.
    Source,
    /// The cue.
    Cue,
    /// What was said.
    Content,
}

impl Role {
    /// All roles in table order.
    pub const ALL: [Role; 3] = [Role::Source, Role::Cue, Role::Content];

    /// "source", "cue" or "content".
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Cue => "cue",
            Role::Content => "content",
        }
    }
}

impl StatementEvaluation {
    /// The counts of one role.
    pub fn role(&self, role: Role) -> &RoleCounts {
        match role {
            Role::Source => &self.source,
            Role::Cue => &self.cue,
            Role::Content => &self.content,
        }
    }

    /// Adds one article: its text (the text the offsets point into), gold attributions and
    /// predicted statements.
    pub fn add_article(&mut self, text: &str, gold: &[GoldAttribution], predicted: &[Statement]) {
        let chars: Vec<char> = text.chars().collect();
        for role in Role::ALL {
            let gold_spans: Vec<&GoldSpan> = gold
                .iter()
                .flat_map(|a| match role {
                    Role::Source => &a.sources,
                    Role::Cue => &a.cues,
                    Role::Content => &a.contents,
                })
                .collect();
            let pred_spans: Vec<Span> = predicted
                .iter()
                .filter_map(|s| match role {
                    Role::Source => s.source,
                    Role::Cue => Some(s.cue),
                    Role::Content => Some(s.content),
                })
                .collect();
            let counts = score_role(&chars, &gold_spans, &pred_spans);
            let target = match role {
                Role::Source => &mut self.source,
                Role::Cue => &mut self.cue,
                Role::Content => &mut self.content,
            };
            target.exact.add(&counts.exact);
            target.partial.add(&counts.partial);
        }
    }
}

fn is_trimmed(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_punctuation()
        || matches!(
            c,
            '“' | '”' | '‘' | '’' | '«' | '»' | '‹' | '›' | '„' | '—' | '–' | '…'
        )
}

/// The span without surrounding whitespace and punctuation; `None` when nothing is left.
pub fn trim(chars: &[char], span: Span) -> Option<Span> {
    let end = span.end.min(chars.len());
    let mut start = span.start.min(end);
    let mut end = end;
    while start < end && is_trimmed(chars[start]) {
        start += 1;
    }
    while end > start && is_trimmed(chars[end - 1]) {
        end -= 1;
    }
    (start < end).then(|| Span::new(start, end))
}

fn overlaps(a: Span, b: Span) -> bool {
    a.start < b.end && b.start < a.end
}

/// A trimmed gold span: its hull and its fragments.
type Gold = (Span, Vec<Span>);

/// Counts for one role of one article.
fn score_role(chars: &[char], gold: &[&GoldSpan], predicted: &[Span]) -> RoleCounts {
    // Trimmed gold: (hull, fragments), deduplicated.
    let mut golds: Vec<Gold> = Vec::new();
    for g in gold {
        let fragments: Vec<Span> = g.fragments.iter().filter_map(|&f| trim(chars, f)).collect();
        let Some(hull) = trim(chars, g.hull()) else {
            continue;
        };
        if !golds.iter().any(|(h, f)| *h == hull && *f == fragments) {
            golds.push((hull, fragments));
        }
    }
    let mut preds: Vec<Span> = predicted.iter().filter_map(|&p| trim(chars, p)).collect();
    preds.sort();
    preds.dedup();
    let exact = |p: Span, g: &Gold| g.0 == p;
    let partial = |p: Span, g: &Gold| g.1.iter().any(|&f| overlaps(f, p));
    let count = |m: &dyn Fn(Span, &Gold) -> bool| SpanCounts {
        predicted: preds.len(),
        predicted_matched: preds
            .iter()
            .filter(|&&p| golds.iter().any(|g| m(p, g)))
            .count(),
        gold: golds.len(),
        gold_matched: golds
            .iter()
            .filter(|g| preds.iter().any(|&p| m(p, g)))
            .count(),
    };
    RoleCounts {
        exact: count(&exact),
        partial: count(&partial),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::StatementKind;

    fn gold(fragments: &[(usize, usize)]) -> GoldSpan {
        GoldSpan {
            fragments: fragments.iter().map(|&(s, e)| Span::new(s, e)).collect(),
        }
    }

    #[test]
    fn exact_ignores_quotes_and_partial_needs_overlap() {
        // 0         1         2         3
        // 0123456789012345678901234567890123456
        // “We will win,” Peskov said. He left.
        let text = "“We will win,” Peskov said. He left.";
        let g = vec![GoldAttribution {
            sources: vec![gold(&[(15, 21)])],
            cues: vec![gold(&[(22, 26)])],
            contents: vec![gold(&[(1, 12)])],
        }];
        let p = vec![
            Statement {
                source: Some(Span::new(15, 26)), // "Peskov said": partial only
                entity: None,
                cue: Span::new(22, 26),
                content: Span::new(0, 14),
                kind: StatementKind::Direct,
                confidence: 1.0,
            },
            Statement {
                source: Some(Span::new(28, 30)), // "He": wrong
                entity: None,
                cue: Span::new(31, 35),
                content: Span::new(31, 35),
                kind: StatementKind::Indirect,
                confidence: 1.0,
            },
        ];
        let mut ev = StatementEvaluation::default();
        ev.add_article(text, &g, &p);
        assert_eq!(ev.source.exact.predicted_matched, 0);
        assert_eq!(ev.source.partial.predicted_matched, 1);
        assert_eq!(ev.source.partial.gold_matched, 1);
        assert_eq!(ev.cue.exact.predicted, 2);
        assert_eq!(ev.cue.exact.predicted_matched, 1);
        assert_eq!(ev.content.exact.gold_matched, 1);
        let s = ev.source.partial.scores();
        assert!((s.precision - 0.5).abs() < 1e-9 && (s.recall - 1.0).abs() < 1e-9);
    }
}
