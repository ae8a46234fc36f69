//! Stored analyses as flat records for export: one record per article, mention, statement or
//! stance of the articles an [`ArticleFilter`] selects, newest article first.
//!
//! [`Store::export`] streams them in batches of [`EXPORT_BATCH`] articles, each batch one
//! keyset-paged query (plus one for the batch's rows), so memory stays bounded however many
//! articles match and no connection or snapshot is held while the reader is slow. Articles
//! stored meanwhile appear if they sort after the export's position.

use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use newsflow_proto::v1::{EntityType, MentionKind, Polarity, StanceMethod, StatementKind};
use serde::{Serialize, Serializer};
use sqlx::{Postgres, QueryBuilder};

use crate::token::Cursor;
use crate::{ArticleFilter, Store, StoreError};

/// Articles per batch of an export.
pub const EXPORT_BATCH: i64 = 250;

/// What one record of an export stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportRows {
    /// One record per article (with its body).
    Articles,
    /// One per entity mention.
    Mentions,
    /// One per statement.
    Statements,
    /// One per stance.
    Stances,
}

impl ExportRows {
    /// The field names of its records, in order.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Self::Articles => ArticleRecord::FIELDS,
            Self::Mentions => MentionRecord::FIELDS,
            Self::Statements => StatementRecord::FIELDS,
            Self::Stances => StanceRecord::FIELDS,
        }
    }
}

/// One batch of an export's records.
#[derive(Clone, Debug, PartialEq)]
pub enum ExportBatch {
    /// Article records.
    Articles(Vec<ArticleRecord>),
    /// Mention records.
    Mentions(Vec<MentionRecord>),
    /// Statement records.
    Statements(Vec<StatementRecord>),
    /// Stance records.
    Stances(Vec<StanceRecord>),
}

impl ExportBatch {
    /// Records in the batch.
    pub fn len(&self) -> usize {
        match self {
            Self::Articles(rows) => rows.len(),
            Self::Mentions(rows) => rows.len(),
            Self::Statements(rows) => rows.len(),
            Self::Stances(rows) => rows.len(),
        }
    }

    /// Whether the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An article. Times are RFC 3339 in UTC; `time` is the published time, else the ingested.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct ArticleRecord {
    pub id: String,
    #[serde(serialize_with = "rfc3339")]
    pub time: DateTime<Utc>,
    #[serde(serialize_with = "opt_rfc3339")]
    pub published_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339")]
    pub ingested_at: DateTime<Utc>,
    pub source: String,
    pub url: String,
    pub external_id: String,
    pub language: String,
    pub title: String,
    pub entity_count: i32,
    pub statement_count: i32,
    pub stance_count: i32,
    pub body: String,
}

/// A mention of an entity. `start`/`end` are code points into the article's body.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct MentionRecord {
    pub article_id: String,
    pub entity_key: String,
    #[serde(serialize_with = "entity_type")]
    pub entity_type: i16,
    pub canonical_name: String,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub text: String,
    #[serde(serialize_with = "mention_kind")]
    pub kind: i16,
    pub confidence: f32,
}

/// A statement: who said what. Spans are code points into the article's body.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct StatementRecord {
    pub article_id: String,
    pub statement_id: String,
    pub speaker_key: Option<String>,
    pub speaker_name: Option<String>,
    pub speaker_text: String,
    pub cue: String,
    pub content: String,
    #[serde(serialize_with = "statement_kind")]
    pub kind: i16,
    pub confidence: f32,
    pub speaker_start: Option<i64>,
    pub speaker_end: Option<i64>,
    pub cue_start: Option<i64>,
    pub cue_end: Option<i64>,
    pub content_start: Option<i64>,
    pub content_end: Option<i64>,
}

/// A stance of a holder (empty: the text's own) toward an entity or a topic, with its evidence.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct StanceRecord {
    pub article_id: String,
    pub holder_key: Option<String>,
    pub holder_name: Option<String>,
    pub target_key: Option<String>,
    pub target_name: Option<String>,
    pub target_topic: Option<String>,
    #[serde(serialize_with = "polarity")]
    pub polarity: i16,
    pub score: f32,
    pub confidence: f32,
    /// What decided it: a holder's stance (`holder_model`, `predicate`, `own_side`) or the
    /// text's portrayal of the target (`portrayal`).
    #[serde(serialize_with = "stance_method")]
    pub method: i16,
    pub statement_id: Option<String>,
    pub evidence: Option<String>,
    pub evidence_start: Option<i64>,
    pub evidence_end: Option<i64>,
}

impl ArticleRecord {
    /// The field names, in order: a CSV export's header.
    pub const FIELDS: &'static [&'static str] = &[
        "id",
        "time",
        "published_at",
        "ingested_at",
        "source",
        "url",
        "external_id",
        "language",
        "title",
        "entity_count",
        "statement_count",
        "stance_count",
        "body",
    ];
}

impl MentionRecord {
    /// The field names, in order: a CSV export's header.
    pub const FIELDS: &'static [&'static str] = &[
        "article_id",
        "entity_key",
        "entity_type",
        "canonical_name",
        "start",
        "end",
        "text",
        "kind",
        "confidence",
    ];
}

impl StatementRecord {
    /// The field names, in order: a CSV export's header.
    pub const FIELDS: &'static [&'static str] = &[
        "article_id",
        "statement_id",
        "speaker_key",
        "speaker_name",
        "speaker_text",
        "cue",
        "content",
        "kind",
        "confidence",
        "speaker_start",
        "speaker_end",
        "cue_start",
        "cue_end",
        "content_start",
        "content_end",
    ];
}

impl StanceRecord {
    /// The field names, in order: a CSV export's header.
    pub const FIELDS: &'static [&'static str] = &[
        "article_id",
        "holder_key",
        "holder_name",
        "target_key",
        "target_name",
        "target_topic",
        "polarity",
        "score",
        "confidence",
        "method",
        "statement_id",
        "evidence",
        "evidence_start",
        "evidence_end",
    ];
}

/// The records of the articles of one batch, given as `$1`, in the batch's order.
const MENTIONS: &str = "SELECT m.article_id, ae.entity_key, ae.type AS entity_type, \
       ae.canonical_name, m.span_start AS start, m.span_end AS \"end\", m.text, m.kind, \
       m.confidence \
     FROM unnest($1::text[]) WITH ORDINALITY AS b(id, n) \
     JOIN mentions m ON m.article_id = b.id \
     JOIN article_entities ae ON ae.article_id = m.article_id AND ae.entity_id = m.entity_id \
     ORDER BY b.n, ae.ordinal, m.ordinal";
const STATEMENTS: &str = "SELECT st.article_id, st.statement_id, st.speaker_key, \
       sp.canonical_name AS speaker_name, st.speaker_text, st.cue, st.content, st.kind, \
       st.confidence, st.speaker_start, st.speaker_end, st.cue_start, st.cue_end, \
       st.content_start, st.content_end \
     FROM unnest($1::text[]) WITH ORDINALITY AS b(id, n) \
     JOIN statements st ON st.article_id = b.id \
     LEFT JOIN article_entities sp ON sp.article_id = st.article_id \
       AND sp.entity_id = st.speaker_entity_id \
     ORDER BY b.n, st.ordinal";
const STANCES: &str = "SELECT s.article_id, s.holder_key, s.holder_name, s.target_key, \
       tg.canonical_name AS target_name, s.target_topic, s.polarity, s.score, s.confidence, \
       s.method, s.statement_id, \
       CASE WHEN s.evidence_end >= s.evidence_start \
         THEN substr(a.body, (s.evidence_start + 1)::int4, \
                     (s.evidence_end - s.evidence_start)::int4) END AS evidence, \
       s.evidence_start, s.evidence_end \
     FROM unnest($1::text[]) WITH ORDINALITY AS b(id, n) \
     JOIN stances s ON s.article_id = b.id \
     JOIN articles a ON a.id = s.article_id \
     LEFT JOIN article_entities tg ON tg.article_id = s.article_id \
       AND tg.entity_id = s.target_entity_id \
     ORDER BY b.n, s.ordinal";

impl Store {
    /// Streams the `rows` records of the articles `filter` selects, newest article first, one
    /// batch per [`EXPORT_BATCH`] articles (a batch may be empty when its articles hold no such
    /// record). A database error ends the stream after it is yielded; a bad filter is the first
    /// item.
    pub fn export(
        &self,
        filter: ArticleFilter,
        rows: ExportRows,
    ) -> BoxStream<'static, Result<ExportBatch, StoreError>> {
        let pool = self.pool.clone();
        // `None` once the last batch has been read; the position of the last article read.
        let start: Option<Option<Cursor>> = Some(None);
        stream::try_unfold(start, move |state| {
            let pool = pool.clone();
            let filter = filter.clone();
            async move {
                let Some(cursor) = state else {
                    return Ok(None);
                };
                let (batch, last, full) = match rows {
                    ExportRows::Articles => {
                        let mut q = QueryBuilder::<Postgres>::new(
                            "SELECT a.id, a.sort_time AS time, a.published_at, a.ingested_at, \
                             a.source, a.url, a.external_id, a.language, a.title, \
                             a.entity_count, a.statement_count, a.stance_count, a.body \
                             FROM articles a WHERE TRUE",
                        );
                        filter.push_page(&mut q, cursor.as_ref(), EXPORT_BATCH)?;
                        let records: Vec<ArticleRecord> =
                            q.build_query_as().fetch_all(&pool).await?;
                        let Some(last) = records.last().map(|r| position(&r.id, r.time)) else {
                            return Ok(None);
                        };
                        let full = records.len() as i64 == EXPORT_BATCH;
                        (ExportBatch::Articles(records), last, full)
                    }
                    children => {
                        let mut q = QueryBuilder::<Postgres>::new(
                            "SELECT a.id, a.sort_time FROM articles a WHERE TRUE",
                        );
                        filter.push_page(&mut q, cursor.as_ref(), EXPORT_BATCH)?;
                        let ids: Vec<(String, DateTime<Utc>)> =
                            q.build_query_as().fetch_all(&pool).await?;
                        let Some(last) = ids.last().map(|(id, time)| position(id, *time)) else {
                            return Ok(None);
                        };
                        let full = ids.len() as i64 == EXPORT_BATCH;
                        let ids: Vec<String> = ids.into_iter().map(|(id, _)| id).collect();
                        let batch = match children {
                            ExportRows::Mentions => {
                                ExportBatch::Mentions(of_articles(&pool, MENTIONS, &ids).await?)
                            }
                            ExportRows::Statements => {
                                ExportBatch::Statements(of_articles(&pool, STATEMENTS, &ids).await?)
                            }
                            _ => ExportBatch::Stances(of_articles(&pool, STANCES, &ids).await?),
                        };
                        (batch, last, full)
                    }
                };
                // A short batch is the last one: the next step ends the stream without asking.
                let next = full.then_some(Some(last));
                Ok::<_, StoreError>(Some((batch, next)))
            }
        })
        .boxed()
    }
}

fn position(id: &str, time: DateTime<Utc>) -> Cursor {
    Cursor {
        micros: time.timestamp_micros(),
        id: id.to_owned(),
    }
}

async fn of_articles<R>(
    pool: &sqlx::PgPool,
    sql: &'static str,
    ids: &[String],
) -> Result<Vec<R>, StoreError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    Ok(sqlx::query_as(sql).bind(ids).fetch_all(pool).await?)
}

fn rfc3339<S: Serializer>(time: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

fn opt_rfc3339<S: Serializer>(time: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => rfc3339(time, s),
        None => s.serialize_none(),
    }
}

/// The lower-case name of a contract enum value, without its prefix ("person").
fn label(name: Option<&str>, prefix: &str) -> String {
    name.map(|name| name.trim_start_matches(prefix).to_ascii_lowercase())
        .unwrap_or_default()
}

fn entity_type<S: Serializer>(value: &i16, s: S) -> Result<S::Ok, S::Error> {
    let name = EntityType::try_from(i32::from(*value)).ok();
    s.serialize_str(&label(name.map(|v| v.as_str_name()), "ENTITY_TYPE_"))
}

fn mention_kind<S: Serializer>(value: &i16, s: S) -> Result<S::Ok, S::Error> {
    let name = MentionKind::try_from(i32::from(*value)).ok();
    s.serialize_str(&label(name.map(|v| v.as_str_name()), "MENTION_KIND_"))
}

fn statement_kind<S: Serializer>(value: &i16, s: S) -> Result<S::Ok, S::Error> {
    let name = StatementKind::try_from(i32::from(*value)).ok();
    s.serialize_str(&label(name.map(|v| v.as_str_name()), "STATEMENT_KIND_"))
}

fn stance_method<S: Serializer>(value: &i16, s: S) -> Result<S::Ok, S::Error> {
    let name = StanceMethod::try_from(i32::from(*value)).ok();
    s.serialize_str(&label(name.map(|v| v.as_str_name()), "STANCE_METHOD_"))
}

fn polarity<S: Serializer>(value: &i16, s: S) -> Result<S::Ok, S::Error> {
    let name = Polarity::try_from(i32::from(*value)).ok();
    s.serialize_str(&label(name.map(|v| v.as_str_name()), "POLARITY_"))
}
