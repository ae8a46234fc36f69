//! Opaque page tokens: the keyset position of the last item of a page, hex-encoded behind a
//! version byte so the format can change. Version 1 holds (sort time, article id), the position
//! of an article (`ListArticles`); version 2 adds an ordinal within the article, the position
//! of a statement ([`Store::statements`](crate::Store::statements)).

use crate::StoreError;

const VERSION: u8 = 1;
const ROW_VERSION: u8 = 2;

/// Where the next page starts: just after this (time, id) in newest-first order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// `articles.sort_time` in microseconds since the epoch (the database's precision).
    pub micros: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(9 + self.id.len());
        bytes.push(VERSION);
        bytes.extend_from_slice(&self.micros.to_be_bytes());
        bytes.extend_from_slice(self.id.as_bytes());
        hex(&bytes)
    }

    pub fn decode(token: &str) -> Result<Self, StoreError> {
        let rest = unhex(token, VERSION)?;
        if rest.len() < 8 {
            return Err(bad("truncated"));
        }
        let (time, id) = rest.split_at(8);
        let micros = i64::from_be_bytes(time.try_into().map_err(|_| bad("truncated"))?);
        let id = String::from_utf8(id.to_vec()).map_err(|_| bad("corrupt article id"))?;
        Ok(Self { micros, id })
    }

    /// The time of the position.
    pub fn time(&self) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
        chrono::DateTime::from_timestamp_micros(self.micros).ok_or_else(|| bad("time out of range"))
    }
}

/// Where the next page of rows within articles starts: just after row `ordinal` of article
/// `at` (articles newest first, rows in text order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RowCursor {
    pub at: Cursor,
    pub ordinal: i32,
}

impl RowCursor {
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(13 + self.at.id.len());
        bytes.push(ROW_VERSION);
        bytes.extend_from_slice(&self.at.micros.to_be_bytes());
        bytes.extend_from_slice(&self.ordinal.to_be_bytes());
        bytes.extend_from_slice(self.at.id.as_bytes());
        hex(&bytes)
    }

    pub fn decode(token: &str) -> Result<Self, StoreError> {
        let rest = unhex(token, ROW_VERSION)?;
        if rest.len() < 12 {
            return Err(bad("truncated"));
        }
        let (time, rest) = rest.split_at(8);
        let (ordinal, id) = rest.split_at(4);
        let micros = i64::from_be_bytes(time.try_into().map_err(|_| bad("truncated"))?);
        let ordinal = i32::from_be_bytes(ordinal.try_into().map_err(|_| bad("truncated"))?);
        let id = String::from_utf8(id.to_vec()).map_err(|_| bad("corrupt article id"))?;
        Ok(Self {
            at: Cursor { micros, id },
            ordinal,
        })
    }
}

fn bad(why: &str) -> StoreError {
    StoreError::InvalidArgument(format!("bad page_token: {why}"))
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// The bytes after the version byte of a token, which must be `version`.
fn unhex(token: &str, version: u8) -> Result<Vec<u8>, StoreError> {
    let hex = token.as_bytes();
    if !hex.len().is_multiple_of(2) {
        return Err(bad("not a token this service issued (odd length)"));
    }
    let bytes = hex
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| bad("not a token this service issued (not hex)"))?;
    let (&found, rest) = bytes.split_first().ok_or_else(|| bad("empty"))?;
    if found != version {
        return Err(bad("unknown token version"));
    }
    Ok(rest.to_vec())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let cursor = Cursor {
            micros: -5,
            id: "abc123".into(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        let empty_id = Cursor {
            micros: i64::MAX,
            id: String::new(),
        };
        assert_eq!(Cursor::decode(&empty_id.encode()).unwrap(), empty_id);
    }

    #[test]
    fn rejects_garbage() {
        for token in ["x", "zz", "00", "01", "0100", "02000000000000000061", "é"] {
            assert!(
                matches!(Cursor::decode(token), Err(StoreError::InvalidArgument(_))),
                "{token:?} was accepted"
            );
        }
        // Invalid UTF-8 in the id part.
        assert!(Cursor::decode("010000000000000000ff").is_err());
    }

    #[test]
    fn row_cursors_round_trip_and_differ_from_article_cursors() {
        let cursor = RowCursor {
            at: Cursor {
                micros: 1_700_000_000_000_000,
                id: "a1".into(),
            },
            ordinal: 7,
        };
        let token = cursor.encode();
        assert_eq!(RowCursor::decode(&token).unwrap(), cursor);
        assert!(Cursor::decode(&token).is_err());
        assert!(RowCursor::decode(&cursor.at.encode()).is_err());
        assert!(RowCursor::decode("02000000").is_err());
    }
}
