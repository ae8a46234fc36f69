//! The write path: check an `AnalyzedArticle`, project it into rows, and replace the article's
//! rows in one transaction, serialized per article id.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use newsflow_knowledge::identity::KEYS_VERSION;
use newsflow_knowledge::near_duplicate;
use newsflow_proto::v1::{
    AnalyzedArticle, Entity, EntitySummary, EntityType, Geo, GeoStatus, Span, target,
};
use prost::Message;
use serde::Serialize;

use super::identify::{self, Assigned, BodyIndex, EntityIn, Previous};
use super::stories::{self, StoryInput};
use super::{Store, StoreError, time};

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveOutcome {
    /// New, replaced or unchanged.
    pub status: SaveStatus,
    /// When the stored copy was committed (for `ArticleProcessed.stored_at`); for an unchanged
    /// article, when it was stored before.
    pub stored_at: DateTime<Utc>,
    /// The stored copy's revision: 1 for the first save, +1 for every change.
    pub revision: i32,
    /// The stored article this one is a near-copy of, if any.
    pub duplicate_of: Option<String>,
    /// The story it is in, if any.
    pub story_id: Option<u64>,
}

/// document, stored_at, revision, whether it is signed, duplicate_of, and whether its
/// entities were resolved with this `KEYS_VERSION`.
type ExistingRow = (Vec<u8>, DateTime<Utc>, i32, bool, Option<String>, bool);

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
        let mut rows = Projection::of(doc)?;
        let document = doc.encode_to_vec();
        let id = rows.article_id.as_str();

        let mut tx = self.pool.begin().await?;
        // Taken before reading, so the read below sees the winner of any concurrent save.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('newsflow.article:' || $1, 0))")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let existing: Option<ExistingRow> = sqlx::query_as(
            "SELECT document, stored_at, revision, near_duplicate_signature IS NOT NULL, \
                     duplicate_of, identity_version IS NOT DISTINCT FROM $2 \
             FROM articles WHERE id = $1",
        )
        .bind(id)
        .bind(KEYS_VERSION as i16)
        .fetch_optional(&mut *tx)
        .await?;
        let previous = match &existing {
            Some(_) => previous_identities(&mut tx, id).await?,
            None => HashMap::new(),
        };
        let sticky = existing.as_ref().is_some_and(|e| e.5);
        if let Some((stored, stored_at, revision, signed, duplicate_of, identified)) = &existing
            && *stored == document
        {
            // Stored before near-duplicates were looked for: a replay signs it now.
            let duplicate_of = if *signed {
                duplicate_of.clone()
            } else {
                link_near_duplicate(&mut tx, id, &rows.article.body).await?
            };
            // Stored before identities (or with other keys): a replay resolves its entities.
            if !identified {
                delete_rows(&mut tx, id).await?;
                rows.identify(&mut tx, &self.resolver, &previous, false)
                    .await?;
                rows.insert(&mut tx).await?;
            } else {
                rows.story_entities_as_stored(&mut tx).await?;
            }
            let story_id = rows.place_story(&mut tx, duplicate_of.as_deref()).await?;
            tx.commit().await?;
            return Ok(SaveOutcome {
                status: SaveStatus::Unchanged,
                stored_at: *stored_at,
                revision: *revision,
                duplicate_of,
                story_id,
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
            delete_rows(&mut tx, id).await?;
        }
        let duplicate_of = link_near_duplicate(&mut tx, id, &rows.article.body).await?;
        rows.identify(&mut tx, &self.resolver, &previous, sticky)
            .await?;
        rows.insert(&mut tx).await?;
        let story_id = rows.place_story(&mut tx, duplicate_of.as_deref()).await?;
        tx.commit().await?;

        Ok(SaveOutcome {
            status: if existing.is_some() {
                SaveStatus::Replaced
            } else {
                SaveStatus::New
            },
            stored_at,
            revision,
            duplicate_of,
            story_id,
        })
    }
}

/// Deletes the projection's rows of article `id` (its mentions go with their article_entities
/// rows: ON DELETE CASCADE).
async fn delete_rows(tx: &mut sqlx::PgConnection, id: &str) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM article_entities WHERE article_id = $1",
        "DELETE FROM statements WHERE article_id = $1",
        "DELETE FROM stances WHERE article_id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
    }
    Ok(())
}

/// The identities the entities of stored article `id` have, by extracted key.
async fn previous_identities(
    tx: &mut sqlx::PgConnection,
    id: &str,
) -> Result<HashMap<String, Previous>, StoreError> {
    let rows: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT extracted_key, entity_key, pinned FROM article_entities WHERE article_id = $1 \
         ORDER BY ordinal",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let mut previous = HashMap::new();
    for (extracted_key, identity_key, pinned) in rows {
        previous.entry(extracted_key).or_insert(Previous {
            identity_key,
            pinned,
        });
    }
    Ok(previous)
}

/// Most stored originals a new article is compared with: the earliest stored that share a band
/// key with it. Only near-copies of one another share bands often, and copies are linked to
/// their original rather than compared, so this is hardly ever reached; it bounds a save's cost
/// however many articles are stored.
const MAX_NEAR_DUPLICATE_CANDIDATES: i64 = 64;

/// Signs article `id` (its MinHash signature and LSH band keys) and links it to the earliest
/// stored original it is a near-copy of, or unlinks it when it is none; returns that original.
///
/// Saves whose articles share a band key are serialized by transaction-scoped advisory locks
/// on the keys (taken in key order, after the article's own lock, so they cannot deadlock):
/// two copies stored at once cannot both become originals.
async fn link_near_duplicate(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    id: &str,
    body: &str,
) -> Result<Option<String>, StoreError> {
    let signature = near_duplicate::signature(body);
    let mut keys = near_duplicate::band_keys(&signature);
    keys.sort_unstable();
    keys.dedup();
    sqlx::query("SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) AS k ORDER BY k")
        .bind(&keys)
        .execute(&mut **tx)
        .await?;
    let candidates: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT a.id, a.near_duplicate_signature FROM articles a \
         WHERE a.id IN (SELECT article_id FROM article_bands WHERE band_key = ANY($1)) \
           AND a.id <> $2 AND a.duplicate_of IS NULL AND a.near_duplicate_signature IS NOT NULL \
         ORDER BY a.first_stored_at, a.id LIMIT $3",
    )
    .bind(&keys)
    .bind(id)
    .bind(MAX_NEAR_DUPLICATE_CANDIDATES)
    .fetch_all(&mut **tx)
    .await?;
    let original = candidates.into_iter().find_map(|(candidate, bytes)| {
        // A signature of another length is of another scheme: not comparable, not an error.
        let other = near_duplicate::Signature::from_bytes(&bytes).ok()?;
        (near_duplicate::similarity(&signature, &other) >= near_duplicate::THRESHOLD)
            .then_some(candidate)
    });
    sqlx::query(
        "UPDATE articles SET near_duplicate_signature = $2, duplicate_of = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(signature.to_bytes())
    .bind(&original)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM article_bands WHERE article_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO article_bands (band_key, article_id) SELECT k, $2 FROM unnest($1::int8[]) AS k",
    )
    .bind(&keys)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(original)
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

/// A table the projection fills: its rows go in as one JSON array through
/// `jsonb_to_recordset`, so a save costs one round trip per table however many mentions the
/// article has, and each row is one plain struct whose fields are the table's columns.
trait Row: Serialize {
    /// The table.
    const TABLE: &'static str;
    /// Every column but `article_id` (a field name, `r#` and all), with its SQL type, in the
    /// struct's field order.
    const COLUMNS: &'static [(&'static str, &'static str)];
}

/// Declares a [`Row`]: the struct and its columns from one list, so they cannot drift apart.
macro_rules! row {
    ($(#[$doc:meta])* $name:ident in $table:literal {
        $($field:ident: $rust:ty = $sql:literal),* $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Serialize)]
        struct $name {
            $($field: $rust),*
        }

        impl Row for $name {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [(&'static str, &'static str)] =
                &[$((stringify!($field), $sql)),*];
        }
    };
}

row! {
    /// One `article_entities` row: an entity of the article with the article's summary of it.
    ArticleEntityRow in "article_entities" {
        entity_id: String = "text",
        ordinal: i32 = "int4",
        entity_key: String = "text",
        extracted_key: String = "text",
        pinned: bool = "bool",
        r#type: i16 = "int2",
        canonical_name: String = "text",
        salience: f32 = "float4",
        mention_count: i32 = "int4",
        summary_mention_count: Option<i32> = "int4",
        summary_mean_polarity: Option<f32> = "float4",
        summary_negative: Option<i32> = "int4",
        summary_neutral: Option<i32> = "int4",
        summary_positive: Option<i32> = "int4",
        summary_strongest_start: Option<i64> = "int8",
        summary_strongest_end: Option<i64> = "int8",
        summary_strongest_score: Option<f32> = "float4",
        summary_statement_count: Option<i32> = "int4",
        geo_status: i16 = "int2",
        geonames_id: Option<i64> = "int8",
        latitude: Option<f64> = "float8",
        longitude: Option<f64> = "float8",
        country_code: Option<String> = "text",
        feature_class: Option<String> = "text",
        feature_code: Option<String> = "text",
    }
}

row! {
    /// One `mentions` row.
    MentionRow in "mentions" {
        entity_id: String = "text",
        ordinal: i32 = "int4",
        span_start: Option<i64> = "int8",
        span_end: Option<i64> = "int8",
        text: String = "text",
        kind: i16 = "int2",
        confidence: f32 = "float4",
    }
}

row! {
    /// One `statements` row, its speaker resolved to a cross-article key.
    StatementRow in "statements" {
        statement_id: String = "text",
        ordinal: i32 = "int4",
        speaker_entity_id: Option<String> = "text",
        speaker_key: Option<String> = "text",
        speaker_start: Option<i64> = "int8",
        speaker_end: Option<i64> = "int8",
        speaker_text: String = "text",
        cue_start: Option<i64> = "int8",
        cue_end: Option<i64> = "int8",
        cue: String = "text",
        content_start: Option<i64> = "int8",
        content_end: Option<i64> = "int8",
        content: String = "text",
        kind: i16 = "int2",
        confidence: f32 = "float4",
    }
}

row! {
    /// One `stances` row, holder and target resolved to cross-article keys.
    StanceRow in "stances" {
        ordinal: i32 = "int4",
        holder_entity_id: Option<String> = "text",
        holder_key: Option<String> = "text",
        holder_name: Option<String> = "text",
        statement_id: Option<String> = "text",
        target_entity_id: Option<String> = "text",
        target_key: Option<String> = "text",
        target_topic: Option<String> = "text",
        target_start: Option<i64> = "int8",
        target_end: Option<i64> = "int8",
        polarity: i16 = "int2",
        score: f32 = "float4",
        confidence: f32 = "float4",
        evidence_start: Option<i64> = "int8",
        evidence_end: Option<i64> = "int8",
        method: i16 = "int2",
    }
}

/// An analysis as rows, one `Vec` per table.
#[derive(Default)]
struct Projection {
    article_id: String,
    article: ArticleRow,
    /// The entities as identity resolution reads them.
    identity_inputs: Vec<EntityIn>,
    article_entities: Vec<ArticleEntityRow>,
    mentions: Vec<MentionRow>,
    statements: Vec<StatementRow>,
    stances: Vec<StanceRow>,
    /// What the story rules read; its entities are filled once identities are known.
    story: StoryInput,
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

        let mut rows = Projection {
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
        // Built only when titles are read before people's mentions.
        let body = analysis
            .entities
            .iter()
            .any(|e| e.r#type == EntityType::Person as i32)
            .then(|| BodyIndex::new(&article.body));
        for entity in &analysis.entities {
            if entity.id.is_empty() {
                return Err(invalid(format!(
                    "entity {:?} has no id",
                    entity.canonical_name
                )));
            }
            if entities.insert(entity.id.as_str(), entity).is_some() {
                return Err(invalid(format!("entity id {:?} appears twice", entity.id)));
            }
            if entity.key.is_empty() {
                return Err(invalid(format!("entity {:?} has no key", entity.id)));
            }
            finite("entity salience", entity.salience)?;
            let mut input = EntityIn::of(entity, body.as_ref());
            input.extracted_key = pg_text(&input.extracted_key);
            input.canonical_name = pg_text(&input.canonical_name);
            rows.identity_inputs.push(input);
        }

        let mut summaries: HashMap<&str, &EntitySummary> = HashMap::new();
        for summary in &analysis.summaries {
            if !entities.contains_key(summary.entity_id.as_str()) {
                return Err(invalid(format!(
                    "summary of unknown entity {:?}",
                    summary.entity_id
                )));
            }
            if summaries
                .insert(summary.entity_id.as_str(), summary)
                .is_some()
            {
                return Err(invalid(format!(
                    "entity {:?} has two summaries",
                    summary.entity_id
                )));
            }
            finite("summary mean polarity", summary.mean_polarity)?;
            finite("summary strongest score", summary.strongest_score)?;
        }

        for (ordinal, entity) in analysis.entities.iter().enumerate() {
            let summary = summaries.get(entity.id.as_str());
            let (strongest_start, strongest_end) =
                span(summary.and_then(|s| s.strongest_evidence.as_ref()));
            let place = resolved_place(entity)?;
            rows.article_entities.push(ArticleEntityRow {
                entity_id: pg_text(&entity.id),
                ordinal: count(ordinal),
                entity_key: pg_text(&entity.key),
                extracted_key: pg_text(&entity.key),
                pinned: false,
                r#type: small(entity.r#type),
                canonical_name: pg_text(&entity.canonical_name),
                salience: entity.salience,
                mention_count: count(entity.mentions.len()),
                summary_mention_count: summary.map(|s| saturate(s.mention_count)),
                summary_mean_polarity: summary.map(|s| s.mean_polarity),
                summary_negative: summary.map(|s| saturate(s.negative)),
                summary_neutral: summary.map(|s| saturate(s.neutral)),
                summary_positive: summary.map(|s| saturate(s.positive)),
                summary_strongest_start: strongest_start,
                summary_strongest_end: strongest_end,
                summary_strongest_score: summary.map(|s| s.strongest_score),
                summary_statement_count: summary.map(|s| saturate(s.statement_count)),
                geo_status: entity.geo.as_ref().map_or(0, |g| small(g.status)),
                geonames_id: place.map(|g| i64::from(g.geonames_id)),
                latitude: place.map(|g| g.latitude),
                longitude: place.map(|g| g.longitude),
                country_code: place.map(|g| pg_text(&g.country_code)),
                feature_class: place.map(|g| pg_text(&g.feature_class)),
                feature_code: place.map(|g| pg_text(&g.feature_code)),
            });
            for (ordinal, mention) in entity.mentions.iter().enumerate() {
                finite("mention confidence", mention.confidence)?;
                let (span_start, span_end) = span(mention.span.as_ref());
                rows.mentions.push(MentionRow {
                    entity_id: pg_text(&entity.id),
                    ordinal: count(ordinal),
                    span_start,
                    span_end,
                    text: pg_text(&mention.text),
                    kind: small(mention.kind),
                    confidence: mention.confidence,
                });
            }
        }

        let mut statement_ids = HashSet::new();
        for (ordinal, statement) in analysis.statements.iter().enumerate() {
            if statement.id.is_empty() {
                return Err(invalid(format!("statement {ordinal} has no id")));
            }
            if !statement_ids.insert(statement.id.as_str()) {
                return Err(invalid(format!(
                    "statement id {:?} appears twice",
                    statement.id
                )));
            }
            finite("statement confidence", statement.confidence)?;
            let speaker = resolve(
                &entities,
                &format!("statement {:?}", statement.id),
                &statement.speaker_entity_id,
            )?;
            let (speaker_start, speaker_end) = span(statement.speaker_span.as_ref());
            let (cue_start, cue_end) = span(statement.cue_span.as_ref());
            let (content_start, content_end) = span(statement.content_span.as_ref());
            rows.statements.push(StatementRow {
                statement_id: pg_text(&statement.id),
                ordinal: count(ordinal),
                speaker_entity_id: speaker.map(|e| pg_text(&e.id)),
                speaker_key: speaker.map(|e| pg_text(&e.key)),
                speaker_start,
                speaker_end,
                speaker_text: pg_text(&statement.speaker_text),
                cue_start,
                cue_end,
                cue: pg_text(&statement.cue),
                content_start,
                content_end,
                content: pg_text(&statement.content),
                kind: small(statement.kind),
                confidence: statement.confidence,
            });
        }

        for (ordinal, stance) in analysis.stances.iter().enumerate() {
            let what = format!("stance {ordinal}");
            finite("stance score", stance.score)?;
            finite("stance confidence", stance.confidence)?;
            let holder = resolve(&entities, &what, &stance.holder_entity_id)?;
            if !stance.statement_id.is_empty()
                && !statement_ids.contains(stance.statement_id.as_str())
            {
                return Err(invalid(format!(
                    "{what} refers to unknown statement {:?}",
                    stance.statement_id
                )));
            }
            let target = stance.target.as_ref();
            let (target_entity, target_topic) = match target.and_then(|t| t.target.as_ref()) {
                Some(target::Target::EntityId(id)) if id.is_empty() => {
                    return Err(invalid(format!("{what} targets an empty entity id")));
                }
                Some(target::Target::EntityId(id)) => (resolve(&entities, &what, id)?, None),
                Some(target::Target::Topic(topic)) => (None, Some(pg_text(topic))),
                None => (None, None),
            };
            let (target_start, target_end) = span(target.and_then(|t| t.span.as_ref()));
            let (evidence_start, evidence_end) = span(stance.evidence_span.as_ref());
            rows.stances.push(StanceRow {
                ordinal: count(ordinal),
                holder_entity_id: holder.map(|e| pg_text(&e.id)),
                holder_key: holder.map(|e| pg_text(&e.key)),
                holder_name: holder.map(|e| pg_text(&e.canonical_name)),
                statement_id: (!stance.statement_id.is_empty())
                    .then(|| pg_text(&stance.statement_id)),
                target_entity_id: target_entity.map(|e| pg_text(&e.id)),
                target_key: target_entity.map(|e| pg_text(&e.key)),
                target_topic,
                target_start,
                target_end,
                polarity: small(stance.polarity),
                score: stance.score,
                confidence: stance.confidence,
                evidence_start,
                evidence_end,
                method: small(stance.method),
            });
        }

        if let Some(embedding) = &analysis.embedding {
            if embedding.values.iter().any(|v| !v.is_finite()) {
                return Err(invalid(
                    "the embedding holds a value that is not finite".into(),
                ));
            }
            rows.story.embedding = Some((pg_text(&embedding.model), embedding.values.clone()));
        }
        rows.story.title = stories::title_or_lead(&rows.article.title, &rows.article.body);
        Ok(rows)
    }

    /// The story rules' entities, from the key columns: (identity key, salience), dates left
    /// out (they name times, not what an event is about).
    fn story_entities(&mut self) {
        self.story.entities = self
            .article_entities
            .iter()
            .filter(|row| row.r#type != EntityType::Date as i16)
            .map(|row| (row.entity_key.clone(), row.salience))
            .collect();
    }

    /// [`Projection::story_entities`] from the rows stored before, for an article saved again
    /// unchanged (its rows are not rewritten, so their keys are the stored ones).
    async fn story_entities_as_stored(
        &mut self,
        tx: &mut sqlx::PgConnection,
    ) -> Result<(), StoreError> {
        if self.story.embedding.is_none() {
            return Ok(());
        }
        self.story.entities = sqlx::query_as(
            "SELECT entity_key, salience FROM article_entities WHERE article_id = $1 \
             AND type <> $2 ORDER BY ordinal",
        )
        .bind(&self.article_id)
        .bind(EntityType::Date as i16)
        .fetch_all(&mut *tx)
        .await?;
        Ok(())
    }

    /// Places the article in its story once its rows are written (a near-copy in its
    /// original's): the story's id, `None` without an embedding.
    async fn place_story(
        &self,
        tx: &mut sqlx::PgConnection,
        duplicate_of: Option<&str>,
    ) -> Result<Option<u64>, StoreError> {
        stories::place(tx, &self.article_id, &self.story, duplicate_of).await
    }

    /// Resolves the entities to identities and puts the identities' keys in the key columns
    /// (entities, statement speakers, stance holders and targets), then marks the article
    /// resolved with this `KEYS_VERSION`.
    async fn identify(
        &mut self,
        tx: &mut sqlx::PgConnection,
        resolver: &newsflow_knowledge::identity::Resolver,
        previous: &HashMap<String, Previous>,
        sticky: bool,
    ) -> Result<(), StoreError> {
        let assigned =
            identify::identify(tx, resolver, &self.identity_inputs, previous, sticky).await?;
        let key = |entity_id: &Option<String>, current: &mut Option<String>| {
            if let Some(a) = entity_id.as_ref().and_then(|id| assigned.get(id)) {
                *current = Some(a.key.clone());
            }
        };
        for row in &mut self.article_entities {
            if let Some(Assigned { key, pinned }) = assigned.get(&row.entity_id) {
                row.entity_key = key.clone();
                row.pinned = *pinned;
            }
        }
        for row in &mut self.statements {
            key(&row.speaker_entity_id, &mut row.speaker_key);
        }
        for row in &mut self.stances {
            key(&row.holder_entity_id, &mut row.holder_key);
            key(&row.target_entity_id, &mut row.target_key);
        }
        self.story_entities();
        sqlx::query("UPDATE articles SET identity_version = $2 WHERE id = $1")
            .bind(&self.article_id)
            .bind(KEYS_VERSION as i16)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    async fn insert(&self, tx: &mut sqlx::PgConnection) -> Result<(), StoreError> {
        let id = self.article_id.as_str();
        insert_rows(tx, id, &self.article_entities).await?;
        insert_rows(tx, id, &self.mentions).await?;
        insert_rows(tx, id, &self.statements).await?;
        insert_rows(tx, id, &self.stances).await
    }
}

/// Inserts `rows` of one article into their table in one statement.
async fn insert_rows<R: Row>(
    tx: &mut sqlx::PgConnection,
    article_id: &str,
    rows: &[R],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    // Serde names a raw identifier's field without its `r#`, as SQL does.
    let column = |name: &'static str| name.trim_start_matches("r#");
    let names: Vec<&str> = R::COLUMNS.iter().map(|(name, _)| column(name)).collect();
    let typed: Vec<String> = R::COLUMNS
        .iter()
        .map(|(name, kind)| format!("{} {kind}", column(name)))
        .collect();
    let sql = format!(
        "INSERT INTO {} (article_id, {}) SELECT $1, {} FROM jsonb_to_recordset($2::jsonb) AS r({})",
        R::TABLE,
        names.join(", "),
        names.join(", "),
        typed.join(", ")
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(article_id)
        .bind(json(rows)?)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Rows as the JSON array `jsonb_to_recordset` reads.
pub(crate) fn json<T: Serialize>(rows: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(rows)
        .map_err(|e| StoreError::InvalidArticle(format!("rows do not serialize: {e}")))
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
pub(crate) fn pg_text(s: &str) -> String {
    s.replace('\0', "\u{FFFD}")
}

/// An enum value as a `smallint`; values no enum of the contract comes near are clamped.
pub(crate) fn small(value: i32) -> i16 {
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

/// The entity's place when it is resolved, its coordinates checked: a point off the globe
/// would put the article nowhere on a map.
fn resolved_place(entity: &Entity) -> Result<Option<&Geo>, StoreError> {
    let Some(geo) = entity.geo.as_ref() else {
        return Ok(None);
    };
    if geo.status != GeoStatus::Resolved as i32 {
        return Ok(None);
    }
    let on_globe =
        (-90.0..=90.0).contains(&geo.latitude) && (-180.0..=180.0).contains(&geo.longitude);
    if !on_globe {
        return Err(StoreError::InvalidArticle(format!(
            "entity {:?} is placed at ({}, {}), not a point on the globe",
            entity.id, geo.latitude, geo.longitude
        )));
    }
    Ok(Some(geo))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each row's serialized field names, in order.
    fn fields<R: Row>(row: &R) -> Vec<String> {
        match serde_json::to_value(row).expect("serializes") {
            serde_json::Value::Object(map) => map.keys().cloned().collect(),
            other => panic!("not an object: {other}"),
        }
    }

    fn names<R: Row>() -> Vec<String> {
        let mut names: Vec<String> = R::COLUMNS
            .iter()
            .map(|(n, _)| n.trim_start_matches("r#").to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn every_row_serializes_to_its_columns() {
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let doc = AnalyzedArticle {
            article: Some(newsflow_proto::v1::Article {
                id: "a".into(),
                ..Default::default()
            }),
            analysis: Some(newsflow_proto::v1::Analysis {
                entities: vec![Entity {
                    id: "e1".into(),
                    key: "PERSON:x".into(),
                    mentions: vec![Default::default()],
                    ..Default::default()
                }],
                statements: vec![newsflow_proto::v1::Statement {
                    id: "s1".into(),
                    ..Default::default()
                }],
                stances: vec![Default::default()],
                ..Default::default()
            }),
            ..Default::default()
        };
        let rows = Projection::of(&doc).expect("valid");
        assert_eq!(
            sorted(fields(&rows.article_entities[0])),
            names::<ArticleEntityRow>()
        );
        assert_eq!(sorted(fields(&rows.mentions[0])), names::<MentionRow>());
        assert_eq!(sorted(fields(&rows.statements[0])), names::<StatementRow>());
        assert_eq!(sorted(fields(&rows.stances[0])), names::<StanceRow>());
    }
}
