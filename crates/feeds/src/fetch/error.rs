//! Why a fetch failed, with a short stable reason for metrics and whether trying again later
//! may help.

use std::time::Duration;

use url::Url;

/// The error of the HTTP client or of the connection under it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An error and its causes, `: `-separated (hyper's own messages say little without them).
fn chain(error: &BoxError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an absolute http(s) URL with a host, or a redirect to one that is not.
    #[error("invalid URL {url}: {problem}")]
    InvalidUrl { url: String, problem: String },
    /// The URL's host is, or resolves only to, a private address (loopback, RFC 1918,
    /// link-local ...) and those are not allowed; nothing was requested.
    #[error("{url} is on a private address; not fetched (NEWSFLOW_FEEDS_ALLOW_PRIVATE_ADDRESSES)")]
    PrivateAddress { url: Url },
    /// The site's robots.txt disallows the URL for our user agent; it was not requested.
    #[error("robots.txt forbids {url}")]
    Forbidden { url: Url },
    /// The site's robots.txt could not be read (5xx, 429, no answer), so nothing is fetched
    /// from the site until it can be.
    #[error(
        "robots.txt for {url} could not be read ({cause}); not fetching from the site until it can"
    )]
    RobotsUnavailable { url: Url, cause: String },
    /// No complete response (headers and body) within the request timeout.
    #[error("{url}: no complete response within {}", humantime::format_duration(*.timeout))]
    Timeout { url: Url, timeout: Duration },
    /// The host could not be reached (DNS, refused, TLS handshake, connect timeout).
    #[error("cannot connect for {url}: {}", chain(.source))]
    Connect {
        url: Url,
        #[source]
        source: BoxError,
    },
    /// The response body is larger than the configured bound; reading stopped there.
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge { url: Url, limit: u64 },
    /// A redirect led back to a URL already visited.
    #[error("redirect loop at {url}")]
    RedirectLoop { url: Url },
    /// More redirects than configured.
    #[error("more than {limit} redirects, the last to {url}")]
    TooManyRedirects { url: Url, limit: usize },
    /// The server answered with a status other than 2xx, 304 or a followed redirect.
    #[error("{url}: HTTP status {status}")]
    HttpStatus { url: Url, status: u16 },
    /// The connection failed after it was made (reset, malformed response).
    #[error("{url}: {}", chain(.source))]
    Transport {
        url: Url,
        #[source]
        source: BoxError,
    },
    /// The body could not be decoded (a broken gzip stream, an encoding not asked for).
    #[error("{url}: cannot decode the body: {problem}")]
    Decode { url: Url, problem: String },
}

impl FetchError {
    /// A short name of the kind of failure, stable for metrics labels.
    pub fn reason(&self) -> &'static str {
        match self {
            FetchError::InvalidUrl { .. } => "invalid_url",
            FetchError::Forbidden { .. } => "forbidden_by_robots",
            FetchError::PrivateAddress { .. } => "private_address",
            FetchError::RobotsUnavailable { .. } => "robots_unavailable",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Connect { .. } => "connect",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::RedirectLoop { .. } => "redirect_loop",
            FetchError::TooManyRedirects { .. } => "too_many_redirects",
            FetchError::HttpStatus { .. } => "http_status",
            FetchError::Transport { .. } => "transport",
            FetchError::Decode { .. } => "decode",
        }
    }

    /// The HTTP status of an [`HttpStatus`](FetchError::HttpStatus) error.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            FetchError::HttpStatus { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the same fetch may succeed later (back off and retry): timeouts, connection
    /// failures, 5xx, 429, an unreadable robots.txt.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Timeout { .. }
            | FetchError::Connect { .. }
            | FetchError::Transport { .. }
            | FetchError::RobotsUnavailable { .. } => true,
            FetchError::HttpStatus { status, .. } => *status >= 500 || *status == 429,
            FetchError::InvalidUrl { .. }
            | FetchError::Forbidden { .. }
            | FetchError::PrivateAddress { .. }
            | FetchError::TooLarge { .. }
            | FetchError::RedirectLoop { .. }
            | FetchError::TooManyRedirects { .. }
            | FetchError::Decode { .. } => false,
        }
    }
}

/// The fetcher could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("invalid fetch settings: {0}")]
    Settings(String),
    #[error("cannot set up TLS: {0}")]
    Tls(#[source] rustls::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_that_may_pass_are_transient() {
        let url = Url::parse("http://h/").unwrap();
        let status = |status| FetchError::HttpStatus {
            url: url.clone(),
            status,
        };
        assert!(status(500).is_transient());
        assert!(status(503).is_transient());
        assert!(status(429).is_transient());
        assert!(!status(404).is_transient());
        assert!(!status(410).is_transient());
        assert_eq!(status(404).reason(), "http_status");
        assert_eq!(status(404).http_status(), Some(404));
        assert_eq!(status(404).to_string(), "http://h/: HTTP status 404");
    }
}
