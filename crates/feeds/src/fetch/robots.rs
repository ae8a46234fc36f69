//! robots.txt: what a site's file says about our user agent, and a cache of it per origin
//! (scheme, host, port), so each file is fetched once per cache time however many requests
//! wait for it. Parsing is `texting_robots`; fetching is the fetcher's (through the host limits).

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use texting_robots::Robot;
use tokio::time::Instant;
use url::Url;

/// A longer robots.txt is cut here (RFC 9309 asks crawlers to parse at least 500 KiB).
pub(crate) const ROBOTS_MAX_BYTES: usize = 512 * 1024;

/// A `Crawl-delay` above this is taken as this: a feed follower makes a handful of requests to
/// a host per poll, and a delay of hours would only pile up waiting requests.
pub(crate) const MAX_CRAWL_DELAY: Duration = Duration::from_secs(60);

/// How soon a robots.txt that could not be read is tried again (at most; sooner when the
/// cache time is shorter).
const UNAVAILABLE_RETRY: Duration = Duration::from_secs(300);

/// Cache entries are pruned once the map reaches this many (then twice the number kept).
const PRUNE_AT_LEAST: usize = 1024;

/// The product token robots.txt groups are matched against: the user agent up to its first
/// `/` or space (`newsflow-feeds/0.1 (+https://…)` → `newsflow-feeds`), as RFC 9309 says.
pub(crate) fn product_token(user_agent: &str) -> &str {
    let end = user_agent
        .find(|c: char| c == '/' || c.is_whitespace())
        .unwrap_or(user_agent.len());
    &user_agent[..end]
}

/// The address of the robots.txt that governs `url`.
pub(crate) fn robots_url(url: &Url) -> Option<Url> {
    let mut robots = url.clone();
    robots.set_username("").ok()?;
    robots.set_password(None).ok()?;
    robots.set_path("/robots.txt");
    robots.set_query(None);
    robots.set_fragment(None);
    Some(robots)
}

/// What fetching a robots.txt gave.
#[derive(Debug)]
pub(crate) enum RobotsBody {
    /// A 2xx response, its body cut at [`ROBOTS_MAX_BYTES`].
    Found(Vec<u8>),
    /// A 4xx (other than 429) or a redirect chain given up on: the site has no rules for us.
    Missing,
    /// A 5xx, a 429, a timeout, no connection: the site cannot say, so nothing is fetched
    /// from it until it can.
    Unavailable(String),
}

/// The rules of one origin for our user agent.
#[derive(Debug)]
pub(crate) enum Rules {
    AllowAll,
    Unavailable(String),
    Parsed(Robot),
}

/// Whether a URL may be fetched.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed,
    Disallowed,
    Unavailable(String),
}

impl Rules {
    pub(crate) fn new(product_token: &str, body: RobotsBody) -> Self {
        match body {
            RobotsBody::Found(mut txt) => {
                txt.truncate(ROBOTS_MAX_BYTES);
                match Robot::new(product_token, &txt) {
                    Ok(robot) => Rules::Parsed(robot),
                    Err(error) => {
                        // The parser is forgiving; a file it cannot read at all says nothing.
                        tracing::debug!(%error, "robots.txt not understood, allowing all");
                        Rules::AllowAll
                    }
                }
            }
            RobotsBody::Missing => Rules::AllowAll,
            RobotsBody::Unavailable(cause) => Rules::Unavailable(cause),
        }
    }

    pub(crate) fn verdict(&self, url: &Url) -> Verdict {
        match self {
            Rules::AllowAll => Verdict::Allowed,
            Rules::Unavailable(cause) => Verdict::Unavailable(cause.clone()),
            Rules::Parsed(robot) if robot.allowed(url.as_str()) => Verdict::Allowed,
            Rules::Parsed(_) => Verdict::Disallowed,
        }
    }

    /// The `Crawl-delay` for our agent, capped at [`MAX_CRAWL_DELAY`].
    pub(crate) fn crawl_delay(&self) -> Option<Duration> {
        match self {
            Rules::Parsed(Robot {
                delay: Some(delay), ..
            }) if delay.is_finite() && *delay > 0.0 => Some(
                Duration::try_from_secs_f32(*delay)
                    .unwrap_or(MAX_CRAWL_DELAY)
                    .min(MAX_CRAWL_DELAY),
            ),
            _ => None,
        }
    }
}

struct Entry {
    rules: Arc<Rules>,
    expires: Instant,
}

type Slot = Arc<tokio::sync::Mutex<Option<Entry>>>;

/// The rules of every origin fetched lately.
pub(crate) struct RobotsCache {
    ttl: Duration,
    slots: Mutex<SlotMap>,
}

struct SlotMap {
    slots: HashMap<String, Slot>,
    prune_at: usize,
}

impl RobotsCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            slots: Mutex::new(SlotMap {
                slots: HashMap::new(),
                prune_at: PRUNE_AT_LEAST,
            }),
        }
    }

    /// The rules for `url`'s origin: cached ones while fresh, otherwise what `fetch` gives
    /// (called by one caller at a time per origin; the others wait for its result).
    pub(crate) async fn rules<F, Fut>(&self, url: &Url, fetch: F) -> Arc<Rules>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Rules>,
    {
        let slot = self.slot(url.origin().ascii_serialization());
        let mut entry = slot.lock().await;
        if let Some(entry) = entry.as_ref().filter(|e| e.expires > Instant::now()) {
            return Arc::clone(&entry.rules);
        }
        let rules = Arc::new(fetch().await);
        let keep = match *rules {
            Rules::Unavailable(_) => self.ttl.min(UNAVAILABLE_RETRY),
            _ => self.ttl,
        };
        *entry = Some(Entry {
            rules: Arc::clone(&rules),
            expires: Instant::now() + keep,
        });
        rules
    }

    fn slot(&self, origin: String) -> Slot {
        let mut map = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = map.slots.get(&origin) {
            return Arc::clone(slot);
        }
        if map.slots.len() >= map.prune_at {
            let now = Instant::now();
            map.slots.retain(|_, slot| match slot.try_lock() {
                Ok(entry) => entry.as_ref().is_some_and(|e| e.expires > now),
                Err(_) => true, // being fetched
            });
            map.prune_at = (map.slots.len() * 2).max(PRUNE_AT_LEAST);
        }
        let slot = Slot::default();
        map.slots.insert(origin, Arc::clone(&slot));
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn product_token_is_the_name_before_the_version() {
        assert_eq!(
            product_token("newsflow-feeds/0.1 (+https://github.com/newsflow)"),
            "newsflow-feeds"
        );
        assert_eq!(product_token("plainbot"), "plainbot");
        assert_eq!(product_token("some bot"), "some");
    }

    #[test]
    fn robots_url_keeps_the_origin_only() {
        let robots = robots_url(&url("https://u:p@example.com:8443/a/b?q=1#f")).unwrap();
        assert_eq!(robots.as_str(), "https://example.com:8443/robots.txt");
    }

    #[test]
    fn groups_for_our_token_win_over_the_catch_all() {
        let txt = b"User-agent: *\nDisallow: /\n\nUser-agent: newsflow-feeds\nDisallow: /private\nCrawl-delay: 2.5\n";
        let rules = Rules::new("newsflow-feeds", RobotsBody::Found(txt.to_vec()));
        assert_eq!(rules.verdict(&url("http://h/news")), Verdict::Allowed);
        assert_eq!(
            rules.verdict(&url("http://h/private/x")),
            Verdict::Disallowed
        );
        assert_eq!(rules.crawl_delay(), Some(Duration::from_millis(2500)));
        let other = Rules::new("otherbot", RobotsBody::Found(txt.to_vec()));
        assert_eq!(other.verdict(&url("http://h/news")), Verdict::Disallowed);
    }

    #[test]
    fn missing_allows_all_and_unavailable_allows_nothing() {
        let missing = Rules::new("a", RobotsBody::Missing);
        assert_eq!(missing.verdict(&url("http://h/x")), Verdict::Allowed);
        let down = Rules::new("a", RobotsBody::Unavailable("HTTP 503".into()));
        assert_eq!(
            down.verdict(&url("http://h/x")),
            Verdict::Unavailable("HTTP 503".into())
        );
    }

    #[test]
    fn a_huge_crawl_delay_is_capped() {
        let rules = Rules::new(
            "a",
            RobotsBody::Found(b"User-agent: *\nCrawl-delay: 86400\n".to_vec()),
        );
        assert_eq!(rules.crawl_delay(), Some(MAX_CRAWL_DELAY));
    }

    #[test]
    fn a_file_over_the_limit_is_cut() {
        let mut txt = b"User-agent: *\nDisallow: /early\n".to_vec();
        txt.resize(ROBOTS_MAX_BYTES, b'\n');
        txt.extend_from_slice(b"Disallow: /late\n");
        let rules = Rules::new("a", RobotsBody::Found(txt));
        assert_eq!(rules.verdict(&url("http://h/early")), Verdict::Disallowed);
        assert_eq!(rules.verdict(&url("http://h/late")), Verdict::Allowed);
    }

    #[tokio::test]
    async fn the_cache_fetches_once_while_fresh() {
        let cache = RobotsCache::new(Duration::from_secs(3600));
        let calls = std::sync::atomic::AtomicUsize::new(0);
        for path in ["/a", "/b", "/c"] {
            let rules = cache
                .rules(&url(&format!("http://h{path}")), || async {
                    calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Rules::AllowAll
                })
                .await;
            assert!(matches!(*rules, Rules::AllowAll));
        }
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
