//! Articles sent as HTML: recognized, then reduced to their main text ([`crate::page`]), turned
//! into plain text whole, or refused, by policy.

/// What to do with a body that is HTML.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HtmlPolicy {
    /// Keep the article's main text and drop the page around it (navigation, banners, related
    /// stories); refuse a page with no article.
    MainText,
    /// Convert all of it to plain text.
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

/// Whether an HTML body is a whole page (a document with its `<html>`, `<head>` or `<body>`)
/// rather than a fragment of marked-up text.
pub fn is_document(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    ["<!doctype html", "<html", "<head", "<body"]
        .iter()
        .any(|start| lower.contains(start))
}

/// The text of an HTML document: scripts, styles and markup dropped, entities decoded,
/// paragraphs on lines of their own.
pub fn to_text(html: &str) -> Result<String, String> {
    let html = cap_nesting(html, MAX_NESTING);
    // The trivial decorator adds no markdown-like marks ("# " before headings, brackets around
    // links): the analysis wants the words alone.
    html2text::config::with_decorator(html2text::render::TrivialDecorator::new())
        .no_link_wrapping()
        .raw_mode(true)
        // Wide enough that nothing is wrapped: line breaks come only from the markup.
        .string_from_read(html.as_bytes(), 1 << 20)
        .map_err(|e| format!("cannot read the HTML: {e}"))
}

/// Deepest nesting of elements kept; real pages stay under a hundred.
pub const MAX_NESTING: usize = 256;

/// Elements that never nest (void), or that the parser closes by itself when a sibling opens
/// (optional end tags), so they add no depth.
const FLAT: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead",
    "tbody", "tfoot", "colgroup", "rb", "rt", "rp",
];

/// Elements whose content is text, not markup, up to their end tag.
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "title", "xmp", "noscript"];

/// `html` with the start tags (and their end tags) beyond `max_depth` levels of nesting
/// dropped; their text stays. The HTML parser checks the stack of open elements at every tag,
/// so 20,000 nested `<div>`s cost it 20,000 x 20,000 steps; after this one linear pass it never
/// sees more than `max_depth` of them.
pub fn cap_nesting(html: &str, max_depth: usize) -> std::borrow::Cow<'_, str> {
    let lower = html.to_ascii_lowercase(); // same byte offsets: ASCII letters only change
    let bytes = lower.as_bytes();
    let mut out = String::new();
    let (mut copied, mut at) = (0, 0);
    let (mut depth, mut dropped) = (0usize, 0usize);
    while let Some(offset) = lower[at..].find('<') {
        let start = at + offset;
        let Some(tag) = Tag::read(&lower, start) else {
            at = start + 1;
            continue;
        };
        at = tag.end;
        let Tag {
            name,
            closing,
            self_closing,
            ..
        } = tag;
        if name.is_empty() || self_closing || FLAT.contains(&name) {
            continue;
        }
        if RAW_TEXT.contains(&name) {
            if !closing {
                // Skip to the end tag (or the end): what is inside is not markup.
                let end_tag = format!("</{name}");
                at = lower[at..]
                    .find(&end_tag)
                    .map_or(bytes.len(), |found| at + found);
            }
            continue;
        }
        let drop = if closing {
            if dropped > 0 {
                dropped -= 1;
                true
            } else {
                depth = depth.saturating_sub(1);
                false
            }
        } else if depth >= max_depth {
            dropped += 1;
            true
        } else {
            depth += 1;
            false
        };
        if drop {
            out.push_str(&html[copied..start]);
            copied = tag.end;
        }
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(html);
    }
    out.push_str(&html[copied..]);
    std::borrow::Cow::Owned(out)
}

/// A tag as `cap_nesting` needs it: its name and kind, and where it ends.
struct Tag<'a> {
    name: &'a str,
    closing: bool,
    self_closing: bool,
    /// The byte after its `>` (or the end of the input).
    end: usize,
}

impl<'a> Tag<'a> {
    /// The tag that starts at `start` (a `<`), or `None` when the `<` starts no tag. Comments
    /// and declarations come back with an empty name.
    fn read(lower: &'a str, start: usize) -> Option<Self> {
        let rest = &lower[start + 1..];
        if rest.starts_with("!--") {
            let end = rest
                .find("-->")
                .map_or(lower.len(), |found| start + 1 + found + 3);
            return Some(Self {
                name: "",
                closing: false,
                self_closing: false,
                end,
            });
        }
        if rest.starts_with(['!', '?']) {
            let end = rest
                .find('>')
                .map_or(lower.len(), |found| start + 1 + found + 1);
            return Some(Self {
                name: "",
                closing: false,
                self_closing: false,
                end,
            });
        }
        let closing = rest.starts_with('/');
        let named = if closing { &rest[1..] } else { rest };
        if !named.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        let name_len = named
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':'))
            .unwrap_or(named.len());
        let name = &named[..name_len];
        // The tag ends at the first `>` outside a quoted attribute value.
        let after_name = start + 1 + usize::from(closing) + name_len;
        let mut quote = None;
        let mut end = lower.len();
        for (offset, byte) in lower.as_bytes()[after_name..].iter().enumerate() {
            match (quote, byte) {
                (None, b'"' | b'\'') => quote = Some(*byte),
                (Some(q), _) if q == *byte => quote = None,
                (None, b'>') => {
                    end = after_name + offset + 1;
                    break;
                }
                _ => {}
            }
        }
        let self_closing = lower[..end].ends_with("/>");
        Some(Self {
            name,
            closing,
            self_closing,
            end,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_pages_from_fragments() {
        assert!(is_document("<!DOCTYPE html><p>x</p>"));
        assert!(is_document("<HTML><BODY>x</BODY></HTML>"));
        assert!(!is_document("<p>Putin warned</p><p>Peskov said</p>"));
    }

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
    fn deep_nesting_is_capped_and_its_text_kept() {
        let depth = 20_000;
        let html = format!(
            "<html><body>{}Putin warned.{}<p>After.</p></body></html>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let capped = cap_nesting(&html, MAX_NESTING);
        // html, body and MAX_NESTING - 2 divs are kept, with as many end tags.
        assert_eq!(capped.matches("<div>").count(), MAX_NESTING - 2);
        assert_eq!(capped.matches("</div>").count(), MAX_NESTING - 2);
        let text = to_text(&html).unwrap();
        assert!(text.contains("Putin warned."), "{text}");
        assert!(text.contains("After."), "{text}");
    }

    #[test]
    fn ordinary_pages_pass_unchanged() {
        let page = "<!DOCTYPE html><html><head><title>a <div> title</title>\
            <script>if (a < b && c > d) { x = '<div>'; }</script><!-- <div> --></head>\
            <body><ul><li>one<li>two</ul><p>Putin <a href=\"/x?a>b\">warned</a>.<br>\
            <img src=x /><table><tr><td>cell</table></body></html>";
        assert!(matches!(
            cap_nesting(page, 3),
            std::borrow::Cow::Borrowed(_)
        ));
        assert!(matches!(
            cap_nesting(page, MAX_NESTING),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn nesting_past_the_cap_loses_tags_not_text() {
        let html = "<div><div><div><b>deep</b> text</div> after</div></div>";
        let capped = cap_nesting(html, 2);
        assert_eq!(capped, "<div><div>deep text after</div></div>");
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
