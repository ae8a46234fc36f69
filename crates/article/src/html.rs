//! Articles sent as HTML: recognized, then turned into plain text (or refused, by policy).

/// What to do with a body that is HTML.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HtmlPolicy {
    /// Convert it to plain text.
    Strip,
    /// Refuse the article.
    Reject,
}

/// Whether a body looks like HTML rather than text that mentions a `<`: it has an element tag
/// that articles are made of, or an HTML document's preamble.
pub fn looks_like_html(body: &str) -> bool {
    const TAGS: &[&str] = &[
        "html",
        "body",
        "p",
        "div",
        "br",
        "span",
        "a",
        "h1",
        "h2",
        "h3",
        "h4",
        "li",
        "ul",
        "ol",
        "article",
        "section",
        "em",
        "strong",
        "b",
        "i",
        "blockquote",
        "script",
        "style",
        "table",
        "head",
        "meta",
        "!doctype",
    ];
    let lower = body.to_ascii_lowercase();
    lower.match_indices('<').any(|(at, _)| {
        let rest = lower[at + 1..].trim_start_matches('/');
        TAGS.iter().any(|tag| {
            rest.strip_prefix(tag).is_some_and(|after| {
                after.starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace())
            })
        })
    })
}

/// The text of an HTML document: scripts, styles and markup dropped, entities decoded,
/// paragraphs on lines of their own.
pub fn to_text(html: &str) -> Result<String, String> {
    // The trivial decorator adds no markdown-like marks ("# " before headings, brackets around
    // links): the analysis wants the words alone.
    html2text::config::with_decorator(html2text::render::TrivialDecorator::new())
        .no_link_wrapping()
        .raw_mode(true)
        // Wide enough that nothing is wrapped: line breaks come only from the markup.
        .string_from_read(html.as_bytes(), 1 << 20)
        .map_err(|e| format!("cannot read the HTML: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_markup_but_not_comparisons() {
        assert!(looks_like_html("<p>Putin warned</p>"));
        assert!(looks_like_html(
            "<!DOCTYPE html><html><body>x</body></html>"
        ));
        assert!(looks_like_html("Line one<br/>line two"));
        assert!(!looks_like_html(
            "Inflation stayed < 2% while growth was > 1%."
        ));
        assert!(!looks_like_html("a <pre-set> list"));
    }

    #[test]
    fn strips_markup_scripts_and_entities() {
        let text = to_text(
            "<html><head><style>p{color:red}</style><script>alert(1)</script></head>\
             <body><h1>Troops</h1><p>Putin &amp; Peskov said &ldquo;no&rdquo;.</p>\
             <p>Second <a href=\"https://x.test\">paragraph</a>.</p></body></html>",
        )
        .unwrap();
        assert!(text.contains("Putin & Peskov said “no”."), "{text}");
        assert!(text.contains("Second paragraph."), "{text}");
        assert!(!text.contains("alert"), "{text}");
        assert!(!text.contains("color"), "{text}");
        assert!(!text.contains('<'), "{text}");
    }
}
