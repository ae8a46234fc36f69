//! The dead-letter queues, for operators: look at what was parked and why, and send it back.

use lapin::{
    BasicProperties, Channel,
    options::{BasicAckOptions, BasicGetOptions},
    types::{AMQPValue, FieldTable},
};

use crate::{
    BusConfig, BusError, Publisher,
    connection::connect,
    message::{
        ATTEMPTS_HEADER, DEAD_LETTERED_AT_HEADER, LAST_ERROR_HEADER, ORIGIN_QUEUE_HEADER,
        REASON_HEADER, header_str, header_u32,
    },
};

/// A parked message, as an operator sees it.
#[derive(Clone, Debug)]
pub struct DeadLetter {
    /// The AMQP `message_id` (the article id).
    pub message_id: Option<String>,
    /// Why it was parked. For a message the broker parked itself (past the delivery limit) this
    /// is the broker's own reason, e.g. `delivery_limit`.
    pub reason: String,
    /// Attempts made at it.
    pub attempts: u32,
    /// The work queue it failed in.
    pub origin_queue: Option<String>,
    /// When it was parked, in Unix seconds.
    pub dead_lettered_at: Option<u64>,
    /// The message body.
    pub body: Vec<u8>,
}

impl DeadLetter {
    fn from_parts(properties: &BasicProperties, body: Vec<u8>) -> Self {
        let headers = properties.headers().clone().unwrap_or_default();
        let reason = header_str(&headers, REASON_HEADER)
            .or_else(|| broker_reason(&headers))
            .unwrap_or_else(|| "unknown".to_owned());
        Self {
            message_id: properties.message_id().as_ref().map(|id| id.to_string()),
            reason,
            attempts: header_u32(&headers, ATTEMPTS_HEADER).unwrap_or(0),
            // A suspect the broker parked goes back to the work queue it came from.
            origin_queue: header_str(&headers, ORIGIN_QUEUE_HEADER).or_else(|| {
                header_str(&headers, "x-first-death-queue")
                    .map(|queue| queue.trim_end_matches(".suspect").to_owned())
            }),
            dead_lettered_at: match headers.inner().get(DEAD_LETTERED_AT_HEADER) {
                Some(AMQPValue::LongLongInt(at)) => u64::try_from(*at).ok(),
                _ => None,
            },
            body,
        }
    }
}

/// The reason the broker records when it dead-letters a message itself; a suspect past its
/// delivery limit killed its consumer while handled alone.
fn broker_reason(headers: &FieldTable) -> Option<String> {
    let reason = header_str(headers, "x-first-death-reason")?;
    let from_suspects =
        header_str(headers, "x-first-death-queue").is_some_and(|queue| queue.ends_with(".suspect"));
    Some(if from_suspects {
        format!("crashed its consumer while handled alone ({reason})")
    } else {
        reason
    })
}

/// Reads up to `limit` messages of a dead-letter queue without removing them: they are taken
/// unacked and return to the queue, in order, when the channel closes.
pub async fn list(
    config: &BusConfig,
    queue: &str,
    limit: usize,
) -> Result<Vec<DeadLetter>, BusError> {
    let connection = connect(config, "dead-letters").await?;
    let channel = connection
        .create_channel()
        .await
        .map_err(BusError::Unavailable)?;
    let mut parked = Vec::new();
    while parked.len() < limit {
        match get(&channel, queue).await? {
            Some((properties, body)) => parked.push(DeadLetter::from_parts(&properties, body)),
            None => break,
        }
    }
    let _ = channel.close(200, "listed".into()).await;
    let _ = connection.close(200, "listed".into()).await;
    Ok(parked)
}

/// Sends up to `limit` parked messages back to the work queues they failed in, with their
/// attempts reset, each removed from the dead-letter queue only once its replay is confirmed.
/// With `reason`, only those whose reason contains it are replayed; the others stay parked.
/// Returns how many were replayed.
pub async fn replay(
    config: &BusConfig,
    publisher: &Publisher,
    queue: &str,
    limit: usize,
    reason: Option<&str>,
) -> Result<usize, BusError> {
    let connection = connect(config, "dead-letters").await?;
    let channel = connection
        .create_channel()
        .await
        .map_err(BusError::Unavailable)?;
    let mut replayed = 0;
    while replayed < limit {
        let delivery = channel
            .basic_get(queue.into(), BasicGetOptions::default())
            .await
            .map_err(|e| crate::topology::refused(format!("read {queue}"), e))?;
        let Some(message) = delivery else { break };
        let delivery = message.delivery;
        let letter = DeadLetter::from_parts(&delivery.properties, Vec::new());
        if reason.is_some_and(|wanted| !letter.reason.contains(wanted)) {
            // Not asked for: left unacked, it returns to the queue when we close.
            continue;
        }
        let Some(origin) = letter.origin_queue else {
            // Nowhere to send it: leave it parked (it returns to the queue when we close).
            continue;
        };
        let mut headers = delivery.properties.headers().clone().unwrap_or_default();
        let mut fresh = FieldTable::default();
        for (key, value) in headers.inner() {
            if ![
                ATTEMPTS_HEADER,
                LAST_ERROR_HEADER,
                REASON_HEADER,
                DEAD_LETTERED_AT_HEADER,
            ]
            .contains(&key.as_str())
                && !key.as_str().starts_with("x-death")
                && !key.as_str().starts_with("x-first-death")
                && !key.as_str().starts_with("x-last-death")
            {
                fresh.insert(key.clone(), value.clone());
            }
        }
        headers = fresh;
        let properties = delivery.properties.clone().with_headers(headers);
        publisher
            .publish_to_queue(&origin, &delivery.data, properties)
            .await?;
        delivery
            .acker
            .ack(BasicAckOptions::default())
            .await
            .map_err(BusError::Unavailable)?;
        replayed += 1;
    }
    let _ = channel.close(200, "replayed".into()).await;
    let _ = connection.close(200, "replayed".into()).await;
    Ok(replayed)
}

async fn get(
    channel: &Channel,
    queue: &str,
) -> Result<Option<(BasicProperties, Vec<u8>)>, BusError> {
    let message = channel
        .basic_get(queue.into(), BasicGetOptions::default())
        .await
        .map_err(|e| crate::topology::refused(format!("read {queue}"), e))?;
    Ok(message.map(|m| (m.delivery.properties, m.delivery.data)))
}
