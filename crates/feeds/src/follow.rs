//! The follower's loop: poll the feeds that are due, then fetch each new item's page, extract
//! its main text and submit it to ingest, recording every outcome in PostgreSQL.
//!
//! Work is claimed from the database ([`Store::claim_due_feed`], [`Store::claim_pending_items`]),
//! so several replicas share it and a restart resumes it: an item stays pending until it was
//! submitted or refused for good. A slow or failing host holds up only its own items: each is a
//! task of its own, at most `per_host` of one host's run at once, and a failing feed backs off
//! on its own schedule.

use std::{collections::HashMap, sync::Arc, time::Duration};

use futures::{StreamExt, stream::FuturesUnordered};
use newsflow_article::page;
use newsflow_proto::v1::{SubmitRequest, ingest_service_client::IngestServiceClient};
use newsflow_runtime::{CpuSlots, config::parse_duration};
use newsflow_store::{FeedRecord, ItemOutcome, PendingItem, Store};
use tokio_util::sync::CancellationToken;
use tonic::{Code, transport::Channel};
use tracing::{info, warn};
use url::Url;

use crate::{
    feed,
    fetch::{Fetched, Fetcher, Validators},
};

/// How often and how hard the follower works.
#[derive(clap::Args, Clone, Debug)]
pub struct FollowSettings {
    /// Time between two polls of one feed.
    #[arg(long, env = "NEWSFLOW_FEEDS_POLL_INTERVAL", default_value = "15m", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// Longest wait before a feed that keeps failing is tried again (the wait doubles from the
    /// poll interval with each failure).
    #[arg(long, env = "NEWSFLOW_FEEDS_MAX_BACKOFF", default_value = "6h", value_parser = parse_duration)]
    pub max_backoff: Duration,
    /// Attempts at an item whose page fails for a reason that may pass (a timeout, a 5xx)
    /// before it is refused.
    #[arg(long, env = "NEWSFLOW_FEEDS_ITEM_ATTEMPTS", default_value_t = 5)]
    pub item_attempts: i32,
    /// Wait before the second attempt at an item; it doubles with each attempt.
    #[arg(long, env = "NEWSFLOW_FEEDS_RETRY_DELAY", default_value = "1m", value_parser = parse_duration)]
    pub retry_delay: Duration,
    /// Feeds and items worked on at once.
    #[arg(long, env = "NEWSFLOW_FEEDS_IN_FLIGHT", default_value_t = 16)]
    pub in_flight: usize,
    /// Items of one host worked on at once (the fetcher spaces their requests further).
    #[arg(long, env = "NEWSFLOW_FEEDS_PER_HOST", default_value_t = 2)]
    pub per_host: usize,
    /// How long a claimed feed or item stays with this replica before another may take it
    /// (longer than any one fetch).
    #[arg(long, env = "NEWSFLOW_FEEDS_LEASE", default_value = "5m", value_parser = parse_duration)]
    pub lease: Duration,
    /// How often to look for due work when there is none.
    #[arg(long, env = "NEWSFLOW_FEEDS_IDLE", default_value = "1s", value_parser = parse_duration)]
    pub idle: Duration,
}

/// Submits extracted pages to ingest.
#[derive(Clone)]
pub struct Ingest {
    pub client: IngestServiceClient<Channel>,
    /// Sent as `Authorization: Bearer` when ingest requires keys.
    pub api_key: Option<String>,
}

/// The follower: the database, the fetcher and ingest.
#[derive(Clone)]
pub struct Follower {
    store: Store,
    fetcher: Fetcher,
    ingest: Ingest,
    settings: Arc<FollowSettings>,
    cpu: CpuSlots,
}

/// What a finished task was, for the bookkeeping of hosts in flight.
enum Done {
    Feed,
    Item { host: String },
}

impl Follower {
    pub fn new(store: Store, fetcher: Fetcher, ingest: Ingest, settings: FollowSettings) -> Self {
        Self {
            store,
            fetcher,
            ingest,
            settings: Arc::new(settings),
            cpu: CpuSlots::per_core(),
        }
    }

    /// Works until `shutdown`. Tasks in flight then are dropped: their leases run out and the
    /// work is done again later (ingest's dedup makes a repeated submission harmless).
    pub async fn run(self, shutdown: CancellationToken) {
        let mut running = FuturesUnordered::new();
        let mut hosts: HashMap<String, usize> = HashMap::new();
        let mut database_down = Duration::ZERO;
        while !shutdown.is_cancelled() {
            match self.claim(&mut running, &mut hosts).await {
                Ok(()) => database_down = Duration::ZERO,
                Err(error) => {
                    database_down =
                        (database_down * 2).clamp(self.settings.idle, Duration::from_secs(30));
                    warn!(%error, retry_in = ?database_down, "cannot claim work from the database");
                }
            }
            let wait = if database_down.is_zero() {
                self.settings.idle
            } else {
                database_down
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(done) = running.next(), if !running.is_empty() => {
                    if let Done::Item { host } = done
                        && let Some(count) = hosts.get_mut(&host)
                    {
                        *count -= 1;
                        if *count == 0 {
                            hosts.remove(&host);
                        }
                    }
                }
                () = tokio::time::sleep(wait) => {}
            }
        }
        info!(abandoned = running.len(), "the follower stopped");
    }

    /// Starts the due feeds and items there is room for.
    async fn claim(
        &self,
        running: &mut FuturesUnordered<futures::future::BoxFuture<'static, Done>>,
        hosts: &mut HashMap<String, usize>,
    ) -> Result<(), newsflow_store::StoreError> {
        let settings = &self.settings;
        while running.len() < settings.in_flight {
            let Some(feed) = self.store.claim_due_feed(settings.lease).await? else {
                break;
            };
            let this = self.clone();
            running.push(Box::pin(async move {
                this.poll(feed).await;
                Done::Feed
            }));
        }
        let room = settings.in_flight.saturating_sub(running.len());
        if room == 0 {
            return Ok(());
        }
        for item in self
            .store
            .claim_pending_items(room as u32, settings.lease)
            .await?
        {
            let host = host_of(&item.link);
            let count = hosts.entry(host.clone()).or_default();
            if *count >= settings.per_host.max(1) {
                // Its host is busy: give the claim back so other hosts' items come first.
                self.store
                    .release_item(&item.feed_url, &item.item_key, settings.idle * 2)
                    .await?;
                continue;
            }
            *count += 1;
            let this = self.clone();
            running.push(Box::pin(async move {
                this.work(item).await;
                Done::Item { host }
            }));
        }
        Ok(())
    }

    /// Polls one feed and records what it listed, or the failure.
    async fn poll(&self, feed: FeedRecord) {
        let outcome = self.read_feed(&feed).await;
        let recorded = match outcome {
            Ok(Some((parsed, validators))) => {
                let new = self
                    .store
                    .record_poll(
                        &feed.url,
                        parsed.title.as_deref(),
                        Some((
                            validators.etag.as_deref(),
                            validators.last_modified.as_deref(),
                        )),
                        &parsed.items,
                        self.settings.poll_interval,
                    )
                    .await;
                if let Ok(new) = &new {
                    info!(feed = %feed.url, listed = parsed.items.len(), new, "polled");
                }
                new.map(|_| ())
            }
            Ok(None) => self
                .store
                .record_poll(&feed.url, None, None, &[], self.settings.poll_interval)
                .await
                .map(|_| ()),
            Err(error) => {
                let failures = u32::try_from(feed.consecutive_failures).unwrap_or(0) + 1;
                let backoff = self.backoff(self.settings.poll_interval, failures);
                warn!(feed = %feed.url, %error, ?backoff, "poll failed");
                self.store
                    .record_poll_failure(&feed.url, &error, backoff)
                    .await
            }
        };
        if let Err(error) = recorded {
            warn!(feed = %feed.url, %error, "cannot record a poll; it is polled again when its lease ends");
        }
        metrics::counter!("newsflow_feeds_polls_total").increment(1);
    }

    /// The feed's items and the validators to send next time, or `None` when it has not changed
    /// (304), or why it could not be read.
    async fn read_feed(
        &self,
        feed: &FeedRecord,
    ) -> Result<Option<(feed::ParsedFeed, Validators)>, String> {
        let url = Url::parse(&feed.url).map_err(|e| format!("invalid feed URL: {e}"))?;
        let validators = Validators {
            etag: feed.etag.clone(),
            last_modified: feed.last_modified.clone(),
        };
        match self.fetcher.get(&url, &validators).await {
            Ok(Fetched::NotModified) => Ok(None),
            Ok(Fetched::Page {
                final_url,
                validators,
                body,
                ..
            }) => {
                let parsed = self
                    .cpu
                    .run(move || feed::parse(&body, &final_url))
                    .await
                    .map_err(|e| e.to_string())??;
                Ok(Some((parsed, validators)))
            }
            Err(error) => Err(error.to_string()),
        }
    }

    /// Fetches, extracts and submits one item, and records how that ended.
    async fn work(&self, item: PendingItem) {
        let (outcome, fetched) = self.submit_item(&item).await;
        let recorded = match &outcome {
            // Ingest could not take it: not the item's fault, so no attempt is spent on it.
            Some(ItemOutcome::Retry { reason, after }) if reason == INGEST_UNAVAILABLE => {
                self.store
                    .release_item(&item.feed_url, &item.item_key, *after)
                    .await
            }
            Some(outcome) => {
                match outcome {
                    ItemOutcome::Submitted { article_id } => {
                        info!(link = %item.link, article = %article_id, "submitted");
                    }
                    ItemOutcome::Refused { reason } => {
                        info!(link = %item.link, %reason, "refused");
                    }
                    ItemOutcome::Retry { reason, after } => {
                        info!(link = %item.link, %reason, ?after, "to be tried again");
                    }
                }
                let label = match outcome {
                    ItemOutcome::Submitted { .. } => "submitted".to_owned(),
                    ItemOutcome::Refused { reason } => reason.clone(),
                    ItemOutcome::Retry { .. } => "retry".to_owned(),
                };
                metrics::counter!("newsflow_feeds_items_total", "outcome" => label).increment(1);
                self.store
                    .record_item(&item.feed_url, &item.item_key, outcome, fetched)
                    .await
            }
            None => Ok(()),
        };
        if let Err(error) = recorded {
            warn!(link = %item.link, %error, "cannot record an item; it is worked on again when its lease ends");
        }
    }

    /// How the work on an item ended, and whether its page was fetched; `None` when it cannot
    /// be said (the extraction task failed).
    async fn submit_item(&self, item: &PendingItem) -> (Option<ItemOutcome>, bool) {
        let refused = |reason: &str| {
            Some(ItemOutcome::Refused {
                reason: reason.to_owned(),
            })
        };
        let Ok(url) = Url::parse(&item.link) else {
            return (refused("invalid_url"), false);
        };
        let (final_url, content_type, body) = match self
            .fetcher
            .get(&url, &Validators::default())
            .await
        {
            Ok(Fetched::Page {
                final_url,
                content_type,
                body,
                ..
            }) => (final_url, content_type, body),
            Ok(Fetched::NotModified) => return (refused("http_status"), false),
            Err(error) if error.is_transient() && item.attempts < self.settings.item_attempts => {
                let after = self.backoff(self.settings.retry_delay, item.attempts.max(1) as u32);
                return (
                    Some(ItemOutcome::Retry {
                        reason: error.reason().to_owned(),
                        after,
                    }),
                    false,
                );
            }
            Err(error) => return (refused(error.reason()), false),
        };
        if !is_html(content_type.as_deref(), &body) {
            return (refused("not_html"), true);
        }
        let extracted = self
            .cpu
            .run(move || {
                let html = page::decode(&body, content_type.as_deref());
                page::main_text(&html, Some(&final_url)).map(|page| (page, final_url))
            })
            .await;
        let (page, final_url) = match extracted {
            Ok(Ok(found)) => found,
            Ok(Err(no_article)) => return (refused(no_article.reason()), true),
            Err(error) => {
                warn!(link = %item.link, %error, "extraction failed");
                return (None, true);
            }
        };
        let request = SubmitRequest {
            url: page.url.clone().unwrap_or_else(|| final_url.to_string()),
            source: item.source.clone(),
            // The feed's headline is the clean one; the page's title often carries the outlet.
            title: if item.title.is_empty() {
                page.title.clone().unwrap_or_default()
            } else {
                item.title.clone()
            },
            body: page.text(),
            published_at: page.published_timestamp().or_else(|| {
                item.published_at.map(|time| prost_types::Timestamp {
                    seconds: time.timestamp(),
                    nanos: time.timestamp_subsec_nanos() as i32,
                })
            }),
            ..Default::default()
        };
        (Some(self.submit(request, &item.link).await), true)
    }

    /// Submits one article to ingest.
    async fn submit(&self, request: SubmitRequest, link: &str) -> ItemOutcome {
        let mut call = tonic::Request::new(request);
        call.set_timeout(Duration::from_secs(30));
        if let Some(key) = &self.ingest.api_key
            && let Ok(value) = format!("Bearer {key}").parse()
        {
            call.metadata_mut().insert("authorization", value);
        }
        match self.ingest.client.clone().submit(call).await {
            Ok(response) => ItemOutcome::Submitted {
                article_id: response.into_inner().id,
            },
            Err(status) if status.code() == Code::InvalidArgument => {
                warn!(%link, message = status.message(), "ingest refused the article");
                ItemOutcome::Refused {
                    reason: "rejected_by_ingest".to_owned(),
                }
            }
            Err(status) => {
                warn!(%link, code = ?status.code(), message = status.message(), "ingest did not take the article; trying again");
                ItemOutcome::Retry {
                    reason: INGEST_UNAVAILABLE.to_owned(),
                    after: self.settings.retry_delay,
                }
            }
        }
    }

    /// `base` doubled for each failure after the first, at most the max backoff.
    fn backoff(&self, base: Duration, failures: u32) -> Duration {
        base.saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(self.settings.max_backoff)
    }
}

/// The reason of a retry that ingest, not the item, caused.
const INGEST_UNAVAILABLE: &str = "ingest_unavailable";

/// Host and port of a link (items of one host are limited together).
fn host_of(link: &str) -> String {
    Url::parse(link)
        .ok()
        .and_then(|url| {
            Some(format!(
                "{}:{}",
                url.host_str()?,
                url.port_or_known_default()?
            ))
        })
        .unwrap_or_default()
}

/// Whether a response is an HTML page: its content type says so, or, without one, it looks
/// like one.
fn is_html(content_type: Option<&str>, body: &[u8]) -> bool {
    match content_type {
        Some(content_type) => {
            let essence = content_type.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("text/html")
                || essence.eq_ignore_ascii_case("application/xhtml+xml")
        }
        None => newsflow_article::html::looks_like_html(&String::from_utf8_lossy(
            &body[..body.len().min(4096)],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_told_by_its_content_type() {
        assert!(is_html(Some("text/html; charset=utf-8"), b""));
        assert!(is_html(Some("application/xhtml+xml"), b""));
        assert!(!is_html(Some("application/pdf"), b"<html>"));
        assert!(!is_html(Some("image/jpeg"), b""));
        assert!(is_html(
            None,
            b"<!DOCTYPE html><html><body><p>x</p></body></html>"
        ));
        assert!(!is_html(None, b"%PDF-1.7"));
    }

    #[test]
    fn hosts_include_their_port() {
        assert_eq!(host_of("http://a.test/x"), "a.test:80");
        assert_eq!(host_of("https://a.test:8443/x"), "a.test:8443");
        assert_eq!(host_of("not a url"), "");
    }
}
