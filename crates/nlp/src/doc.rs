//! The document the pipeline stages share, modelled on spaCy's `Doc`: the normalized text
//! plus everything the stages have added to it so far (sentences, tokens, entity mentions,
//! entities). Stages take `&mut Doc` and add to it, as `AnalyzedArticle` grows from service to
//! service.

use crate::error::NlpError;
use crate::limits::{Deadline, Limits};
use crate::normalize::normalize;
use crate::stance::Polarity;
use std::fmt;
use std::ops::Range;

/// A half-open range `[start, end)` of Unicode code points in the normalized text, the offset
/// unit of every newsflow API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First code point.
    pub start: usize,
    /// One past the last code point.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (code points).
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// Number of code points covered.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers nothing.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// One token: its place in the text in code points and in bytes (for slicing in Rust).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Code-point span in the normalized text.
    pub span: Span,
    /// Byte range in the normalized text.
    pub bytes: Range<usize>,
    /// Whether whitespace follows the token in the text.
    pub space_after: bool,
}

/// One sentence: a run of tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// Code-point span from the first token's start to the last token's end.
    pub span: Span,
    /// Indexes into [`Doc::tokens`].
    pub tokens: Range<usize>,
}

/// Kinds of entity, the contract's `EntityType` (OntoNotes names for the finer types). The
/// CoNLL tagger yields PERSON, ORG, LOC and MISC; the typing stage refines LOC and MISC and
/// adds DATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityType {
    /// People.
    Person,
    /// Companies, agencies, institutions, alliances.
    Org,
    /// Countries, cities, states.
    Gpe,
    /// Other locations: regions, mountains, bodies of water.
    Loc,
    /// Nationalities, religious and political groups.
    Norp,
    /// Named events.
    Event,
    /// Absolute or relative dates.
    Date,
    /// Named things of no other type.
    Misc,
}

impl EntityType {
    /// The contract's name for the type ("PERSON", "GPE", ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            EntityType::Person => "PERSON",
            EntityType::Org => "ORG",
            EntityType::Gpe => "GPE",
            EntityType::Loc => "LOC",
            EntityType::Norp => "NORP",
            EntityType::Event => "EVENT",
            EntityType::Date => "DATE",
            EntityType::Misc => "MISC",
        }
    }

    /// Maps a tagger label (CoNLL's PER/ORG/LOC/MISC or a contract name) to a type.
    pub fn from_label(label: &str) -> Option<Self> {
        Some(match label {
            "PER" | "PERSON" => EntityType::Person,
            "ORG" => EntityType::Org,
            "GPE" => EntityType::Gpe,
            "LOC" => EntityType::Loc,
            "NORP" => EntityType::Norp,
            "EVENT" => EntityType::Event,
            "DATE" => EntityType::Date,
            "MISC" => EntityType::Misc,
            _ => return None,
        })
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entity mention: a run of tokens with a type.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    /// Code-point span in the normalized text.
    pub span: Span,
    /// Indexes into [`Doc::tokens`].
    pub tokens: Range<usize>,
    /// The mention's type.
    pub label: EntityType,
    /// The tagger's confidence, in [0, 1].
    pub confidence: f32,
    /// Index into [`Doc::entities`] once the grouping stage has run.
    pub entity: Option<usize>,
}

/// One real-world referent of the document: its mentions grouped together.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// The entity's type.
    pub label: EntityType,
    /// The fullest name the document uses for it, or the canonical form of a known alias.
    pub canonical_name: String,
    /// Indexes into [`Doc::mentions`], in text order.
    pub mentions: Vec<usize>,
    /// How central the entity is to the document, in [0, 1].
    pub salience: f32,
}

impl Entity {
    /// Cross-document key: the type and the case-folded canonical name ("PERSON:vladimir putin").
    pub fn key(&self) -> String {
        format!("{}:{}", self.label, self.canonical_name.to_lowercase())
    }
}

/// How a statement is reported (the contract's `StatementKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    /// Quoted words: `"We will not allow it," Peskov said.`
    Direct,
    /// Reported speech: `Putin warned that Western troops would be targets.`
    Indirect,
    /// Reported speech that quotes part of the words: `Trump said he would "help them".`
    Mixed,
    /// Attribution by a phrase, not a verb: `according to the Kremlin, ...`.
    AccordingTo,
}

impl StatementKind {
    /// A short lowercase name ("direct", "indirect", "mixed", "according-to").
    pub fn as_str(&self) -> &'static str {
        match self {
            StatementKind::Direct => "direct",
            StatementKind::Indirect => "indirect",
            StatementKind::Mixed => "mixed",
            StatementKind::AccordingTo => "according-to",
        }
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who said what: one attribution (source, cue, content), as PARC and PolNeAR annotate it.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The speaker's words in the text ("Peskov", "He", "the Kremlin"); `None` when the text
    /// names no source for the cue.
    pub source: Option<Span>,
    /// Index into [`Doc::entities`] of the entity the source resolves to (a pronoun to the
    /// person it stands for); `None` when the source is no entity of the document
    /// ("officials said").
    pub entity: Option<usize>,
    /// The cue ("said", "warned", "according to").
    pub cue: Span,
    /// What was said, without surrounding quotation marks.
    pub content: Span,
    /// How it is reported.
    pub kind: StatementKind,
    /// The cue model's confidence, in [0, 1].
    pub confidence: f32,
}

/// What a stance is taken toward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// An entity of the document: index into [`Doc::entities`].
    Entity(usize),
    /// A topic the caller asked about: index into [`Doc::topics`].
    Topic(usize),
    /// The object of a speaker's stance predicate ("ground troops" in "ruled out sending
    /// ground troops"): index into [`Doc::phrases`].
    Phrase(usize),
}

/// A stance toward a target in one sentence: a holder's (the speaker of the statement whose
/// content holds the target) or, with no holder, the text's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Stance {
    /// Index into [`Doc::entities`] of whoever takes the stance; `None` for the text's own.
    pub holder: Option<usize>,
    /// Index into [`Doc::statements`] of the statement whose content holds the target.
    pub statement: Option<usize>,
    /// What the stance is toward.
    pub target: Target,
    /// Where the target stands in the text.
    pub target_span: Span,
    /// Against, neither, or for.
    pub polarity: Polarity,
    /// From -1 (against) to 1 (for).
    pub score: f32,
    /// The probability of the polarity given, in [0, 1].
    pub confidence: f32,
    /// The sentence the stance was read from.
    pub evidence: Span,
    /// What decided it.
    pub method: StanceMethod,
}

/// What decided a stance: which reading of the text it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StanceMethod {
    /// The text's own portrayal of the target (no holder): the target-sentiment model.
    Portrayal,
    /// A holder's stance from the holder-stance model.
    HolderModel,
    /// A holder's stance from a stance predicate governing the target ("ruled out").
    Predicate,
    /// A holder's stance from the target-sentiment model, where no holder-stance model is
    /// loaded.
    HolderPortrayal,
    /// Against the holder's own side by the model's word alone: not enough evidence, so
    /// neutral (see [`crate::stance::affiliation`]).
    OwnSide,
}

/// One entity's stances and statements in the document, summed up.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySummary {
    /// Index into [`Doc::entities`].
    pub entity: usize,
    /// How often the entity is mentioned.
    pub mention_count: u32,
    /// Mean score of the stances toward it (0 when there are none).
    pub mean_polarity: f32,
    /// Stances toward it per polarity.
    pub negative: u32,
    /// Neutral stances toward it.
    pub neutral: u32,
    /// Positive stances toward it.
    pub positive: u32,
    /// The sentence of the strongest stance toward it, if any.
    pub strongest_evidence: Option<Span>,
    /// The score of that stance (0 when there is none).
    pub strongest_score: f32,
    /// Statements the entity made.
    pub statement_count: u32,
}

/// The document: normalized text and the annotations the stages have added.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    text: String,
    /// Byte offset of every code point, plus the text length at the end, so code-point spans
    /// convert to byte ranges in O(1).
    char_bytes: Vec<usize>,
    /// Tokens in text order.
    pub tokens: Vec<Token>,
    /// Sentences in text order, covering every token.
    pub sentences: Vec<Sentence>,
    /// Entity mentions in text order, not overlapping.
    pub mentions: Vec<Mention>,
    /// Entities, by decreasing salience.
    pub entities: Vec<Entity>,
    /// Attributed statements in text order of their cues.
    pub statements: Vec<Statement>,
    /// Topics the caller wants stances toward besides the entities ("Western troops"); set
    /// before the stance stage runs.
    pub topics: Vec<String>,
    /// The noun phrases the stance stage took as targets ([`Target::Phrase`]), each once.
    pub phrases: Vec<String>,
    /// Stances, sentence by sentence, in text order of their targets within each sentence
    /// (entities first, then topics).
    pub stances: Vec<Stance>,
    /// Whose side each entity is on, by entity then affiliate.
    pub affiliations: Vec<crate::stance::affiliation::Affiliation>,
    /// One summary per entity, in the order of [`Doc::entities`].
    pub summaries: Vec<EntitySummary>,
    /// The caps every stage keeps to on this document.
    pub limits: Limits,
    /// When the analysis of this document must stop, if ever.
    pub deadline: Option<Deadline>,
}

impl Doc {
    /// A document over the normalized form of `raw` (see [`crate::normalize`]), with no
    /// annotations yet.
    pub fn new(raw: &str) -> Self {
        Self::from_normalized(normalize(raw))
    }

    /// A document over text that is already normalized; offsets point into it as given.
    pub fn from_normalized(text: String) -> Self {
        let mut char_bytes: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        char_bytes.push(text.len());
        Self {
            text,
            char_bytes,
            ..Self::default()
        }
    }

    /// The normalized text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Length of the text in code points.
    pub fn char_len(&self) -> usize {
        self.char_bytes.len().saturating_sub(1)
    }

    /// Byte range of a code-point span; `None` when the span lies outside the text.
    pub fn byte_range(&self, span: Span) -> Option<Range<usize>> {
        if span.start > span.end {
            return None;
        }
        let start = *self.char_bytes.get(span.start)?;
        let end = *self.char_bytes.get(span.end)?;
        Some(start..end)
    }

    /// The text of a code-point span; empty when the span lies outside the text.
    pub fn span_text(&self, span: Span) -> &str {
        self.byte_range(span).map_or("", |r| &self.text[r])
    }

    /// The text of one token.
    pub fn token_text(&self, index: usize) -> &str {
        self.tokens
            .get(index)
            .map_or("", |t| &self.text[t.bytes.clone()])
    }

    /// The texts of the tokens of a sentence.
    pub fn sentence_tokens(&self, sentence: &Sentence) -> Vec<&str> {
        sentence
            .tokens
            .clone()
            .map(|i| self.token_text(i))
            .collect()
    }

    /// Adds a token by its byte range; the code-point span is derived.
    pub(crate) fn push_token(&mut self, bytes: Range<usize>) {
        let start = self.char_bytes.partition_point(|&b| b < bytes.start);
        let end = self.char_bytes.partition_point(|&b| b < bytes.end);
        let space_after = self.text[bytes.end..]
            .chars()
            .next()
            .is_some_and(char::is_whitespace);
        self.tokens.push(Token {
            span: Span::new(start, end),
            bytes,
            space_after,
        });
    }

    /// Adds a mention over tokens `tokens` (indexes into [`Doc::tokens`]).
    pub fn push_mention(
        &mut self,
        tokens: Range<usize>,
        label: EntityType,
        confidence: f32,
    ) -> Result<(), NlpError> {
        if tokens.is_empty() || tokens.end > self.tokens.len() {
            return Err(NlpError::InvalidSpan {
                start: tokens.start,
                end: tokens.end,
            });
        }
        let span = Span::new(
            self.tokens[tokens.start].span.start,
            self.tokens[tokens.end - 1].span.end,
        );
        self.mentions.push(Mention {
            span,
            tokens,
            label,
            confidence,
            entity: None,
        });
        Ok(())
    }

    /// An error once the document's deadline has passed; stages call it between sentences or
    /// batches.
    pub fn check_deadline(&self, stage: &str) -> Result<(), NlpError> {
        crate::limits::check(self.deadline.as_ref(), stage)
    }

    /// The earliest deadline of `docs`: the one a batch over all of them stops at.
    pub fn earliest_deadline(docs: &[Doc]) -> Option<&Deadline> {
        docs.iter()
            .filter_map(|doc| doc.deadline.as_ref())
            .min_by_key(|deadline| deadline.at)
    }

    /// The text of a mention.
    pub fn mention_text(&self, mention: &Mention) -> &str {
        self.span_text(mention.span)
    }
}

/// A pipeline stage: takes the document and adds to it.
pub trait Stage {
    /// A short name for logs and errors.
    fn name(&self) -> &'static str;
    /// Adds this stage's annotations to `doc`.
    fn process(&self, doc: &mut Doc) -> Result<(), NlpError>;
    /// [`Stage::process`] of several documents, for a stage with a backlog. The results are
    /// each document's own; a stage whose model reads batches overrides it to batch across
    /// the documents, stopping at the earliest of their deadlines. One document's error fails
    /// the call.
    fn process_many(&self, docs: &mut [Doc]) -> Result<(), NlpError> {
        docs.iter_mut().try_for_each(|doc| self.process(doc))
    }
}

/// Stages run in order over one document.
#[derive(Default)]
pub struct Pipeline {
    stages: Vec<Box<dyn Stage + Send + Sync>>,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a stage.
    pub fn with(mut self, stage: impl Stage + Send + Sync + 'static) -> Self {
        self.stages.push(Box::new(stage));
        self
    }

    /// Normalizes `raw` into a new document and runs every stage over it.
    pub fn run(&self, raw: &str) -> Result<Doc, NlpError> {
        let mut doc = Doc::new(raw);
        self.process(&mut doc)?;
        Ok(doc)
    }

    /// Runs every stage over an existing document.
    pub fn process(&self, doc: &mut Doc) -> Result<(), NlpError> {
        self.process_many(std::slice::from_mut(doc))
    }

    /// Runs every stage over several documents, each stage over all of them at once
    /// ([`Stage::process_many`]).
    pub fn process_many(&self, docs: &mut [Doc]) -> Result<(), NlpError> {
        for stage in &self.stages {
            stage.process_many(docs)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_code_points_and_bytes_convert() {
        let mut doc = Doc::from_normalized("Kyiv’s café".to_string());
        doc.push_token(0..4);
        doc.push_token(4..8); // ’s: the apostrophe is 3 bytes
        doc.push_token(9..14);
        assert_eq!(doc.tokens[1].span, Span::new(4, 6));
        assert_eq!(doc.tokens[2].span, Span::new(7, 11));
        assert_eq!(doc.span_text(Span::new(7, 11)), "café");
        assert_eq!(doc.token_text(1), "’s");
        assert!(!doc.tokens[0].space_after);
        assert!(doc.tokens[1].space_after);
        assert_eq!(doc.span_text(Span::new(7, 99)), "");
    }

    #[test]
    fn push_mention_rejects_bad_ranges() {
        let mut doc = Doc::from_normalized("a b".to_string());
        doc.push_token(0..1);
        assert!(doc.push_mention(0..2, EntityType::Person, 1.0).is_err());
        assert!(doc.push_mention(0..0, EntityType::Person, 1.0).is_err());
        assert!(doc.push_mention(0..1, EntityType::Person, 1.0).is_ok());
    }
}
