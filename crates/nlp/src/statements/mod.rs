//! Statements: who said what. Each statement is a source (the speaker's words), a cue and a
//! content span, as PARC and PolNeAR annotate attributions, plus a kind (direct, indirect,
//! mixed, according-to) and the entity the source resolves to.
//!
//! [`StatementFinder`] is the stage (run it after grouping): a cue detector
//! ([`cues::CueDetector`], learned from PolNeAR or the hand-written baseline) proposes cues,
//! [`spans::frame`] finds each cue's source and content in the sentence around it, and the
//! source is resolved to an entity of the document:
//!
//! - a source whose head is an entity mention resolves to its entity: the mention that ends
//!   the phrase, or its first part before a comma or bracket ("Kremlin spokesperson Dmitry
//!   Peskov" -> Dmitry Peskov, "Flynn, a top Trump surrogate" -> Flynn, "the Kremlin" -> the
//!   Kremlin when the tagger found it; "Kyiv's Western partners" -> none);
//! - "he"/"she" resolves to the speaker of the previous statement when that is a person named
//!   in the last three sentences (news keeps the speaker: "Peskov said ... He added"), else to
//!   the nearest person mentioned before it in those sentences; "who" and "which" resolve to
//!   the mention right before the relative clause; other pronouns ("they", "it", "I") and
//!   sources that name no entity ("officials") stay unresolved.
//!
//! [`polnear`] reads the PolNeAR data and [`eval`] scores statements against it.

pub mod cues;
#[cfg(feature = "train")]
pub mod eval;
pub mod frames;
#[cfg(feature = "train")]
pub mod polnear;
pub mod spans;
#[cfg(feature = "train")]
pub mod train;
mod tsv;

#[cfg(feature = "train")]
pub use cues::CueTrainConfig;
pub use cues::{CueDetector, CueModel};
#[cfg(feature = "train")]
pub use eval::StatementEvaluation;
pub use frames::FrameModel;
#[cfg(feature = "train")]
pub use train::train;

use crate::doc::{Doc, EntityType, Span, Stage, Statement};
use crate::error::NlpError;
use std::ops::Range;
use std::path::Path;

/// The statement stage. Needs tokens and sentences; resolves sources to entities when the
/// entity stages ran before it. It replaces any statements the document had.
#[derive(Debug, Clone)]
pub struct StatementFinder {
    detector: CueDetector,
    frames: Option<FrameModel>,
}

impl StatementFinder {
    /// The stage with the hand-written cue list and no learned filter (the baseline).
    pub fn rules() -> Self {
        Self {
            detector: CueDetector::Rules,
            frames: None,
        }
    }

    /// The stage with a learned cue model and, optionally, the learned candidate filter (which
    /// then sets the cue model's threshold to its candidate threshold).
    pub fn learned(mut cues: CueModel, frames: Option<FrameModel>) -> Self {
        if let Some(f) = &frames {
            cues.threshold = f.cue_threshold;
        }
        Self {
            detector: CueDetector::Learned(cues),
            frames,
        }
    }

    /// Loads the learned models from a model directory (`models/statements`): `cues.tsv`,
    /// and `frames.tsv` when present.
    pub fn load(dir: &Path) -> Result<Self, NlpError> {
        let cues = CueModel::load(dir)?;
        let frame_file = dir.join(frames::FRAME_MODEL_FILE);
        let frames = if frame_file.exists() {
            Some(FrameModel::load(&frame_file)?)
        } else {
            None
        };
        Ok(Self::learned(cues, frames))
    }

    /// The cue detector.
    pub fn detector(&self) -> &CueDetector {
        &self.detector
    }

    /// The cue detector, to adjust its threshold.
    pub fn detector_mut(&mut self) -> &mut CueDetector {
        &mut self.detector
    }

    /// The candidate filter, if any.
    pub fn frames_mut(&mut self) -> Option<&mut FrameModel> {
        self.frames.as_mut()
    }
}

/// The candidate statements of a tokenized document: each cue the detector finds with the
/// source and content the rules give it (a cue inside the previous candidate's source, part
/// of a name, is skipped).
pub fn candidates(
    detector: &CueDetector,
    doc: &Doc,
) -> Result<Vec<(cues::Cue, spans::Frame)>, NlpError> {
    let mut out: Vec<(cues::Cue, spans::Frame)> = Vec::new();
    if doc.tokens.is_empty() || doc.sentences.is_empty() {
        return Ok(out);
    }
    let sentence_of = spans::sentence_of(doc);
    for cue in detector.find(doc)? {
        doc.check_deadline("statements")?;
        if cue.tokens.is_empty() || cue.tokens.end > doc.tokens.len() {
            continue;
        }
        if out
            .last()
            .and_then(|(_, previous)| previous.source.as_ref())
            .is_some_and(|source| source.start <= cue.tokens.start && cue.tokens.end <= source.end)
        {
            continue;
        }
        if let Some(mut frame) = spans::frame(doc, &sentence_of, cue.tokens.clone()) {
            let cap = frame.content.start + doc.limits.max_statement_tokens.max(1);
            frame.content.end = frame.content.end.min(cap);
            out.push((cue, frame));
        }
    }
    Ok(out)
}

fn token_span(doc: &Doc, tokens: &Range<usize>) -> Span {
    Span::new(
        doc.tokens[tokens.start].span.start,
        doc.tokens[tokens.end - 1].span.end,
    )
}

impl Stage for StatementFinder {
    fn name(&self) -> &'static str {
        "statements"
    }

    fn process(&self, doc: &mut Doc) -> Result<(), NlpError> {
        doc.statements.clear();
        if doc.tokens.is_empty() || doc.sentences.is_empty() {
            return Ok(());
        }
        let sentence_of = spans::sentence_of(doc);
        let mut statements: Vec<(Statement, Option<Range<usize>>)> = Vec::new();
        for (cue, frame) in candidates(&self.detector, doc)? {
            doc.check_deadline("statements")?;
            let mut confidence = cue.confidence;
            if let Some(model) = &self.frames {
                let p = model.prob(doc, &cue, &frame);
                if p < model.threshold {
                    continue;
                }
                confidence = p;
            }
            let previous = statements
                .last()
                .map(|(statement, source)| (statement.entity, source.clone()));
            let entity = frame
                .source
                .as_ref()
                .and_then(|source| resolve(doc, &sentence_of, source, previous));
            statements.push((
                Statement {
                    source: frame.source.as_ref().map(|r| token_span(doc, r)),
                    entity,
                    cue: token_span(doc, &cue.tokens),
                    content: token_span(doc, &frame.content),
                    kind: frame.kind,
                    confidence,
                },
                frame.source,
            ));
        }
        doc.statements = most_confident(
            statements.into_iter().map(|(s, _)| s).collect(),
            doc.limits.max_statements,
        );
        Ok(())
    }
}

/// The `max` most confident statements, in text order (all of them when there are no more).
fn most_confident(mut statements: Vec<Statement>, max: usize) -> Vec<Statement> {
    if statements.len() <= max {
        return statements;
    }
    let mut order: Vec<usize> = (0..statements.len()).collect();
    order.sort_by(|&a, &b| {
        statements[b]
            .confidence
            .total_cmp(&statements[a].confidence)
            .then(a.cmp(&b))
    });
    let mut keep = vec![false; statements.len()];
    for &index in &order[..max] {
        keep[index] = true;
    }
    let mut index = 0;
    statements.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    statements
}

/// How many sentences back a pronoun looks for its person.
const PRONOUN_REACH: usize = 3;

/// The entity a source (tokens) refers to; `sentence_of` is the sentence index of each token,
/// `previous` the entity and source of the statement before.
fn resolve(
    doc: &Doc,
    sentence_of: &[usize],
    source: &Range<usize>,
    previous: Option<(Option<usize>, Option<Range<usize>>)>,
) -> Option<usize> {
    let span = token_span(doc, source);
    // The head of the phrase: its end, or the end of its first part before a comma or an
    // opening bracket ("Flynn, a top Trump surrogate"; "Jason Chaffetz (R-Utah)").
    let mut heads = vec![span.end];
    if let Some(break_at) = source
        .clone()
        .find(|&token| matches!(doc.token_text(token), "," | "(") && token > source.start)
    {
        heads.push(doc.tokens[break_at - 1].span.end);
    }
    // Mentions are in text order: those inside the source are a slice found by binary search.
    let first = doc.mentions.partition_point(|m| m.span.start < span.start);
    let inside: Vec<&crate::doc::Mention> = doc.mentions[first..]
        .iter()
        .take_while(|m| m.span.start < span.end)
        .filter(|m| heads.contains(&m.span.end) && m.entity.is_some())
        .collect();
    if !inside.is_empty() {
        return inside
            .iter()
            .find(|m| m.label == EntityType::Person)
            .or(inside.first())
            .and_then(|m| m.entity);
    }
    if source.len() != 1 {
        return None;
    }
    let word = doc.token_text(source.start).to_lowercase();
    let sentence = sentence_of.get(source.start).copied().unwrap_or(0);
    let floor = doc
        .sentences
        .get(sentence.saturating_sub(PRONOUN_REACH))
        .map_or(0, |first| first.span.start);
    let is_person = |entity: usize| {
        doc.entities
            .get(entity)
            .is_some_and(|e| e.label == EntityType::Person)
    };
    match word.as_str() {
        "he" | "she" => {
            if let Some((Some(speaker), Some(previous_source))) = previous
                && is_person(speaker)
                && doc
                    .tokens
                    .get(previous_source.start)
                    .is_some_and(|t| t.span.start >= floor)
            {
                return Some(speaker);
            }
            // The mentions before the source back to `floor`, nearest first.
            let before = doc.mentions.partition_point(|m| m.span.start < span.start);
            doc.mentions[..before]
                .iter()
                .rev()
                .take_while(|m| m.span.start >= floor)
                .filter(|m| m.span.end <= span.start)
                .find(|m| m.label == EntityType::Person && m.entity.is_some_and(is_person))
                .and_then(|m| m.entity)
        }
        "who" | "which" => {
            // "Trump, who ..." / "the agency, which ...": the mention ending right before the
            // comma.
            let comma = source.start.checked_sub(1)?;
            if doc.token_text(comma) != "," {
                return None;
            }
            let before = doc.tokens.get(comma.checked_sub(1)?)?.span.end;
            // Mentions do not overlap, so their ends are in text order too.
            let at = doc.mentions.partition_point(|m| m.span.end < before);
            doc.mentions
                .get(at)
                .filter(|m| m.span.end == before)
                .and_then(|m| m.entity)
        }
        _ => None,
    }
}

/// Runs `pipeline` (which must end with a [`StatementFinder`]) over each article's text as
/// it is (not normalized, so that offsets stay those of the annotations) and scores the
/// statements.
#[cfg(feature = "train")]
pub fn evaluate(
    pipeline: &crate::doc::Pipeline,
    articles: &[polnear::Article],
) -> Result<StatementEvaluation, NlpError> {
    let mut ev = StatementEvaluation::default();
    for a in articles {
        let mut doc = Doc::from_normalized(a.text.clone());
        pipeline.process(&mut doc)?;
        ev.add_article(&a.text, &a.attributions, &doc.statements);
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::StatementKind;
    use crate::group::EntityGrouper;
    use crate::tokenize::Tokenizer;

    #[test]
    fn pronoun_goes_to_the_previous_speaker_and_quotes_are_direct() {
        let text = "Kremlin spokesperson Dmitry Peskov spoke. “You cannot do it,” Peskov said. \
                    He added that Moscow would object.";
        let mut doc = Doc::new(text);
        Tokenizer.process(&mut doc).expect("tokenize");
        let find = |w: &str| {
            (0..doc.tokens.len())
                .find(|&i| doc.token_text(i) == w)
                .expect("word")
        };
        let (d, p) = (find("Dmitry"), find("Peskov"));
        let p2 = (p + 1..doc.tokens.len())
            .find(|&i| doc.token_text(i) == "Peskov")
            .expect("second Peskov");
        let m = find("Moscow");
        doc.push_mention(d..p + 1, EntityType::Person, 1.0)
            .expect("m");
        doc.push_mention(p2..p2 + 1, EntityType::Person, 1.0)
            .expect("m");
        doc.push_mention(m..m + 1, EntityType::Gpe, 1.0).expect("m");
        EntityGrouper.process(&mut doc).expect("group");
        StatementFinder::rules()
            .process(&mut doc)
            .expect("statements");
        let peskov = doc
            .entities
            .iter()
            .position(|e| e.canonical_name == "Dmitry Peskov");
        assert_eq!(doc.statements.len(), 2, "{:?}", doc.statements);
        let s0 = &doc.statements[0];
        assert_eq!(doc.span_text(s0.source.expect("source")), "Peskov");
        assert_eq!(doc.span_text(s0.content), "You cannot do it");
        assert_eq!(s0.kind, StatementKind::Direct);
        assert_eq!(s0.entity, peskov);
        let s1 = &doc.statements[1];
        assert_eq!(doc.span_text(s1.source.expect("source")), "He");
        assert_eq!(doc.span_text(s1.cue), "added");
        assert_eq!(s1.entity, peskov);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in [
            "",
            "said",
            "“",
            "according to",
            ", said ,",
            "“a,” said",
            "he said:",
        ] {
            let mut doc = Doc::new(text);
            Tokenizer.process(&mut doc).expect("tokenize");
            StatementFinder::rules()
                .process(&mut doc)
                .expect("statements");
            for s in &doc.statements {
                assert!(s.content.end <= doc.char_len());
            }
        }
    }
}
