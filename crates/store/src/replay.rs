//! Streaming stored articles in time order, for replaying them to downstream consumers
//! (`article.processed` with reason REPLAY).

use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};

use super::query::decode;
use crate::{Store, StoreError, StoredArticle};

/// Which time replay orders and filters by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimeBasis {
    /// Published time, or ingested time for articles without one (as `ListArticles`).
    #[default]
    Article,
    /// Ingested time.
    Ingested,
}

/// Which stored articles to replay: those whose time (by `basis`) is in `[from, to)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayFilter {
    /// The time to order and filter by.
    pub basis: TimeBasis,
    /// Inclusive start; `None` for the oldest article.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive end; `None` for no end.
    pub to: Option<DateTime<Utc>>,
}

impl ReplayFilter {
    /// Every stored article, by article time.
    pub fn all() -> Self {
        Self::default()
    }
}

/// id, position time, document, stored_at, revision, duplicate_of, story_id.
type ReplayRow = (
    String,
    DateTime<Utc>,
    Vec<u8>,
    DateTime<Utc>,
    i32,
    Option<String>,
    Option<i64>,
);

/// Articles fetched per query. Replay pages through the table instead of holding one long
/// query open, so it pins no connection or snapshot however slow the consumer is.
const BATCH: i64 = 200;

impl Store {
    /// Streams the stored articles that match `filter`, oldest first (ties by id).
    ///
    /// Articles saved while the stream runs appear if they sort after its position. A document
    /// that no longer decodes yields a [`StoreError::Corrupt`] item and the stream goes on; a
    /// database error ends the stream after yielding it.
    pub fn replay(
        &self,
        filter: ReplayFilter,
    ) -> BoxStream<'static, Result<StoredArticle, StoreError>> {
        let sql = match filter.basis {
            TimeBasis::Article => {
                "SELECT id, sort_time, document, stored_at, revision, duplicate_of, story_id \
                 FROM articles \
                 WHERE sort_time >= $1 AND sort_time < $2 AND (sort_time, id) > ($3, $4) \
                 ORDER BY sort_time, id LIMIT $5"
            }
            TimeBasis::Ingested => {
                "SELECT id, ingested_at, document, stored_at, revision, duplicate_of, story_id \
                 FROM articles \
                 WHERE ingested_at >= $1 AND ingested_at < $2 AND (ingested_at, id) > ($3, $4) \
                 ORDER BY ingested_at, id LIMIT $5"
            }
        };
        // Every stored time lies in the years 1 to 9999 (the protobuf range, checked on save),
        // so these bounds stand for "unbounded" and keep one plan that uses the index.
        let from = filter.from.unwrap_or_else(earliest);
        let to = filter.to.unwrap_or_else(after_latest);
        let pool = self.pool.clone();
        // The position is (time, id) of the last article yielded; ids are never empty, so
        // (from, "") is just before the first article at `from`.
        let start = Some((from, String::new()));
        stream::try_unfold(start, move |position| {
            let pool = pool.clone();
            async move {
                let Some((time, id)) = position else {
                    return Ok(None);
                };
                let rows: Vec<ReplayRow> = sqlx::query_as(sql)
                    .bind(from)
                    .bind(to)
                    .bind(time)
                    .bind(id)
                    .bind(BATCH)
                    .fetch_all(&pool)
                    .await?;
                let next = if rows.len() < BATCH as usize {
                    None
                } else {
                    rows.last().map(|(id, time, ..)| (*time, id.clone()))
                };
                let batch: Vec<Result<StoredArticle, StoreError>> = rows
                    .into_iter()
                    .map(
                        |(id, _, document, stored_at, revision, duplicate_of, story_id)| {
                            Ok(StoredArticle {
                                article: decode(&id, &document)?,
                                stored_at,
                                revision,
                                duplicate_of,
                                story_id: story_id.and_then(|s| u64::try_from(s).ok()),
                            })
                        },
                    )
                    .collect();
                if batch.is_empty() {
                    return Ok(None);
                }
                Ok::<_, StoreError>(Some((stream::iter(batch), next)))
            }
        })
        .try_flatten()
        .boxed()
    }
}

fn earliest() -> DateTime<Utc> {
    // 0001-01-01T00:00:00Z.
    DateTime::from_timestamp(-62_135_596_800, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn after_latest() -> DateTime<Utc> {
    // 10000-01-01T00:00:00Z, past 9999-12-31T23:59:59.999999999Z.
    DateTime::from_timestamp(253_402_300_800, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}
