//! Connection settings shared by publishers and consumers.

use std::time::Duration;

/// How to reach the broker and how patiently.
#[derive(Clone, Debug)]
pub struct BusConfig {
    /// AMQP URI, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    pub url: String,
    /// Name shown for the connection in the broker's management UI (`newsflow-extractor`).
    pub connection_name: String,
    /// Most unacknowledged messages a consumer holds, and so handles at once.
    pub prefetch: u16,
    /// Attempts at a message before it is dead-lettered (the first try included).
    pub max_attempts: u32,
    /// How long a publish waits for the broker's confirm before it is reported as failed.
    pub confirm_timeout: Duration,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// First wait before reconnecting after the connection drops; doubles up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Longest wait between reconnection attempts.
    pub reconnect_max: Duration,
    /// How long a shutting-down consumer waits for the messages in flight to finish before it
    /// closes anyway (they are then redelivered to another consumer).
    pub shutdown_grace: Duration,
    /// Handle a redelivered message alone: it is moved to the stage's suspect queue and taken
    /// from there only while nothing else is handled in this process, so a message that kills
    /// its consumer is the only one counted against when it does (see [`crate::consumer`]).
    pub isolate_redeliveries: bool,
}

impl BusConfig {
    /// Defaults for a broker at `url`.
    pub fn new(url: impl Into<String>, connection_name: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            connection_name: connection_name.into(),
            prefetch: 32,
            max_attempts: 5,
            confirm_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            reconnect_min: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
            isolate_redeliveries: false,
        }
    }
}

/// Exponential backoff between `min` and `max`, with jitter so that replicas do not reconnect in
/// lock step.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Self {
            next: min,
            min,
            max,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.next = self.min;
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        let jitter = rand::random_range(0.8..1.2);
        delay.mul_f64(jitter)
    }
}
