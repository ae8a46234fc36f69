//! The broker objects newsflow relies on, and their names.
//!
//! ```text
//!                    exchange `newsflow` (topic, durable)
//!   article.ingested ──► newsflow.extractor ─┐
//!   article.extracted ─► newsflow.stance ────┼─ quorum work queues, one per stage
//!   article.classified ► newsflow.storage ───┘
//!   article.processed ─► (queues that downstream consumers bind themselves)
//!
//!   per stage:  <queue>.retry.<delay>ms  classic, TTL = delay, dead-letters back to <queue>
//!               <queue>.dead             parked messages, with the reason in their headers
//! ```
//!
//! Every service declares the whole pipeline when it connects, so a publish never finds its
//! route missing because the next stage has not started yet. Declarations are idempotent; a
//! queue that exists with other arguments is a configuration error ([`BusError::Refused`]).

use std::time::Duration;

use lapin::{
    Channel, ExchangeKind,
    options::{
        ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    },
    types::{AMQPValue, FieldTable, LongString, ShortString},
};

use crate::BusError;

/// Routing key of an article accepted by ingest.
pub const ARTICLE_INGESTED: &str = "article.ingested";
/// Routing key of an article with its entities.
pub const ARTICLE_EXTRACTED: &str = "article.extracted";
/// Routing key of an article with its statements and stances.
pub const ARTICLE_CLASSIFIED: &str = "article.classified";
/// Routing key of the event downstream consumers receive once an article is stored.
pub const ARTICLE_PROCESSED: &str = "article.processed";

/// One stage's work queue: its name, what it is bound to, and how failures are delayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageQueue {
    /// Stage name, the last part of the queue name ("extractor").
    pub stage: String,
    /// The routing key the queue is bound to.
    pub binding_key: String,
}

/// A suspect (a message handled alone after a consumer died holding it) is parked by the
/// broker once it has come back from a dead consumer more than this many times while handled
/// alone: the crashes were its own.
pub const SUSPECT_DELIVERY_LIMIT: u32 = 2;

/// The names and settings of every broker object, under one prefix.
///
/// Production uses the prefix `newsflow`; tests use a unique prefix each so they never share a
/// queue.
#[derive(Clone, Debug)]
pub struct Topology {
    prefix: String,
    stages: Vec<StageQueue>,
    retry_delays: Vec<Duration>,
    delivery_limit: u32,
    idle_expiry: Option<Duration>,
}

impl Topology {
    /// The pipeline's topology: the three stage queues bound in flow order.
    pub fn pipeline(prefix: impl Into<String>, retry_delays: Vec<Duration>) -> Self {
        let stages = [
            ("extractor", ARTICLE_INGESTED),
            ("stance", ARTICLE_EXTRACTED),
            ("storage", ARTICLE_CLASSIFIED),
        ];
        Self::new(prefix, retry_delays, stages)
    }

    /// A topology of the given `(stage, binding key)` queues.
    pub fn new<'a>(
        prefix: impl Into<String>,
        retry_delays: Vec<Duration>,
        stages: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let retry_delays = if retry_delays.is_empty() {
            vec![Duration::from_secs(1)]
        } else {
            retry_delays
        };
        Self {
            prefix: prefix.into(),
            stages: stages
                .into_iter()
                .map(|(stage, key)| StageQueue {
                    stage: stage.to_owned(),
                    binding_key: key.to_owned(),
                })
                .collect(),
            retry_delays,
            // Enough for transient crashes, few enough that a message that kills its consumer
            // is parked quickly (quorum queues count deliveries; classic ones cannot).
            delivery_limit: 10,
            idle_expiry: None,
        }
    }

    /// Has the broker delete every queue of this topology once it has gone unused (no
    /// consumer, no redeclaration) for `idle`: for a subscriber that is not meant to outlive
    /// its process, such as `newsflow tail` without `--durable`.
    pub fn expire_when_idle(mut self, idle: Duration) -> Self {
        self.idle_expiry = Some(idle);
        self
    }

    fn queue_args(&self) -> FieldTable {
        let mut args = FieldTable::default();
        if let Some(idle) = self.idle_expiry {
            args.insert(
                "x-expires".into(),
                AMQPValue::LongInt(idle.as_millis().clamp(1, i32::MAX as u128) as i32),
            );
        }
        args
    }

    /// The topic exchange every message is published to.
    pub fn exchange(&self) -> &str {
        &self.prefix
    }

    /// The stage queues.
    pub fn stages(&self) -> &[StageQueue] {
        &self.stages
    }

    /// The work queue of a stage (`newsflow.extractor`).
    pub fn work_queue(&self, stage: &str) -> String {
        format!("{}.{stage}", self.prefix)
    }

    /// The suspect queue of a work queue (`newsflow.extractor.suspect`): messages redelivered
    /// after a consumer died, each handled alone (see [`crate::consumer`]).
    pub fn suspect_queue(&self, work_queue: &str) -> String {
        format!("{work_queue}.suspect")
    }

    /// The work queue a suspect queue belongs to.
    pub fn work_queue_of_suspect<'a>(&self, queue: &'a str) -> &'a str {
        queue.strip_suffix(".suspect").unwrap_or(queue)
    }

    /// The dead-letter queue of a work queue (`newsflow.extractor.dead`).
    pub fn dead_letter_queue(&self, work_queue: &str) -> String {
        format!("{work_queue}.dead")
    }

    /// The retry queue that holds a message of `work_queue` for `delay`
    /// (`newsflow.extractor.retry.5000ms`). Named by its delay, since a queue's TTL cannot be
    /// changed once declared.
    pub fn retry_queue(&self, work_queue: &str, delay: Duration) -> String {
        format!("{work_queue}.retry.{}ms", delay.as_millis())
    }

    /// The delay before the given retry (1 for the first): the configured delays in order, the
    /// last one repeated.
    pub fn retry_delay(&self, retry: u32) -> Duration {
        let index = (retry.max(1) as usize - 1).min(self.retry_delays.len() - 1);
        self.retry_delays[index]
    }

    /// Declares the exchange and, for every stage, its work, retry and dead-letter queues.
    pub async fn declare(&self, channel: &Channel) -> Result<(), BusError> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .exchange_declare(
                self.exchange().into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await
            .map_err(|e| refused(format!("declare exchange {}", self.exchange()), e))?;
        for stage in &self.stages {
            self.declare_stage(channel, stage).await?;
        }
        Ok(())
    }

    /// Every queue this topology declares: per stage its dead-letter, work and retry queues.
    pub fn queues(&self) -> Vec<String> {
        let mut delays = self.retry_delays.clone();
        delays.dedup();
        self.stages
            .iter()
            .flat_map(|stage| {
                let work = self.work_queue(&stage.stage);
                let retries: Vec<String> = delays
                    .iter()
                    .map(|&delay| self.retry_queue(&work, delay))
                    .collect();
                [
                    self.dead_letter_queue(&work),
                    self.suspect_queue(&work),
                    work,
                ]
                .into_iter()
                .chain(retries)
            })
            .collect()
    }

    /// Deletes every queue of this topology and its exchange, messages and all (for tests and
    /// temporary subscribers; never the production pipeline's).
    pub async fn delete(&self, channel: &Channel) -> Result<(), BusError> {
        for queue in self.queues() {
            channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await
                .map_err(|e| refused(format!("delete queue {queue}"), e))?;
        }
        channel
            .exchange_delete(self.exchange().into(), ExchangeDeleteOptions::default())
            .await
            .map_err(|e| refused(format!("delete exchange {}", self.exchange()), e))
    }

    async fn declare_stage(&self, channel: &Channel, stage: &StageQueue) -> Result<(), BusError> {
        let work = self.work_queue(&stage.stage);
        let dead = self.dead_letter_queue(&work);

        declare_queue(channel, &dead, self.queue_args()).await?;

        // Past the delivery limit (a message that keeps crashing its consumer) the broker
        // dead-letters the message itself, to the same parking queue.
        let mut work_args = self.queue_args();
        work_args.insert("x-queue-type".into(), string("quorum"));
        work_args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongInt(self.delivery_limit as i32),
        );
        work_args.insert("x-dead-letter-exchange".into(), string(""));
        work_args.insert("x-dead-letter-routing-key".into(), string(&dead));
        declare_queue(channel, &work, work_args).await?;
        // A suspect handled alone that still kills its consumer this many times is parked by
        // the broker: the crash was its own.
        let mut suspect_args = self.queue_args();
        suspect_args.insert("x-queue-type".into(), string("quorum"));
        suspect_args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongInt(SUSPECT_DELIVERY_LIMIT as i32),
        );
        suspect_args.insert("x-dead-letter-exchange".into(), string(""));
        suspect_args.insert("x-dead-letter-routing-key".into(), string(&dead));
        declare_queue(channel, &self.suspect_queue(&work), suspect_args).await?;
        channel
            .queue_bind(
                work.as_str().into(),
                self.exchange().into(),
                stage.binding_key.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| refused(format!("bind {work} to {}", stage.binding_key), e))?;

        // One queue per delay rather than per-message expiry: a queue expires only its head,
        // so a long delay in front would hold back short ones behind it.
        let mut delays = self.retry_delays.clone();
        delays.dedup();
        for delay in delays {
            let mut retry_args = self.queue_args();
            retry_args.insert(
                "x-message-ttl".into(),
                AMQPValue::LongLongInt(delay.as_millis() as i64),
            );
            retry_args.insert("x-dead-letter-exchange".into(), string(""));
            retry_args.insert("x-dead-letter-routing-key".into(), string(&work));
            declare_queue(channel, &self.retry_queue(&work, delay), retry_args).await?;
        }
        Ok(())
    }
}

async fn declare_queue(channel: &Channel, name: &str, args: FieldTable) -> Result<(), BusError> {
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .queue_declare(ShortString::from(name), durable, args)
        .await
        .map(|_| ())
        .map_err(|e| refused(format!("declare queue {name}"), e))
}

/// The broker refusing an operation on a live channel (404, 403, 406: wrong names, rights or
/// arguments) is a configuration error; anything else means the broker is out of reach.
pub(crate) fn refused(operation: String, error: lapin::Error) -> BusError {
    match error.kind() {
        lapin::ErrorKind::ProtocolError(amqp) if matches!(amqp.get_id(), 403..=406) => {
            BusError::Refused {
                operation,
                source: error,
            }
        }
        _ => BusError::Unavailable(error),
    }
}

pub(crate) fn string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prefix() {
        let topology = Topology::pipeline("newsflow", vec![Duration::from_secs(5)]);
        assert_eq!(topology.exchange(), "newsflow");
        let work = topology.work_queue("extractor");
        assert_eq!(work, "newsflow.extractor");
        assert_eq!(topology.dead_letter_queue(&work), "newsflow.extractor.dead");
        assert_eq!(
            topology.retry_queue(&work, Duration::from_secs(5)),
            "newsflow.extractor.retry.5000ms"
        );
    }

    #[test]
    fn retry_delays_grow_then_repeat_the_last() {
        let delays = vec![Duration::from_secs(1), Duration::from_secs(5)];
        let topology = Topology::pipeline("p", delays);
        assert_eq!(topology.retry_delay(1), Duration::from_secs(1));
        assert_eq!(topology.retry_delay(2), Duration::from_secs(5));
        assert_eq!(topology.retry_delay(9), Duration::from_secs(5));
    }

    #[test]
    fn the_pipeline_binds_each_stage_to_the_one_before() {
        let topology = Topology::pipeline("p", vec![]);
        let bindings: Vec<_> = topology
            .stages()
            .iter()
            .map(|s| (s.stage.as_str(), s.binding_key.as_str()))
            .collect();
        assert_eq!(
            bindings,
            [
                ("extractor", ARTICLE_INGESTED),
                ("stance", ARTICLE_EXTRACTED),
                ("storage", ARTICLE_CLASSIFIED)
            ]
        );
    }
}
