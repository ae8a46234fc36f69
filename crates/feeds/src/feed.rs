//! A feed document (RSS 2.0, Atom or JSON Feed, told apart by `feed-rs`) read into its title
//! and the items it lists, each keyed by its link.

use newsflow_store::FeedItem;
use url::Url;

/// Most items read from one feed document; a feed listing more keeps its first ones (feeds
/// list their newest first), so one feed cannot make a poll unbounded.
pub const MAX_ITEMS_PER_FEED: usize = 500;
/// Longest item title kept, in characters.
const MAX_TITLE_CHARS: usize = 1000;
/// Longest link kept, in bytes (ingest refuses longer URLs).
const MAX_LINK_BYTES: usize = 4096;

/// What a feed document lists.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub items: Vec<FeedItem>,
    /// Items left out: no http(s) link, a link too long, or past [`MAX_ITEMS_PER_FEED`].
    pub skipped: usize,
}

/// Reads a feed document fetched from `url` (relative links resolve against it).
pub fn parse(bytes: &[u8], url: &Url) -> Result<ParsedFeed, String> {
    let feed = feed_rs::parser::Builder::new()
        .base_uri(Some(url.as_str()))
        .build()
        .parse(bytes)
        .map_err(|error| format!("not an RSS, Atom or JSON feed: {error}"))?;
    let title = feed
        .title
        .map(|text| clip(text.content.trim()))
        .filter(|title| !title.is_empty());
    let mut items = Vec::new();
    let mut skipped = 0;
    let mut keys = std::collections::HashSet::new();
    for entry in feed.entries {
        let link = entry
            .links
            .iter()
            .filter(|link| link.rel.as_deref().is_none_or(|rel| rel == "alternate"))
            .find_map(|link| page_link(&link.href, url));
        let Some(link) = link else {
            skipped += 1;
            continue;
        };
        if items.len() == MAX_ITEMS_PER_FEED {
            skipped += 1;
            continue;
        }
        let key = link.to_string();
        if !keys.insert(key.clone()) {
            continue; // listed twice
        }
        items.push(FeedItem {
            key,
            link: link.into(),
            title: entry
                .title
                .map(|text| clip(text.content.trim()))
                .unwrap_or_default(),
            published_at: entry.published.or(entry.updated),
        });
    }
    Ok(ParsedFeed {
        title,
        items,
        skipped,
    })
}

/// An item's link as an absolute http(s) URL without its fragment, or `None`.
fn page_link(href: &str, base: &Url) -> Option<Url> {
    let mut link = base.join(href.trim()).ok()?;
    link.set_fragment(None);
    (matches!(link.scheme(), "http" | "https")
        && link.host_str().is_some()
        && link.as_str().len() <= MAX_LINK_BYTES)
        .then_some(link)
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_TITLE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://news.test/feeds/world.xml").unwrap()
    }

    #[test]
    fn reads_rss_atom_and_json_feed() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>World</title>
            <item><title>Putin warns</title><link>/2025/09/putin.html</link>
            <pubDate>Fri, 05 Sep 2025 10:00:00 GMT</pubDate></item>
            <item><title>No link</title><description>x</description></item>
            </channel></rss>"#;
        let feed = parse(rss.as_bytes(), &base()).unwrap();
        assert_eq!(feed.title.as_deref(), Some("World"));
        assert_eq!(feed.items.len(), 1);
        assert_eq!(feed.items[0].link, "http://news.test/2025/09/putin.html");
        assert_eq!(feed.items[0].title, "Putin warns");
        assert!(feed.items[0].published_at.is_some());
        assert_eq!(feed.skipped, 1);

        let atom = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
            <title>Atom world</title><id>urn:x</id><updated>2025-09-05T10:00:00Z</updated>
            <entry><title>Macron</title><id>urn:1</id><updated>2025-09-05T10:00:00Z</updated>
            <link rel="alternate" href="http://news.test/macron.html#top"/>
            <link rel="enclosure" href="http://news.test/macron.mp3"/></entry></feed>"#;
        let feed = parse(atom.as_bytes(), &base()).unwrap();
        assert_eq!(feed.items[0].link, "http://news.test/macron.html");

        let json = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "J",
            "items": [{"id": "1", "url": "http://news.test/trump.html", "title": "Trump",
                       "content_text": "x"},
                      {"id": "2", "url": "mailto:a@b.test", "content_text": "y"}]}"#;
        let feed = parse(json.as_bytes(), &base()).unwrap();
        assert_eq!(feed.items.len(), 1);
        assert_eq!(feed.items[0].key, "http://news.test/trump.html");
        assert_eq!(feed.skipped, 1);
    }

    #[test]
    fn refuses_what_is_no_feed() {
        assert!(parse(b"<html><body>hello</body></html>", &base()).is_err());
        assert!(parse(b"", &base()).is_err());
        assert!(parse(&[0xff, 0xfe, 0x00], &base()).is_err());
    }

    #[test]
    fn caps_the_items_of_one_document() {
        let items: String = (0..MAX_ITEMS_PER_FEED + 20)
            .map(|i| format!("<item><link>http://news.test/{i}</link></item>"))
            .collect();
        let rss = format!("<rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>");
        let feed = parse(rss.as_bytes(), &base()).unwrap();
        assert_eq!(feed.items.len(), MAX_ITEMS_PER_FEED);
        assert_eq!(feed.skipped, 20);
    }
}
