//! How the fetcher behaves, as flags and environment variables (`NEWSFLOW_FEEDS_*`).

use std::time::Duration;

/// The fetcher's settings. `Default` gives the same values as the flags' defaults.
#[derive(clap::Args, Clone, Debug, PartialEq, Eq)]
pub struct FetchSettings {
    /// User agent sent with every request; its name before the first `/` is the token
    /// robots.txt groups are matched against.
    #[arg(long, env = "NEWSFLOW_FEEDS_USER_AGENT", default_value = DEFAULT_USER_AGENT)]
    pub user_agent: String,
    /// How long connecting (TCP and TLS) to a host may take.
    #[arg(long, env = "NEWSFLOW_FEEDS_CONNECT_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,
    /// How long one request may take from sending it to the last byte of the body, so a
    /// host that trickles bytes cannot hold a request for ever.
    #[arg(long, env = "NEWSFLOW_FEEDS_REQUEST_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,
    /// Redirects followed at most from the URL asked for.
    #[arg(long, env = "NEWSFLOW_FEEDS_MAX_REDIRECTS", default_value_t = 5)]
    pub max_redirects: usize,
    /// Largest response body read, in bytes (after decompression); a larger one is an error.
    #[arg(long, env = "NEWSFLOW_FEEDS_MAX_RESPONSE_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_response_bytes: u64,
    /// Least time between the starts of two requests to one host (a robots.txt
    /// `Crawl-delay` can raise it for that host, up to a minute).
    #[arg(long, env = "NEWSFLOW_FEEDS_HOST_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub host_interval: Duration,
    /// Requests in flight to one host at most.
    #[arg(long, env = "NEWSFLOW_FEEDS_HOST_CONCURRENCY", default_value_t = 1)]
    pub host_concurrency: usize,
    /// How long a host's robots.txt is kept before it is fetched again.
    #[arg(long, env = "NEWSFLOW_FEEDS_ROBOTS_CACHE", default_value = "1h", value_parser = humantime::parse_duration)]
    pub robots_cache: Duration,
    /// Fetch from private addresses too (loopback, RFC 1918, link-local, unique local): only
    /// for feeds on a private network, or tests. Off, a feed cannot point the follower at the
    /// services beside it.
    #[arg(long, env = "NEWSFLOW_FEEDS_ALLOW_PRIVATE_ADDRESSES")]
    pub allow_private_addresses: bool,
}

/// The user agent sent unless configured otherwise.
pub const DEFAULT_USER_AGENT: &str = "newsflow-feeds/0.1 (+https://github.com/newsflow)";

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            max_redirects: 5,
            max_response_bytes: 8 * 1024 * 1024,
            host_interval: Duration::from_secs(1),
            host_concurrency: 1,
            robots_cache: Duration::from_secs(3600),
            allow_private_addresses: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        fetch: FetchSettings,
    }

    #[test]
    fn default_is_what_the_flags_default_to() {
        let parsed = Cli::try_parse_from(["feeds"]).unwrap().fetch;
        assert_eq!(parsed, FetchSettings::default());
    }

    #[test]
    fn durations_are_humantime() {
        let parsed =
            Cli::try_parse_from(["feeds", "--host-interval", "250ms", "--robots-cache", "2m"])
                .unwrap()
                .fetch;
        assert_eq!(parsed.host_interval, Duration::from_millis(250));
        assert_eq!(parsed.robots_cache, Duration::from_secs(120));
    }
}
