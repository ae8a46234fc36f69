//! Statements and stances of one article, put together.
//!
//! 1. The article's entities (from the extractor) are laid over the tokenized text, so the
//!    statement finder resolves speakers to them.
//! 2. The statement finder adds who said what.
//! 3. Targets are the entity mentions (dates aside) and the occurrences of the configured topics.
//!    Every target is classified within its sentence; a target inside a statement's content
//!    gives the speaker's stance (holder and statement set), any other gives the text's own
//!    stance (no holder). A speaker is not a target of their own statement.
//!    For a speaker's stance, a stance predicate that governs the target in its clause
//!    ("ruled out sending ground troops", "backed the deal"; see
//!    [`newsflow_nlp::stance::predicates`]) takes precedence over the model, which reads the
//!    sentence's overall tone: the speaker is against the object of a rejection and for the
//!    object of support, with score and confidence [`PREDICATE_CONFIDENCE`].
//! 4. Per entity, a summary: mentions, mean score, counts per class, the strongest evidence,
//!    and how many statements it made.

use std::collections::HashMap;

use newsflow_nlp::{
    Doc, EntityType as NlpType, NlpError, Span as NlpSpan, Stage,
    stance::{Polarity as NlpPolarity, StanceClassifier, predicates},
    statements::StatementFinder,
    tokenize::Tokenizer,
};
use newsflow_proto::v1::{
    Entity, EntitySummary, EntityType, Polarity, Span, Stance, Statement, StatementKind, Target,
    target,
};

/// Score magnitude and confidence of a stance given by a governing predicate rather than the
/// model: a rule, so a fixed value below certainty.
pub const PREDICATE_CONFIDENCE: f32 = 0.8;

/// The models of this stage.
pub struct Models {
    /// Finds statements.
    pub statements: StatementFinder,
    /// Classifies the polarity toward a target in a sentence.
    pub stance: StanceClassifier,
}

/// What the stage adds to an article.
#[derive(Debug, Default, PartialEq)]
pub struct Classified {
    pub statements: Vec<Statement>,
    pub stances: Vec<Stance>,
    pub summaries: Vec<EntitySummary>,
}

/// One thing to classify: a target in a sentence, and whose stance it would be.
struct Candidate {
    target: target::Target,
    target_span: NlpSpan,
    sentence: NlpSpan,
    holder: Option<usize>,
    statement: Option<usize>,
}

/// Analyzes `text` (normalized; every span indexes into it) with its `entities`.
pub fn classify(
    models: &Models,
    text: &str,
    entities: &[Entity],
    topics: &[String],
) -> Result<Classified, NlpError> {
    let mut doc = Doc::from_normalized(text.to_owned());
    Tokenizer.process(&mut doc)?;
    lay_entities(&mut doc, entities)?;
    models.statements.process(&mut doc)?;

    let statements: Vec<Statement> = doc
        .statements
        .iter()
        .enumerate()
        .map(|(index, found)| Statement {
            id: statement_id(index),
            speaker_entity_id: found
                .entity
                .and_then(|e| entities.get(e))
                .map(|e| e.id.clone())
                .unwrap_or_default(),
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
        .collect();

    let candidates = candidates(&doc, entities, topics);
    let sentences: Vec<&str> = candidates
        .iter()
        .map(|c| doc.span_text(c.sentence))
        .collect();
    let items: Vec<(&str, NlpSpan)> = candidates
        .iter()
        .zip(&sentences)
        .map(|(c, sentence)| {
            (
                *sentence,
                NlpSpan::new(
                    c.target_span.start - c.sentence.start,
                    c.target_span.end - c.sentence.start,
                ),
            )
        })
        .collect();
    let predictions = if items.is_empty() {
        Vec::new()
    } else {
        models.stance.classify_batch(&items)?
    };

    let stances: Vec<Stance> = candidates
        .iter()
        .zip(&items)
        .zip(predictions)
        .map(|((candidate, &(sentence, target)), (polarity, p))| {
            let (polarity, score, confidence) = match candidate
                .holder
                .and_then(|_| predicates::governing(sentence, target))
            {
                Some(rule) => {
                    let sign = rule.polarity.index() as f32 - 1.0;
                    (
                        rule.polarity,
                        sign * PREDICATE_CONFIDENCE,
                        PREDICATE_CONFIDENCE,
                    )
                }
                None => (polarity, p[2] - p[0], p[polarity.index()]),
            };
            (candidate, polarity, score, confidence)
        })
        .map(|(candidate, polarity, score, confidence)| Stance {
            holder_entity_id: candidate
                .holder
                .and_then(|e| entities.get(e))
                .map(|e| e.id.clone())
                .unwrap_or_default(),
            statement_id: candidate.statement.map(statement_id).unwrap_or_default(),
            target: Some(Target {
                target: Some(candidate.target.clone()),
                span: Some(span(candidate.target_span)),
            }),
            polarity: proto_polarity(polarity) as i32,
            score,
            confidence,
            evidence_span: Some(span(candidate.sentence)),
        })
        .collect();

    let summaries = summaries(entities, &statements, &stances);
    Ok(Classified {
        statements,
        stances,
        summaries,
    })
}

/// Adds the given entities and their mentions to a tokenized doc, entity `i` of the slice
/// becoming entity `i` of the doc. Mentions whose span does not cover whole tokens are widened
/// to the tokens they touch; mentions outside the text are an error.
fn lay_entities(doc: &mut Doc, entities: &[Entity]) -> Result<(), NlpError> {
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
        let first = doc
            .tokens
            .iter()
            .position(|t| t.span.end > mention_span.start);
        let last = doc
            .tokens
            .iter()
            .rposition(|t| t.span.start < mention_span.end);
        let (Some(first), Some(last)) = (first, last) else {
            continue;
        };
        if first > last {
            continue;
        }
        let label = nlp_type(entities[entity].r#type());
        doc.push_mention(first..last + 1, label, confidence)?;
        let at = doc.mentions.len() - 1;
        doc.mentions[at].entity = Some(entity);
        mentions_of[entity].push(at);
    }
    doc.entities = entities
        .iter()
        .zip(mentions_of)
        .map(|(entity, mentions)| newsflow_nlp::Entity {
            label: nlp_type(entity.r#type()),
            canonical_name: entity.canonical_name.clone(),
            mentions,
            salience: entity.salience,
        })
        .collect();
    Ok(())
}

/// Every target in every sentence, with the statement whose content holds it.
fn candidates(doc: &Doc, entities: &[Entity], topics: &[String]) -> Vec<Candidate> {
    let statement_at = |target: NlpSpan| {
        doc.statements
            .iter()
            .position(|s| s.content.start <= target.start && target.end <= s.content.end)
    };
    let mut found = Vec::new();
    for sentence in &doc.sentences {
        let inside = |s: NlpSpan| sentence.span.start <= s.start && s.end <= sentence.span.end;
        let mut push = |target: target::Target, target_span: NlpSpan, own: Option<usize>| {
            let statement = statement_at(target_span);
            let holder = statement.and_then(|s| doc.statements[s].entity);
            if own.is_some() && holder == own {
                return; // a speaker is not a target of their own words
            }
            found.push(Candidate {
                target,
                target_span,
                sentence: sentence.span,
                holder,
                statement,
            });
        };
        for mention in doc.mentions.iter().filter(|m| inside(m.span)) {
            let Some(entity) = mention.entity else {
                continue;
            };
            if mention.label == NlpType::Date {
                continue;
            }
            push(
                target::Target::EntityId(entities[entity].id.clone()),
                mention.span,
                Some(entity),
            );
        }
        for topic in topics {
            for topic_span in occurrences(doc, sentence.span, topic) {
                push(target::Target::Topic(topic.clone()), topic_span, None);
            }
        }
    }
    found
}

/// Where `topic` occurs in the sentence, case-insensitively, as whole words.
fn occurrences(doc: &Doc, sentence: NlpSpan, topic: &str) -> Vec<NlpSpan> {
    let needle: Vec<char> = topic.trim().to_lowercase().chars().collect();
    if needle.is_empty() {
        return Vec::new();
    }
    let haystack: Vec<char> = doc
        .span_text(sentence)
        .chars()
        .flat_map(char::to_lowercase)
        .collect();
    // Lowercasing may change lengths (rarely); then code points would not line up: skip.
    if haystack.len() != sentence.len() {
        return Vec::new();
    }
    let is_word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
    let mut spans = Vec::new();
    let mut at = 0;
    while at + needle.len() <= haystack.len() {
        let end = at + needle.len();
        if haystack[at..end] == needle[..]
            && !is_word(at.checked_sub(1).and_then(|i| haystack.get(i)))
            && !is_word(haystack.get(end))
        {
            spans.push(NlpSpan::new(sentence.start + at, sentence.start + end));
            at = end;
        } else {
            at += 1;
        }
    }
    spans
}

fn summaries(
    entities: &[Entity],
    statements: &[Statement],
    stances: &[Stance],
) -> Vec<EntitySummary> {
    let mut toward: HashMap<&str, Vec<&Stance>> = HashMap::new();
    for stance in stances {
        if let Some(Target {
            target: Some(target::Target::EntityId(id)),
            ..
        }) = &stance.target
        {
            toward.entry(id.as_str()).or_default().push(stance);
        }
    }
    entities
        .iter()
        .map(|entity| {
            let mine = toward
                .get(entity.id.as_str())
                .map_or(&[][..], Vec::as_slice);
            let count = |p: Polarity| mine.iter().filter(|s| s.polarity == p as i32).count() as u32;
            let strongest = mine
                .iter()
                .max_by(|a, b| a.score.abs().total_cmp(&b.score.abs()));
            EntitySummary {
                entity_id: entity.id.clone(),
                mention_count: entity.mentions.len() as u32,
                mean_polarity: if mine.is_empty() {
                    0.0
                } else {
                    mine.iter().map(|s| s.score).sum::<f32>() / mine.len() as f32
                },
                negative: count(Polarity::Negative),
                neutral: count(Polarity::Neutral),
                positive: count(Polarity::Positive),
                strongest_evidence: strongest.and_then(|s| s.evidence_span),
                strongest_score: strongest.map_or(0.0, |s| s.score),
                statement_count: statements
                    .iter()
                    .filter(|s| s.speaker_entity_id == entity.id)
                    .count() as u32,
            }
        })
        .collect()
}

fn statement_id(index: usize) -> String {
    format!("s{}", index + 1)
}

fn span(s: NlpSpan) -> Span {
    Span {
        start: s.start as u32,
        end: s.end as u32,
    }
}

fn statement_kind(kind: newsflow_nlp::StatementKind) -> StatementKind {
    match kind {
        newsflow_nlp::StatementKind::Direct => StatementKind::Direct,
        newsflow_nlp::StatementKind::Indirect => StatementKind::Indirect,
        newsflow_nlp::StatementKind::Mixed => StatementKind::Mixed,
        newsflow_nlp::StatementKind::AccordingTo => StatementKind::AccordingTo,
    }
}

fn proto_polarity(polarity: NlpPolarity) -> Polarity {
    match polarity {
        NlpPolarity::Negative => Polarity::Negative,
        NlpPolarity::Neutral => Polarity::Neutral,
        NlpPolarity::Positive => Polarity::Positive,
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
