//! Opaque page tokens of `ListArticles`: the keyset position (sort time, article id) of the
//! last article of a page, hex-encoded behind a version byte so the format can change.

use crate::StoreError;

const VERSION: u8 = 1;

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
        let mut out = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out
    }

    pub fn decode(token: &str) -> Result<Self, StoreError> {
        let bad = |why: &str| StoreError::InvalidArgument(format!("bad page_token: {why}"));
        let hex = token.as_bytes();
        if !hex.len().is_multiple_of(2) {
            return Err(bad("not a token this service issued (odd length)"));
        }
        let bytes = hex
            .chunks_exact(2)
            .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| bad("not a token this service issued (not hex)"))?;
        let (&version, rest) = bytes.split_first().ok_or_else(|| bad("empty"))?;
        if version != VERSION {
            return Err(bad("unknown token version"));
        }
        if rest.len() < 8 {
            return Err(bad("truncated"));
        }
        let (time, id) = rest.split_at(8);
        let micros = i64::from_be_bytes(time.try_into().map_err(|_| bad("truncated"))?);
        let id = String::from_utf8(id.to_vec()).map_err(|_| bad("corrupt article id"))?;
        Ok(Self { micros, id })
    }
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
}
