//! Optional API keys: off when none are configured (local runs), required on every request
//! when any are. Clients send `authorization: Bearer <key>` as gRPC metadata or an HTTP header.

/// The configured keys.
#[derive(Clone, Debug, Default)]
pub struct ApiKeys(Vec<String>);

impl ApiKeys {
    /// Keys from configuration; blank entries are ignored.
    pub fn new(keys: impl IntoIterator<Item = String>) -> Self {
        Self(
            keys.into_iter()
                .map(|key| key.trim().to_owned())
                .filter(|key| !key.is_empty())
                .collect(),
        )
    }

    /// Whether keys are required.
    pub fn enabled(&self) -> bool {
        !self.0.is_empty()
    }

    /// Whether an `authorization` value lets the caller in.
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        if !self.enabled() {
            return true;
        }
        authorization
            .and_then(|value| {
                let (scheme, key) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
            })
            .is_some_and(|key| self.is_key(key))
    }

    /// Whether `key` is one of the keys (when keys are required).
    pub fn is_key(&self, key: &str) -> bool {
        // Compare with every key, in time independent of where they differ.
        self.0
            .iter()
            .fold(false, |found, known| found | constant_time_eq(known, key))
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_keys_means_open() {
        assert!(ApiKeys::new(Vec::new()).allows(None));
        assert!(ApiKeys::new(vec![" ".to_owned()]).allows(None));
    }

    #[test]
    fn keys_require_a_matching_bearer() {
        let keys = ApiKeys::new(vec!["k1".to_owned(), "k2".to_owned()]);
        assert!(keys.allows(Some("Bearer k2")));
        assert!(keys.allows(Some("bearer k1")));
        assert!(!keys.allows(None));
        assert!(!keys.allows(Some("Bearer k3")));
        assert!(!keys.allows(Some("Basic k1")));
        assert!(!keys.allows(Some("k1")));
    }
}
