//! The write path: check an `AnalyzedArticle`, project it into rows, and replace the article's
//! rows in one transaction, serialized per article id.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use newsflow_proto::v1::{AnalyzedArticle, Entity, EntitySummary, Span, target};
use prost::Message;

use crate::{Store, StoreError, time};

/// What [`Store::save`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveStatus {
    /// The article was not stored before.
    New,
    /// The article was stored with a different document; its rows were replaced.
    Replaced,
    /// The article was stored with exactly this document (a redelivery); nothing was written.
    Unchanged,
}

/// The result of a successful [`Store::save`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaveOutcome {
    /// New, replaced or unchanged.
    pub status: SaveStatus,
    /// When the stored copy was committed (for `ArticleProcessed.stored_at`); for an unchanged
    /// article, when it was stored before.
    pub stored_at: DateTime<Utc>,
    /// The stored copy's revision: 1 for the first save, +1 for every change.
    pub revision: i32,
}

impl Store {
    /// Stores `doc` and the projection of its analysis in one transaction.
    ///
    /// Idempotent by article id: saving an article again replaces all of its rows (or, when the
    /// document is byte-for-byte the same, writes nothing), so a redelivery never duplicates.
    /// Concurrent saves of one article are serialized by a transaction-scoped advisory lock on
    /// its id, so the last to commit wins whole and the rows always match the stored document.
    ///
    /// Fails with [`StoreError::InvalidArticle`] when the document cannot be stored as it is (no
    /// article id, an analysis that refers to entity or statement ids it does not contain, a
    /// non-finite score); that will not pass on a retry.
    pub async fn save(&self, doc: &AnalyzedArticle) -> Result<SaveOutcome, StoreError> {
        let rows = Projection::of(doc)?;
        let document = doc.encode_to_vec();
        let id = rows.article_id.as_str();

        let mut tx = self.pool.begin().await?;
        // Taken before reading, so the read below sees the winner of any concurrent save.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('newsflow.article:' || $1, 0))")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let existing: Option<(Vec<u8>, DateTime<Utc>, i32)> =
            sqlx::query_as("SELECT document, stored_at, revision FROM articles WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((stored, stored_at, revision)) = &existing
            && *stored == document
        {
            tx.commit().await?;
            return Ok(SaveOutcome {
                status: SaveStatus::Unchanged,
                stored_at: *stored_at,
                revision: *revision,
            });
        }

        // ON CONFLICT keeps this correct even if a writer ever skips the lock.
        let (stored_at, revision): (DateTime<Utc>, i32) = sqlx::query_as(
            "INSERT INTO articles (id, external_id, url, source, title, body, language, \
                 published_at, ingested_at, entity_count, statement_count, stance_count, \
                 document, first_stored_at, stored_at, revision) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9::timestamptz, now()), \
                 $10, $11, $12, $13, now(), now(), 1) \
             ON CONFLICT (id) DO UPDATE SET \
                 external_id = EXCLUDED.external_id, url = EXCLUDED.url, \
                 source = EXCLUDED.source, title = EXCLUDED.title, body = EXCLUDED.body, \
                 language = EXCLUDED.language, published_at = EXCLUDED.published_at, \
                 ingested_at = coalesce($9::timestamptz, articles.ingested_at), \
                 entity_count = EXCLUDED.entity_count, \
                 statement_count = EXCLUDED.statement_count, \
                 stance_count = EXCLUDED.stance_count, document = EXCLUDED.document, \
                 stored_at = EXCLUDED.stored_at, revision = articles.revision + 1 \
             RETURNING stored_at, revision",
        )
        .bind(id)
        .bind(&rows.article.external_id)
        .bind(&rows.article.url)
        .bind(&rows.article.source)
        .bind(&rows.article.title)
        .bind(&rows.article.body)
        .bind(&rows.article.language)
        .bind(rows.article.published_at)
        .bind(rows.article.ingested_at)
        .bind(rows.article.entity_count)
        .bind(rows.article.statement_count)
        .bind(rows.article.stance_count)
        .bind(&document)
        .fetch_one(&mut *tx)
        .await?;

        if existing.is_some() {
            // Mentions go with their article_entities rows (ON DELETE CASCADE).
            for sql in [
                "DELETE FROM article_entities WHERE article_id = $1",
                "DELETE FROM statements WHERE article_id = $1",
                "DELETE FROM stances WHERE article_id = $1",
            ] {
                sqlx::query(sql).bind(id).execute(&mut *tx).await?;
            }
        }
        rows.insert(&mut tx).await?;
        tx.commit().await?;

        Ok(SaveOutcome {
            status: if existing.is_some() {
                SaveStatus::Replaced
            } else {
                SaveStatus::New
            },
            stored_at,
            revision,
        })
    }
}

/// The `articles` columns besides id and document.
#[derive(Default)]
struct ArticleRow {
    external_id: String,
    url: String,
    source: String,
    title: String,
    body: String,
    language: String,
    published_at: Option<DateTime<Utc>>,
    ingested_at: Option<DateTime<Utc>>,
    entity_count: i32,
    statement_count: i32,
    stance_count: i32,
}

/// An analysis as column arrays, one `INSERT ... SELECT FROM unnest(...)` per table, so a save
/// costs the same few round trips however many mentions the article has.
#[derive(Default)]
struct Projection {
    article_id: String,
    article: ArticleRow,
    // entities: distinct keys, sorted so concurrent saves insert them in one order and cannot
    // deadlock on each other's uncommitted keys.
    entity_keys: Vec<String>,
    entity_types: Vec<i16>,
    entity_names: Vec<String>,
    // article_entities
    ae_ids: Vec<String>,
    ae_ordinals: Vec<i32>,
    ae_keys: Vec<String>,
    ae_types: Vec<i16>,
    ae_names: Vec<String>,
    ae_saliences: Vec<f32>,
    ae_mention_counts: Vec<i32>,
    ae_sum_mentions: Vec<Option<i32>>,
    ae_sum_mean: Vec<Option<f32>>,
    ae_sum_negative: Vec<Option<i32>>,
    ae_sum_neutral: Vec<Option<i32>>,
    ae_sum_positive: Vec<Option<i32>>,
    ae_sum_strongest_start: Vec<Option<i64>>,
    ae_sum_strongest_end: Vec<Option<i64>>,
    ae_sum_strongest_score: Vec<Option<f32>>,
    ae_sum_statements: Vec<Option<i32>>,
    // mentions
    m_entity_ids: Vec<String>,
    m_ordinals: Vec<i32>,
    m_starts: Vec<Option<i64>>,
    m_ends: Vec<Option<i64>>,
    m_texts: Vec<String>,
    m_kinds: Vec<i16>,
    m_confidences: Vec<f32>,
    // statements
    s_ids: Vec<String>,
    s_ordinals: Vec<i32>,
    s_speaker_ids: Vec<Option<String>>,
    s_speaker_keys: Vec<Option<String>>,
    s_speaker_starts: Vec<Option<i64>>,
    s_speaker_ends: Vec<Option<i64>>,
    s_speaker_texts: Vec<String>,
    s_cue_starts: Vec<Option<i64>>,
    s_cue_ends: Vec<Option<i64>>,
    s_cues: Vec<String>,
    s_content_starts: Vec<Option<i64>>,
    s_content_ends: Vec<Option<i64>>,
    s_contents: Vec<String>,
    s_kinds: Vec<i16>,
    s_confidences: Vec<f32>,
    // stances
    st_ordinals: Vec<i32>,
    st_holder_ids: Vec<Option<String>>,
    st_holder_keys: Vec<Option<String>>,
    st_holder_names: Vec<Option<String>>,
    st_statement_ids: Vec<Option<String>>,
    st_target_ids: Vec<Option<String>>,
    st_target_keys: Vec<Option<String>>,
    st_target_topics: Vec<Option<String>>,
    st_target_starts: Vec<Option<i64>>,
    st_target_ends: Vec<Option<i64>>,
    st_polarities: Vec<i16>,
    st_scores: Vec<f32>,
    st_confidences: Vec<f32>,
    st_evidence_starts: Vec<Option<i64>>,
    st_evidence_ends: Vec<Option<i64>>,
}

impl Projection {
    /// Checks `doc` and turns it into rows; every reference between parts of the analysis must
    /// resolve, so the rows never point at nothing.
    fn of(doc: &AnalyzedArticle) -> Result<Self, StoreError> {
        let invalid = StoreError::InvalidArticle;
        let article = doc
            .article
            .as_ref()
            .ok_or_else(|| invalid("the document has no article".into()))?;
        if article.id.is_empty() {
            return Err(invalid("the article has no id".into()));
        }
        if article.id.contains('\0') {
            return Err(invalid("the article id contains a NUL character".into()));
        }
        let at = |what: &str, ts: &Option<prost_types::Timestamp>| {
            ts.as_ref()
                .map(time::from_proto)
                .transpose()
                .map_err(|why| invalid(format!("article.{what}: {why}")))
        };
        let default = Default::default();
        let analysis = doc.analysis.as_ref().unwrap_or(&default);

        let mut p = Projection {
            article_id: article.id.clone(),
            article: ArticleRow {
                external_id: pg_text(&article.external_id),
                url: pg_text(&article.url),
                source: pg_text(&article.source),
                title: pg_text(&article.title),
                body: pg_text(&article.body),
                language: pg_text(&article.language),
                published_at: at("published_at", &article.published_at)?,
                ingested_at: at("ingested_at", &article.ingested_at)?,
                entity_count: count(analysis.entities.len()),
                statement_count: count(analysis.statements.len()),
                stance_count: count(analysis.stances.len()),
            },
            ..Default::default()
        };

        let mut entities: HashMap<&str, &Entity> = HashMap::new();
        let mut distinct_keys: BTreeMap<String, (i16, String)> = BTreeMap::new();
        for e in &analysis.entities {
            if e.id.is_empty() {
                return Err(invalid(format!("entity {:?} has no id", e.canonical_name)));
            }
            if entities.insert(e.id.as_str(), e).is_some() {
                return Err(invalid(format!("entity id {:?} appears twice", e.id)));
            }
            if e.key.is_empty() {
                return Err(invalid(format!("entity {:?} has no key", e.id)));
            }
            finite("entity salience", e.salience)?;
            distinct_keys
                .entry(pg_text(&e.key))
                .or_insert_with(|| (small(e.r#type), pg_text(&e.canonical_name)));
        }
        for (key, (ty, name)) in distinct_keys {
            p.entity_keys.push(key);
            p.entity_types.push(ty);
            p.entity_names.push(name);
        }

        let mut summaries: HashMap<&str, &EntitySummary> = HashMap::new();
        for s in &analysis.summaries {
            if !entities.contains_key(s.entity_id.as_str()) {
                return Err(invalid(format!(
                    "summary of unknown entity {:?}",
                    s.entity_id
                )));
            }
            if summaries.insert(s.entity_id.as_str(), s).is_some() {
                return Err(invalid(format!(
                    "entity {:?} has two summaries",
                    s.entity_id
                )));
            }
            finite("summary mean polarity", s.mean_polarity)?;
            finite("summary strongest score", s.strongest_score)?;
        }

        for (ordinal, e) in analysis.entities.iter().enumerate() {
            p.ae_ids.push(pg_text(&e.id));
            p.ae_ordinals.push(count(ordinal));
            p.ae_keys.push(pg_text(&e.key));
            p.ae_types.push(small(e.r#type));
            p.ae_names.push(pg_text(&e.canonical_name));
            p.ae_saliences.push(e.salience);
            p.ae_mention_counts.push(count(e.mentions.len()));
            let s = summaries.get(e.id.as_str());
            let (strongest_start, strongest_end) =
                span(s.and_then(|s| s.strongest_evidence.as_ref()));
            p.ae_sum_mentions.push(s.map(|s| saturate(s.mention_count)));
            p.ae_sum_mean.push(s.map(|s| s.mean_polarity));
            p.ae_sum_negative.push(s.map(|s| saturate(s.negative)));
            p.ae_sum_neutral.push(s.map(|s| saturate(s.neutral)));
            p.ae_sum_positive.push(s.map(|s| saturate(s.positive)));
            p.ae_sum_strongest_start.push(strongest_start);
            p.ae_sum_strongest_end.push(strongest_end);
            p.ae_sum_strongest_score.push(s.map(|s| s.strongest_score));
            p.ae_sum_statements
                .push(s.map(|s| saturate(s.statement_count)));

            for (ordinal, m) in e.mentions.iter().enumerate() {
                finite("mention confidence", m.confidence)?;
                let (start, end) = span(m.span.as_ref());
                p.m_entity_ids.push(pg_text(&e.id));
                p.m_ordinals.push(count(ordinal));
                p.m_starts.push(start);
                p.m_ends.push(end);
                p.m_texts.push(pg_text(&m.text));
                p.m_kinds.push(small(m.kind));
                p.m_confidences.push(m.confidence);
            }
        }

        let mut statement_ids = HashSet::new();
        for (ordinal, s) in analysis.statements.iter().enumerate() {
            if s.id.is_empty() {
                return Err(invalid(format!("statement {ordinal} has no id")));
            }
            if !statement_ids.insert(s.id.as_str()) {
                return Err(invalid(format!("statement id {:?} appears twice", s.id)));
            }
            finite("statement confidence", s.confidence)?;
            let speaker = resolve(
                &entities,
                &format!("statement {:?}", s.id),
                &s.speaker_entity_id,
            )?;
            let (speaker_start, speaker_end) = span(s.speaker_span.as_ref());
            let (cue_start, cue_end) = span(s.cue_span.as_ref());
            let (content_start, content_end) = span(s.content_span.as_ref());
            p.s_ids.push(pg_text(&s.id));
            p.s_ordinals.push(count(ordinal));
            p.s_speaker_ids.push(speaker.map(|e| pg_text(&e.id)));
            p.s_speaker_keys.push(speaker.map(|e| pg_text(&e.key)));
            p.s_speaker_starts.push(speaker_start);
            p.s_speaker_ends.push(speaker_end);
            p.s_speaker_texts.push(pg_text(&s.speaker_text));
            p.s_cue_starts.push(cue_start);
            p.s_cue_ends.push(cue_end);
            p.s_cues.push(pg_text(&s.cue));
            p.s_content_starts.push(content_start);
            p.s_content_ends.push(content_end);
            p.s_contents.push(pg_text(&s.content));
            p.s_kinds.push(small(s.kind));
            p.s_confidences.push(s.confidence);
        }

        for (ordinal, st) in analysis.stances.iter().enumerate() {
            let what = format!("stance {ordinal}");
            finite("stance score", st.score)?;
            finite("stance confidence", st.confidence)?;
            let holder = resolve(&entities, &what, &st.holder_entity_id)?;
            if !st.statement_id.is_empty() && !statement_ids.contains(st.statement_id.as_str()) {
                return Err(invalid(format!(
                    "{what} refers to unknown statement {:?}",
                    st.statement_id
                )));
            }
            let target = st.target.as_ref();
            let (target_entity, topic) = match target.and_then(|t| t.target.as_ref()) {
                Some(target::Target::EntityId(id)) if id.is_empty() => {
                    return Err(invalid(format!("{what} targets an empty entity id")));
                }
                Some(target::Target::EntityId(id)) => (resolve(&entities, &what, id)?, None),
                Some(target::Target::Topic(topic)) => (None, Some(pg_text(topic))),
                None => (None, None),
            };
            let (target_start, target_end) = span(target.and_then(|t| t.span.as_ref()));
            let (evidence_start, evidence_end) = span(st.evidence_span.as_ref());
            p.st_ordinals.push(count(ordinal));
            p.st_holder_ids.push(holder.map(|e| pg_text(&e.id)));
            p.st_holder_keys.push(holder.map(|e| pg_text(&e.key)));
            p.st_holder_names
                .push(holder.map(|e| pg_text(&e.canonical_name)));
            p.st_statement_ids
                .push((!st.statement_id.is_empty()).then(|| pg_text(&st.statement_id)));
            p.st_target_ids.push(target_entity.map(|e| pg_text(&e.id)));
            p.st_target_keys
                .push(target_entity.map(|e| pg_text(&e.key)));
            p.st_target_topics.push(topic);
            p.st_target_starts.push(target_start);
            p.st_target_ends.push(target_end);
            p.st_polarities.push(small(st.polarity));
            p.st_scores.push(st.score);
            p.st_confidences.push(st.confidence);
            p.st_evidence_starts.push(evidence_start);
            p.st_evidence_ends.push(evidence_end);
        }
        Ok(p)
    }

    async fn insert(&self, tx: &mut sqlx::PgConnection) -> Result<(), StoreError> {
        let id = self.article_id.as_str();
        sqlx::query(
            "INSERT INTO entities (key, type, canonical_name, search_name, first_seen_at) \
             SELECT key, type, name, lower(name), now() \
             FROM unnest($1::text[], $2::int2[], $3::text[]) AS t(key, type, name) \
             ORDER BY key \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(&self.entity_keys)
        .bind(&self.entity_types)
        .bind(&self.entity_names)
        .execute(&mut *tx)
        .await?;

        sqlx::query(
            "INSERT INTO article_entities (article_id, entity_id, ordinal, entity_key, type, \
                 canonical_name, salience, mention_count, summary_mention_count, \
                 summary_mean_polarity, summary_negative, summary_neutral, summary_positive, \
                 summary_strongest_start, summary_strongest_end, summary_strongest_score, \
                 summary_statement_count) \
             SELECT $1, t.* FROM unnest($2::text[], $3::int4[], $4::text[], $5::int2[], \
                 $6::text[], $7::float4[], $8::int4[], $9::int4[], $10::float4[], $11::int4[], \
                 $12::int4[], $13::int4[], $14::int8[], $15::int8[], $16::float4[], \
                 $17::int4[]) AS t",
        )
        .bind(id)
        .bind(&self.ae_ids)
        .bind(&self.ae_ordinals)
        .bind(&self.ae_keys)
        .bind(&self.ae_types)
        .bind(&self.ae_names)
        .bind(&self.ae_saliences)
        .bind(&self.ae_mention_counts)
        .bind(&self.ae_sum_mentions)
        .bind(&self.ae_sum_mean)
        .bind(&self.ae_sum_negative)
        .bind(&self.ae_sum_neutral)
        .bind(&self.ae_sum_positive)
        .bind(&self.ae_sum_strongest_start)
        .bind(&self.ae_sum_strongest_end)
        .bind(&self.ae_sum_strongest_score)
        .bind(&self.ae_sum_statements)
        .execute(&mut *tx)
        .await?;

        sqlx::query(
            "INSERT INTO mentions (article_id, entity_id, ordinal, span_start, span_end, text, \
                 kind, confidence) \
             SELECT $1, t.* FROM unnest($2::text[], $3::int4[], $4::int8[], $5::int8[], \
                 $6::text[], $7::int2[], $8::float4[]) AS t",
        )
        .bind(id)
        .bind(&self.m_entity_ids)
        .bind(&self.m_ordinals)
        .bind(&self.m_starts)
        .bind(&self.m_ends)
        .bind(&self.m_texts)
        .bind(&self.m_kinds)
        .bind(&self.m_confidences)
        .execute(&mut *tx)
        .await?;

        sqlx::query(
            "INSERT INTO statements (article_id, statement_id, ordinal, speaker_entity_id, \
                 speaker_key, speaker_start, speaker_end, speaker_text, cue_start, cue_end, cue, \
                 content_start, content_end, content, kind, confidence) \
             SELECT $1, t.* FROM unnest($2::text[], $3::int4[], $4::text[], $5::text[], \
                 $6::int8[], $7::int8[], $8::text[], $9::int8[], $10::int8[], $11::text[], \
                 $12::int8[], $13::int8[], $14::text[], $15::int2[], $16::float4[]) AS t",
        )
        .bind(id)
        .bind(&self.s_ids)
        .bind(&self.s_ordinals)
        .bind(&self.s_speaker_ids)
        .bind(&self.s_speaker_keys)
        .bind(&self.s_speaker_starts)
        .bind(&self.s_speaker_ends)
        .bind(&self.s_speaker_texts)
        .bind(&self.s_cue_starts)
        .bind(&self.s_cue_ends)
        .bind(&self.s_cues)
        .bind(&self.s_content_starts)
        .bind(&self.s_content_ends)
        .bind(&self.s_contents)
        .bind(&self.s_kinds)
        .bind(&self.s_confidences)
        .execute(&mut *tx)
        .await?;

        sqlx::query(
            "INSERT INTO stances (article_id, ordinal, holder_entity_id, holder_key, \
                 holder_name, statement_id, target_entity_id, target_key, target_topic, \
                 target_start, target_end, polarity, score, confidence, evidence_start, \
                 evidence_end) \
             SELECT $1, t.* FROM unnest($2::int4[], $3::text[], $4::text[], $5::text[], \
                 $6::text[], $7::text[], $8::text[], $9::text[], $10::int8[], $11::int8[], \
                 $12::int2[], $13::float4[], $14::float4[], $15::int8[], $16::int8[]) AS t",
        )
        .bind(id)
        .bind(&self.st_ordinals)
        .bind(&self.st_holder_ids)
        .bind(&self.st_holder_keys)
        .bind(&self.st_holder_names)
        .bind(&self.st_statement_ids)
        .bind(&self.st_target_ids)
        .bind(&self.st_target_keys)
        .bind(&self.st_target_topics)
        .bind(&self.st_target_starts)
        .bind(&self.st_target_ends)
        .bind(&self.st_polarities)
        .bind(&self.st_scores)
        .bind(&self.st_confidences)
        .bind(&self.st_evidence_starts)
        .bind(&self.st_evidence_ends)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// Resolves an optional entity reference ("" for none) of `what` to the entity it names.
fn resolve<'a>(
    entities: &HashMap<&str, &'a Entity>,
    what: &str,
    id: &str,
) -> Result<Option<&'a Entity>, StoreError> {
    if id.is_empty() {
        return Ok(None);
    }
    entities.get(id).copied().map(Some).ok_or_else(|| {
        StoreError::InvalidArticle(format!("{what} refers to unknown entity {id:?}"))
    })
}

/// PostgreSQL text cannot hold NUL; U+FFFD keeps one code point per NUL, so spans still line
/// up. The stored document keeps the original bytes.
fn pg_text(s: &str) -> String {
    s.replace('\0', "\u{FFFD}")
}

/// An enum value as a `smallint`; values no enum of the contract comes near are clamped.
fn small(value: i32) -> i16 {
    i16::try_from(value).unwrap_or(if value < 0 { i16::MIN } else { i16::MAX })
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn saturate(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn span(span: Option<&Span>) -> (Option<i64>, Option<i64>) {
    match span {
        Some(s) => (Some(i64::from(s.start)), Some(i64::from(s.end))),
        None => (None, None),
    }
}

/// NaN or infinite scores would poison every mean computed over them.
fn finite(what: &str, value: f32) -> Result<(), StoreError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(StoreError::InvalidArticle(format!(
            "{what} is {value}, not a finite number"
        )))
    }
}
