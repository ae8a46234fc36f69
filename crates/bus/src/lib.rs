//! RabbitMQ for newsflow: every article travels between stages through this crate.
//!
//! - [`Topology`] names and declares the broker objects: the `newsflow` topic exchange, one
//!   durable quorum work queue per stage, and per stage its retry queues and dead-letter queue.
//! - [`Publisher`] publishes persistent messages and returns only once the broker confirmed them;
//!   a message no queue takes (mandatory), a nack, or a broker out of reach is an error.
//! - [`Consumer`] takes messages from a stage's queue with bounded prefetch, hands each to a
//!   [`Handler`], and acks it only once the handler's answer is safely carried out: done, retry
//!   later (attempts counted in a header, growing delays), or park in the dead-letter queue with
//!   the reason in its headers. It reconnects by itself. The table of every case is in
//!   [`consumer`]'s documentation.
//! - [`trace`] carries a W3C `traceparent` header from each publish to the consumer's span.
//! - [`dead_letter`] lists and replays parked messages.

pub mod config;
mod connection;
pub mod consumer;
pub mod dead_letter;
mod error;
pub mod message;
mod publisher;
pub mod topology;
pub mod trace;

pub use config::BusConfig;
pub use consumer::{Consumer, Handler, HandlerFn, Outcome};
pub use error::BusError;
pub use message::{Incoming, Outgoing};
pub use publisher::Publisher;
pub use topology::Topology;
pub use trace::TraceContext;
