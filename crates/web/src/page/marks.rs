//! An article's body with its analysis marked in the text: mentions (links to the entity's
//! page), statements (the content highlighted, the speaker and the cue marked, a numbered
//! reference to the statements table), and the targets of the stances entities hold.
//!
//! Spans are code points into the body. Marks may nest (a mention inside a quote) or cross
//! (rarely); crossing marks are closed and reopened around each other, so the HTML always
//! nests properly and every code point keeps every mark that covers it.

use super::html::{entity_href, escape};
use crate::api::model::{ArticleDetail, SpanJson};

/// One marked span and its tags.
struct Mark {
    start: usize,
    end: usize,
    /// Outer first when two marks cover the same span.
    rank: u8,
    open: String,
    /// The opening tag when the mark resumes after a crossing mark (no `id`).
    reopen: String,
    close: &'static str,
}

impl Mark {
    fn new(span: SpanJson, rank: u8, open: String, reopen: String, close: &'static str) -> Self {
        Self {
            start: span.start as usize,
            end: span.end as usize,
            rank,
            open,
            reopen,
            close,
        }
    }
}

/// The body as HTML with every mark; to be shown with `white-space: pre-wrap`.
pub fn marked_body(article: &ArticleDetail) -> String {
    let mut marks = Vec::new();
    let mut inserts = Vec::new();
    for (index, statement) in article.statements.iter().enumerate() {
        let number = index + 1;
        let id = escape(&statement.id);
        let speaker = statement
            .speaker
            .as_ref()
            .map(|s| s.name.as_str())
            .unwrap_or(statement.speaker_text.as_str());
        let speaker = escape(speaker);
        let cue = escape(&statement.cue);
        if let Some(span) = statement.content_span {
            let attributes = format!(
                r#"class="quote" data-statement="{id}" data-speaker="{speaker}" title="{speaker} ({cue}), statement {number}""#
            );
            marks.push(Mark::new(
                span,
                0,
                format!(r#"<mark id="quote-{id}" {attributes}>"#),
                format!("<mark {attributes}>"),
                "</mark>",
            ));
            inserts.push((
                span.end as usize,
                format!(
                    r##"<sup class="ref"><a href="#statement-{id}" aria-label="statement {number}, by {speaker}">{number}</a></sup>"##
                ),
            ));
        }
        if let Some(span) = statement.speaker_span {
            let open = format!(
                r#"<span class="speaker" data-statement="{id}" title="speaker of statement {number}">"#
            );
            marks.push(Mark::new(span, 1, open.clone(), open, "</span>"));
        }
        if let Some(span) = statement.cue_span {
            let open = format!(
                r#"<span class="cue" data-statement="{id}" title="cue of statement {number}">"#
            );
            marks.push(Mark::new(span, 2, open.clone(), open, "</span>"));
        }
    }
    for stance in &article.stances {
        let (Some(holder), Some(target), Some(span)) = (
            stance.holder.as_ref(),
            stance.target.entity.as_ref(),
            stance.target.span,
        ) else {
            continue;
        };
        let (class, words) = match stance.polarity.as_str() {
            "negative" => ("neg", "against"),
            "positive" => ("pos", "for"),
            _ => ("neu", "neutral toward"),
        };
        let open = format!(
            r#"<span class="stance {class}" title="{}: {words} {} ({:+.2})">"#,
            escape(&holder.name),
            escape(&target.name),
            stance.score
        );
        marks.push(Mark::new(span, 3, open.clone(), open, "</span>"));
    }
    for entity in &article.entities {
        let open = format!(
            r#"<a class="mention t-{ty}" href="{href}" data-entity="{key}" title="{name} · {ty}">"#,
            ty = escape(&entity.entity_type),
            href = escape(&entity_href(&entity.key)),
            key = escape(&entity.key),
            name = escape(&entity.name),
        );
        for mention in &entity.mentions {
            if let Some(span) = mention.span {
                marks.push(Mark::new(span, 4, open.clone(), open.clone(), "</a>"));
            }
        }
    }
    render(&article.body, marks, inserts)
}

/// `text` with `marks` applied and `inserts` (HTML) placed at their code points.
fn render(text: &str, mut marks: Vec<Mark>, inserts: Vec<(usize, String)>) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    marks.retain_mut(|mark| {
        mark.end = mark.end.min(n);
        mark.start < mark.end
    });
    marks.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.end.cmp(&a.end))
            .then(a.rank.cmp(&b.rank))
    });
    let mut points: Vec<usize> = marks
        .iter()
        .flat_map(|m| [m.start, m.end])
        .chain(inserts.iter().map(|(at, _)| (*at).min(n)))
        .chain([0, n])
        .collect();
    points.sort_unstable();
    points.dedup();

    let mut out = String::with_capacity(text.len() * 2);
    let mut open: Vec<usize> = Vec::new();
    let mut next = 0;
    for (k, &at) in points.iter().enumerate() {
        // Close every mark that ends here, and those opened inside it, reopening the latter.
        if let Some(lowest) = open.iter().position(|&i| marks[i].end <= at) {
            let above: Vec<usize> = open.drain(lowest..).collect();
            for &i in above.iter().rev() {
                out.push_str(marks[i].close);
            }
            for &i in &above {
                if marks[i].end > at {
                    out.push_str(&marks[i].reopen);
                    open.push(i);
                }
            }
        }
        for (_, html) in inserts.iter().filter(|(i, _)| (*i).min(n) == at) {
            out.push_str(html);
        }
        while next < marks.len() && marks[next].start == at {
            out.push_str(&marks[next].open);
            open.push(next);
            next += 1;
        }
        if let Some(&to) = points.get(k + 1) {
            let piece: String = chars[at..to].iter().collect();
            out.push_str(&escape(&piece));
        }
    }
    for &i in open.iter().rev() {
        out.push_str(marks[i].close);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(start: usize, end: usize, rank: u8, tag: &'static str) -> Mark {
        let (open, close) = match tag {
            "b" => ("<b>", "</b>"),
            "i" => ("<i>", "</i>"),
            _ => ("<u>", "</u>"),
        };
        Mark {
            start,
            end,
            rank,
            open: open.into(),
            reopen: open.into(),
            close,
        }
    }

    #[test]
    fn nested_marks_nest_and_code_points_count() {
        // "é" is one code point and two bytes.
        let html = render(
            "é said <x>",
            vec![mark(0, 6, 0, "b"), mark(2, 6, 1, "i")],
            vec![(6, "^".into())],
        );
        assert_eq!(html, "<b>é <i>said</i></b>^ &lt;x&gt;");
    }

    #[test]
    fn crossing_marks_are_closed_and_reopened() {
        let html = render(
            "abcdef",
            vec![mark(0, 4, 0, "b"), mark(2, 6, 0, "i")],
            vec![],
        );
        assert_eq!(html, "<b>ab<i>cd</i></b><i>ef</i>");
    }

    #[test]
    fn spans_past_the_end_are_cut_and_empty_ones_dropped() {
        let html = render("abc", vec![mark(1, 99, 0, "b"), mark(2, 2, 0, "i")], vec![]);
        assert_eq!(html, "a<b>bc</b>");
    }
}
