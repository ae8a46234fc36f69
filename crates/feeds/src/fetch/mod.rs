//! Fetching pages politely: the network layer of the feed follower.
//!
//! [`Fetcher::get`] makes a conditional GET ([`Validators`] from the previous fetch) and
//! follows redirects by hand, checking every hop against
//! - the site's robots.txt for our user agent (fetched once per origin and cached; a
//!   disallowed URL is never requested, a `Crawl-delay` raises the host's interval), and
//! - per-host limits: at most `host_concurrency` requests in flight to a host and
//!   `host_interval` between the starts of two requests to it; other hosts never wait for a
//!   slow one.
//!
//! Only public addresses are connected to unless `allow_private_addresses` is set
//! ([`address`]): a feed cannot point the follower at the services beside it.
//!
//! Each request is bounded in time (`request_timeout`, however slowly the host sends) and in
//! size (`max_response_bytes`, checked while streaming, so no more is ever buffered).
//! Failures are [`FetchError`]s with a stable [`reason`](FetchError::reason) for metrics and
//! [`is_transient`](FetchError::is_transient) for backing off.
//!
//! The client is hyper-util's over hyper-rustls, HTTP/1.1, gzip decoded here (under the
//! bound); TLS is rustls on the `ring` provider with the webpki roots (no system store, no C
//! build).

mod address;
mod body;
mod error;
mod hosts;
mod robots;
mod settings;

use std::{collections::HashSet, sync::Arc, time::Duration};

use http_body_util::{BodyExt, Empty};
use hyper::{
    Request, StatusCode, Uri,
    body::{Bytes, Incoming},
    header::{self, HeaderMap, HeaderValue},
};
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioTimer},
};
use url::Url;

use address::{PublicResolver, refused_as_private};
use body::{BodyError, BoundedBody};
pub use error::{BoxError, FetchError, SetupError};
use hosts::{HostKey, Hosts};
use robots::{ROBOTS_MAX_BYTES, RobotsBody, RobotsCache, Rules, Verdict};
pub use settings::{DEFAULT_USER_AGENT, FetchSettings};

/// Redirects followed at most to reach a robots.txt (RFC 9309 asks for at least five).
const ROBOTS_MAX_REDIRECTS: usize = 5;

/// What the previous fetch of a URL said about its version, sent back as `If-None-Match` and
/// `If-Modified-Since` so an unchanged page costs a 304 instead of its body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` of the response, as sent.
    pub etag: Option<String>,
    /// The `Last-Modified` of the response, as sent.
    pub last_modified: Option<String>,
}

/// What a fetch gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// The server says the page has not changed since the validators were given (304).
    NotModified,
    /// The page (a 2xx response).
    Page {
        /// Where the page was found, after redirects.
        final_url: Url,
        status: u16,
        /// The `Content-Type` header, as sent.
        content_type: Option<String>,
        /// To send with the next fetch of this URL.
        validators: Validators,
        /// The body, decompressed if it was sent gzipped.
        body: Vec<u8>,
    },
}

/// Fetches pages politely (see the [module docs](self)). Cheap to clone; clones share the
/// connection pool, the robots.txt cache and the per-host limits.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

/// How long an idle connection is kept for the next request to its host.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

type HttpClient = Client<HttpsConnector<HttpConnector<PublicResolver>>, Empty<Bytes>>;

struct Inner {
    client: HttpClient,
    user_agent: HeaderValue,
    settings: FetchSettings,
    product_token: String,
    hosts: Hosts,
    robots: RobotsCache,
}

/// One request's outcome, before redirects are followed.
enum Hop<T = Fetched> {
    Redirect(String),
    Done(T),
}

impl Fetcher {
    /// A fetcher with these settings.
    pub fn new(settings: FetchSettings) -> Result<Self, SetupError> {
        let product_token = robots::product_token(&settings.user_agent).to_owned();
        let user_agent = HeaderValue::from_str(&settings.user_agent)
            .ok()
            .filter(|_| !product_token.is_empty())
            .ok_or_else(|| {
                SetupError::Settings(format!(
                    "user agent {:?} must start with a name and be printable ASCII",
                    settings.user_agent
                ))
            })?;
        if settings.host_concurrency == 0 {
            return Err(SetupError::Settings(
                "host concurrency must be at least 1".into(),
            ));
        }
        if settings.request_timeout.is_zero() {
            return Err(SetupError::Settings(
                "request timeout must be more than zero".into(),
            ));
        }

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(SetupError::Tls)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut tcp =
            HttpConnector::new_with_resolver(PublicResolver::new(settings.allow_private_addresses));
        tcp.enforce_http(false); // https URLs pass through to the TLS layer
        tcp.set_connect_timeout(Some(settings.connect_timeout));
        tcp.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        // No redirect policy, no proxy: redirects are followed by hand (each hop passes
        // robots.txt and the host limits) and a crawler goes to the sites directly.
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .build(connector);

        let longest_interval = settings.host_interval.max(robots::MAX_CRAWL_DELAY);
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                hosts: Hosts::new(settings.host_concurrency, longest_interval),
                robots: RobotsCache::new(settings.robots_cache),
                user_agent,
                product_token,
                settings,
            }),
        })
    }

    /// The settings this fetcher was made with.
    pub fn settings(&self) -> &FetchSettings {
        &self.inner.settings
    }

    /// Fetches `url` with a conditional GET, following redirects. Waits for the host's
    /// turn first (and for its robots.txt when not cached); the request timeout counts from
    /// each request's start, not from the wait.
    pub async fn get(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        let inner = &self.inner;
        let mut url = checked_url(url.clone())?;
        let mut visited = HashSet::from([url.clone()]);
        let mut redirects = 0;
        loop {
            let host = host_key(&url)?;
            // An address written into the URL is not resolved, so it is checked here; names
            // are checked on what they resolve to (`address`).
            if let Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) = url.host()
                && !inner.settings.allow_private_addresses
                && !url
                    .socket_addrs(|| None)
                    .is_ok_and(|addrs| addrs.iter().all(|a| address::is_public(a.ip())))
            {
                return Err(FetchError::PrivateAddress { url });
            }
            let rules = inner.robots.rules(&url, || inner.fetch_robots(&url)).await;
            match rules.verdict(&url) {
                Verdict::Allowed => {}
                Verdict::Disallowed => return Err(FetchError::Forbidden { url }),
                Verdict::Unavailable(cause) => {
                    return Err(FetchError::RobotsUnavailable { url, cause });
                }
            }
            let interval = rules
                .crawl_delay()
                .map_or(inner.settings.host_interval, |delay| {
                    delay.max(inner.settings.host_interval)
                });

            let hop = {
                // Held for this request only: the next hop may be to the same host.
                let _slot = inner.hosts.acquire(&host, interval).await;
                tracing::debug!(%url, "fetching");
                inner
                    .within_timeout(&url, inner.request(&url, validators))
                    .await?
            };
            match hop {
                Hop::Done(fetched) => return Ok(fetched),
                Hop::Redirect(location) => {
                    let next = url.join(&location).map_err(|e| FetchError::InvalidUrl {
                        url: location.clone(),
                        problem: format!("redirect from {url}: {e}"),
                    })?;
                    let next = checked_url(next)?;
                    if !visited.insert(next.clone()) {
                        return Err(FetchError::RedirectLoop { url: next });
                    }
                    if redirects == inner.settings.max_redirects {
                        return Err(FetchError::TooManyRedirects {
                            url: next,
                            limit: inner.settings.max_redirects,
                        });
                    }
                    redirects += 1;
                    tracing::debug!(from = %url, to = %next, "redirected");
                    url = next;
                }
            }
        }
    }
}

impl Inner {
    async fn within_timeout<T>(
        &self,
        url: &Url,
        request: impl Future<Output = Result<T, FetchError>>,
    ) -> Result<T, FetchError> {
        let timeout = self.settings.request_timeout;
        tokio::time::timeout(timeout, request)
            .await
            .map_err(|_| FetchError::Timeout {
                url: url.clone(),
                timeout,
            })?
    }

    /// Sends one GET, conditional on `validators`.
    async fn send(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<hyper::Response<Incoming>, FetchError> {
        let uri: Uri = url.as_str().parse().map_err(|e| FetchError::InvalidUrl {
            url: url.to_string(),
            problem: format!("{e}"),
        })?;
        let mut request = Request::get(uri)
            .header(header::USER_AGENT, self.user_agent.clone())
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Empty::new())
            .map_err(|e| FetchError::InvalidUrl {
                url: url.to_string(),
                problem: e.to_string(),
            })?;
        let conditions = [
            (header::IF_NONE_MATCH, &validators.etag),
            (header::IF_MODIFIED_SINCE, &validators.last_modified),
        ];
        for (name, value) in conditions {
            // A validator that is not a valid header value cannot have come from a header:
            // leave it out and get the page whole.
            if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                request.headers_mut().insert(name, value);
            }
        }
        self.client.request(request).await.map_err(|error| {
            let url = url.clone();
            if refused_as_private(&error) {
                FetchError::PrivateAddress { url }
            } else if error.is_connect() {
                FetchError::Connect {
                    url,
                    source: error.into(),
                }
            } else {
                FetchError::Transport {
                    url,
                    source: error.into(),
                }
            }
        })
    }

    /// Reads a body under `limit` bytes (as received and as decoded).
    async fn read_body(
        &self,
        url: &Url,
        response: hyper::Response<Incoming>,
        limit: usize,
    ) -> Result<Vec<u8>, (BodyError, Option<FetchError>)> {
        let encoding = header_string(response.headers(), header::CONTENT_ENCODING);
        let mut collected = BoundedBody::new(encoding.as_deref(), limit).map_err(|e| (e, None))?;
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| {
                let error = FetchError::Transport {
                    url: url.clone(),
                    source: error.into(),
                };
                (BodyError::Decode(String::new()), Some(error))
            })?;
            if let Some(data) = frame.data_ref() {
                // On error the body is dropped, which closes the connection: nothing more is read.
                collected.push(data).map_err(|e| (e, None))?;
            }
        }
        collected.finish().map_err(|e| (e, None))
    }

    /// One request, its body read if it is the page.
    async fn request(&self, url: &Url, validators: &Validators) -> Result<Hop, FetchError> {
        let response = self.send(url, validators).await?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Hop::Done(Fetched::NotModified));
        }
        if let Some(location) = redirect_location(&response) {
            return Ok(Hop::Redirect(location));
        }
        if !status.is_success() {
            return Err(FetchError::HttpStatus {
                url: url.clone(),
                status: status.as_u16(),
            });
        }

        let headers = response.headers();
        let content_type = header_string(headers, header::CONTENT_TYPE);
        let validators = Validators {
            etag: header_string(headers, header::ETAG),
            last_modified: header_string(headers, header::LAST_MODIFIED),
        };
        let limit = self.settings.max_response_bytes;
        let too_large = || FetchError::TooLarge {
            url: url.clone(),
            limit,
        };
        if content_length(headers).is_some_and(|length| length > limit) {
            return Err(too_large());
        }
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let body = match self.read_body(url, response, limit).await {
            Ok(body) => body,
            Err((_, Some(error))) => return Err(error),
            Err((BodyError::TooLarge(_), None)) => return Err(too_large()),
            Err((BodyError::Decode(problem), None)) => {
                return Err(FetchError::Decode {
                    url: url.clone(),
                    problem,
                });
            }
        };
        Ok(Hop::Done(Fetched::Page {
            final_url: url.clone(),
            status: status.as_u16(),
            content_type,
            validators,
            body,
        }))
    }

    /// The rules of `url`'s origin, fetched through the host limits, redirects followed.
    async fn fetch_robots(&self, url: &Url) -> Rules {
        let Some(mut robots_url) = robots::robots_url(url) else {
            return Rules::AllowAll;
        };
        for _ in 0..=ROBOTS_MAX_REDIRECTS {
            let Ok(host) = host_key(&robots_url) else {
                return Rules::AllowAll;
            };
            let body = {
                let _slot = self.hosts.acquire(&host, self.settings.host_interval).await;
                tracing::debug!(url = %robots_url, "fetching robots.txt");
                self.within_timeout(&robots_url, self.request_robots(&robots_url))
                    .await
            };
            let body = match body {
                Ok(Hop::Done(body)) => body,
                Ok(Hop::Redirect(location)) => match robots_url.join(&location).map(checked_url) {
                    Ok(Ok(next)) => {
                        robots_url = next;
                        continue;
                    }
                    _ => RobotsBody::Missing,
                },
                // The page itself will be refused for the same reason, and said so; robots.txt
                // has nothing to add.
                Err(FetchError::PrivateAddress { .. }) => return Rules::AllowAll,
                Err(error) => RobotsBody::Unavailable(error.to_string()),
            };
            if let RobotsBody::Unavailable(cause) = &body {
                tracing::info!(url = %robots_url, %cause, "robots.txt unavailable, not fetching from the site for now");
            }
            return Rules::new(&self.product_token, body);
        }
        // RFC 9309: after too many redirects the file may be taken as unavailable (4xx).
        Rules::AllowAll
    }

    async fn request_robots(&self, url: &Url) -> Result<Hop<RobotsBody>, FetchError> {
        let response = self.send(url, &Validators::default()).await?;
        let status = response.status();
        if let Some(location) = redirect_location(&response) {
            return Ok(Hop::Redirect(location));
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Ok(Hop::Done(RobotsBody::Unavailable(format!(
                "HTTP status {status}"
            ))));
        }
        if !status.is_success() {
            return Ok(Hop::Done(RobotsBody::Missing));
        }
        match self.read_body(url, response, ROBOTS_MAX_BYTES).await {
            Ok(body) | Err((BodyError::TooLarge(body), None)) => {
                Ok(Hop::Done(RobotsBody::Found(body)))
            }
            Err((_, Some(error))) => Err(error),
            // A robots.txt that cannot be decoded says nothing we can read.
            Err((BodyError::Decode(_), None)) => Ok(Hop::Done(RobotsBody::Missing)),
        }
    }
}

/// The target of a redirect response.
fn redirect_location(response: &hyper::Response<Incoming>) -> Option<String> {
    if !response.status().is_redirection() || response.status() == StatusCode::NOT_MODIFIED {
        return None;
    }
    let location = response.headers().get(header::LOCATION)?;
    Some(String::from_utf8_lossy(location.as_bytes()).into_owned())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The URL if it is an absolute http(s) URL with a host, without its fragment.
fn checked_url(mut url: Url) -> Result<Url, FetchError> {
    let problem = if !matches!(url.scheme(), "http" | "https") {
        "only http and https are fetched"
    } else if url.host_str().is_none_or(str::is_empty) {
        "no host"
    } else {
        url.set_fragment(None);
        // credentials in a feed URL are not sent anywhere
        let _ = url.set_username("");
        let _ = url.set_password(None);
        return Ok(url);
    };
    Err(FetchError::InvalidUrl {
        url: url.into(),
        problem: problem.into(),
    })
}

fn host_key(url: &Url) -> Result<HostKey, FetchError> {
    HostKey::of(url).ok_or_else(|| FetchError::InvalidUrl {
        url: url.to_string(),
        problem: "no host or port".into(),
    })
}

fn header_string(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_host_are_fetched() {
        let check = |s: &str| checked_url(Url::parse(s).unwrap());
        assert_eq!(
            check("https://example.com/a#top").unwrap().as_str(),
            "https://example.com/a"
        );
        assert_eq!(
            check("ftp://example.com/").unwrap_err().reason(),
            "invalid_url"
        );
        assert_eq!(
            check("file:///etc/passwd").unwrap_err().reason(),
            "invalid_url"
        );
    }

    #[test]
    fn settings_are_checked() {
        let bad = |settings| Fetcher::new(settings).err().map(|e| e.to_string());
        assert!(
            bad(FetchSettings {
                host_concurrency: 0,
                ..FetchSettings::default()
            })
            .is_some()
        );
        assert!(
            bad(FetchSettings {
                user_agent: "/1.0".into(),
                ..FetchSettings::default()
            })
            .is_some()
        );
        assert!(Fetcher::new(FetchSettings::default()).is_ok());
    }
}
