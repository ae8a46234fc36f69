//! The analysis library's entities as the contract's messages.

use newsflow_nlp::{Doc, EntityType as NlpType};
use newsflow_proto::v1::{Entity, EntityType, Mention, MentionKind, Span};

/// The entities of an analyzed doc, ids `e1`, `e2`, ... in order of first mention.
pub fn entities(doc: &Doc) -> Vec<Entity> {
    doc.entities
        .iter()
        .enumerate()
        .map(|(index, entity)| Entity {
            id: entity_id(index),
            r#type: entity_type(entity.label) as i32,
            canonical_name: entity.canonical_name.clone(),
            key: entity.key(),
            salience: entity.salience,
            mentions: entity
                .mentions
                .iter()
                .filter_map(|&m| doc.mentions.get(m))
                .map(|mention| Mention {
                    span: Some(span(mention.span)),
                    text: doc.mention_text(mention).to_owned(),
                    kind: MentionKind::Name as i32,
                    confidence: mention.confidence,
                })
                .collect(),
        })
        .collect()
}

/// The id of the entity at `index` of the doc's entities.
pub fn entity_id(index: usize) -> String {
    format!("e{}", index + 1)
}

/// A library span as a contract span.
pub fn span(span: newsflow_nlp::Span) -> Span {
    Span {
        start: span.start as u32,
        end: span.end as u32,
    }
}

fn entity_type(label: NlpType) -> EntityType {
    match label {
        NlpType::Person => EntityType::Person,
        NlpType::Org => EntityType::Org,
        NlpType::Gpe => EntityType::Gpe,
        NlpType::Loc => EntityType::Loc,
        NlpType::Norp => EntityType::Norp,
        NlpType::Event => EntityType::Event,
        NlpType::Date => EntityType::Date,
        NlpType::Misc => EntityType::Misc,
    }
}
