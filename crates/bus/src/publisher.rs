//! Confirmed publishing.
//!
//! [`Publisher::publish`] returns only once the broker has confirmed the message (written it to
//! disk and routed it to at least one queue, for a mandatory message). Anything short of that
//! is an error to the caller, who still owns the message: an unroutable message, a nack, a
//! confirm that does not come in time, or a broker out of reach.
//!
//! The publisher keeps one connection and one confirm-mode channel, opened on first use and
//! reopened on the next publish after either drops, so a publisher outlives broker restarts.

use std::sync::Arc;

use lapin::{
    BasicProperties, Channel, Confirmation, Connection, options::BasicPublishOptions,
    types::ShortString,
};
use tokio::sync::Mutex;
use tracing::Instrument;

use crate::{
    BusConfig, BusError, Outgoing, Topology, TraceContext,
    connection::{confirmed_channel, connect},
};

/// Publishes to the newsflow exchange and waits for confirms. Cheap to clone; clones share the
/// connection, and concurrent publishes overlap their confirms on it.
#[derive(Clone)]
pub struct Publisher {
    inner: Arc<Inner>,
}

struct Inner {
    config: BusConfig,
    topology: Topology,
    open: Mutex<Option<Open>>,
    generations: std::sync::atomic::AtomicU64,
}

struct Open {
    connection: Connection,
    channel: Channel,
    /// Tells this connection from the next one (channel ids repeat across connections).
    generation: u64,
}

impl Publisher {
    /// A publisher that connects on its first publish.
    pub fn new(config: BusConfig, topology: Topology) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                topology,
                open: Mutex::new(None),
                generations: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// A publisher that has connected and declared the topology, or the reason it could not.
    pub async fn connect(config: BusConfig, topology: Topology) -> Result<Self, BusError> {
        let publisher = Self::new(config, topology);
        publisher.channel().await?;
        Ok(publisher)
    }

    /// The topology this publisher declares.
    pub fn topology(&self) -> &Topology {
        &self.inner.topology
    }

    /// Publishes to the newsflow exchange and waits for the broker's confirm.
    ///
    /// The publish is a span of its own (`publish`, until the confirm), a child of the span
    /// `message.trace` names: the current span, usually, as when a handler publishes in its
    /// message's trace. When spans are exported, the `traceparent` sent names this publish
    /// span, so the consumer's span becomes its child; otherwise it is `message.trace` itself.
    pub async fn publish(&self, message: &Outgoing) -> Result<(), BusError> {
        let span = tracing::info_span!(
            "publish",
            otel.kind = "producer",
            routing_key = %message.routing_key,
            message_id = %message.message_id,
            // Log lines inside carry the trace too (JSON lines show the innermost span's fields).
            trace_id = %message.trace.trace_id(),
        );
        if TraceContext::of_span(&tracing::Span::current()) != Some(message.trace) {
            // Published from outside the span its trace names (a replay, a load run): link it
            // there rather than under whatever span is current.
            message.trace.adopt(&span);
        }
        let trace = TraceContext::of_span(&span).unwrap_or(message.trace);
        let exchange = self.inner.topology.exchange().to_owned();
        let result = self
            .publish_raw(
                &exchange,
                &message.routing_key,
                message.mandatory,
                &message.body,
                message.properties(&trace),
            )
            .instrument(span)
            .await;
        metrics::counter!(
            "newsflow_bus_published_total",
            "routing_key" => message.routing_key.clone(),
            "result" => if result.is_ok() { "confirmed" } else { "failed" },
        )
        .increment(1);
        result
    }

    /// Publishes straight to a queue (through the default exchange) and waits for the confirm:
    /// how messages reach retry and dead-letter queues, and how replays go back to work queues.
    pub async fn publish_to_queue(
        &self,
        queue: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), BusError> {
        self.publish_raw("", queue, true, body, properties).await
    }

    async fn publish_raw(
        &self,
        exchange: &str,
        routing_key: &str,
        mandatory: bool,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), BusError> {
        let (channel, generation) = self.channel().await?;
        let options = BasicPublishOptions {
            mandatory,
            ..Default::default()
        };
        let confirm = async {
            channel
                .basic_publish(
                    ShortString::from(exchange),
                    ShortString::from(routing_key),
                    options,
                    body,
                    properties,
                )
                .await?
                .await
        };
        let confirmation =
            match tokio::time::timeout(self.inner.config.confirm_timeout, confirm).await {
                Ok(Ok(confirmation)) => confirmation,
                Ok(Err(error)) => {
                    self.forget(generation).await;
                    return Err(BusError::Unavailable(error));
                }
                Err(_) => {
                    // A confirm that never comes usually means a broker in trouble (a memory or
                    // disk alarm blocks publishers): start afresh next time.
                    self.forget(generation).await;
                    return Err(BusError::ConfirmTimeout(self.inner.config.confirm_timeout));
                }
            };
        match confirmation {
            // An unroutable mandatory message is returned and then acked, not nacked.
            Confirmation::Ack(Some(_)) => Err(BusError::Unroutable {
                exchange: exchange.to_owned(),
                routing_key: routing_key.to_owned(),
            }),
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Nack(_) => Err(BusError::Nacked {
                routing_key: routing_key.to_owned(),
            }),
            // Cannot happen on a confirm-mode channel; unconfirmed is never reported as success.
            Confirmation::NotRequested => Err(BusError::Nacked {
                routing_key: routing_key.to_owned(),
            }),
        }
    }

    /// The open channel, or a new connection and channel if there is none or it broke.
    async fn channel(&self) -> Result<(Channel, u64), BusError> {
        let mut open = self.inner.open.lock().await;
        if let Some(current) = open.as_ref()
            && current.channel.status().connected()
        {
            return Ok((current.channel.clone(), current.generation));
        }
        *open = None;
        let connection = connect(&self.inner.config, "publisher").await?;
        let channel = confirmed_channel(&connection, &self.inner.topology).await?;
        let generation = self
            .inner
            .generations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *open = Some(Open {
            connection,
            channel: channel.clone(),
            generation,
        });
        Ok((channel, generation))
    }

    /// Drops the channel after an error on it, unless another caller already replaced it.
    async fn forget(&self, generation: u64) {
        let mut open = self.inner.open.lock().await;
        if open
            .as_ref()
            .is_some_and(|current| current.generation == generation)
            && let Some(old) = open.take()
        {
            let _ = old.connection.close(200, "reconnecting".into()).await;
        }
    }
}
