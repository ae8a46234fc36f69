//! Conversions between protobuf `Timestamp`s and the `chrono` times the database speaks.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

/// 0001-01-01T00:00:00Z, the earliest time a protobuf `Timestamp` may hold.
const MIN_SECONDS: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z, the latest.
const MAX_SECONDS: i64 = 253_402_300_799;

/// The time a protobuf `Timestamp` stands for, or why it stands for none (nanos out of
/// `0..1e9`, or outside the years 1 to 9999 that the protobuf spec allows).
pub fn from_proto(ts: &Timestamp) -> Result<DateTime<Utc>, String> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&ts.seconds) {
        return Err(format!(
            "timestamp {}s is outside the years 1 to 9999",
            ts.seconds
        ));
    }
    let nanos = u32::try_from(ts.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or_else(|| format!("timestamp nanos {} are outside 0..1e9", ts.nanos))?;
    DateTime::from_timestamp(ts.seconds, nanos)
        .ok_or_else(|| format!("timestamp {}s is out of range", ts.seconds))
}

/// The protobuf `Timestamp` of a time.
pub fn to_proto(time: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: time.timestamp(),
        // Always below 1e9 for a `DateTime` outside a leap second, so the cast cannot wrap.
        nanos: time.timestamp_subsec_nanos().min(999_999_999) as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_bad_values() {
        let ts = Timestamp {
            seconds: 1_764_000_000,
            nanos: 123_456_789,
        };
        assert_eq!(to_proto(from_proto(&ts).unwrap()), ts);
        assert!(
            from_proto(&Timestamp {
                seconds: 0,
                nanos: -1
            })
            .is_err()
        );
        assert!(
            from_proto(&Timestamp {
                seconds: 0,
                nanos: 1_000_000_000
            })
            .is_err()
        );
        assert!(
            from_proto(&Timestamp {
                seconds: MAX_SECONDS + 1,
                nanos: 0
            })
            .is_err()
        );
    }
}
