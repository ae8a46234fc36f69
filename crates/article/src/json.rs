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
    parse_from(item)
}

/// The article in the JSON text `item`, read without building a tree.
pub fn parse_str(item: &str) -> Result<SubmitRequest, ArticleError> {
    let mut reader = serde_json::Deserializer::from_str(item);
    let request = parse_from(&mut reader)?;
    reader
        .end()
        .map_err(|e| ArticleError::invalid("", format!("not JSON: {e}")))?;
    Ok(request)
}

fn parse_from<'de, D: serde::Deserializer<'de>>(item: D) -> Result<SubmitRequest, ArticleError>
where
    D::Error: std::fmt::Display,
{
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

/// The items of a request body: one article (a JSON object), a JSON array of them, or NDJSON
/// (one a line); each item as its own JSON text, found without building a tree of the whole
/// body.
#[derive(Debug, PartialEq)]
pub enum Items<'a> {
    /// One article.
    One(&'a str),
    /// Many, in order; an NDJSON line that is not JSON is that item's error.
    Many(Vec<Result<&'a str, String>>),
}

/// Why a request body holds no items to take.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ItemsError {
    /// More items than one request may carry.
    #[error("the request holds more than {max} articles; send at most {max} per request")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// The body is not JSON (or not an object or array of objects).
    #[error("the request is not JSON: {0}")]
    NotJson(String),
}

/// The items of `body` (see [`Items`]), at most `max_items` of them.
pub fn items(body: &str, ndjson: bool, max_items: usize) -> Result<Items<'_>, ItemsError> {
    if ndjson {
        let mut items = Vec::new();
        for line in body.lines().filter(|line| !line.trim().is_empty()) {
            if items.len() == max_items {
                return Err(ItemsError::TooMany { max: max_items });
            }
            items.push(
                serde_json::from_str::<&serde_json::value::RawValue>(line)
                    .map(|raw| raw.get())
                    .map_err(|e| format!("not JSON: {e}")),
            );
        }
        return Ok(Items::Many(items));
    }
    if !body.trim_start().starts_with('[') {
        // Checked to be JSON without building its tree.
        return serde_json::from_str::<&serde_json::value::RawValue>(body)
            .map(|raw| Items::One(raw.get()))
            .map_err(|e| ItemsError::NotJson(e.to_string()));
    }
    let mut reader = serde_json::Deserializer::from_str(body);
    let raw = serde::de::DeserializeSeed::deserialize(CappedArray { max: max_items }, &mut reader)
        .and_then(|raw| reader.end().map(|()| raw));
    match raw {
        Ok(items) => Ok(Items::Many(items.into_iter().map(Ok).collect())),
        Err(error) if error.to_string().starts_with(TOO_MANY) => {
            Err(ItemsError::TooMany { max: max_items })
        }
        Err(error) => Err(ItemsError::NotJson(error.to_string())),
    }
}

/// How the array reader says it stopped at the limit.
const TOO_MANY: &str = "too many items";

/// Reads a JSON array as the raw text of each element, stopping past `max` elements.
struct CappedArray {
    max: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for CappedArray {
    type Value = Vec<&'de str>;

    fn deserialize<D: serde::Deserializer<'de>>(self, reader: D) -> Result<Self::Value, D::Error> {
        reader.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CappedArray {
    type Value = Vec<&'de str>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an array of articles")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(raw) = seq.next_element::<&'de serde_json::value::RawValue>()? {
            if items.len() == self.max {
                return Err(serde::de::Error::custom(TOO_MANY));
            }
            items.push(raw.get());
        }
        Ok(items)
    }
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
    fn bodies_split_into_items_without_a_tree_and_within_the_limit() {
        let one = r#" {"body": "One."} "#;
        assert_eq!(items(one, false, 10), Ok(Items::One(one.trim())));
        assert!(matches!(
            items("body=Putin", false, 10),
            Err(ItemsError::NotJson(_))
        ));
        let many = r#"[{"body": "A."}, {"body": "B."}]"#;
        assert_eq!(
            items(many, false, 10),
            Ok(Items::Many(vec![
                Ok(r#"{"body": "A."}"#),
                Ok(r#"{"body": "B."}"#)
            ]))
        );
        assert_eq!(items(many, false, 1), Err(ItemsError::TooMany { max: 1 }));
        let lines = "{\"body\": \"A.\"}\n\nnot json\n";
        let Ok(Items::Many(parsed)) = items(lines, true, 10) else {
            panic!("NDJSON");
        };
        assert_eq!(parsed.len(), 2);
        assert!(parsed[1].is_err());
        assert!(matches!(
            items("[{]", false, 10),
            Err(ItemsError::NotJson(_))
        ));
        // Eight million items are refused after the first thousand and one.
        let huge = format!("[{}{{}}]", "{},".repeat(8_000_000));
        assert_eq!(
            items(&huge, false, 1000),
            Err(ItemsError::TooMany { max: 1000 })
        );
        assert_eq!(
            parse_str(r#"{"body": "Text.", "source": "x"}"#)
                .unwrap()
                .source,
            "x"
        );
        assert_eq!(parse_str(r#"{"bdy": 1}"#).unwrap_err().field(), "");
    }

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
