//! The stance stage: who stands for or against what, sentence by sentence.
//!
//! 1. Targets are the entity mentions (dates aside) and the occurrences of the document's
//!    topics ([`Doc::topics`]), each within its sentence. A target inside a statement's content
//!    gives the speaker's stance (holder and statement set); any other gives the text's own
//!    stance (no holder). A speaker is not a target of their own statement.
//! 2. At most [`crate::Limits::max_targets`] of them are classified: the topics first, then a
//!    speaker's stances, then the text's own, toward the more salient entities first.
//! 3. The classifier ([`StanceClassifier`]) reads each target in its sentence. For a speaker's
//!    stance, a stance predicate that governs the target in its clause ("ruled out sending
//!    ground troops", "backed the deal"; see [`crate::stance::predicates`]) takes precedence
//!    over the model, which reads the sentence's overall tone: the speaker is against the
//!    object of a rejection and for the object of support, with score and confidence
//!    [`PREDICATE_CONFIDENCE`].
//! 4. Per entity, a summary: mentions, mean score, counts per class, the strongest evidence,
//!    and how many statements it made.
//!
//! Run it after the statement stage, on a document whose entities are grouped. Every step is
//! linear in the document's length: mentions are matched to sentences in one pass, each
//! sentence is split into words once, and the statements scanned per target are capped.

use crate::doc::{Doc, EntitySummary, EntityType, Span, Stage, Stance, Target};
use crate::error::NlpError;
use crate::stance::predicates::SentenceWords;
use crate::stance::{Polarity, StanceClassifier};

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
        let candidates = most_salient(doc, candidates(doc), doc.limits.max_targets);
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
            self.classifier
                .classify_batch_until(&items, doc.deadline.as_ref())?
        };
        // The predicate rules read each sentence's words once, for all its targets.
        let mut words: Option<(Span, SentenceWords)> = None;
        let stances: Vec<Stance> = candidates
            .iter()
            .zip(&items)
            .zip(predictions)
            .map(|((candidate, &(sentence, target)), (polarity, p))| {
                let rule = candidate.holder.and_then(|_| {
                    if words
                        .as_ref()
                        .is_none_or(|(span, _)| *span != candidate.sentence)
                    {
                        words = Some((candidate.sentence, SentenceWords::of(sentence)));
                    }
                    words.as_ref().and_then(|(_, w)| w.governing(target))
                });
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

/// The `max` candidates toward what matters most: the topics a caller asked about, then a
/// speaker's stances, then the text's own, each toward the more salient entities first; in
/// text order (all of them when there are no more).
fn most_salient(doc: &Doc, mut candidates: Vec<Candidate>, max: usize) -> Vec<Candidate> {
    if candidates.len() <= max {
        return candidates;
    }
    let rank = |c: &Candidate| {
        let salience = match c.target {
            Target::Topic(_) => 2.0,
            Target::Entity(entity) => doc.entities.get(entity).map_or(0.0, |e| e.salience),
        };
        (c.holder.is_some(), salience)
    };
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| {
        let (held_a, salience_a) = rank(&candidates[a]);
        let (held_b, salience_b) = rank(&candidates[b]);
        (salience_b >= 2.0)
            .cmp(&(salience_a >= 2.0))
            .then(held_b.cmp(&held_a))
            .then(salience_b.total_cmp(&salience_a))
            .then(a.cmp(&b))
    });
    let mut keep = vec![false; candidates.len()];
    for &index in &order[..max] {
        keep[index] = true;
    }
    let mut index = 0;
    candidates.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    candidates
}

/// Every target in every sentence, with the statement whose content holds it.
fn candidates(doc: &Doc) -> Vec<Candidate> {
    // Statements are capped per document, so this scan is bounded.
    let statement_at = |target: Span| {
        doc.statements
            .iter()
            .position(|s| s.content.start <= target.start && target.end <= s.content.end)
    };
    let mut found = Vec::new();
    // Mentions and sentences are both in text order: one pass over the mentions serves all
    // the sentences.
    let mut next_mention = 0;
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
        while next_mention < doc.mentions.len()
            && doc.mentions[next_mention].span.start < sentence.span.start
        {
            next_mention += 1;
        }
        let in_sentence = doc.mentions[next_mention..]
            .iter()
            .take_while(|m| m.span.start < sentence.span.end);
        for mention in in_sentence.filter(|m| inside(m.span)) {
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
