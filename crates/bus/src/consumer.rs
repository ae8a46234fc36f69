//! The consume-handle-ack loop, with retries, dead letters and reconnection.
//!
//! What happens to a message taken from a stage's work queue:
//!
//! | handler answers | the consumer then | and acks the original |
//! |---|---|---|
//! | [`Outcome::Done`] | nothing more (the handler published its output, confirmed) | yes |
//! | [`Outcome::Retry`], attempts left | publishes a copy to the retry queue of the next delay, attempts + 1 | once the copy is confirmed |
//! | [`Outcome::Retry`], attempts used up | publishes it to the dead-letter queue, reason in headers | once confirmed |
//! | [`Outcome::Reject`] | publishes it to the dead-letter queue, reason in headers | once confirmed |
//! | (handler panics) | treats it as a retry | as for a retry |
//!
//! A retry queue holds the copy for its delay and then dead-letters it back to the work queue,
//! behind whatever arrived meanwhile: a failing message never blocks the queue. If the copy cannot
//! be confirmed the original is nacked back onto the queue instead. If the consumer dies before
//! acking, the broker redelivers the message; a message that keeps killing its consumer is parked
//! by the quorum queue's delivery limit. So every message ends up handled or parked, never lost.
//!
//! Up to `prefetch` messages are handled at once, each on its own task. When the connection or
//! channel drops, the consumer reconnects with backoff, declares the topology again and resumes;
//! the unacked messages of the old channel are redelivered by the broker. On shutdown it stops
//! taking messages, lets those in flight finish (up to a grace period), and closes the channel:
//! whatever it did not ack goes back to the queue.
//!
//! **Crash isolation** ([`BusConfig::isolate_redeliveries`], for stages whose handler could
//! kill the process, such as an analysis running out of memory): the broker counts a crash
//! against every message the dead consumer held, the culprit and the innocent messages merely
//! delivered beside it alike. So a redelivered message is not handled with the others: it is
//! moved to the stage's suspect queue, and a second loop takes suspects one at a time, by
//! `basic.get`, only while no other message is being handled in this process. A suspect that
//! kills the process is then the only message in flight that the crash is counted against;
//! past [`crate::topology::SUSPECT_DELIVERY_LIMIT`] such crashes the broker parks it, while the
//! messages delivered beside it are handled, alone, and pass.

use std::{
    future::Future,
    panic::AssertUnwindSafe,
    sync::Arc,
    time::{Duration, Instant},
};

use futures::{FutureExt, StreamExt};
use lapin::{
    Channel, Connection,
    message::Delivery,
    options::{
        BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicGetOptions,
        BasicNackOptions, BasicQosOptions, QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable, LongString},
};
use tokio::sync::RwLock;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::{Instrument, debug, info, info_span, warn};

use crate::{
    BusConfig, BusError, Incoming, Publisher, Topology, TraceContext,
    config::Backoff,
    connection::connect,
    message::{
        ATTEMPTS_HEADER, DEAD_LETTERED_AT_HEADER, LAST_ERROR_HEADER, ORIGIN_QUEUE_HEADER,
        ORIGIN_ROUTING_KEY_HEADER, REASON_HEADER, header_str, unix_now,
    },
    topology::refused,
};

/// What a handler made of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Handled, and its output (if any) is confirmed by the broker: ack it.
    Done,
    /// A transient failure (a dependency down, a timeout): try again after a delay.
    Retry(String),
    /// A permanent failure (an undecodable body): park it in the dead-letter queue at once.
    Reject(String),
}

/// The work a stage does with each message.
pub trait Handler: Send + Sync + 'static {
    /// Handles one message. Publish what the message leads to (through a [`Publisher`]) before
    /// answering [`Outcome::Done`], so the input is acked only after the output is safe.
    fn handle(&self, message: &Incoming) -> impl Future<Output = Outcome> + Send;
}

/// A [`Handler`] made of an async closure that takes the message by value.
pub struct HandlerFn<F>(pub F);

impl<F, Fut> Handler for HandlerFn<F>
where
    F: Fn(Incoming) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send,
{
    fn handle(&self, message: &Incoming) -> impl Future<Output = Outcome> + Send {
        (self.0)(message.clone())
    }
}

/// Consumes one stage's work queue with a [`Handler`].
pub struct Consumer<H> {
    config: BusConfig,
    topology: Topology,
    queue: String,
    handler: Arc<H>,
    publisher: Publisher,
    /// Handlers hold it shared; a suspect holds it alone (see the module docs).
    alone: RwLock<()>,
}

enum Ended {
    Shutdown,
    ConnectionLost,
}

impl<H: Handler> Consumer<H> {
    /// A consumer of `stage`'s work queue. `publisher` carries retries and dead letters; it may
    /// be the one the handler publishes with.
    pub fn new(
        config: BusConfig,
        topology: Topology,
        stage: &str,
        handler: H,
        publisher: Publisher,
    ) -> Self {
        let queue = topology.work_queue(stage);
        Self {
            config,
            topology,
            queue,
            handler: Arc::new(handler),
            publisher,
            alone: RwLock::new(()),
        }
    }

    /// Consumes until `shutdown` is cancelled, reconnecting whenever the broker goes away.
    /// Returns an error only for a broker that refuses the topology (a configuration error).
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), BusError> {
        let this = Arc::new(self);
        let in_flight = TaskTracker::new();
        let stop_suspects = shutdown.child_token();
        let suspects = this.config.isolate_redeliveries.then(|| {
            let this = Arc::clone(&this);
            let stop = stop_suspects.clone();
            tokio::spawn(async move { this.take_suspects(stop).await })
        });
        let mut backoff = Backoff::new(this.config.reconnect_min, this.config.reconnect_max);
        let result = loop {
            if shutdown.is_cancelled() {
                break Ok(());
            }
            match this.consume(&shutdown, &in_flight, &mut backoff).await {
                Ok(Ended::Shutdown) => break Ok(()),
                Ok(Ended::ConnectionLost) => {}
                Err(error) if error.is_unavailable() => {
                    warn!(queue = %this.queue, %error, "cannot consume; reconnecting");
                }
                Err(error) => break Err(error),
            }
            let delay = backoff.next_delay();
            tokio::select! {
                _ = shutdown.cancelled() => break Ok(()),
                _ = tokio::time::sleep(delay) => {}
            }
        };
        in_flight.close();
        if tokio::time::timeout(this.config.shutdown_grace, in_flight.wait())
            .await
            .is_err()
        {
            warn!(queue = %this.queue, "messages still in flight at the end of the grace period; the broker redelivers them");
        }
        if let Some(suspects) = suspects {
            stop_suspects.cancel();
            let _ = tokio::time::timeout(this.config.shutdown_grace, suspects).await;
        }
        result
    }

    /// The suspect loop: while the suspect queue holds messages, takes them one at a time,
    /// each only once no other message is being handled (see the module docs).
    async fn take_suspects(&self, shutdown: CancellationToken) {
        let suspect_queue = self.topology.suspect_queue(&self.queue);
        let mut backoff = Backoff::new(self.config.reconnect_min, self.config.reconnect_max);
        while !shutdown.is_cancelled() {
            match self.drain_suspects(&suspect_queue, &shutdown).await {
                Ok(()) => backoff.reset(),
                Err(error) => warn!(queue = %suspect_queue, %error, "cannot take suspects"),
            }
            let pause = backoff.next_delay().max(SUSPECT_POLL);
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Handles the suspects waiting now, one at a time, each alone in this process.
    async fn drain_suspects(
        &self,
        suspect_queue: &str,
        shutdown: &CancellationToken,
    ) -> Result<(), BusError> {
        let connection = connect(&self.config, "suspects").await?;
        let channel = connection
            .create_channel()
            .await
            .map_err(BusError::Unavailable)?;
        let passive = QueueDeclareOptions {
            passive: true,
            ..Default::default()
        };
        let result = async {
            while !shutdown.is_cancelled() {
                // Counting does not hold a message: nothing is in flight until it is taken.
                let waiting = channel
                    .queue_declare(suspect_queue.into(), passive, FieldTable::default())
                    .await
                    .map_err(|e| refused(format!("count {suspect_queue}"), e))?
                    .message_count();
                if waiting == 0 {
                    return Ok(());
                }
                let _alone = self.alone.write().await;
                let Some(message) = channel
                    .basic_get(suspect_queue.into(), BasicGetOptions::default())
                    .await
                    .map_err(|e| refused(format!("take from {suspect_queue}"), e))?
                else {
                    return Ok(());
                };
                info!(queue = %suspect_queue, "handling a redelivered message alone");
                self.handle(message.delivery, suspect_queue).await;
            }
            Ok(())
        }
        .await;
        let _ = channel.close(200, "suspects taken".into()).await;
        let _ = connection.close(200, "suspects taken".into()).await;
        result
    }

    /// One connection's worth of consuming.
    async fn consume(
        self: &Arc<Self>,
        shutdown: &CancellationToken,
        in_flight: &TaskTracker,
        backoff: &mut Backoff,
    ) -> Result<Ended, BusError> {
        let connection = connect(&self.config, "consumer").await?;
        let channel = connection
            .create_channel()
            .await
            .map_err(BusError::Unavailable)?;
        self.topology.declare(&channel).await?;
        channel
            .basic_qos(self.config.prefetch, BasicQosOptions::default())
            .await
            .map_err(BusError::Unavailable)?;
        let mut deliveries = channel
            .basic_consume(
                self.queue.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| refused(format!("consume {}", self.queue), e))?;
        backoff.reset();
        info!(queue = %self.queue, prefetch = self.config.prefetch, "consuming");

        let ended = loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break Ended::Shutdown,
                next = deliveries.next() => match next {
                    Some(Ok(delivery)) => {
                        let this = Arc::clone(self);
                        in_flight.spawn(async move { this.process(delivery).await });
                    }
                    Some(Err(error)) => {
                        warn!(queue = %self.queue, %error, "connection to the broker lost");
                        break Ended::ConnectionLost;
                    }
                    None => {
                        warn!(queue = %self.queue, "the broker cancelled the consumer");
                        break Ended::ConnectionLost;
                    }
                },
            }
        };
        if let Ended::Shutdown = ended {
            self.stop(&connection, &channel, deliveries.tag().as_str(), in_flight)
                .await;
        }
        Ok(ended)
    }

    /// Stop taking messages, let those in flight settle, then close: what was not acked returns
    /// to the queue.
    async fn stop(
        &self,
        connection: &Connection,
        channel: &Channel,
        consumer_tag: &str,
        in_flight: &TaskTracker,
    ) {
        info!(queue = %self.queue, in_flight = in_flight.len(), "shutting down: finishing messages in flight");
        let _ = channel
            .basic_cancel(consumer_tag.into(), BasicCancelOptions::default())
            .await;
        in_flight.close();
        if tokio::time::timeout(self.config.shutdown_grace, in_flight.wait())
            .await
            .is_err()
        {
            warn!(queue = %self.queue, "grace period over; unfinished messages will be redelivered");
        }
        let _ = channel.close(200, "shutdown".into()).await;
        let _ = connection.close(200, "shutdown".into()).await;
    }

    async fn process(&self, delivery: Delivery) {
        if self.config.isolate_redeliveries && delivery.redelivered {
            self.move_to_suspects(delivery).await;
            return;
        }
        let _shared = self.alone.read().await;
        self.handle(delivery, &self.queue).await;
    }

    /// Moves a redelivered message to the suspect queue, untouched; it is acked only once the
    /// copy is confirmed.
    async fn move_to_suspects(&self, delivery: Delivery) {
        let suspect_queue = self.topology.suspect_queue(&self.queue);
        let message = Incoming::from_delivery(&self.queue, &delivery);
        let moved = self
            .publisher
            .publish_to_queue(
                &suspect_queue,
                &delivery.data,
                message.republish_properties(Vec::new()),
            )
            .await;
        self.acknowledge(&delivery, moved).await;
    }

    async fn handle(&self, delivery: Delivery, queue: &str) {
        let mut message = Incoming::from_delivery(queue, &delivery);
        let span = info_span!(
            "handle",
            otel.kind = "consumer",
            queue = %queue,
            message_id = message.message_id.as_deref().unwrap_or(""),
            trace_id = tracing::field::Empty,
            span_id = tracing::field::Empty,
            attempt = message.attempts + 1,
        );
        // A child of the publisher's span; the handler passes this context on to what it
        // publishes, so the next hop is a child of this one.
        message.trace = TraceContext::start(&span, message.parent);
        span.record(
            "trace_id",
            tracing::field::display(message.trace.trace_id()),
        );
        span.record("span_id", tracing::field::display(message.trace.span_id()));
        async {
            let started = Instant::now();
            let outcome = AssertUnwindSafe(self.handler.handle(&message))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Outcome::Retry("the handler panicked".to_owned()));
            metrics::histogram!("newsflow_bus_handle_seconds", "queue" => self.queue.clone())
                .record(started.elapsed().as_secs_f64());
            let label = match &outcome {
                Outcome::Done => "done",
                Outcome::Retry(_) => "retry",
                Outcome::Reject(_) => "reject",
            };
            metrics::counter!("newsflow_bus_consumed_total", "queue" => self.queue.clone(), "outcome" => label)
                .increment(1);
            self.settle(&delivery, &message, outcome).await;
        }
        .instrument(span)
        .await
    }

    async fn settle(&self, delivery: &Delivery, message: &Incoming, outcome: Outcome) {
        let moved = match outcome {
            Outcome::Done => Ok(()),
            Outcome::Retry(error) if message.attempts + 1 < self.config.max_attempts => {
                self.retry(message, &error).await
            }
            Outcome::Retry(error) => {
                let reason = format!("gave up after {} attempts: {error}", message.attempts + 1);
                self.dead_letter(message, &reason).await
            }
            Outcome::Reject(reason) => self.dead_letter(message, &reason).await,
        };
        self.acknowledge(delivery, moved).await;
    }

    /// Acks a message whose fate is settled; nacks it back onto its queue when moving it
    /// elsewhere failed.
    async fn acknowledge(&self, delivery: &Delivery, moved: Result<(), BusError>) {
        match moved {
            Ok(()) => {
                if let Err(error) = delivery.acker.ack(BasicAckOptions::default()).await {
                    // The channel is gone: the broker redelivers; handlers are idempotent.
                    warn!(%error, "ack failed; the message will be redelivered");
                }
            }
            Err(error) => {
                warn!(%error, "could not move the message to its retry, suspect or dead-letter queue; requeueing it");
                let requeue = BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                };
                let _ = delivery.acker.nack(requeue).await;
            }
        }
    }

    async fn retry(&self, message: &Incoming, error: &str) -> Result<(), BusError> {
        let retry = message.attempts + 1;
        let delay = self.topology.retry_delay(retry);
        let queue = self.topology.retry_queue(&self.queue, delay);
        debug!(%error, ?delay, retry, "retrying later");
        let properties = message.republish_properties(vec![
            (ATTEMPTS_HEADER, AMQPValue::LongInt(retry as i32)),
            (LAST_ERROR_HEADER, text(error)),
            (
                ORIGIN_ROUTING_KEY_HEADER,
                text(&origin_routing_key(message)),
            ),
        ]);
        self.publisher
            .publish_to_queue(&queue, &message.body, properties)
            .await
    }

    async fn dead_letter(&self, message: &Incoming, reason: &str) -> Result<(), BusError> {
        warn!(%reason, "dead-lettering the message");
        let properties = message.republish_properties(vec![
            (
                ATTEMPTS_HEADER,
                AMQPValue::LongInt((message.attempts + 1) as i32),
            ),
            (REASON_HEADER, text(reason)),
            (ORIGIN_QUEUE_HEADER, text(&self.queue)),
            (
                ORIGIN_ROUTING_KEY_HEADER,
                text(&origin_routing_key(message)),
            ),
            (
                DEAD_LETTERED_AT_HEADER,
                AMQPValue::LongLongInt(unix_now() as i64),
            ),
        ]);
        let queue = self.topology.dead_letter_queue(&self.queue);
        self.publisher
            .publish_to_queue(&queue, &message.body, properties)
            .await
    }
}

/// How often the suspect loop looks at its queue when it was empty.
const SUSPECT_POLL: Duration = Duration::from_secs(1);

/// The routing key the message was first published with: a message back from a retry queue
/// is routed by the work queue's name, so the first retry records the original in a header.
fn origin_routing_key(message: &Incoming) -> String {
    message
        .properties
        .headers()
        .as_ref()
        .and_then(|headers| header_str(headers, ORIGIN_ROUTING_KEY_HEADER))
        .unwrap_or_else(|| message.routing_key.clone())
}

/// A header string, cut to a size that keeps headers small whatever the error text.
fn text(value: &str) -> AMQPValue {
    const MAX_CHARS: usize = 1_000;
    let cut: String = value.chars().take(MAX_CHARS).collect();
    AMQPValue::LongString(LongString::from(cut))
}
