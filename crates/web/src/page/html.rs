//! HTML by hand: escaping, the page layout every view shares, and small pieces (times,
//! links, polarity badges). No template engine: the views are few and plain.

use axum::response::Html;
use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// `text` safe inside an element or a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Characters kept as they are in a path segment or a query value.
const KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `value` as one URL path segment or query value.
pub fn url_part(value: &str) -> String {
    utf8_percent_encode(value, KEEP).to_string()
}

/// The page of an entity.
pub fn entity_href(key: &str) -> String {
    format!("/entities/{}", url_part(key))
}

/// The page of an article.
pub fn article_href(id: &str) -> String {
    format!("/articles/{}", url_part(id))
}

/// A link to an entity's page.
pub fn entity_link(key: &str, name: &str) -> String {
    format!(
        r#"<a href="{}">{}</a>"#,
        escape(&entity_href(key)),
        escape(name)
    )
}

/// A query string of the pairs whose value is set.
pub fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(key, value)| {
            value
                .filter(|v| !v.is_empty())
                .map(|v| format!("{key}={}", url_part(v)))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// An RFC 3339 time as `<time>`, shown as "2025-09-04 10:00 UTC".
pub fn time(rfc3339: Option<&str>) -> String {
    let Some(value) = rfc3339 else {
        return String::new();
    };
    let shown = DateTime::parse_from_rfc3339(value)
        .map(|t| {
            t.with_timezone(&Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| value.to_owned());
    format!(
        r#"<time datetime="{}">{}</time>"#,
        escape(value),
        escape(&shown)
    )
}

/// A polarity as a badge with words, not colour alone.
pub fn polarity_badge(polarity: &str, score: Option<f32>) -> String {
    let (class, words) = match polarity {
        "negative" => ("neg", "against"),
        "positive" => ("pos", "for"),
        _ => ("neu", "neutral"),
    };
    let score = score.map(|s| format!(" {s:+.2}")).unwrap_or_default();
    format!(r#"<span class="badge {class}">{words}{score}</span>"#)
}

/// The navigation entries: (path, label).
const NAV: [(&str, &str); 5] = [
    ("/", "Live feed"),
    ("/stories", "Stories"),
    ("/stances", "Stances"),
    ("/search", "Search"),
    ("/openapi.json", "API"),
];

/// A whole page around `body`; `active` is the navigation entry's path; `scripts` are extra
/// static scripts (the chart library).
pub fn page(title: &str, active: &str, body: &str, scripts: &[&str]) -> Html<String> {
    let nav: String = NAV
        .iter()
        .map(|(href, label)| {
            let current = if *href == active {
                r#" aria-current="page""#
            } else {
                ""
            };
            format!(r#"<li><a href="{href}"{current}>{label}</a></li>"#)
        })
        .collect();
    let scripts: String = scripts
        .iter()
        .chain(&["/static/app.js"])
        .map(|src| format!(r#"<script src="{src}" defer></script>"#))
        .collect();
    Html(format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · newsflow</title>
<link rel="stylesheet" href="/static/app.css">
{scripts}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/">newsflow</a>
  <nav aria-label="Main"><ul>{nav}</ul></nav>
  <form class="top-search" role="search" action="/search">
    <label for="top-q" class="visually-hidden">Search entities and articles</label>
    <input id="top-q" name="q" type="search" placeholder="Search entities and articles">
    <button type="submit">Search</button>
  </form>
</header>
<main id="main" tabindex="-1">
{body}
</main>
<footer><p>newsflow: who is mentioned, who said what, who stands where. Offsets are Unicode code points into each article's normalized body. <a href="/openapi.json">API document</a>.</p></footer>
</body>
</html>
"##,
        title = escape(title),
    ))
}

/// [`page`] without extra scripts.
pub fn layout(title: &str, active: &str, body: &str) -> Html<String> {
    page(title, active, body, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_encodes() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(
            entity_href("PERSON:vladimir putin"),
            "/entities/PERSON%3Avladimir%20putin"
        );
        assert_eq!(entity_href("ORG:ac/dc"), "/entities/ORG%3Aac%2Fdc");
        assert_eq!(query(&[("q", Some("a b")), ("to", None)]), "?q=a%20b");
    }
}
