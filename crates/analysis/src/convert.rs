//! The one conversion between the library's [`Doc`] and the contract's messages.
//!
//! Out: entities (ids `e1`, `e2`, ... in the doc's order), statements (`s1`, `s2`, ...),
//! stances, affiliations and summaries. In: a document rebuilt from the text and the entities a previous
//! stage (or a client) gave, entity `i` of the message becoming entity `i` of the doc; the
//! statements, stances and summaries then refer to entities by the ids those came with
//! (`entity_ids[i]`).
//!
//! Spans are code points into the normalized text in both.

use newsflow_nlp::{
    Doc, Entity as NlpEntity, EntityType as NlpType, NlpError, Span as NlpSpan, Stage,
    StanceMethod as NlpStanceMethod, StatementKind as NlpStatementKind, Target as NlpTarget,
    stance::Polarity as NlpPolarity, stance::affiliation::AffiliationKind as NlpAffiliationKind,
    tokenize::Tokenizer,
};
use newsflow_proto::v1::{
    Affiliation, AffiliationKind, Entity, EntitySummary, EntityType, Mention, MentionKind,
    Polarity, Span, Stance, StanceMethod, Statement, StatementKind, Target, target,
};

/// The entities of an analysed doc, ids `e1`, `e2`, ... in the doc's order.
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
            // Placed afterwards, with the article's context (`places::geocode`).
            geo: None,
        })
        .collect()
}

/// The statements of an analysed doc, ids `s1`, `s2`, ..., speakers by their entity ids.
pub fn statements(doc: &Doc, entity_ids: &[String]) -> Vec<Statement> {
    let id_of = |entity: Option<usize>| id_at(entity_ids, entity);
    doc.statements
        .iter()
        .enumerate()
        .map(|(index, found)| Statement {
            id: statement_id(index),
            speaker_entity_id: id_of(found.entity),
            speaker_span: found.source.map(span),
            speaker_text: found
                .source
                .map(|s| doc.span_text(s).to_owned())
                .unwrap_or_default(),
            cue_span: Some(span(found.cue)),
            cue: doc.span_text(found.cue).to_owned(),
            content_span: Some(span(found.content)),
            content: doc.span_text(found.content).to_owned(),
            kind: statement_kind(found.kind) as i32,
            confidence: found.confidence,
        })
        .collect()
}

/// The stances of an analysed doc.
pub fn stances(doc: &Doc, entity_ids: &[String]) -> Vec<Stance> {
    let id_of = |entity: Option<usize>| id_at(entity_ids, entity);
    doc.stances
        .iter()
        .map(|stance| Stance {
            holder_entity_id: id_of(stance.holder),
            statement_id: stance.statement.map(statement_id).unwrap_or_default(),
            target: Some(Target {
                target: Some(match stance.target {
                    NlpTarget::Entity(entity) => target::Target::EntityId(id_of(Some(entity))),
                    NlpTarget::Topic(topic) => {
                        target::Target::Topic(doc.topics.get(topic).cloned().unwrap_or_default())
                    }
                    NlpTarget::Phrase(phrase) => {
                        target::Target::Topic(doc.phrases.get(phrase).cloned().unwrap_or_default())
                    }
                }),
                span: Some(span(stance.target_span)),
            }),
            polarity: polarity(stance.polarity) as i32,
            score: stance.score,
            confidence: stance.confidence,
            evidence_span: Some(span(stance.evidence)),
            method: stance_method(stance.method) as i32,
        })
        .collect()
}

/// The affiliations of an analysed doc.
pub fn affiliations(doc: &Doc, entity_ids: &[String]) -> Vec<Affiliation> {
    doc.affiliations
        .iter()
        .map(|a| Affiliation {
            entity_id: id_at(entity_ids, Some(a.entity)),
            affiliate_entity_id: id_at(entity_ids, Some(a.affiliate)),
            kind: match a.kind {
                NlpAffiliationKind::Title => AffiliationKind::Title,
                NlpAffiliationKind::Country => AffiliationKind::Country,
            } as i32,
            evidence_span: Some(span(a.evidence)),
        })
        .collect()
}

fn stance_method(method: NlpStanceMethod) -> StanceMethod {
    match method {
        NlpStanceMethod::Portrayal => StanceMethod::Portrayal,
        NlpStanceMethod::HolderModel => StanceMethod::HolderModel,
        NlpStanceMethod::Predicate => StanceMethod::Predicate,
        NlpStanceMethod::HolderPortrayal => StanceMethod::HolderPortrayal,
        NlpStanceMethod::OwnSide => StanceMethod::OwnSide,
    }
}

/// The per-entity summaries of an analysed doc.
pub fn summaries(doc: &Doc, entity_ids: &[String]) -> Vec<EntitySummary> {
    doc.summaries
        .iter()
        .map(|summary| EntitySummary {
            entity_id: id_at(entity_ids, Some(summary.entity)),
            mention_count: summary.mention_count,
            mean_polarity: summary.mean_polarity,
            negative: summary.negative,
            neutral: summary.neutral,
            positive: summary.positive,
            strongest_evidence: summary.strongest_evidence.map(span),
            strongest_score: summary.strongest_score,
            statement_count: summary.statement_count,
        })
        .collect()
}

/// `doc` (over normalized text, no annotations yet) tokenized, with the given entities and
/// their mentions, entity `i` of the slice becoming entity `i` of the doc. Mentions whose span
/// does not cover whole tokens are widened to the tokens they touch; mentions outside the
/// text are an error.
pub fn doc_with_entities(mut doc: Doc, entities: &[Entity]) -> Result<Doc, NlpError> {
    Tokenizer.process(&mut doc)?;
    let mut owned: Vec<(NlpSpan, usize, f32)> = Vec::new();
    for (index, entity) in entities.iter().enumerate() {
        for mention in &entity.mentions {
            let Some(s) = mention.span else { continue };
            let mention_span = NlpSpan::new(s.start as usize, s.end as usize);
            if mention_span.is_empty() || mention_span.end > doc.char_len() {
                return Err(NlpError::InvalidInput(format!(
                    "entity {}: mention {}..{} is outside the text ({} code points)",
                    entity.id,
                    s.start,
                    s.end,
                    doc.char_len()
                )));
            }
            owned.push((mention_span, index, mention.confidence));
        }
    }
    owned.sort_by_key(|(s, _, _)| (s.start, s.end));
    let mut mentions_of: Vec<Vec<usize>> = vec![Vec::new(); entities.len()];
    for (mention_span, entity, confidence) in owned {
        // Tokens are in text order: the first one ending after the mention's start and the
        // last one starting before its end, by binary search.
        let first = doc
            .tokens
            .partition_point(|t| t.span.end <= mention_span.start);
        let after_last = doc
            .tokens
            .partition_point(|t| t.span.start < mention_span.end);
        if first >= after_last {
            continue;
        }
        let last = after_last - 1;
        let label = nlp_type(entities[entity].r#type());
        doc.push_mention(first..last + 1, label, confidence)?;
        let at = doc.mentions.len() - 1;
        doc.mentions[at].entity = Some(entity);
        mentions_of[entity].push(at);
    }
    doc.entities = entities
        .iter()
        .zip(mentions_of)
        .map(|(entity, mentions)| NlpEntity {
            label: nlp_type(entity.r#type()),
            canonical_name: entity.canonical_name.clone(),
            mentions,
            salience: entity.salience,
        })
        .collect();
    Ok(doc)
}

/// The id `entity_ids` gives the entity at an index of the doc's entities ("" for none).
fn id_at(entity_ids: &[String], entity: Option<usize>) -> String {
    entity
        .and_then(|index| entity_ids.get(index))
        .cloned()
        .unwrap_or_default()
}

/// The id of the entity at `index` of the doc's entities.
pub fn entity_id(index: usize) -> String {
    format!("e{}", index + 1)
}

/// The id of the statement at `index` of the doc's statements.
pub fn statement_id(index: usize) -> String {
    format!("s{}", index + 1)
}

/// A library span as a contract span.
pub fn span(span: NlpSpan) -> Span {
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

fn nlp_type(kind: EntityType) -> NlpType {
    match kind {
        EntityType::Person => NlpType::Person,
        EntityType::Org => NlpType::Org,
        EntityType::Gpe => NlpType::Gpe,
        EntityType::Loc => NlpType::Loc,
        EntityType::Norp => NlpType::Norp,
        EntityType::Event => NlpType::Event,
        EntityType::Date => NlpType::Date,
        EntityType::Misc | EntityType::Unspecified => NlpType::Misc,
    }
}

fn statement_kind(kind: NlpStatementKind) -> StatementKind {
    match kind {
        NlpStatementKind::Direct => StatementKind::Direct,
        NlpStatementKind::Indirect => StatementKind::Indirect,
        NlpStatementKind::Mixed => StatementKind::Mixed,
        NlpStatementKind::AccordingTo => StatementKind::AccordingTo,
    }
}

fn polarity(polarity: NlpPolarity) -> Polarity {
    match polarity {
        NlpPolarity::Negative => Polarity::Negative,
        NlpPolarity::Neutral => Polarity::Neutral,
        NlpPolarity::Positive => Polarity::Positive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(id: &str, kind: EntityType, spans: &[(u32, u32)]) -> Entity {
        Entity {
            id: id.into(),
            r#type: kind as i32,
            canonical_name: id.into(),
            key: format!("PERSON:{id}"),
            salience: 0.5,
            mentions: spans
                .iter()
                .map(|&(start, end)| Mention {
                    span: Some(Span { start, end }),
                    ..Mention::default()
                })
                .collect(),
            geo: None,
        }
    }

    #[test]
    fn entities_are_laid_over_the_tokens_in_their_order() {
        // "Peskov" twice and "NATO"; the second entity's mention comes first in the text.
        let text = "NATO said Peskov. Peskov agreed.".to_owned();
        let given = [
            entity("e1", EntityType::Person, &[(10, 16), (18, 24)]),
            entity("e2", EntityType::Org, &[(0, 3)]), // widened to the token "NATO"
        ];
        let doc = doc_with_entities(Doc::from_normalized(text), &given).expect("laid");
        assert_eq!(doc.entities.len(), 2);
        assert_eq!(doc.entities[0].mentions.len(), 2);
        assert_eq!(doc.mentions[0].span, NlpSpan::new(0, 4));
        assert_eq!(doc.mentions[0].entity, Some(1));
        assert_eq!(doc.entities[1].label, NlpType::Org);
        let back = entities(&doc);
        assert_eq!(back[0].id, "e1");
        assert_eq!(back[1].mentions[0].text, "NATO");
    }

    #[test]
    fn a_mention_outside_the_text_is_an_error() {
        let given = [entity("e1", EntityType::Person, &[(3, 40)])];
        let doc = Doc::from_normalized("Short text.".to_owned());
        assert!(doc_with_entities(doc, &given).is_err());
    }
}
