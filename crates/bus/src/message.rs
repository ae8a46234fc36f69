//! Messages as they go out and come in, and the headers newsflow puts on them.

use lapin::{
    BasicProperties,
    message::Delivery,
    types::{AMQPValue, FieldTable, LongString, ShortString},
};

use crate::trace::{TRACEPARENT_HEADER, TraceContext};

/// Header counting the failed attempts at a message so far (absent means 0).
pub const ATTEMPTS_HEADER: &str = "x-newsflow-attempts";
/// Header with the error of the last failed attempt.
pub const LAST_ERROR_HEADER: &str = "x-newsflow-last-error";
/// Header on a dead-lettered message: why it was parked.
pub const REASON_HEADER: &str = "x-newsflow-reason";
/// Header on a dead-lettered message: the work queue it failed in (where a replay sends it).
pub const ORIGIN_QUEUE_HEADER: &str = "x-newsflow-origin-queue";
/// Header on a dead-lettered message: the routing key it was first published with.
pub const ORIGIN_ROUTING_KEY_HEADER: &str = "x-newsflow-origin-routing-key";
/// Header on a dead-lettered message: when it was parked, in Unix seconds.
pub const DEAD_LETTERED_AT_HEADER: &str = "x-newsflow-dead-lettered-at";

/// AMQP delivery mode 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;

/// A message to publish.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// Routing key on the newsflow exchange (`article.extracted`).
    pub routing_key: String,
    /// The AMQP `message_id`: the article id, so duplicates can be recognized anywhere.
    pub message_id: String,
    /// The AMQP `type`: the protobuf message's full name (`newsflow.v1.AnalyzedArticle`).
    pub type_name: String,
    /// The AMQP `content_type`.
    pub content_type: String,
    /// The encoded message.
    pub body: Vec<u8>,
    /// The trace this message belongs to: the context of the span it is published from (a
    /// handler passes its [`Incoming::trace`]). When spans are exported, the `traceparent` sent
    /// names the publish span, a child of this one.
    pub trace: TraceContext,
    /// Whether a publish that matches no queue is an error (true for pipeline stages; false for
    /// events that may have no consumer yet).
    pub mandatory: bool,
}

impl Outgoing {
    /// A protobuf message, mandatory, in the given trace.
    pub fn protobuf<M: prost::Message + prost::Name>(
        routing_key: &str,
        message_id: &str,
        message: &M,
        trace: TraceContext,
    ) -> Self {
        Self {
            routing_key: routing_key.to_owned(),
            message_id: message_id.to_owned(),
            type_name: M::full_name(),
            content_type: "application/x-protobuf".to_owned(),
            body: message.encode_to_vec(),
            trace,
            mandatory: true,
        }
    }

    /// The same message, published even when no queue is bound to its key (an event that
    /// nobody may be listening to yet).
    pub fn not_mandatory(mut self) -> Self {
        self.mandatory = false;
        self
    }

    /// The properties to publish with, the `traceparent` header naming `trace`.
    pub(crate) fn properties(&self, trace: &TraceContext) -> BasicProperties {
        let mut headers = FieldTable::default();
        headers.insert(
            TRACEPARENT_HEADER.into(),
            AMQPValue::LongString(LongString::from(trace.to_string())),
        );
        BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_message_id(ShortString::from(self.message_id.as_str()))
            .with_type(ShortString::from(self.type_name.as_str()))
            .with_content_type(ShortString::from(self.content_type.as_str()))
            .with_timestamp(unix_now())
            .with_headers(headers)
    }
}

/// A message handed to a [`crate::Handler`].
#[derive(Clone, Debug)]
pub struct Incoming {
    /// The queue it was consumed from.
    pub queue: String,
    /// The routing key it was published with (for a retried message: the retry queue's name).
    pub routing_key: String,
    /// The AMQP `message_id` (the article id), when set.
    pub message_id: Option<String>,
    /// The AMQP `type`, when set.
    pub type_name: Option<String>,
    /// The message body.
    pub body: Vec<u8>,
    /// Failed attempts at this message before this one.
    pub attempts: u32,
    /// Whether the broker delivered it before (a consumer died holding it).
    pub redelivered: bool,
    /// This hop's trace context: the publisher's trace with the consumer span's id (the span
    /// the handler runs in). Pass it to the messages published while handling this one.
    pub trace: TraceContext,
    /// The context of the span that published the message, from its `traceparent` header
    /// (`None` when it had none, or a malformed one).
    pub parent: Option<TraceContext>,
    pub(crate) properties: BasicProperties,
}

impl Incoming {
    pub(crate) fn from_delivery(queue: &str, delivery: &Delivery) -> Self {
        let properties = delivery.properties.clone();
        let headers = properties.headers().clone().unwrap_or_default();
        let parent =
            header_str(&headers, TRACEPARENT_HEADER).and_then(|value| TraceContext::parse(&value));
        // The consumer replaces it with its span's context (`TraceContext::start`).
        let trace = parent.map_or_else(TraceContext::new_root, |parent| parent.child());
        Self {
            queue: queue.to_owned(),
            routing_key: delivery.routing_key.to_string(),
            message_id: properties.message_id().as_ref().map(|id| id.to_string()),
            type_name: properties.kind().as_ref().map(|kind| kind.to_string()),
            body: delivery.data.clone(),
            attempts: header_u32(&headers, ATTEMPTS_HEADER).unwrap_or(0),
            redelivered: delivery.redelivered,
            trace,
            parent,
            properties,
        }
    }

    /// Decodes the body as a protobuf message.
    pub fn decode<M: prost::Message + Default>(&self) -> Result<M, prost::DecodeError> {
        M::decode(self.body.as_slice())
    }

    /// The properties for re-publishing this message with `extra` headers set (to a retry or
    /// dead-letter queue): everything the publisher set is kept.
    pub(crate) fn republish_properties(&self, extra: Vec<(&str, AMQPValue)>) -> BasicProperties {
        let mut headers = self.properties.headers().clone().unwrap_or_default();
        for (key, value) in extra {
            headers.insert(key.into(), value);
        }
        self.properties
            .clone()
            .with_delivery_mode(PERSISTENT)
            .with_headers(headers)
    }
}

/// A header's value as text, whichever AMQP string type carries it.
pub fn header_str(headers: &FieldTable, key: &str) -> Option<String> {
    match headers.inner().get(key)? {
        AMQPValue::LongString(value) => Some(value.to_string()),
        AMQPValue::ShortString(value) => Some(value.to_string()),
        _ => None,
    }
}

/// A header's value as a non-negative integer, whichever AMQP integer type carries it.
pub fn header_u32(headers: &FieldTable, key: &str) -> Option<u32> {
    let value = match headers.inner().get(key)? {
        AMQPValue::ShortShortInt(v) => i64::from(*v),
        AMQPValue::ShortShortUInt(v) => i64::from(*v),
        AMQPValue::ShortInt(v) => i64::from(*v),
        AMQPValue::ShortUInt(v) => i64::from(*v),
        AMQPValue::LongInt(v) => i64::from(*v),
        AMQPValue::LongUInt(v) => i64::from(*v),
        AMQPValue::LongLongInt(v) => *v,
        _ => return None,
    };
    u32::try_from(value).ok()
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
