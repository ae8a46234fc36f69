//! Protobuf's canonical JSON mapping (lowerCamelCase names, enums by name, timestamps in RFC
//! 3339, 64-bit integers as strings) for every newsflow message, through the descriptor set
//! the build writes. What `newsflow analyze --json`, `tail` and `get` print, so a consumer can
//! read the JSON back with any protobuf library.

use std::sync::LazyLock;

use prost::{Message, Name};
use prost_reflect::{DescriptorPool, DynamicMessage};

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    DescriptorPool::decode(crate::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set written by build.rs decodes")
});

/// `message` in protobuf's canonical JSON mapping; fields at their default value are left out,
/// as the mapping prescribes.
pub fn to_json<M: Message + Name>(message: &M) -> serde_json::Value {
    let descriptor = POOL
        .get_message_by_name(&M::full_name())
        .unwrap_or_else(|| panic!("{} is in the descriptor set", M::full_name()));
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .expect("a message re-decodes under its own descriptor");
    serde_json::to_value(&dynamic).expect("a dynamic message serializes to JSON")
}

/// Reads a message back from its canonical JSON mapping.
pub fn from_json<M: Message + Name + Default>(json: &str) -> Result<M, String> {
    let descriptor = POOL
        .get_message_by_name(&M::full_name())
        .ok_or_else(|| format!("{} is not in the descriptor set", M::full_name()))?;
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let dynamic = DynamicMessage::deserialize(descriptor, &mut deserializer)
        .map_err(|error| error.to_string())?;
    deserializer.end().map_err(|error| error.to_string())?;
    dynamic.transcode_to().map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{Analysis, AnalyzedArticle, Article, Entity, EntityType, Polarity, Stance};

    #[test]
    fn canonical_names_enums_and_timestamps() {
        let document = AnalyzedArticle {
            article: Some(Article {
                id: "a1".into(),
                body: "Putin spoke.".into(),
                published_at: Some(prost_types::Timestamp {
                    seconds: 1_756_972_800,
                    nanos: 0,
                }),
                ..Default::default()
            }),
            analysis: Some(Analysis {
                entities: vec![Entity {
                    id: "e0".into(),
                    r#type: EntityType::Person as i32,
                    canonical_name: "Vladimir Putin".into(),
                    ..Default::default()
                }],
                stances: vec![Stance {
                    holder_entity_id: "e0".into(),
                    polarity: Polarity::Negative as i32,
                    score: -0.5,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let json = to_json(&document);
        assert_eq!(json["article"]["publishedAt"], "2025-09-04T08:00:00Z");
        assert_eq!(
            json["analysis"]["entities"][0]["canonicalName"],
            "Vladimir Putin"
        );
        assert_eq!(
            json["analysis"]["entities"][0]["type"],
            "ENTITY_TYPE_PERSON"
        );
        assert_eq!(
            json["analysis"]["stances"][0]["polarity"],
            "POLARITY_NEGATIVE"
        );
        let back: AnalyzedArticle = from_json(&json.to_string()).unwrap();
        assert_eq!(back, document);
    }

    #[test]
    fn malformed_json_is_an_error() {
        assert!(from_json::<AnalyzedArticle>(r#"{"article": 5}"#).is_err());
        assert!(from_json::<AnalyzedArticle>("{").is_err());
    }
}
