//! Optional API keys: off when none are configured (local runs), required on every request
//! when any are. Clients send `authorization: Bearer <key>` as gRPC metadata or an HTTP header.
//! A deployment that sets `NEWSFLOW_REQUIRE_API_KEYS` refuses to start without keys, so a
//! missing secret cannot open the door by accident.

/// The keys a service takes from configuration (ingest, web).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ApiKeyArgs {
    /// API keys, comma-separated; none means no authentication (local runs only).
    #[arg(
        long,
        env = "NEWSFLOW_API_KEYS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub api_keys: Vec<String>,
    /// Refuse to start when no API key is configured (production).
    #[arg(long, env = "NEWSFLOW_REQUIRE_API_KEYS")]
    pub require_api_keys: bool,
}

impl ApiKeyArgs {
    /// The keys, or an error when they are required and none is set. Without keys and
    /// without the requirement the service starts open and says so in its log.
    pub fn keys(&self, service: &str) -> Result<ApiKeys, MissingApiKeys> {
        let keys = ApiKeys::new(self.api_keys.clone());
        if !keys.enabled() {
            if self.require_api_keys {
                return Err(MissingApiKeys);
            }
            tracing::warn!("no API keys configured: anyone who can reach {service} is let in");
        }
        Ok(keys)
    }
}

/// `NEWSFLOW_REQUIRE_API_KEYS` is set but `NEWSFLOW_API_KEYS` holds no key.
#[derive(Debug, thiserror::Error)]
#[error(
    "NEWSFLOW_REQUIRE_API_KEYS is set but NEWSFLOW_API_KEYS holds no key: \
     set at least one key (comma-separated) or unset the requirement for a local run"
)]
pub struct MissingApiKeys;

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

/// A gRPC interceptor that refuses calls without an accepted `authorization: Bearer <key>` when
/// keys are configured.
#[derive(Clone, Debug)]
pub struct ApiKeyCheck(ApiKeys);

impl ApiKeyCheck {
    pub fn new(keys: ApiKeys) -> Self {
        Self(keys)
    }
}

impl tonic::service::Interceptor for ApiKeyCheck {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let authorization = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok());
        if self.0.allows(authorization) {
            Ok(request)
        } else {
            Err(tonic::Status::unauthenticated(
                "missing or unknown API key: send `authorization: Bearer <key>`",
            ))
        }
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
    fn required_keys_refuse_an_empty_list() {
        let required = |keys: &[&str]| ApiKeyArgs {
            api_keys: keys.iter().map(|key| key.to_string()).collect(),
            require_api_keys: true,
        };
        assert!(required(&[]).keys("ingest").is_err());
        assert!(required(&[" ", ""]).keys("ingest").is_err());
        assert!(required(&["k1"]).keys("ingest").unwrap().enabled());
        assert!(!ApiKeyArgs::default().keys("ingest").unwrap().enabled());
    }

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
