//! Per-host politeness: at most N requests in flight to one host and a minimum interval
//! between the starts of two requests to it. Each host has its own semaphore and schedule,
//! so a slow host holds up only the requests waiting for that host.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Instant,
};
use url::Url;

/// Host states are pruned once the map reaches this many entries (then twice the number that
/// survived), so following many hosts over months does not grow the map without bound.
const PRUNE_AT_LEAST: usize = 1024;

/// A host as the limits see it: name and port (`example.com:443`). `http://h` and
/// `https://h` are two hosts, as they are two servers as far as load goes only by accident.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct HostKey {
    host: String,
    port: u16,
}

impl HostKey {
    /// The key of a URL's host; `None` for a URL without a host or a known port.
    pub(crate) fn of(url: &Url) -> Option<Self> {
        Some(Self {
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default()?,
        })
    }
}

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

struct HostState {
    permits: Arc<Semaphore>,
    /// When the latest request to the host started (or is booked to start).
    last_start: Mutex<Option<Instant>>,
}

/// The limits of every host this fetcher has talked to.
pub(crate) struct Hosts {
    per_host: usize,
    /// The longest interval any request may ask for; a host idle for longer has no state
    /// worth keeping.
    longest_interval: Duration,
    states: Mutex<HostMap>,
}

struct HostMap {
    states: HashMap<HostKey, Arc<HostState>>,
    prune_at: usize,
}

/// The right to send one request to a host now; dropping it lets the next one in.
pub(crate) struct HostSlot {
    _permit: OwnedSemaphorePermit,
}

impl Hosts {
    pub(crate) fn new(per_host: usize, longest_interval: Duration) -> Self {
        Self {
            per_host: per_host.max(1),
            longest_interval,
            states: Mutex::new(HostMap {
                states: HashMap::new(),
                prune_at: PRUNE_AT_LEAST,
            }),
        }
    }

    /// Waits for a free request slot of `host`, then until `interval` has passed since the
    /// previous request to it started. The start time is booked before sleeping, so requests
    /// waiting together are spaced one interval apart, not released at once.
    pub(crate) async fn acquire(&self, host: &HostKey, interval: Duration) -> HostSlot {
        let state = self.state(host);
        let permit = Arc::clone(&state.permits)
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        let (start, now) = {
            let mut last_start = state.last_start.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let start = match *last_start {
                Some(last) => now.max(last + interval),
                None => now,
            };
            *last_start = Some(start);
            (start, now)
        };
        if start > now {
            tokio::time::sleep_until(start).await;
        }
        HostSlot { _permit: permit }
    }

    fn state(&self, host: &HostKey) -> Arc<HostState> {
        let mut map = self.states.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = map.states.get(host) {
            return Arc::clone(state);
        }
        if map.states.len() >= map.prune_at {
            let now = Instant::now();
            let longest = self.longest_interval;
            map.states.retain(|_, state| {
                let in_use = Arc::strong_count(state) > 1;
                let recent = state
                    .last_start
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_some_and(|last| last + longest > now);
                in_use || recent
            });
            map.prune_at = (map.states.len() * 2).max(PRUNE_AT_LEAST);
        }
        let state = Arc::new(HostState {
            permits: Arc::new(Semaphore::new(self.per_host)),
            last_start: Mutex::new(None),
        });
        map.states.insert(host.clone(), Arc::clone(&state));
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_key_is_host_and_port() {
        let key = |s: &str| HostKey::of(&Url::parse(s).unwrap()).unwrap().to_string();
        assert_eq!(key("https://Example.COM/a"), "example.com:443");
        assert_eq!(key("http://example.com/a"), "example.com:80");
        assert_eq!(key("http://127.0.0.1:8080/"), "127.0.0.1:8080");
        assert!(HostKey::of(&Url::parse("data:text/plain,x").unwrap()).is_none());
    }

    #[tokio::test]
    async fn requests_to_one_host_are_spaced_and_others_are_not() {
        let hosts = Hosts::new(1, Duration::from_secs(60));
        let a = HostKey::of(&Url::parse("http://a/").unwrap()).unwrap();
        let b = HostKey::of(&Url::parse("http://b/").unwrap()).unwrap();
        let interval = Duration::from_millis(100);
        let t0 = Instant::now();
        drop(hosts.acquire(&a, interval).await);
        drop(hosts.acquire(&a, interval).await);
        assert!(t0.elapsed() >= interval);
        // another host waits for neither a's schedule nor a's slot, which is taken
        let _held = hosts.acquire(&a, interval).await;
        let mut other = std::pin::pin!(hosts.acquire(&b, interval));
        assert!(futures_poll_once(other.as_mut()).is_some());
    }

    /// Polls a future once with a waker that does nothing.
    fn futures_poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> Option<F::Output> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.poll(&mut cx) {
            std::task::Poll::Ready(out) => Some(out),
            std::task::Poll::Pending => None,
        }
    }

    #[test]
    fn idle_hosts_are_pruned() {
        let hosts = Hosts::new(1, Duration::ZERO);
        for i in 0..PRUNE_AT_LEAST + 10 {
            let key = HostKey::of(&Url::parse(&format!("http://h{i}/")).unwrap()).unwrap();
            drop(hosts.state(&key));
        }
        let map = hosts.states.lock().unwrap();
        assert!(map.states.len() < PRUNE_AT_LEAST);
    }
}
