//! The read side behind `newsflow.v1.StorageService`: get, list with keyset pagination,
//! entity timeline, entity search and exists. Requests are the contract's own messages, so
//! the gRPC layer only maps errors.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use newsflow_proto::v1::{
    Article, EntityMatch, EntityTimelineRequest, EntityTimelineResponse, EntityType,
    ListArticlesRequest, ListArticlesResponse, Polarity, SearchEntitiesRequest,
    SearchEntitiesResponse, SpeakerCount, TimelineDay,
};
use prost::Message;
use sqlx::{Postgres, QueryBuilder};

use crate::{
    ArticleFilter, DEFAULT_SEARCH_LIMIT, MAX_EXISTS_IDS, MAX_SEARCH_LIMIT, Store, StoreError,
    StoredArticle, time,
};

/// The first field of `AnalyzedArticle` alone: decoding a stored document as this skips the
/// analysis without parsing it, so listings return the article exactly as saved.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ArticleOnly {
    #[prost(message, optional, tag = "1")]
    pub article: Option<Article>,
}

/// document, stored_at, revision, duplicate_of, story_id.
type StoredRow = (Vec<u8>, DateTime<Utc>, i32, Option<String>, Option<i64>);

impl Store {
    /// The stored copy of article `id`, or `None` when it is not stored.
    pub async fn get(&self, id: &str) -> Result<Option<StoredArticle>, StoreError> {
        required("id", id)?;
        let row: Option<StoredRow> = sqlx::query_as(
            "SELECT document, stored_at, revision, duplicate_of, story_id FROM articles \
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(document, stored_at, revision, duplicate_of, story_id)| {
            Ok(StoredArticle {
                article: decode(id, &document)?,
                stored_at,
                revision,
                duplicate_of,
                story_id: story_id.and_then(|s| u64::try_from(s).ok()),
            })
        })
        .transpose()
    }

    /// One page of the articles matching every filter set in `req`, newest first by published
    /// time (ingested time for articles without one), ties broken by id.
    ///
    /// The page token is the position of the last article of the previous page, so pages
    /// neither skip nor repeat articles when new ones are stored meanwhile. A stance filter with
    /// polarity `UNSPECIFIED` matches any stance toward its entity.
    pub async fn list_articles(
        &self,
        req: &ListArticlesRequest,
    ) -> Result<ListArticlesResponse, StoreError> {
        let mut filter = ArticleFilter {
            from: opt_time("from", req.from.as_ref())?,
            to: opt_time("to", req.to.as_ref())?,
            source: non_empty(&req.source),
            entity_key: non_empty(&req.entity_key),
            place: (req.place != 0).then_some(req.place),
            story: (req.story_id != 0).then_some(req.story_id),
            ..ArticleFilter::default()
        };
        if req.entity_type != 0 {
            filter.entity_type = Some(EntityType::try_from(req.entity_type).map_err(|_| {
                StoreError::InvalidArgument(format!("unknown entity_type {}", req.entity_type))
            })?);
        }
        if let Some(stance) = &req.stance {
            required("stance.entity_key", &stance.entity_key)?;
            filter.stance.target = Some(stance.entity_key.clone());
            if stance.polarity != 0 {
                filter.stance.polarity =
                    Some(Polarity::try_from(stance.polarity).map_err(|_| {
                        StoreError::InvalidArgument(format!(
                            "unknown stance.polarity {}",
                            stance.polarity
                        ))
                    })?);
            }
        }
        self.find_articles(&filter, req.page_size, &req.page_token)
            .await
    }

    /// How the entity `req.entity_key` is treated per UTC day of its articles' time (published,
    /// else ingested), oldest day first, from `req.from` (or the first article) to `req.to`
    /// (or now). [`StoreError::NotFound`] when no stored article mentions the entity at all;
    /// an empty list of days when none does within the period.
    pub async fn entity_timeline(
        &self,
        req: &EntityTimelineRequest,
    ) -> Result<EntityTimelineResponse, StoreError> {
        required("entity_key", &req.entity_key)?;
        let from = opt_time("from", req.from.as_ref())?;
        let to = opt_time("to", req.to.as_ref())?;
        let key = self.identity_key(&req.entity_key).await?;
        let key = key.as_str();

        let mentioned: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM article_entities WHERE entity_key = $1)",
        )
        .bind(key)
        .fetch_one(&self.pool)
        .await?;
        let names = match self.identity_names(key).await? {
            Some(names) if mentioned => names,
            _ => {
                return Err(StoreError::NotFound(format!(
                    "no stored article mentions entity {:?}",
                    req.entity_key
                )));
            }
        };

        // Three grouped queries merged by day: each stays a plain GROUP BY on one index.
        const DAY: &str = "to_char(a.sort_time AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
        // The contract: an unset end means up to now (articles dated in the future wait).
        // Near-copies count only when asked for ($4).
        const PERIOD: &str = "($2::timestamptz IS NULL OR a.sort_time >= $2) \
                              AND a.sort_time < coalesce($3::timestamptz, now()) \
                              AND ($4 OR a.duplicate_of IS NULL)";
        let mention_rows: Vec<(String, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DAY} AS day, sum(ae.mention_count)::int8, count(DISTINCT a.id) \
             FROM article_entities ae JOIN articles a ON a.id = ae.article_id \
             WHERE ae.entity_key = $1 AND {PERIOD} GROUP BY day ORDER BY day"
        )))
        .bind(key)
        .bind(from)
        .bind(to)
        .bind(req.include_copies)
        .fetch_all(&self.pool)
        .await?;
        let stance_rows: Vec<(String, f64, i64, i64, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {DAY} AS day, avg(s.score)::float8, \
                     count(*) FILTER (WHERE s.polarity = {neg}), \
                     count(*) FILTER (WHERE s.polarity = {neu}), \
                     count(*) FILTER (WHERE s.polarity = {pos}) \
                 FROM stances s JOIN articles a ON a.id = s.article_id \
                 WHERE s.target_key = $1 AND {PERIOD} GROUP BY day",
                neg = Polarity::Negative as i32,
                neu = Polarity::Neutral as i32,
                pos = Polarity::Positive as i32,
            )))
            .bind(key)
            .bind(from)
            .bind(to)
            .bind(req.include_copies)
            .fetch_all(&self.pool)
            .await?;
        let speaker_rows: Vec<(String, String, String, i64, f64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {DAY} AS day, s.holder_key, \
                     mode() WITHIN GROUP (ORDER BY s.holder_name), count(*), \
                     avg(s.score)::float8 \
                 FROM stances s JOIN articles a ON a.id = s.article_id \
                 WHERE s.target_key = $1 AND s.holder_key IS NOT NULL AND {PERIOD} \
                 GROUP BY day, s.holder_key ORDER BY day, count(*) DESC, s.holder_key"
            )))
            .bind(key)
            .bind(from)
            .bind(to)
            .bind(req.include_copies)
            .fetch_all(&self.pool)
            .await?;

        let mut days: BTreeMap<String, TimelineDay> = mention_rows
            .into_iter()
            .map(|(date, mentions, articles)| {
                let day = TimelineDay {
                    date: date.clone(),
                    mentions: unsigned64(mentions),
                    articles: unsigned64(articles),
                    ..Default::default()
                };
                (date, day)
            })
            .collect();
        for (date, mean, negative, neutral, positive) in stance_rows {
            if let Some(day) = days.get_mut(&date) {
                day.mean_polarity = mean as f32;
                day.negative = unsigned64(negative);
                day.neutral = unsigned64(neutral);
                day.positive = unsigned64(positive);
            }
        }
        for (date, speaker_key, speaker_name, stances, mean) in speaker_rows {
            if let Some(day) = days.get_mut(&date) {
                day.speakers.push(SpeakerCount {
                    speaker_key,
                    speaker_name,
                    stances: unsigned64(stances),
                    mean_polarity: mean as f32,
                });
            }
        }
        Ok(EntityTimelineResponse {
            entity_key: names.key,
            canonical_name: names.canonical_name,
            days: days.into_values().collect(),
            aliases: names.aliases,
            ambiguity: names.ambiguity.unwrap_or_default(),
        })
    }

    /// Entities (identities) with a name (any of their aliases) that, lower-cased, equals,
    /// starts with, or has a word starting with the query, and with `req.fuzzy` also those
    /// with a name that resembles it by trigram similarity; an identity scores by its best
    /// name.
    ///
    /// Scores: 1 for an exact name; 0.5 + 0.5 x (query length / name length) for a prefix of
    /// the name (0.4 + ... for a prefix of a later word); with `fuzzy`, the larger of pg_trgm's
    /// `similarity` and `word_similarity` when that is higher. Best first, then by the number
    /// of stored articles mentioning the entity. Entities no stored article mentions any more
    /// are left out.
    pub async fn search_entities(
        &self,
        req: &SearchEntitiesRequest,
    ) -> Result<SearchEntitiesResponse, StoreError> {
        let query = req.query.trim();
        required("query", query)?;
        let limit = match req.limit {
            0 => DEFAULT_SEARCH_LIMIT,
            n => n.min(MAX_SEARCH_LIMIT),
        };
        // LIKE metacharacters in the query match themselves. Escaping before lower() is
        // safe: lower() leaves `\`, `%` and `_` alone. The patterns are bound as parameters
        // (not computed in SQL) so the planner can use the prefix and trigram indexes.
        let escaped = query
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let prefix = format!("{escaped}%");
        let word_prefix = format!("% {escaped}%");

        let mut q = QueryBuilder::<Postgres>::new(
            "SELECT key, canonical_name, type::int4, article_count, score FROM ( \
               SELECT i.key, i.canonical_name, i.type, \
                 (SELECT count(DISTINCT ae.article_id) FROM article_entities ae \
                  WHERE ae.entity_key = i.key) AS article_count, score FROM ( \
               SELECT e.identity_id, max(greatest(CASE WHEN e.search_name = lower(",
        );
        q.push_bind(query.to_owned())
            .push(") THEN 1.0 WHEN e.search_name LIKE lower(")
            .push_bind(prefix.clone())
            .push(") THEN 0.5 + 0.5 * char_length(")
            .push_bind(query.to_owned())
            .push(")::float8 / char_length(e.search_name) WHEN e.search_name LIKE lower(")
            .push_bind(word_prefix.clone())
            .push(") THEN 0.4 + 0.5 * char_length(")
            .push_bind(query.to_owned())
            .push(")::float8 / char_length(e.search_name) ELSE 0.0 END");
        if req.fuzzy {
            q.push(", similarity(e.search_name, lower(")
                .push_bind(query.to_owned())
                .push(")), word_similarity(lower(")
                .push_bind(query.to_owned())
                .push("), e.search_name)");
        }
        q.push("))::float8 AS score FROM identity_aliases e WHERE (e.search_name LIKE lower(")
            .push_bind(prefix)
            .push(") OR e.search_name LIKE lower(")
            .push_bind(word_prefix)
            .push(")");
        if req.fuzzy {
            // pg_trgm's thresholds: similarity >= 0.3, word_similarity >= 0.6 by default.
            q.push(" OR e.search_name % lower(")
                .push_bind(query.to_owned())
                .push(") OR lower(")
                .push_bind(query.to_owned())
                .push(") <% e.search_name");
        }
        q.push(
            ") GROUP BY e.identity_id) best JOIN identities i ON i.id = best.identity_id \
             WHERE i.merged_into IS NULL",
        );
        if req.r#type != 0 {
            let ty = EntityType::try_from(req.r#type)
                .map_err(|_| StoreError::InvalidArgument(format!("unknown type {}", req.r#type)))?;
            q.push(" AND i.type = ").push_bind(ty as i16);
        }
        q.push(
            ") m WHERE article_count > 0 \
             ORDER BY score DESC, article_count DESC, key LIMIT ",
        )
        .push_bind(i64::from(limit));

        let rows: Vec<(String, String, i32, i64, f64)> =
            q.build_query_as().fetch_all(&self.pool).await?;
        let entities = rows
            .into_iter()
            .map(|(key, canonical_name, ty, articles, score)| EntityMatch {
                key,
                canonical_name,
                r#type: ty,
                article_count: unsigned64(articles),
                // Only an exact name may score 1, so cap the similarity of an inexact one.
                score: score.clamp(0.0, 1.0) as f32,
            })
            .collect();
        Ok(SearchEntitiesResponse { entities })
    }

    /// The ids of `ids` that are stored, in the order asked. At most [`MAX_EXISTS_IDS`] ids.
    pub async fn exists(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        if ids.len() > MAX_EXISTS_IDS {
            return Err(StoreError::InvalidArgument(format!(
                "at most {MAX_EXISTS_IDS} ids per call, got {}",
                ids.len()
            )));
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        for id in ids {
            no_nul("ids", id)?;
        }
        let found: Vec<String> =
            sqlx::query_scalar("SELECT id FROM articles WHERE id = ANY($1::text[])")
                .bind(ids)
                .fetch_all(&self.pool)
                .await?;
        let found: std::collections::HashSet<String> = found.into_iter().collect();
        Ok(ids
            .iter()
            .filter(|id| found.contains(*id))
            .cloned()
            .collect())
    }
}

pub(crate) fn decode(
    id: &str,
    document: &[u8],
) -> Result<newsflow_proto::v1::AnalyzedArticle, StoreError> {
    newsflow_proto::v1::AnalyzedArticle::decode(document).map_err(|source| StoreError::Corrupt {
        id: id.to_owned(),
        source,
    })
}

fn required(name: &str, value: &str) -> Result<(), StoreError> {
    if value.is_empty() {
        return Err(StoreError::InvalidArgument(format!("{name} is required")));
    }
    no_nul(name, value)
}

/// PostgreSQL text cannot hold NUL, so such an argument could never match anything; refuse it
/// as bad input instead of letting the database fail.
pub(crate) fn no_nul(name: &str, value: &str) -> Result<(), StoreError> {
    if value.contains('\0') {
        return Err(StoreError::InvalidArgument(format!(
            "{name} contains a NUL character"
        )));
    }
    Ok(())
}

/// `Some` of a non-empty string.
fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

fn opt_time(
    name: &str,
    ts: Option<&prost_types::Timestamp>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    ts.map(|ts| {
        time::from_proto(ts).map_err(|why| StoreError::InvalidArgument(format!("{name}: {why}")))
    })
    .transpose()
}

pub(crate) fn unsigned(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

pub(crate) fn unsigned64(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}
