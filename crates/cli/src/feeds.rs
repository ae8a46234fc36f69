//! `newsflow feeds add|list|remove|status`: the feeds the feeds service follows, over its gRPC
//! API.

use clap::{Args, Subcommand};
use newsflow_proto::v1::{
    AddFeedRequest, Feed, ListFeedsRequest, RemoveFeedRequest,
    feeds_service_client::FeedsServiceClient,
};
use tonic::{Request, metadata::MetadataValue, transport::Endpoint};

/// Arguments of `newsflow feeds`.
#[derive(Args)]
pub struct FeedsArgs {
    #[command(subcommand)]
    action: Action,
    /// The feeds service's gRPC address.
    #[arg(
        long,
        global = true,
        env = "NEWSFLOW_FEEDS_ADDR",
        default_value = "http://127.0.0.1:50055"
    )]
    addr: String,
    /// API key, when the service requires one.
    #[arg(long, global = true, env = "NEWSFLOW_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Print JSON (one feed a line) instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Action {
    /// Follow a feed (RSS 2.0, Atom or JSON Feed).
    Add {
        /// The feed's URL.
        url: String,
        /// The outlet's name, stored as each article's source (default: the feed's title).
        #[arg(long, default_value = "")]
        source: String,
    },
    /// The followed feeds.
    List,
    /// Stop following a feed.
    Remove {
        /// The feed's URL.
        url: String,
    },
    /// Each feed's counters (items seen, pages fetched, articles submitted, refused by reason),
    /// last success and last error.
    Status,
}

pub fn run(args: &FeedsArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let channel = Endpoint::from_shared(args.addr.clone())?
            .connect()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach the feeds service at {}: {e}", args.addr))?;
        let mut client = FeedsServiceClient::new(channel);
        let key = args.api_key.as_deref();
        match &args.action {
            Action::Add { url, source } => {
                let feed = client
                    .add_feed(request(
                        key,
                        AddFeedRequest {
                            url: url.clone(),
                            source: source.clone(),
                        },
                    )?)
                    .await
                    .map_err(failed)?
                    .into_inner();
                if args.json {
                    println!("{}", newsflow_proto::json::to_json(&feed));
                } else {
                    println!("following {}", feed.url);
                }
            }
            Action::Remove { url } => {
                client
                    .remove_feed(request(key, RemoveFeedRequest { url: url.clone() })?)
                    .await
                    .map_err(failed)?;
                println!("no longer following {url}");
            }
            Action::List | Action::Status => {
                let feeds = client
                    .list_feeds(request(key, ListFeedsRequest {})?)
                    .await
                    .map_err(failed)?
                    .into_inner()
                    .feeds;
                if args.json {
                    for feed in &feeds {
                        println!("{}", newsflow_proto::json::to_json(feed));
                    }
                } else if matches!(args.action, Action::List) {
                    for feed in &feeds {
                        let name = [&feed.source, &feed.title]
                            .into_iter()
                            .find(|name| !name.is_empty())
                            .map_or(String::new(), |name| format!("  ({name})"));
                        println!("{}{name}", feed.url);
                    }
                } else {
                    print_status(&feeds);
                }
            }
        }
        anyhow::Ok(())
    })
}

/// A request carrying the API key, when one is given.
fn request<T>(key: Option<&str>, message: T) -> anyhow::Result<Request<T>> {
    let mut request = Request::new(message);
    if let Some(key) = key {
        let value = MetadataValue::try_from(format!("Bearer {key}"))?;
        request.metadata_mut().insert("authorization", value);
    }
    Ok(request)
}

fn failed(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", status.code(), status.message())
}

/// One block per feed: counters, refusals by reason, last success, last error.
fn print_status(feeds: &[Feed]) {
    if feeds.is_empty() {
        println!("no feeds followed");
    }
    let time = |t: &Option<prost_types::Timestamp>| {
        t.as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
            .map_or("never".to_owned(), |t| t.to_rfc3339())
    };
    for feed in feeds {
        let counters = feed.counters.clone().unwrap_or_default();
        let refused: Vec<String> = counters
            .refused
            .iter()
            .map(|(reason, n)| format!("{reason} {n}"))
            .collect();
        println!("{}", feed.url);
        println!(
            "  items seen {}, pages fetched {}, articles submitted {}, refused {}",
            counters.items_seen,
            counters.pages_fetched,
            counters.articles_submitted,
            if refused.is_empty() {
                "0".to_owned()
            } else {
                refused.join(", ")
            }
        );
        println!(
            "  last success {}, next poll {}",
            time(&feed.last_success_at),
            time(&feed.next_poll_at)
        );
        if feed.consecutive_failures > 0 {
            println!(
                "  failing: {} in a row, last: {}",
                feed.consecutive_failures, feed.last_error
            );
        }
    }
}
