//! What the API answers, as JSON: the contract's messages in a form for analysts (enums as
//! lower-case words, times as RFC 3339, entity ids resolved to keys and names). Spans are
//! Unicode code points into the article's normalized body, as everywhere in newsflow.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use newsflow_proto::v1::{
    AffiliationKind, AnalyzedArticle, Article, ArticleProcessed, ArticleSummary, Entity,
    EntityMatch, EntityTimelineResponse, EntityType, Geo, GeoStatus, MentionKind, Polarity,
    ProcessedReason, Span, StanceMethod, StatementKind, target,
};
use newsflow_store::{
    EdgeTarget, EntityFacts, FoundStatement, StanceEdge, StoredArticle, time::from_proto,
};
use serde::Serialize;
use utoipa::ToSchema;

/// Characters of the body an article listing shows.
pub const EXCERPT_CHARS: usize = 280;

/// An error: what kind, which query parameter is at fault (if one is), and what to do.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error itself.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `INVALID_ARGUMENT`, `UNAUTHENTICATED`, `NOT_FOUND`, `UNAVAILABLE` or `INTERNAL`.
    pub code: String,
    /// The query parameter at fault, for `INVALID_ARGUMENT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// What went wrong, in words.
    pub message: String,
}

/// A span of the body: code points `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct SpanJson {
    pub start: u32,
    pub end: u32,
}

impl SpanJson {
    fn of(span: Option<&Span>) -> Option<Self> {
        span.map(|s| Self {
            start: s.start,
            end: s.end,
        })
    }
}

/// An article in a listing, without its body (see `excerpt`) or analysis.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ArticleBrief {
    pub id: String,
    pub title: String,
    pub source: String,
    pub url: String,
    pub language: String,
    /// When the publisher says it was published (RFC 3339), if it says.
    pub published_at: Option<String>,
    /// When ingest accepted it.
    pub ingested_at: Option<String>,
    /// The time lists sort and filter by: published, else ingested.
    pub time: Option<String>,
    /// The body's first 280 characters.
    pub excerpt: String,
    pub entity_count: u32,
    pub statement_count: u32,
    pub stance_count: u32,
    /// The story (articles about one event) it belongs to; absent when it has none.
    pub story: Option<u64>,
}

/// One page of articles, newest first.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ArticlePage {
    pub articles: Vec<ArticleBrief>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// One article with its whole analysis.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ArticleDetail {
    pub id: String,
    pub external_id: String,
    pub title: String,
    pub source: String,
    pub url: String,
    pub language: String,
    pub published_at: Option<String>,
    pub ingested_at: Option<String>,
    pub time: Option<String>,
    /// The normalized body every span points into (code points).
    pub body: String,
    /// When storage last saved it, and how often it changed (1: never re-analyzed).
    pub stored_at: String,
    pub revision: i32,
    /// The id of the stored article this one is a near-copy of (a wire story run by another
    /// outlet, a lightly edited version); absent for an original.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// The story (articles about one event, `/api/v1/stories/{id}`) it is in; absent when it
    /// has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub story: Option<u64>,
    pub entities: Vec<EntityJson>,
    pub statements: Vec<StatementJson>,
    pub stances: Vec<StanceJson>,
    /// Whose side each entity is on: a person and the organisation or country their title
    /// names, or two names of one country.
    pub affiliations: Vec<AffiliationJson>,
}

/// An entity on the side of another.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AffiliationJson {
    pub entity: Option<EntityRef>,
    pub affiliate: Option<EntityRef>,
    /// title (a title or apposition names it) or country (both belong to one country).
    pub kind: String,
    pub evidence_span: Option<SpanJson>,
}

/// An entity of an article with its mentions.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EntityJson {
    /// Its id within the article ("e1"); statements and stances refer to it.
    pub id: String,
    /// Its key across articles ("PERSON:vladimir putin").
    pub key: String,
    /// person, org, gpe, loc, norp, event, date or misc.
    #[serde(rename = "type")]
    pub entity_type: String,
    pub name: String,
    pub salience: f32,
    pub mentions: Vec<MentionJson>,
    /// Where the place is (gpe and loc entities; absent for the other types).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geo: Option<GeoJson>,
}

/// A place entity's GeoNames place, or `{"status": "unresolved"}` when no place has its name.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GeoJson {
    /// resolved or unresolved.
    pub status: String,
    /// GeoNames id (https://www.geonames.org/ID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geonames_id: Option<u32>,
    /// The place's name in GeoNames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Latitude, degrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Longitude, degrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// ISO 3166-1 alpha-2 country code ("FR"); empty for continents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// GeoNames feature class (A country, state; P city, village; L area) and code (PCLI,
    /// PPLC, ADM1, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_code: Option<String>,
}

impl GeoJson {
    /// `None` for an entity that is not a place.
    fn of(geo: &Geo) -> Option<Self> {
        let status = GeoStatus::try_from(geo.status).ok()?;
        match status {
            GeoStatus::Unspecified => None,
            GeoStatus::Unresolved => Some(Self {
                status: label(status.as_str_name(), "GEO_STATUS_"),
                geonames_id: None,
                name: None,
                latitude: None,
                longitude: None,
                country_code: None,
                feature_class: None,
                feature_code: None,
            }),
            GeoStatus::Resolved => Some(Self {
                status: label(status.as_str_name(), "GEO_STATUS_"),
                geonames_id: Some(geo.geonames_id),
                name: Some(geo.name.clone()),
                latitude: Some(geo.latitude),
                longitude: Some(geo.longitude),
                country_code: Some(geo.country_code.clone()),
                feature_class: Some(geo.feature_class.clone()),
                feature_code: Some(geo.feature_code.clone()),
            }),
        }
    }
}

/// One mention of an entity.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MentionJson {
    pub span: Option<SpanJson>,
    pub text: String,
    /// name, pronoun or nominal.
    pub kind: String,
}

/// An entity an article refers to by id, resolved.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct EntityRef {
    /// Its id within the article.
    pub entity_id: String,
    pub key: String,
    pub name: String,
}

/// Who said what.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StatementJson {
    pub id: String,
    /// The speaker, when the words name an entity of the article.
    pub speaker: Option<EntityRef>,
    /// The speaker's words in the text ("He").
    pub speaker_text: String,
    pub speaker_span: Option<SpanJson>,
    pub cue: String,
    pub cue_span: Option<SpanJson>,
    pub content: String,
    pub content_span: Option<SpanJson>,
    /// direct, indirect, mixed or according_to.
    pub kind: String,
    pub confidence: f32,
}

/// What a stance is about: an entity of the article or a configured topic.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StanceTarget {
    /// The entity, when the target is one.
    pub entity: Option<EntityRef>,
    /// The topic, when the target is one.
    pub topic: Option<String>,
    /// Where the target stands in the evidence.
    pub span: Option<SpanJson>,
}

/// A holder's stance toward a target, with the text that shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StanceJson {
    /// Who holds it; absent when it is the text's own (how the text portrays the target).
    pub holder: Option<EntityRef>,
    /// The statement it comes from, if any.
    pub statement_id: Option<String>,
    pub target: StanceTarget,
    /// negative (against), neutral or positive (for).
    pub polarity: String,
    /// In [-1, 1]: P(positive) - P(negative).
    pub score: f32,
    pub confidence: f32,
    /// What decided it. A holder's stance (for or against what the holder stands for):
    /// holder_model, predicate (a stance verb such as "ruled out"), own_side (neutral: the model
    /// alone read the holder as against their own side). The text's own: portrayal (how the
    /// words describe the target).
    pub method: String,
    pub evidence_span: Option<SpanJson>,
    /// The evidence, sliced from the body.
    pub evidence: String,
}

/// An entity known across articles.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EntityHit {
    pub key: String,
    pub name: String,
    #[serde(rename = "type")]
    pub entity_type: String,
    /// Stored articles mentioning it.
    pub article_count: u32,
    /// Match quality in [0, 1]; 1 for an exact name.
    pub score: f32,
}

/// Entities matching a search, best first.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EntityList {
    pub entities: Vec<EntityHit>,
}

/// What is stored about one entity.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EntityDetail {
    /// The key of its identity (the key asked for may be an extractor's key, or one merged).
    pub key: String,
    /// Its display name.
    pub name: String,
    /// Every name it was seen under, first seen first.
    pub aliases: Vec<String>,
    /// Why storage made this identity rather than take it for a known one it might be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ambiguity: Option<String>,
    #[serde(rename = "type")]
    pub entity_type: String,
    pub articles: u32,
    pub mentions: u32,
    /// Statements it is the speaker of.
    pub statements: u32,
    /// The time of its first and last article.
    pub first: String,
    pub last: String,
}

/// How an entity is treated, day by day (UTC).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Timeline {
    pub key: String,
    pub name: String,
    /// Days with at least one mention, oldest first.
    pub days: Vec<TimelineDayJson>,
}

/// One day of a timeline.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TimelineDayJson {
    /// YYYY-MM-DD.
    pub date: String,
    pub mentions: u32,
    pub articles: u32,
    /// Mean score of the stances toward the entity that day (0 when none).
    pub mean_polarity: f32,
    /// Stances toward the entity that day, by class.
    pub negative: u32,
    pub neutral: u32,
    pub positive: u32,
    /// Who took stances toward it that day, most first.
    pub speakers: Vec<SpeakerJson>,
}

/// A holder of stances toward the entity on one day.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SpeakerJson {
    pub key: String,
    pub name: String,
    pub stances: u32,
    pub mean_polarity: f32,
}

/// The article a statement is in.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ArticleRef {
    pub id: String,
    pub title: String,
    pub source: String,
    pub time: String,
}

/// A speaker across articles.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Speaker {
    pub key: String,
    pub name: String,
}

/// A statement found across articles.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StatementHit {
    pub article: ArticleRef,
    /// Its id within the article.
    pub statement_id: String,
    /// The speaker, when the words name an entity.
    pub speaker: Option<Speaker>,
    pub speaker_text: String,
    pub cue: String,
    pub content: String,
    pub content_span: Option<SpanJson>,
    pub kind: String,
    pub confidence: f32,
    /// With `about`: the strongest stance this statement takes toward that entity.
    pub stance: Option<StanceToward>,
}

/// A stance's class and score.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StanceToward {
    pub polarity: String,
    pub score: f32,
}

/// One page of statements: newest article first, text order within an article.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StatementList {
    pub statements: Vec<StatementHit>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The target end of a stance edge.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EdgeEnd {
    /// entity or topic.
    pub kind: String,
    /// The entity's key, or the topic.
    pub key: String,
    pub name: String,
}

/// What one holder holds toward one target over the period.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Edge {
    pub holder: Speaker,
    pub target: EdgeEnd,
    /// Stances against.
    pub negative: u32,
    pub neutral: u32,
    /// Stances for.
    pub positive: u32,
    pub total: u32,
    /// Mean score in [-1, 1].
    pub mean_score: f32,
    /// Articles the stances come from.
    pub articles: u32,
}

/// Stance edges, the most stances first.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EdgeList {
    pub edges: Vec<Edge>,
    /// The limit applied; `truncated` when more edges matched.
    pub limit: u32,
    pub truncated: bool,
}

/// An entity named in a live event.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct LiveEntity {
    pub key: String,
    pub name: String,
    #[serde(rename = "type")]
    pub entity_type: String,
}

/// An article just stored: the brief form of `article.processed` the stream sends.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct LiveArticle {
    pub id: String,
    pub title: String,
    pub source: String,
    pub url: String,
    pub time: Option<String>,
    pub stored_at: Option<String>,
    /// The body's first 280 characters.
    pub excerpt: String,
    /// live (just analyzed) or replay (an operator re-published it).
    pub reason: String,
    pub entity_count: u32,
    pub statement_count: u32,
    pub stance_count: u32,
    /// Its five most salient entities.
    pub top_entities: Vec<LiveEntity>,
}

/// RFC 3339 in UTC, to the microsecond when there are any.
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn ts(timestamp: Option<&prost_types::Timestamp>) -> Option<String> {
    timestamp.and_then(|t| from_proto(t).ok()).map(rfc3339)
}

/// The lower-case name of a contract enum value without its prefix ("person").
pub fn label(name: &str, prefix: &str) -> String {
    name.trim_start_matches(prefix).to_ascii_lowercase()
}

/// "person", "org", ...
pub fn entity_type(value: i32) -> String {
    EntityType::try_from(value)
        .map(|t| label(t.as_str_name(), "ENTITY_TYPE_"))
        .unwrap_or_default()
}

/// "negative", "neutral", "positive".
pub fn polarity(value: Polarity) -> String {
    label(value.as_str_name(), "POLARITY_")
}

fn statement_kind(value: i32) -> String {
    StatementKind::try_from(value)
        .map(|k| label(k.as_str_name(), "STATEMENT_KIND_"))
        .unwrap_or_default()
}

/// The time an article sorts by: published, else ingested.
pub fn article_time(article: &Article) -> Option<String> {
    ts(article
        .published_at
        .as_ref()
        .or(article.ingested_at.as_ref()))
}

/// The first `chars` characters of `text`, with an ellipsis when cut.
pub fn excerpt(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text.to_owned(),
    }
}

impl ArticleBrief {
    /// A listing's article.
    pub fn from_summary(summary: &ArticleSummary) -> Self {
        let article = summary.article.clone().unwrap_or_default();
        Self {
            time: article_time(&article),
            published_at: ts(article.published_at.as_ref()),
            ingested_at: ts(article.ingested_at.as_ref()),
            excerpt: excerpt(&article.body, EXCERPT_CHARS),
            id: article.id,
            title: article.title,
            source: article.source,
            url: article.url,
            language: article.language,
            entity_count: summary.entity_count,
            statement_count: summary.statement_count,
            stance_count: summary.stance_count,
            story: (summary.story_id != 0).then_some(summary.story_id),
        }
    }
}

/// The body's code points `[start, end)`, clamped to the body.
pub fn slice(chars: &[char], span: Option<&Span>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let end = (span.end as usize).min(chars.len());
    let start = (span.start as usize).min(end);
    chars[start..end].iter().collect()
}

impl ArticleDetail {
    /// A stored article with its analysis resolved.
    pub fn from_stored(stored: &StoredArticle) -> Self {
        let document: &AnalyzedArticle = &stored.article;
        let article = document.article.clone().unwrap_or_default();
        let analysis = document.analysis.clone().unwrap_or_default();
        let chars: Vec<char> = article.body.chars().collect();
        let by_id: HashMap<&str, &Entity> = analysis
            .entities
            .iter()
            .map(|e| (e.id.as_str(), e))
            .collect();
        let entity_ref = |id: &str| {
            by_id.get(id).map(|e| EntityRef {
                entity_id: e.id.clone(),
                key: e.key.clone(),
                name: e.canonical_name.clone(),
            })
        };
        let entities = analysis
            .entities
            .iter()
            .map(|e| EntityJson {
                id: e.id.clone(),
                key: e.key.clone(),
                entity_type: entity_type(e.r#type),
                name: e.canonical_name.clone(),
                salience: e.salience,
                mentions: e
                    .mentions
                    .iter()
                    .map(|m| MentionJson {
                        span: SpanJson::of(m.span.as_ref()),
                        text: m.text.clone(),
                        kind: MentionKind::try_from(m.kind)
                            .map(|k| label(k.as_str_name(), "MENTION_KIND_"))
                            .unwrap_or_default(),
                    })
                    .collect(),
                geo: e.geo.as_ref().and_then(GeoJson::of),
            })
            .collect();
        let statements = analysis
            .statements
            .iter()
            .map(|s| StatementJson {
                id: s.id.clone(),
                speaker: entity_ref(&s.speaker_entity_id),
                speaker_text: s.speaker_text.clone(),
                speaker_span: SpanJson::of(s.speaker_span.as_ref()),
                cue: s.cue.clone(),
                cue_span: SpanJson::of(s.cue_span.as_ref()),
                content: s.content.clone(),
                content_span: SpanJson::of(s.content_span.as_ref()),
                kind: statement_kind(s.kind),
                confidence: s.confidence,
            })
            .collect();
        let stances = analysis
            .stances
            .iter()
            .map(|s| {
                let target = s.target.clone().unwrap_or_default();
                let (entity, topic) = match &target.target {
                    Some(target::Target::EntityId(id)) => (entity_ref(id), None),
                    Some(target::Target::Topic(topic)) => (None, Some(topic.clone())),
                    None => (None, None),
                };
                StanceJson {
                    holder: entity_ref(&s.holder_entity_id),
                    statement_id: (!s.statement_id.is_empty()).then(|| s.statement_id.clone()),
                    target: StanceTarget {
                        entity,
                        topic,
                        span: SpanJson::of(target.span.as_ref()),
                    },
                    polarity: polarity(Polarity::try_from(s.polarity).unwrap_or_default()),
                    score: s.score,
                    confidence: s.confidence,
                    method: StanceMethod::try_from(s.method)
                        .map(|m| label(m.as_str_name(), "STANCE_METHOD_"))
                        .unwrap_or_default(),
                    evidence_span: SpanJson::of(s.evidence_span.as_ref()),
                    evidence: slice(&chars, s.evidence_span.as_ref()),
                }
            })
            .collect();
        let affiliations = analysis
            .affiliations
            .iter()
            .map(|a| AffiliationJson {
                entity: entity_ref(&a.entity_id),
                affiliate: entity_ref(&a.affiliate_entity_id),
                kind: AffiliationKind::try_from(a.kind)
                    .map(|k| label(k.as_str_name(), "AFFILIATION_KIND_"))
                    .unwrap_or_default(),
                evidence_span: SpanJson::of(a.evidence_span.as_ref()),
            })
            .collect();
        Self {
            time: article_time(&article),
            published_at: ts(article.published_at.as_ref()),
            ingested_at: ts(article.ingested_at.as_ref()),
            id: article.id,
            external_id: article.external_id,
            title: article.title,
            source: article.source,
            url: article.url,
            language: article.language,
            body: article.body,
            stored_at: rfc3339(stored.stored_at),
            revision: stored.revision,
            duplicate_of: stored.duplicate_of.clone(),
            story: stored.story_id,
            entities,
            statements,
            stances,
            affiliations,
        }
    }
}

impl From<&EntityMatch> for EntityHit {
    fn from(m: &EntityMatch) -> Self {
        Self {
            key: m.key.clone(),
            name: m.canonical_name.clone(),
            entity_type: entity_type(m.r#type),
            article_count: m.article_count,
            score: m.score,
        }
    }
}

impl From<&EntityFacts> for EntityDetail {
    fn from(f: &EntityFacts) -> Self {
        Self {
            key: f.key.clone(),
            name: f.canonical_name.clone(),
            aliases: f.aliases.clone(),
            ambiguity: f.ambiguity.clone(),
            entity_type: entity_type(f.entity_type as i32),
            articles: f.articles,
            mentions: f.mentions,
            statements: f.statements,
            first: rfc3339(f.first),
            last: rfc3339(f.last),
        }
    }
}

impl From<&EntityTimelineResponse> for Timeline {
    fn from(t: &EntityTimelineResponse) -> Self {
        Self {
            key: t.entity_key.clone(),
            name: t.canonical_name.clone(),
            days: t
                .days
                .iter()
                .map(|d| TimelineDayJson {
                    date: d.date.clone(),
                    mentions: d.mentions,
                    articles: d.articles,
                    mean_polarity: d.mean_polarity,
                    negative: d.negative,
                    neutral: d.neutral,
                    positive: d.positive,
                    speakers: d
                        .speakers
                        .iter()
                        .map(|s| SpeakerJson {
                            key: s.speaker_key.clone(),
                            name: s.speaker_name.clone(),
                            stances: s.stances,
                            mean_polarity: s.mean_polarity,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

impl From<&FoundStatement> for StatementHit {
    fn from(s: &FoundStatement) -> Self {
        Self {
            article: ArticleRef {
                id: s.article_id.clone(),
                title: s.article_title.clone(),
                source: s.source.clone(),
                time: rfc3339(s.time),
            },
            statement_id: s.statement_id.clone(),
            speaker: s.speaker_key.as_ref().map(|key| Speaker {
                key: key.clone(),
                name: s.speaker_name.clone().unwrap_or_default(),
            }),
            speaker_text: s.speaker_text.clone(),
            cue: s.cue.clone(),
            content: s.content.clone(),
            content_span: s.content_span.map(|(start, end)| SpanJson { start, end }),
            kind: statement_kind(s.kind as i32),
            confidence: s.confidence,
            stance: s.stance.map(|(p, score)| StanceToward {
                polarity: polarity(p),
                score,
            }),
        }
    }
}

impl From<&StanceEdge> for Edge {
    fn from(e: &StanceEdge) -> Self {
        let (kind, key) = match &e.target {
            EdgeTarget::Entity(key) => ("entity", key.clone()),
            EdgeTarget::Topic(topic) => ("topic", topic.clone()),
        };
        Self {
            holder: Speaker {
                key: e.holder_key.clone(),
                name: e.holder_name.clone(),
            },
            target: EdgeEnd {
                kind: kind.to_owned(),
                key,
                name: e.target_name.clone(),
            },
            negative: e.negative,
            neutral: e.neutral,
            positive: e.positive,
            total: e.negative + e.neutral + e.positive,
            mean_score: e.mean_score,
            articles: e.articles,
        }
    }
}

impl LiveArticle {
    /// The brief form of an `article.processed` event.
    pub fn from_event(event: &ArticleProcessed) -> Self {
        let document = event.article.clone().unwrap_or_default();
        let article = document.article.unwrap_or_default();
        let analysis = document.analysis.unwrap_or_default();
        let mut entities: Vec<&Entity> = analysis.entities.iter().collect();
        entities.sort_by(|a, b| b.salience.total_cmp(&a.salience));
        Self {
            time: article_time(&article),
            stored_at: ts(event.stored_at.as_ref()),
            excerpt: excerpt(&article.body, EXCERPT_CHARS),
            reason: ProcessedReason::try_from(event.reason)
                .map(|r| label(r.as_str_name(), "PROCESSED_REASON_"))
                .unwrap_or_default(),
            entity_count: analysis.entities.len() as u32,
            statement_count: analysis.statements.len() as u32,
            stance_count: analysis.stances.len() as u32,
            top_entities: entities
                .into_iter()
                .take(5)
                .map(|e| LiveEntity {
                    key: e.key.clone(),
                    name: e.canonical_name.clone(),
                    entity_type: entity_type(e.r#type),
                })
                .collect(),
            id: article.id,
            title: article.title,
            source: article.source,
            url: article.url,
        }
    }
}

/// An entity of a story's label.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StoryEntity {
    pub key: String,
    pub name: String,
}

/// Articles about one event, grouped as they were stored (sentence embedding of title and
/// lead, shared entities, within three days).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StoryBrief {
    pub id: u64,
    /// The title of the article closest to the story's centre.
    pub title: String,
    /// Its most salient entities, most first.
    pub entities: Vec<StoryEntity>,
    /// Its articles, near-copies left out.
    pub article_count: u32,
    /// Near-copies of its articles (wire copies run by other outlets).
    pub copy_count: u32,
    /// Published (else ingested) time of its earliest and latest article (RFC 3339).
    pub first_at: Option<String>,
    pub last_at: Option<String>,
}

impl StoryBrief {
    pub fn from_story(story: &newsflow_proto::v1::Story) -> Self {
        Self {
            id: story.id,
            title: story.title.clone(),
            entities: story
                .entities
                .iter()
                .map(|e| StoryEntity {
                    key: e.key.clone(),
                    name: e.name.clone(),
                })
                .collect(),
            article_count: story.article_count,
            copy_count: story.copy_count,
            first_at: ts(story.first_at.as_ref()),
            last_at: ts(story.last_at.as_ref()),
        }
    }
}

/// One page of stories, latest first.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StoryPage {
    pub stories: Vec<StoryBrief>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A story with its articles (the first page, newest first).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StoryDetail {
    pub story: StoryBrief,
    pub articles: ArticlePage,
}
