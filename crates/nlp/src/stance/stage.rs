//! The stance stage: who stands for or against what, sentence by sentence.
//!
//! 1. Targets are the entity mentions (dates aside) and the occurrences of the document's
//!    topics ([`Doc::topics`]), each within its sentence. A target inside a statement's content
//!    gives the speaker's stance (holder and statement set); any other gives the text's own
//!    stance (no holder). A speaker is not a target of their own statement.
//! 2. The classifier ([`StanceClassifier`]) reads each target in its sentence. For a speaker's
//!    stance, a stance predicate that governs the target in its clause ("ruled out sending
//!    ground troops", "backed the deal"; see [`predicates`]) takes precedence over the model,
//!    which reads the sentence's overall tone: the speaker is against the object of a
//!    rejection and for the object of support, with score and confidence
//!    [`PREDICATE_CONFIDENCE`].
//! 3. Per entity, a summary: mentions, mean score, counts per class, the strongest evidence,
//!    and how many statements it made.
//!
//! Run it after the statement stage, on a document whose entities are grouped.

use crate::doc::{Doc, EntitySummary, EntityType, Span, Stage, Stance, Target};
use crate::error::NlpError;
use crate::stance::{Polarity, StanceClassifier, predicates};

/// Score magnitude and confidence of a stance given by a governing predicate rather than the
/// model: a rule, so a fixed value below certainty.
pub const PREDICATE_CONFIDENCE: f32 = 0.8;

/// The stage: classifies every target and sums up each entity. Replaces any stances and
/// summaries the document had.
pub struct StanceStage {
    classifier: StanceClassifier,
}

impl StanceStage {
    /// The stage over a loaded classifier.
    pub fn new(classifier: StanceClassifier) -> Self {
        Self { classifier }
    }

    /// The classifier.
    pub fn classifier(&self) -> &StanceClassifier {
        &self.classifier
    }
}

/// One thing to classify: a target in a sentence, and whose stance it would be.
struct Candidate {
    target: Target,
    target_span: Span,
    sentence: Span,
    holder: Option<usize>,
    statement: Option<usize>,
}

impl Stage for StanceStage {
    fn name(&self) -> &'static str {
        "stance"
    }

    fn process(&self, doc: &mut Doc) -> Result<(), NlpError> {
        let candidates = candidates(doc);
        // Each target's span within its sentence, for the classifier and the predicate rules.
        let items: Vec<(&str, Span)> = candidates
            .iter()
            .map(|c| {
                let within = Span::new(
                    c.target_span.start - c.sentence.start,
                    c.target_span.end - c.sentence.start,
                );
                (doc.span_text(c.sentence), within)
            })
            .collect();
        let predictions = if items.is_empty() {
            Vec::new()
        } else {
            self.classifier.classify_batch(&items)?
        };
        let stances: Vec<Stance> = candidates
            .iter()
            .zip(&items)
            .zip(predictions)
            .map(|((candidate, &(sentence, target)), (polarity, p))| {
                let rule = candidate
                    .holder
                    .and_then(|_| predicates::governing(sentence, target));
                let (polarity, score, confidence) = match rule {
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
                Stance {
                    holder: candidate.holder,
                    statement: candidate.statement,
                    target: candidate.target,
                    target_span: candidate.target_span,
                    polarity,
                    score,
                    confidence,
                    evidence: candidate.sentence,
                }
            })
            .collect();
        doc.summaries = summaries(doc, &stances);
        doc.stances = stances;
        Ok(())
    }
}

/// Every target in every sentence, with the statement whose content holds it.
fn candidates(doc: &Doc) -> Vec<Candidate> {
    let statement_at = |target: Span| {
        doc.statements
            .iter()
            .position(|s| s.content.start <= target.start && target.end <= s.content.end)
    };
    let mut found = Vec::new();
    for sentence in &doc.sentences {
        let inside = |s: Span| sentence.span.start <= s.start && s.end <= sentence.span.end;
        let mut push = |target: Target, target_span: Span, own: Option<usize>| {
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
            if mention.label == EntityType::Date {
                continue;
            }
            push(Target::Entity(entity), mention.span, Some(entity));
        }
        for (topic_index, topic) in doc.topics.iter().enumerate() {
            for topic_span in occurrences(doc, sentence.span, topic) {
                push(Target::Topic(topic_index), topic_span, None);
            }
        }
    }
    found
}

/// Where `topic` occurs in the sentence, case-insensitively, as whole words.
fn occurrences(doc: &Doc, sentence: Span, topic: &str) -> Vec<Span> {
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
            spans.push(Span::new(sentence.start + at, sentence.start + end));
            at = end;
        } else {
            at += 1;
        }
    }
    spans
}

/// One summary per entity of the document, over the stances toward it.
fn summaries(doc: &Doc, stances: &[Stance]) -> Vec<EntitySummary> {
    let mut toward: Vec<Vec<&Stance>> = vec![Vec::new(); doc.entities.len()];
    for stance in stances {
        if let Target::Entity(entity) = stance.target
            && let Some(list) = toward.get_mut(entity)
        {
            list.push(stance);
        }
    }
    let mut statements_by = vec![0u32; doc.entities.len()];
    for statement in &doc.statements {
        if let Some(count) = statement.entity.and_then(|e| statements_by.get_mut(e)) {
            *count += 1;
        }
    }
    doc.entities
        .iter()
        .zip(toward)
        .enumerate()
        .map(|(index, (entity, mine))| {
            let count = |p: Polarity| mine.iter().filter(|s| s.polarity == p).count() as u32;
            let strongest = mine
                .iter()
                .max_by(|a, b| a.score.abs().total_cmp(&b.score.abs()));
            EntitySummary {
                entity: index,
                mention_count: entity.mentions.len() as u32,
                mean_polarity: if mine.is_empty() {
                    0.0
                } else {
                    mine.iter().map(|s| s.score).sum::<f32>() / mine.len() as f32
                },
                negative: count(Polarity::Negative),
                neutral: count(Polarity::Neutral),
                positive: count(Polarity::Positive),
                strongest_evidence: strongest.map(|s| s.evidence),
                strongest_score: strongest.map_or(0.0, |s| s.score),
                statement_count: statements_by[index],
            }
        })
        .collect()
}
