//! What can go wrong on the bus, as the caller needs to tell it apart.

use std::time::Duration;

/// An error from the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The broker cannot be reached, or the connection or channel broke while the operation was
    /// under way. Nothing is known to have been published: retry later (ingest answers 503).
    #[error("broker unavailable: {0}")]
    Unavailable(#[source] lapin::Error),
    /// The broker did not confirm a publish within the configured time.
    #[error("broker did not confirm the publish within {0:?}")]
    ConfirmTimeout(Duration),
    /// A mandatory publish matched no queue; the broker returned it.
    #[error("unroutable: no queue is bound to {routing_key:?} on exchange {exchange:?}")]
    Unroutable {
        /// The exchange published to.
        exchange: String,
        /// The routing key that matched no binding.
        routing_key: String,
    },
    /// The broker refused to take responsibility for the message (nack).
    #[error("broker nacked the publish to {routing_key:?}")]
    Nacked {
        /// The routing key published to.
        routing_key: String,
    },
    /// The broker refused an operation for a reason retrying will not fix (for example a queue
    /// declared earlier with other arguments).
    #[error("broker refused {operation}: {source}")]
    Refused {
        /// What was being done ("declare queue newsflow.stance").
        operation: String,
        /// The broker's error.
        #[source]
        source: lapin::Error,
    },
}

impl BusError {
    /// Whether the error is about the broker's availability (try again later) rather than about
    /// the message or the topology.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, BusError::Unavailable(_) | BusError::ConfirmTimeout(_))
    }
}
