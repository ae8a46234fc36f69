//! The live stream: `article.processed` from a queue of this process's own, fanned out to
//! every open stream (the page's feed, `curl -N .../api/v1/stream`).
//!
//! The queue is `<prefix>.web.<random>`, bound to `article.processed`; the broker deletes it a
//! minute after the process has gone, so replicas each get every event and none is left
//! behind. Events reach only the streams open at the time: a stream is a window on what is
//! stored now, the API's lists are the record.

use std::{sync::Arc, time::Duration};

use futures::{Stream, stream};
use newsflow_bus::{Consumer, Handler, Incoming, Outcome, Publisher};
use newsflow_proto::v1::ArticleProcessed;
use newsflow_runtime::BusArgs;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::api::model::LiveArticle;

/// Events a slow stream may fall behind by before it skips ahead.
const BACKLOG: usize = 1024;

/// The fan-out of processed articles. Cheap to clone.
#[derive(Clone)]
pub struct Live {
    sender: broadcast::Sender<Arc<LiveArticle>>,
    /// True once this process's queue is bound to `article.processed`: from then on no event
    /// is missed.
    bound: watch::Sender<bool>,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    /// A fan-out nobody feeds yet.
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
            bound: watch::channel(false).0,
        }
    }

    /// Consumes `article.processed` until `shutdown`, reconnecting whenever the broker goes
    /// away; a broker that refuses the queue is logged, and the streams stay open but quiet.
    pub async fn follow(self, bus: BusArgs, shutdown: CancellationToken) {
        let name = format!("web.{}", unique_suffix());
        let (topology, stage) = bus.subscription(&name, Some(Duration::from_secs(60)));
        let config = bus.config("web");
        // Declared (and so bound) first, to know when events start to arrive; the consumer
        // declares again when it connects, harmlessly.
        let mut delay = Duration::from_millis(200);
        let publisher = loop {
            match Publisher::connect(config.clone(), topology.clone()).await {
                Ok(publisher) => break publisher,
                Err(error) => warn!(%error, "the broker is not reachable; the live stream waits"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(Duration::from_secs(10));
        };
        self.bound.send_replace(true);
        info!(queue = %topology.work_queue(&stage), "following article.processed");
        let consumer = Consumer::new(config, topology, &stage, self, publisher);
        if let Err(error) = consumer.run(shutdown).await {
            error!(%error, "the live stream has stopped: the broker refused its queue");
        }
    }

    /// Every article processed from now on, until `shutdown`. A stream that falls more than
    /// [`BACKLOG`] events behind skips the ones it missed.
    pub fn subscribe(
        &self,
        shutdown: CancellationToken,
    ) -> impl Stream<Item = Arc<LiveArticle>> + Send + 'static + use<> {
        let receiver = self.sender.subscribe();
        stream::unfold(receiver, move |mut receiver| {
            let shutdown = shutdown.clone();
            async move {
                loop {
                    let next = tokio::select! {
                        () = shutdown.cancelled() => return None,
                        next = receiver.recv() => next,
                    };
                    match next {
                        Ok(article) => return Some((article, receiver)),
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        })
    }

    /// Waits until events flow (this process's queue is bound), or `shutdown`; whether they
    /// do.
    pub async fn bound(&self, shutdown: &CancellationToken) -> bool {
        let mut bound = self.bound.subscribe();
        tokio::select! {
            result = bound.wait_for(|bound| *bound) => result.is_ok(),
            () = shutdown.cancelled() => false,
        }
    }

    /// Hands an article to every open stream (for tests and the consumer).
    pub fn publish(&self, article: LiveArticle) {
        // No open stream is not an error: nobody is watching.
        let _ = self.sender.send(Arc::new(article));
    }
}

impl Handler for Live {
    async fn handle(&self, message: &Incoming) -> Outcome {
        match message.decode::<ArticleProcessed>() {
            Ok(event) => {
                self.publish(LiveArticle::from_event(&event));
                Outcome::Done
            }
            Err(error) => Outcome::Reject(format!("undecodable ArticleProcessed: {error}")),
        }
    }
}

/// A queue name suffix no other process uses.
fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", std::process::id(), nanos)
}
