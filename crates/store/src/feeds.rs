//! The feed follower's state: the feeds it polls (validators, schedule, failures, counters) and
//! every item it has seen of them, so a restart neither misses nor repeats an item.
//!
//! Work is claimed, not locked for its duration: claiming a due feed or a pending item moves
//! its next time forward by a lease in the statement that reads it (`FOR UPDATE SKIP LOCKED`),
//! so replicas share the work and a replica that dies mid-work only delays it by the lease.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use crate::{Store, StoreError};

/// A followed feed with its state and counters.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct FeedRecord {
    pub url: String,
    /// Outlet name given when it was added ("" for the feed's own title).
    pub source: String,
    /// The feed's own title, once read.
    pub title: String,
    pub added_at: DateTime<Utc>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub next_poll_at: DateTime<Utc>,
    pub consecutive_failures: i32,
    pub last_error: String,
    pub items_seen: i64,
    pub pages_fetched: i64,
    pub articles_submitted: i64,
    /// Items not submitted, by reason.
    pub refused: Json<BTreeMap<String, i64>>,
}

/// An item a feed lists.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedItem {
    /// What identifies it within the feed: its link, or its id when it has none.
    pub key: String,
    /// The page to fetch.
    pub link: String,
    pub title: String,
    pub published_at: Option<DateTime<Utc>>,
}

/// An item whose page is still to be fetched and submitted, with what the submission needs of
/// its feed.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct PendingItem {
    pub feed_url: String,
    pub item_key: String,
    pub link: String,
    pub title: String,
    pub published_at: Option<DateTime<Utc>>,
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// The feed's outlet name, or its title when none was given.
    pub source: String,
}

/// How the work on one item ended.
#[derive(Clone, Debug, PartialEq)]
pub enum ItemOutcome {
    /// Ingest accepted it (a duplicate included) under this article id.
    Submitted { article_id: String },
    /// Not submitted, for good, for this reason.
    Refused { reason: String },
    /// Not yet: try again after `after`.
    Retry { reason: String, after: Duration },
}

impl Store {
    /// Follows `url`; a URL already followed is returned as it is.
    pub async fn add_feed(&self, url: &str, source: &str) -> Result<FeedRecord, StoreError> {
        sqlx::query("INSERT INTO feeds (url, source) VALUES ($1, $2) ON CONFLICT (url) DO NOTHING")
            .bind(url)
            .bind(source)
            .execute(&self.pool)
            .await?;
        self.feed(url)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("feed {url:?} was removed meanwhile")))
    }

    /// The feed at `url`, if followed.
    pub async fn feed(&self, url: &str) -> Result<Option<FeedRecord>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM feeds WHERE url = $1")
            .bind(url)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Stops following `url` and forgets its items; false when it was not followed.
    pub async fn remove_feed(&self, url: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM feeds WHERE url = $1")
            .bind(url)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every followed feed, in the order they were added.
    pub async fn list_feeds(&self) -> Result<Vec<FeedRecord>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM feeds ORDER BY added_at, url")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Claims the feed most overdue for a poll, if any is due: its next poll moves `lease` ahead,
    /// so no other replica polls it meanwhile.
    pub async fn claim_due_feed(&self, lease: Duration) -> Result<Option<FeedRecord>, StoreError> {
        Ok(sqlx::query_as(
            "UPDATE feeds SET next_poll_at = now() + $1 WHERE url = (
                 SELECT url FROM feeds WHERE next_poll_at <= now()
                 ORDER BY next_poll_at LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING *",
        )
        .bind(interval(lease))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records a successful poll in one transaction: the items not seen before become pending,
    /// the validators of a 200 are kept (`validators` is `None` after a 304), the next poll is
    /// due `next_poll` from now. Returns how many items were new.
    pub async fn record_poll(
        &self,
        url: &str,
        title: Option<&str>,
        validators: Option<(Option<&str>, Option<&str>)>,
        items: &[FeedItem],
        next_poll: Duration,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut new = 0;
        for item in items {
            new += sqlx::query(
                "INSERT INTO feed_items (feed_url, item_key, link, title, published_at)
                 SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM feeds WHERE url = $1)
                 ON CONFLICT (feed_url, item_key) DO NOTHING",
            )
            .bind(url)
            .bind(&item.key)
            .bind(&item.link)
            .bind(&item.title)
            .bind(item.published_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        let (has_validators, etag, last_modified) = match validators {
            Some((etag, last_modified)) => (true, etag, last_modified),
            None => (false, None, None),
        };
        sqlx::query(
            "UPDATE feeds SET
                 title = COALESCE($2, title),
                 etag = CASE WHEN $3 THEN $4 ELSE etag END,
                 last_modified = CASE WHEN $3 THEN $5 ELSE last_modified END,
                 last_polled_at = now(), last_success_at = now(),
                 next_poll_at = now() + $6,
                 consecutive_failures = 0, last_error = '',
                 items_seen = items_seen + $7
             WHERE url = $1",
        )
        .bind(url)
        .bind(title)
        .bind(has_validators)
        .bind(etag)
        .bind(last_modified)
        .bind(interval(next_poll))
        .bind(new as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Records a failed poll: the feed backs off, due again `backoff` from now.
    pub async fn record_poll_failure(
        &self,
        url: &str,
        error: &str,
        backoff: Duration,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE feeds SET last_polled_at = now(), next_poll_at = now() + $2,
                 consecutive_failures = consecutive_failures + 1, last_error = $3
             WHERE url = $1",
        )
        .bind(url)
        .bind(interval(backoff))
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims up to `limit` pending items that are due, oldest first, each counting one more
    /// attempt; their next attempt moves `lease` ahead meanwhile.
    pub async fn claim_pending_items(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<PendingItem>, StoreError> {
        Ok(sqlx::query_as(
            "WITH due AS (
                 SELECT feed_url, item_key FROM feed_items
                 WHERE state = 'pending' AND next_attempt_at <= now()
                 ORDER BY next_attempt_at, first_seen_at LIMIT $1 FOR UPDATE SKIP LOCKED),
             claimed AS (
                 UPDATE feed_items i SET attempts = i.attempts + 1, next_attempt_at = now() + $2
                 FROM due WHERE i.feed_url = due.feed_url AND i.item_key = due.item_key
                 RETURNING i.*)
             SELECT c.feed_url, c.item_key, c.link, c.title, c.published_at, c.attempts,
                    CASE WHEN f.source <> '' THEN f.source ELSE f.title END AS source
             FROM claimed c JOIN feeds f ON f.url = c.feed_url
             ORDER BY c.first_seen_at",
        )
        .bind(i64::from(limit))
        .bind(interval(lease))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Gives a claimed item back without spending an attempt on it (its host was busy, or
    /// ingest could not take it): due again `after` from now.
    pub async fn release_item(
        &self,
        feed_url: &str,
        item_key: &str,
        after: Duration,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE feed_items SET attempts = greatest(attempts - 1, 0), next_attempt_at = now() + $3
             WHERE feed_url = $1 AND item_key = $2 AND state = 'pending'",
        )
        .bind(feed_url)
        .bind(item_key)
        .bind(interval(after))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records how the work on an item ended and counts it on its feed; `fetched` says whether
    /// its page was fetched (200) on the way.
    pub async fn record_item(
        &self,
        feed_url: &str,
        item_key: &str,
        outcome: &ItemOutcome,
        fetched: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let (state, reason, article_id, retry_after) = match outcome {
            ItemOutcome::Submitted { article_id } => ("submitted", "", article_id.as_str(), None),
            ItemOutcome::Refused { reason } => ("refused", reason.as_str(), "", None),
            ItemOutcome::Retry { reason, after } => ("pending", reason.as_str(), "", Some(*after)),
        };
        let changed = sqlx::query(
            "UPDATE feed_items SET state = $3, reason = $4, article_id = $5,
                 next_attempt_at = CASE WHEN $6::interval IS NULL THEN next_attempt_at
                                        ELSE now() + $6 END
             WHERE feed_url = $1 AND item_key = $2 AND state = 'pending'",
        )
        .bind(feed_url)
        .bind(item_key)
        .bind(state)
        .bind(reason)
        .bind(article_id)
        .bind(retry_after.map(interval))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // A retry is not an outcome yet: only pages fetched count for it.
        let refused_reason = matches!(outcome, ItemOutcome::Refused { .. }).then_some(reason);
        if changed > 0 {
            sqlx::query(
                "UPDATE feeds SET
                     pages_fetched = pages_fetched + $2,
                     articles_submitted = articles_submitted + $3,
                     refused = CASE WHEN $4::text IS NULL THEN refused
                         ELSE jsonb_set(refused, ARRAY[$4::text],
                             to_jsonb(COALESCE((refused ->> $4::text)::bigint, 0) + 1)) END
                 WHERE url = $1",
            )
            .bind(feed_url)
            .bind(i64::from(fetched))
            .bind(i64::from(matches!(outcome, ItemOutcome::Submitted { .. })))
            .bind(refused_reason)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The items of a feed and how each ended, in the order they were first seen (for
    /// `newsflow feeds status` and tests).
    pub async fn feed_items(&self, feed_url: &str) -> Result<Vec<FeedItemState>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT item_key, link, state, attempts, reason, article_id FROM feed_items
             WHERE feed_url = $1 ORDER BY first_seen_at, item_key",
        )
        .bind(feed_url)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// An item of a feed and where its work stands.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct FeedItemState {
    pub item_key: String,
    pub link: String,
    /// `pending`, `submitted` or `refused`.
    pub state: String,
    pub attempts: i32,
    /// Why it was refused, or why its last attempt failed.
    pub reason: String,
    pub article_id: String,
}

/// A duration as PostgreSQL's `interval`.
fn interval(duration: Duration) -> sqlx::postgres::types::PgInterval {
    sqlx::postgres::types::PgInterval {
        months: 0,
        days: 0,
        microseconds: i64::try_from(duration.as_micros()).unwrap_or(i64::MAX),
    }
}
