//! Turning a submitted article into a valid, normalized `Article`, or the reason it is not one.
//!
//! Checks run in the order a client would fix them: the body (present, within the size limit,
//! HTML handled, non-empty once normalized), then the title, URL, timestamp, the small fields,
//! and the language.

use newsflow_nlp::normalize::{normalize, strip_invisible};
use newsflow_proto::v1::{Article, SubmitRequest};
use prost_types::Timestamp;

use crate::{
    error::ArticleError,
    html::{self, HtmlPolicy},
    identity::article_id,
    language::{self, LanguagePolicy},
    page,
};

/// Largest body accepted by default, in bytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;
/// Longest title accepted by default, in characters.
pub const DEFAULT_MAX_TITLE_CHARS: usize = 1000;
/// Languages served by default: the models are trained on English news.
pub const DEFAULT_LANGUAGES: &str = "en";

/// Limits and policies for what ingest accepts.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Largest body, in bytes of UTF-8, before any normalization.
    pub max_body_bytes: usize,
    /// Longest title, in characters.
    pub max_title_chars: usize,
    /// What to do with HTML bodies.
    pub html: HtmlPolicy,
    /// Which languages are served.
    pub languages: LanguagePolicy,
}

impl Default for Policy {
    /// Ingest's defaults: 1 MiB bodies, 1,000-character titles, HTML pages reduced to their
    /// main text, English served
    /// and other languages tagged, not refused.
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_title_chars: DEFAULT_MAX_TITLE_CHARS,
            html: HtmlPolicy::MainText,
            languages: LanguagePolicy {
                supported: vec![DEFAULT_LANGUAGES.to_owned()],
                refuse_unsupported: false,
            },
        }
    }
}

/// Longest external id, source or language tag, in characters.
const MAX_SHORT_FIELD_CHARS: usize = 256;
/// Longest URL, in bytes.
const MAX_URL_BYTES: usize = 4096;
/// Timestamps outside these years are taken for client bugs (an epoch in milliseconds sent as
/// seconds, a zero date).
const EARLIEST: i64 = -5_364_662_400; // 1800-01-01T00:00:00Z
const LATEST: i64 = 7_258_118_400; // 2200-01-01T00:00:00Z

/// Validates and normalizes one submitted article. The result has its id, normalized body and
/// title, and language; `ingested_at` is left for the caller to stamp. A body that is an HTML
/// page reduced to its main text lends the page's title, canonical URL and publication time to
/// the fields the request left empty.
pub fn validate(mut request: SubmitRequest, policy: &Policy) -> Result<Article, ArticleError> {
    let (body, page) = validated_body(&request.body, policy)?;
    if let Some(page) = page {
        if request.title.trim().is_empty() {
            request.title = page.title.clone().unwrap_or_default();
        }
        if request.url.trim().is_empty() {
            request.url = page.url.clone().unwrap_or_default();
        }
        if request.published_at.is_none() {
            request.published_at = page.published_timestamp();
        }
    }

    let title = normalize(&request.title);
    let title_chars = title.chars().count();
    if title_chars > policy.max_title_chars {
        return Err(ArticleError::TooLarge {
            field: "title",
            message: format!(
                "is {title_chars} characters; the limit is {}",
                policy.max_title_chars
            ),
        });
    }

    let url = request.url.trim().to_owned();
    if !url.is_empty() {
        check_url(&url)?;
    }
    if let Some(published_at) = &request.published_at {
        check_timestamp("published_at", published_at)?;
    }
    let external_id = short_field("external_id", &request.external_id)?;
    let source = strip_invisible(&short_field("source", &request.source)?);

    let language = match short_field("language", &request.language)?.to_ascii_lowercase() {
        declared if declared.is_empty() => language::detect(&body),
        declared if is_language_tag(&declared) => declared,
        declared => {
            return Err(ArticleError::invalid(
                "language",
                format!("{declared:?} is not an ISO 639-1 code such as \"en\""),
            ));
        }
    };
    if policy.languages.refuses(&language) {
        return Err(ArticleError::invalid(
            "language",
            format!(
                "articles in {language:?} are not served here (served: {})",
                policy.languages.supported.join(", ")
            ),
        ));
    }

    Ok(Article {
        id: article_id(&external_id, &body),
        external_id,
        url,
        source,
        title,
        body,
        language,
        published_at: request.published_at,
        ingested_at: None,
    })
}

/// The normalized body, and the page it came from when it was an HTML page reduced to its main
/// text.
fn validated_body(
    raw: &str,
    policy: &Policy,
) -> Result<(String, Option<page::Page>), ArticleError> {
    if raw.trim().is_empty() {
        return Err(ArticleError::invalid("body", "is missing or empty"));
    }
    if raw.len() > policy.max_body_bytes {
        return Err(ArticleError::TooLarge {
            field: "body",
            message: format!(
                "is {} bytes; the limit is {}",
                raw.len(),
                policy.max_body_bytes
            ),
        });
    }
    let (text, page) = if html::looks_like_html(raw) {
        match policy.html {
            HtmlPolicy::MainText if html::is_document(raw) => {
                let page = page::main_text(raw, None).map_err(|no_article| {
                    ArticleError::invalid("body", format!("is an HTML page: {no_article}"))
                })?;
                (page.text(), Some(page))
            }
            // A fragment (`<p>..</p><p>..</p>`) is the article itself, marked up: all of it is
            // kept.
            HtmlPolicy::MainText | HtmlPolicy::Strip => (
                html::to_text(raw).map_err(|message| ArticleError::invalid("body", message))?,
                None,
            ),
            HtmlPolicy::Reject => {
                return Err(ArticleError::invalid(
                    "body",
                    "is HTML; this deployment accepts plain text only",
                ));
            }
        }
    } else {
        (raw.to_owned(), None)
    };
    let body = normalize(&text);
    if body.is_empty() {
        return Err(ArticleError::invalid("body", "has no text once normalized"));
    }
    Ok((body, page))
}

fn check_url(url: &str) -> Result<(), ArticleError> {
    if url.len() > MAX_URL_BYTES {
        return Err(ArticleError::TooLarge {
            field: "url",
            message: format!("is {} bytes; the limit is {MAX_URL_BYTES}", url.len()),
        });
    }
    let parsed = url::Url::parse(url)
        .map_err(|e| ArticleError::invalid("url", format!("{url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ArticleError::invalid(
            "url",
            format!("{url:?} is not an absolute http(s) URL"),
        ));
    }
    Ok(())
}

/// Checks a protobuf timestamp: nanos in range and a plausible year.
pub fn check_timestamp(field: &'static str, timestamp: &Timestamp) -> Result<(), ArticleError> {
    if !(0..1_000_000_000).contains(&timestamp.nanos) {
        return Err(ArticleError::invalid(
            field,
            format!("nanos {} is outside 0..1e9", timestamp.nanos),
        ));
    }
    if !(EARLIEST..LATEST).contains(&timestamp.seconds) {
        return Err(ArticleError::invalid(
            field,
            format!(
                "{} seconds since 1970 is outside the years 1800-2199",
                timestamp.seconds
            ),
        ));
    }
    Ok(())
}

fn short_field(field: &'static str, value: &str) -> Result<String, ArticleError> {
    let value = value.trim();
    let chars = value.chars().count();
    if chars > MAX_SHORT_FIELD_CHARS {
        return Err(ArticleError::TooLarge {
            field,
            message: format!("is {chars} characters; the limit is {MAX_SHORT_FIELD_CHARS}"),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(ArticleError::invalid(field, "contains control characters"));
    }
    Ok(value.to_owned())
}

fn is_language_tag(tag: &str) -> bool {
    (2..=3).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            max_body_bytes: 1_000,
            max_title_chars: 20,
            html: HtmlPolicy::Strip,
            languages: LanguagePolicy {
                supported: vec!["en".into()],
                refuse_unsupported: true,
            },
        }
    }

    fn request(body: &str) -> SubmitRequest {
        SubmitRequest {
            body: body.into(),
            language: "en".into(),
            ..Default::default()
        }
    }

    fn field_of(result: Result<Article, ArticleError>) -> &'static str {
        result.expect_err("refused").field()
    }

    #[test]
    fn a_plain_article_is_normalized_and_gets_its_id() {
        let article = validate(
            SubmitRequest {
                body: "  Putin   warned\u{a0}the West.\r\n".into(),
                title: "Troops".into(),
                url: "https://example.com/a".into(),
                ..request("")
            },
            &policy(),
        )
        .unwrap();
        assert_eq!(article.body, "Putin warned the West.");
        assert_eq!(article.id, article_id("", "Putin warned the West."));
        assert_eq!(article.language, "en");
    }

    #[test]
    fn each_bad_field_is_named() {
        let p = policy();
        assert_eq!(field_of(validate(request(""), &p)), "body");
        assert_eq!(field_of(validate(request(" \n\t "), &p)), "body");
        let big = "word ".repeat(300);
        let error = validate(request(&big), &p).unwrap_err();
        assert!(matches!(
            error,
            ArticleError::TooLarge { field: "body", .. }
        ));
        let long_title = SubmitRequest {
            title: "x".repeat(21),
            ..request("Text.")
        };
        assert!(matches!(
            validate(long_title, &p).unwrap_err(),
            ArticleError::TooLarge { field: "title", .. }
        ));
        for url in [
            "not a url",
            "ftp://example.com/x",
            "mailto:a@b.c",
            "/relative/path",
        ] {
            let bad = SubmitRequest {
                url: url.into(),
                ..request("Text.")
            };
            assert_eq!(field_of(validate(bad, &p)), "url", "{url}");
        }
        let bad_time = SubmitRequest {
            published_at: Some(Timestamp {
                seconds: 1_700_000_000_000,
                nanos: 0,
            }),
            ..request("Text.")
        };
        assert_eq!(field_of(validate(bad_time, &p)), "published_at");
        let bad_nanos = SubmitRequest {
            published_at: Some(Timestamp {
                seconds: 0,
                nanos: -1,
            }),
            ..request("Text.")
        };
        assert_eq!(field_of(validate(bad_nanos, &p)), "published_at");
        let bad_language = SubmitRequest {
            language: "English".into(),
            ..request("Text.")
        };
        assert_eq!(field_of(validate(bad_language, &p)), "language");
        let control = SubmitRequest {
            source: "Reu\u{0}ters".into(),
            ..request("Text.")
        };
        assert_eq!(field_of(validate(control, &p)), "source");
    }

    #[test]
    fn a_page_gives_its_main_text_and_lends_its_fields() {
        let paragraph = "Russian President Vladimir Putin warned on Friday that any Western \
            troops deployed to Ukraine would be legitimate targets for the Russian army.";
        let body: String = (0..5).map(|_| format!("<p>{paragraph}</p>")).collect();
        let page = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><title>Putin warns</title>\
             <link rel=\"canonical\" href=\"https://news.test/putin\">\
             <meta property=\"article:published_time\" content=\"2025-09-05T10:00:00Z\">\
             </head><body><nav><a href=\"/\">Home</a> <a href=\"/w\">World</a></nav>\
             <article>{body}</article><footer>Copyright News Ltd</footer></body></html>"
        );
        let main_text = Policy {
            html: HtmlPolicy::MainText,
            max_body_bytes: 100_000,
            ..policy()
        };
        let article = validate(request(&page), &main_text).unwrap();
        assert!(
            article.body.starts_with("Russian President"),
            "{}",
            article.body
        );
        assert!(!article.body.contains("Copyright"), "{}", article.body);
        assert!(!article.body.contains("Home"), "{}", article.body);
        assert_eq!(article.title, "Putin warns");
        assert_eq!(article.url, "https://news.test/putin");
        assert_eq!(article.published_at.unwrap().seconds, 1_757_066_400);

        // What the client sent wins over what the page says.
        let mut own = request(&page);
        own.title = "My title".into();
        assert_eq!(validate(own, &main_text).unwrap().title, "My title");

        // A front page has no article: refused, with the reason.
        let links: String = (0..40)
            .map(|i| format!("<li><a href=\"/s/{i}\">Story {i} of the day</a></li>"))
            .collect();
        let front = format!("<html><body><ul>{links}</ul></body></html>");
        let error = validate(request(&front), &main_text).unwrap_err();
        assert_eq!(error.field(), "body");
        assert!(error.to_string().contains("no article"), "{error}");

        // A fragment is the article itself.
        let fragment = validate(request("<p>Putin &amp; Peskov</p>"), &main_text).unwrap();
        assert_eq!(fragment.body, "Putin & Peskov");
    }

    #[test]
    fn html_is_stripped_or_refused_by_policy() {
        let html = "<p>Putin &amp; Peskov</p>";
        let article = validate(request(html), &policy()).unwrap();
        assert_eq!(article.body, "Putin & Peskov");
        let strict = Policy {
            html: HtmlPolicy::Reject,
            ..policy()
        };
        assert_eq!(field_of(validate(request(html), &strict)), "body");
        assert_eq!(
            field_of(validate(request("<p> </p>"), &policy())),
            "body",
            "markup without text"
        );
    }

    #[test]
    fn languages_are_detected_and_refused_when_not_served() {
        let german = "Der russische Präsident Wladimir Putin warnte, dass westliche Truppen in der \
                      Ukraine legitime Ziele für die russischen Streitkräfte wären.";
        let detected = SubmitRequest {
            language: String::new(),
            ..request(german)
        };
        let error = validate(detected.clone(), &policy()).unwrap_err();
        assert_eq!(error.field(), "language");
        assert!(error.to_string().contains("\"de\""), "{error}");
        let tag_only = Policy {
            languages: LanguagePolicy {
                supported: vec!["en".into()],
                refuse_unsupported: false,
            },
            ..policy()
        };
        assert_eq!(validate(detected, &tag_only).unwrap().language, "de");
    }
}
