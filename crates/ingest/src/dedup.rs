//! How ingest knows an article was seen before.
//!
//! Two sources, checked in order:
//! 1. a bounded cache of the ids this replica published recently (the oldest forgotten first),
//!    which catches a client resubmitting a batch, even before storage has stored it;
//! 2. storage's `Exists` over gRPC, when a storage address is configured, which knows every
//!    article ever stored, whichever replica took it.
//!
//! If storage does not answer in time the article counts as new: sending it through the
//! pipeline again costs work but changes nothing, since storage writes idempotently by id. A
//! duplicate is never sent through the pipeline a second time when either source knows it.

use std::{
    collections::{HashSet, VecDeque},
    sync::Mutex,
    time::Duration,
};

use newsflow_proto::v1::{ExistsRequest, storage_service_client::StorageServiceClient};
use tonic::transport::{Channel, Endpoint};
use tracing::warn;

/// Ids published recently, at most `capacity` of them.
#[derive(Debug)]
pub struct RecentIds {
    capacity: usize,
    inner: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl RecentIds {
    /// An empty cache holding up to `capacity` ids (0 disables it).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new((HashSet::new(), VecDeque::new())),
        }
    }

    /// Whether `id` is in the cache.
    pub fn contains(&self, id: &str) -> bool {
        self.lock().0.contains(id)
    }

    /// Remembers `id`, forgetting the oldest id when full.
    pub fn insert(&self, id: &str) {
        if self.capacity == 0 {
            return;
        }
        let mut guard = self.lock();
        let (set, order) = &mut *guard;
        if set.insert(id.to_owned()) {
            order.push_back(id.to_owned());
            while order.len() > self.capacity {
                if let Some(oldest) = order.pop_front() {
                    set.remove(&oldest);
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashSet<String>, VecDeque<String>)> {
        // A panic elsewhere while holding the lock leaves the sets consistent enough for a cache.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The duplicate check: the cache, then storage.
pub struct Dedup {
    recent: RecentIds,
    storage: Option<StorageServiceClient<Channel>>,
    timeout: Duration,
}

impl Dedup {
    /// A check with a cache of `capacity` ids and, when `storage_addr` is given
    /// (`http://storage:50054`), storage's `Exists`.
    pub fn new(
        capacity: usize,
        storage_addr: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let storage = match storage_addr {
            Some(addr) => {
                let endpoint = Endpoint::from_shared(addr.to_owned())
                    .map_err(|e| format!("storage address {addr:?}: {e}"))?
                    .connect_timeout(timeout)
                    .timeout(timeout);
                Some(StorageServiceClient::new(endpoint.connect_lazy()))
            }
            None => None,
        };
        Ok(Self {
            recent: RecentIds::new(capacity),
            storage,
            timeout,
        })
    }

    /// Whether the article was accepted before.
    pub async fn seen(&self, id: &str) -> bool {
        if self.recent.contains(id) {
            return true;
        }
        let Some(storage) = &self.storage else {
            return false;
        };
        let request = ExistsRequest {
            ids: vec![id.to_owned()],
        };
        let asked = tokio::time::timeout(self.timeout, storage.clone().exists(request)).await;
        match asked {
            Ok(Ok(response)) => {
                let stored = response
                    .into_inner()
                    .existing
                    .iter()
                    .any(|known| known == id);
                if stored {
                    self.recent.insert(id);
                }
                stored
            }
            Ok(Err(status)) => {
                warn!(%status, "storage cannot say whether the article exists; treating it as new");
                false
            }
            Err(_) => {
                warn!(timeout = ?self.timeout, "storage did not answer Exists in time; treating the article as new");
                false
            }
        }
    }

    /// Remembers an article just published.
    pub fn remember(&self, id: &str) {
        self.recent.insert(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_forgets_the_oldest_first() {
        let cache = RecentIds::new(2);
        cache.insert("a");
        cache.insert("b");
        cache.insert("a");
        cache.insert("c");
        assert!(!cache.contains("a"));
        assert!(cache.contains("b") && cache.contains("c"));
    }
}
