//! An article as JSON: the form of ingest's HTTP API and of the files `newsflow submit` reads,
//! so that both read an article exactly alike.

use newsflow_proto::v1::SubmitRequest;
use serde::Deserialize;
use serde_json::Value;

use crate::ArticleError;

/// An article as JSON. Unknown fields are refused, so a misspelt `bdy` is caught.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonArticle {
    #[serde(default)]
    external_id: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    language: String,
    /// RFC 3339, e.g. `2025-09-04T10:00:00Z`.
    #[serde(default)]
    published_at: Option<String>,
}

/// The JSON article as a `SubmitRequest`, or the field that is wrong.
pub fn parse(item: Value) -> Result<SubmitRequest, ArticleError> {
    let article: JsonArticle = serde_path_to_error::deserialize(item).map_err(|error| {
        let path = error.path().to_string();
        let field = FIELDS
            .iter()
            .copied()
            .find(|known| *known == path)
            .unwrap_or("");
        ArticleError::invalid(field, error.into_inner().to_string())
    })?;
    let published_at = match article.published_at.as_deref() {
        None | Some("") => None,
        Some(text) => Some(text.parse::<prost_types::Timestamp>().map_err(|_| {
            ArticleError::invalid(
                "published_at",
                format!("{text:?} is not an RFC 3339 time such as 2025-09-04T10:00:00Z"),
            )
        })?),
    };
    Ok(SubmitRequest {
        external_id: article.external_id,
        url: article.url,
        source: article.source,
        title: article.title,
        body: article.body,
        language: article.language,
        published_at,
    })
}

pub const FIELDS: &[&str] = &[
    "external_id",
    "url",
    "source",
    "title",
    "body",
    "language",
    "published_at",
];

/// The JSON key whose value a byte offset falls in, judged from the text before it.
pub fn field_before(prefix: &str) -> &'static str {
    let Some(colon) = prefix.rfind("\":") else {
        return "";
    };
    let key_start = prefix[..colon].rfind('"').map_or(0, |at| at + 1);
    let key = &prefix[key_start..colon];
    FIELDS
        .iter()
        .copied()
        .find(|known| *known == key)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_field_an_offset_falls_in() {
        assert_eq!(field_before(r#"{"title": "ok", "body": "abc"#), "body");
        assert_eq!(field_before(r#"{"title": "a"#), "title");
        assert_eq!(field_before(r#"{"#), "");
    }

    #[test]
    fn json_articles_parse_with_their_errors_named() {
        let ok =
            parse(json!({"body": "Text.", "published_at": "2025-09-04T10:00:00+02:00"})).unwrap();
        assert_eq!(ok.published_at.unwrap().seconds, 1_756_972_800);
        let typo = parse(json!({"bdy": "Text."})).unwrap_err();
        assert!(typo.to_string().contains("bdy"), "{typo}");
        let wrong_type = parse(json!({"body": 5})).unwrap_err();
        assert_eq!(wrong_type.field(), "body");
        let bad_time = parse(json!({"body": "x", "published_at": "yesterday"})).unwrap_err();
        assert_eq!(bad_time.field(), "published_at");
    }
}
