//! The stance stage: who stands for or against what, sentence by sentence.
//!
//! 1. Targets are the entity mentions (dates aside), the occurrences of the document's topics
//!    ([`Doc::topics`]), and the objects of stance predicates in what speakers said ("ruled out
//!    sending [ground troops]"; [`crate::stance::predicates`], [`Doc::phrases`]), each within
//!    its sentence. A target inside a statement's content gives the speaker's stance (holder
//!    and statement set); any other gives the text's own stance (no holder). A speaker is not a
//!    target of their own statement.
//! 2. At most [`crate::Limits::max_targets`] of them are classified: the topics first, then a
//!    speaker's stances, then the text's own, toward the more salient entities first.
//! 3. Two models read each target in its sentence. The text's own stance is the
//!    target-sentiment model's (NewsMTSC: how the words portray the target). A speaker's
//!    stance is the holder-stance model's (DSE: whether the holder is for or against the
//!    target), which reads the speaker's mention in the sentence, or the speaker's name put
//!    before the sentence ("Peskov said: ...") when the sentence does not name them. A stance
//!    predicate that governs the target in its clause ("ruled out sending ground troops",
//!    "backed the deal"; see [`crate::stance::predicates`]) takes precedence over the model
//!    for a speaker: against the object of a rejection and for the object of support, with
//!    score and confidence [`PREDICATE_CONFIDENCE`].
//! 4. A speaker against their own side ([`crate::stance::affiliation`]: their title's
//!    organisation or country, and whatever names that country) needs an explicit predicate;
//!    the model's word alone, however sure, makes it neutral ([`StanceMethod::OwnSide`]).
//! 5. Per entity, a summary: mentions, mean score, counts per class, the strongest evidence,
//!    and how many statements it made.
//!
//! Run it after the statement stage, on a document whose entities are grouped. Every step is
//! linear in the document's length: mentions are matched to sentences in one pass, each
//! sentence is split into words once, and the statements scanned per target are capped.

use crate::doc::{Doc, EntitySummary, EntityType, Span, Stage, Stance, StanceMethod, Target};
use crate::error::NlpError;
use crate::gazetteer::Nations;
use crate::stance::affiliation::{affiliations, is_affiliated};
use crate::stance::predicates::SentenceWords;
use crate::stance::{Polarity, StanceClassifier};
use std::collections::HashMap;

/// Score magnitude and confidence of a stance given by a governing predicate rather than the
/// model: a rule, so a fixed value below certainty.
pub const PREDICATE_CONFIDENCE: f32 = 0.8;

/// The stage: classifies every target and sums up each entity. Replaces any stances,
/// affiliations and summaries the document had.
pub struct StanceStage {
    classifier: StanceClassifier,
    holder: Option<StanceClassifier>,
    nations: Nations,
}

impl StanceStage {
    /// The stage over a loaded target-sentiment classifier, which then also reads speakers'
    /// stances, and no country names.
    pub fn new(classifier: StanceClassifier) -> Self {
        Self {
            classifier,
            holder: None,
            nations: Nations::default(),
        }
    }

    /// Reads speakers' stances with a holder-stance model.
    pub fn with_holder_model(mut self, holder: StanceClassifier) -> Result<Self, NlpError> {
        if !holder.reads_holder() {
            return Err(NlpError::InvalidInput(
                "the holder-stance model must mark holders".into(),
            ));
        }
        self.holder = Some(holder);
        Ok(self)
    }

    /// Links what names one country, for the affiliations.
    pub fn with_nations(mut self, nations: Nations) -> Self {
        self.nations = nations;
        self
    }

    /// The target-sentiment classifier.
    pub fn classifier(&self) -> &StanceClassifier {
        &self.classifier
    }
}

/// What one model reads for one target: the text (the sentence, or the speaker's name and
/// the sentence), the target and, for a holder's stance, the holder, in code points of it.
struct Reading {
    text: String,
    target: Span,
    holder: Option<Span>,
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
        self.process_many(std::slice::from_mut(doc))
    }

    /// Each model reads all the documents' targets in one batched call, so short documents
    /// fill the encoder's batches together.
    fn process_many(&self, docs: &mut [Doc]) -> Result<(), NlpError> {
        let prepared: Vec<Prepared> = docs.iter_mut().map(|doc| self.prepare(doc)).collect();
        let predictions = self.predict(docs, &prepared)?;
        for ((doc, prepared), predictions) in docs.iter_mut().zip(prepared).zip(predictions) {
            self.finish(doc, prepared, predictions);
        }
        Ok(())
    }
}

/// A reading's polarity and its probabilities (negative, neutral, positive).
type Prediction = (Polarity, [f32; 3]);

/// What the stage finds in a document before the models read it.
struct Prepared {
    candidates: Vec<Candidate>,
    own_side: Vec<crate::stance::affiliation::Affiliation>,
    readings: Vec<Reading>,
}

impl StanceStage {
    /// The document's targets (setting its phrases), its speakers' sides, and what the models
    /// read for each target.
    fn prepare(&self, doc: &mut Doc) -> Prepared {
        let (found, phrases) = candidates(doc);
        doc.phrases = phrases;
        let candidates = most_salient(doc, found, doc.limits.max_targets);
        let own_side = affiliations(doc, &self.nations);
        let readings = candidates
            .iter()
            .map(|c| reading(doc, c, self.holder.is_some()))
            .collect();
        Prepared {
            candidates,
            own_side,
            readings,
        }
    }

    /// The stances from the models' predictions, the rules and the speakers' sides, and the
    /// entities' summaries.
    fn finish(&self, doc: &mut Doc, prepared: Prepared, predictions: Vec<Prediction>) {
        let Prepared {
            candidates,
            own_side,
            ..
        } = prepared;
        // The predicate rules read each sentence's words once, for all its targets.
        let mut words: Option<(Span, SentenceWords)> = None;
        let stances: Vec<Stance> = candidates
            .iter()
            .zip(predictions)
            .map(|(candidate, (polarity, p))| {
                let within = Span::new(
                    candidate.target_span.start - candidate.sentence.start,
                    candidate.target_span.end - candidate.sentence.start,
                );
                let rule = candidate.holder.and_then(|_| {
                    if words
                        .as_ref()
                        .is_none_or(|(span, _)| *span != candidate.sentence)
                    {
                        let sentence = doc.span_text(candidate.sentence);
                        words = Some((candidate.sentence, SentenceWords::of(sentence)));
                    }
                    words.as_ref().and_then(|(_, w)| w.governing(within))
                });
                let model = match (candidate.holder, &self.holder) {
                    (None, _) => StanceMethod::Portrayal,
                    (Some(_), Some(_)) => StanceMethod::HolderModel,
                    (Some(_), None) => StanceMethod::HolderPortrayal,
                };
                let (polarity, score, confidence, method) = match rule {
                    Some(rule) => {
                        let sign = rule.polarity.index() as f32 - 1.0;
                        (
                            rule.polarity,
                            sign * PREDICATE_CONFIDENCE,
                            PREDICATE_CONFIDENCE,
                            StanceMethod::Predicate,
                        )
                    }
                    None => {
                        let against_own_side = polarity == Polarity::Negative
                            && matches!(
                                (candidate.holder, candidate.target),
                                (Some(holder), Target::Entity(target))
                                    if is_affiliated(&own_side, holder, target)
                            );
                        if against_own_side {
                            (Polarity::Neutral, 0.0, 1.0 - p[0], StanceMethod::OwnSide)
                        } else {
                            (polarity, p[2] - p[0], p[polarity.index()], model)
                        }
                    }
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
                    method,
                }
            })
            .collect();
        doc.summaries = summaries(doc, &stances);
        doc.stances = stances;
        doc.affiliations = own_side;
    }

    /// Each document's readings' polarities and probabilities: a holder's from the
    /// holder-stance model when there is one, the rest from the target-sentiment model, each
    /// model in one batch over all the documents.
    fn predict(
        &self,
        docs: &[Doc],
        prepared: &[Prepared],
    ) -> Result<Vec<Vec<Prediction>>, NlpError> {
        let deadline = Doc::earliest_deadline(docs);
        let readings: Vec<&Reading> = prepared.iter().flat_map(|p| &p.readings).collect();
        let flat = self.predict_readings(&readings, deadline)?;
        let mut flat = flat.into_iter();
        Ok(prepared
            .iter()
            .map(|p| flat.by_ref().take(p.readings.len()).collect())
            .collect())
    }

    /// The predictions of `readings`, whichever documents they come from: one batched call to
    /// each model.
    fn predict_readings(
        &self,
        readings: &[&Reading],
        deadline: Option<&crate::limits::Deadline>,
    ) -> Result<Vec<Prediction>, NlpError> {
        let mut out = vec![(Polarity::Neutral, [0.0, 1.0, 0.0]); readings.len()];
        let (held, own): (Vec<usize>, Vec<usize>) = (0..readings.len())
            .partition(|&i| readings[i].holder.is_some() && self.holder.is_some());
        if let Some(holder_model) = &self.holder
            && !held.is_empty()
        {
            let items: Vec<(&str, Span, Span)> = held
                .iter()
                .map(|&i| {
                    let r = &readings[i];
                    (r.text.as_str(), r.target, r.holder.unwrap_or(r.target))
                })
                .collect();
            let predicted = holder_model.classify_held_until(&items, deadline)?;
            for (&i, p) in held.iter().zip(predicted) {
                out[i] = p;
            }
        }
        if !own.is_empty() {
            let items: Vec<(&str, Span)> = own
                .iter()
                .map(|&i| (readings[i].text.as_str(), readings[i].target))
                .collect();
            let predicted = self.classifier.classify_batch_until(&items, deadline)?;
            for (&i, p) in own.iter().zip(predicted) {
                out[i] = p;
            }
        }
        Ok(out)
    }
}

/// What the models read for a candidate. A speaker's stance, when a holder-stance model reads
/// it, marks the speaker: the statement's source when it stands in the sentence ("Peskov
/// said", "He added"), else the speaker's mention nearest the target in the sentence, else
/// the speaker's name put before the sentence.
fn reading(doc: &Doc, candidate: &Candidate, holder_model: bool) -> Reading {
    let sentence = candidate.sentence;
    let within = |s: Span| Span::new(s.start - sentence.start, s.end - sentence.start);
    let target = within(candidate.target_span);
    let text = doc.span_text(sentence).to_string();
    let Some(holder) = candidate.holder.filter(|_| holder_model) else {
        return Reading {
            text,
            target,
            holder: None,
        };
    };
    let inside = |s: &Span| {
        sentence.start <= s.start
            && s.end <= sentence.end
            && (s.end <= candidate.target_span.start || candidate.target_span.end <= s.start)
    };
    let source = candidate
        .statement
        .and_then(|s| doc.statements[s].source)
        .filter(inside);
    let distance = |s: &Span| s.start.abs_diff(candidate.target_span.start);
    let mention = || {
        doc.entities.get(holder).and_then(|entity| {
            entity
                .mentions
                .iter()
                .map(|&m| doc.mentions[m].span)
                .filter(inside)
                .min_by_key(distance)
        })
    };
    if let Some(span) = source.or_else(mention) {
        return Reading {
            text,
            target,
            holder: Some(within(span)),
        };
    }
    let name = doc
        .entities
        .get(holder)
        .map_or("", |e| e.canonical_name.as_str());
    let name = if name.trim().is_empty() {
        "Someone"
    } else {
        name
    };
    let prefix = format!("{name} said: ");
    let shift = prefix.chars().count();
    Reading {
        text: prefix + &text,
        target: Span::new(target.start + shift, target.end + shift),
        holder: Some(Span::new(0, name.chars().count())),
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
            Target::Topic(_) | Target::Phrase(_) => 2.0,
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

/// Every target in every sentence, with the statement whose content holds it; and the noun
/// phrases taken as targets.
fn candidates(doc: &Doc) -> (Vec<Candidate>, Vec<String>) {
    // Statements are capped per document, so this scan is bounded.
    let statement_at = |target: Span| {
        doc.statements
            .iter()
            .position(|s| s.content.start <= target.start && target.end <= s.content.end)
    };
    let mut found = Vec::new();
    let mut phrases: Vec<String> = Vec::new();
    let mut phrase_index: HashMap<String, usize> = HashMap::new();
    // Mentions and sentences are both in text order: one pass over the mentions serves all
    // the sentences.
    let mut next_mention = 0;
    for sentence in &doc.sentences {
        let first_here = found.len();
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
        // The objects of stance predicates in a speaker's words, where no entity or topic
        // already stands.
        let spoken = doc.statements.iter().any(|s| {
            s.entity.is_some()
                && s.content.start < sentence.span.end
                && sentence.span.start < s.content.end
        });
        if !spoken {
            continue;
        }
        let taken: Vec<Span> = found[first_here..].iter().map(|c| c.target_span).collect();
        for (within, _) in SentenceWords::of(doc.span_text(sentence.span)).objects() {
            let span = Span::new(
                sentence.span.start + within.start,
                sentence.span.start + within.end,
            );
            let Some(statement) = statement_at(span) else {
                continue;
            };
            let holder = doc.statements[statement].entity;
            if holder.is_none()
                || taken
                    .iter()
                    .any(|t| t.start < span.end && span.start < t.end)
            {
                continue;
            }
            let text = doc.span_text(span).to_string();
            let index = *phrase_index.entry(text.to_lowercase()).or_insert_with(|| {
                phrases.push(text);
                phrases.len() - 1
            });
            found.push(Candidate {
                target: Target::Phrase(index),
                target_span: span,
                sentence: sentence.span,
                holder,
                statement: Some(statement),
            });
        }
    }
    (found, phrases)
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
