//! `newsflow get ID`, `newsflow entity NAME`, `newsflow stories` and `newsflow story ID`: what
//! storage holds, over its gRPC API.

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use newsflow_proto::v1::{
    EntityMatch, EntityTimelineRequest, GetArticleRequest, GetStoryRequest, ListArticlesRequest,
    ListStoriesRequest, MergeEntitiesRequest, SearchEntitiesRequest, SplitEntityRequest, Story,
    storage_service_client::StorageServiceClient,
};
use tonic::transport::Channel;

/// Where storage is.
#[derive(Args, Clone, Debug)]
pub struct StorageTarget {
    /// Storage's gRPC address.
    #[arg(
        long,
        env = "NEWSFLOW_STORAGE_ADDR",
        default_value = "http://127.0.0.1:50054"
    )]
    storage: String,
}

impl StorageTarget {
    async fn connect(&self) -> anyhow::Result<StorageServiceClient<Channel>> {
        let channel = tonic::transport::Endpoint::from_shared(self.storage.clone())
            .with_context(|| format!("{:?} is not a gRPC address", self.storage))?
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .with_context(|| format!("connecting to storage at {}", self.storage))?;
        Ok(StorageServiceClient::new(channel).max_decoding_message_size(64 << 20))
    }
}

/// Storage's refusal as an error: its code and message.
fn refused(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", status.code(), status.message())
}

/// Arguments of `newsflow get`.
#[derive(Args)]
pub struct GetArgs {
    /// The article id (as ingest answered it).
    id: String,
    #[command(flatten)]
    target: StorageTarget,
    /// Print the `AnalyzedArticle` in protobuf's canonical JSON mapping.
    #[arg(long)]
    json: bool,
}

/// Arguments of `newsflow entity`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EntityArgs {
    #[command(subcommand)]
    operation: Option<EntityOperation>,
    /// A name, or its start ("Putin", "Vladimir P"); close misspellings are found too.
    #[arg(required = true)]
    name: Option<String>,
    #[command(flatten)]
    target: StorageTarget,
    /// Print the timeline in protobuf's canonical JSON mapping.
    #[arg(long)]
    json: bool,
    /// Count near-copies of stored articles too (a wire story run by several outlets); by
    /// default each story counts once.
    #[arg(long)]
    copies: bool,
}

/// An operator's correction of identities, which later saves of the same articles keep.
#[derive(clap::Subcommand)]
enum EntityOperation {
    /// Take identity FROM for identity INTO from now on: its articles, names and stances move
    /// to INTO. Each is a key (as `newsflow entity NAME` prints it) or a name.
    Merge {
        into: String,
        from: String,
        #[command(flatten)]
        target: StorageTarget,
    },
    /// The articles that call identity KEY by NAME are another identity, kept apart from it
    /// from now on (namesakes taken for one person). KEY is a key or a name.
    Split {
        key: String,
        name: String,
        #[command(flatten)]
        target: StorageTarget,
    },
}

/// Arguments of `newsflow stories`.
#[derive(Args)]
pub struct StoriesArgs {
    /// Only stories with an article naming this entity (a name, its start, or a key).
    #[arg(long)]
    entity: Option<String>,
    /// Most stories to print, latest first (1 to 500).
    #[arg(long, default_value_t = 20)]
    limit: u32,
    #[command(flatten)]
    target: StorageTarget,
    /// Print the `ListStoriesResponse` in protobuf's canonical JSON mapping.
    #[arg(long)]
    json: bool,
}

/// Arguments of `newsflow story`.
#[derive(Args)]
pub struct StoryArgs {
    /// The story's id (as `newsflow stories` prints it).
    id: u64,
    /// Most articles to list, newest first (1 to 500).
    #[arg(long, default_value_t = 50)]
    limit: u32,
    #[command(flatten)]
    target: StorageTarget,
    /// Print the `Story` and a `ListArticlesResponse` of its articles as JSON lines.
    #[arg(long)]
    json: bool,
}

/// Prints a contract message in protobuf's canonical JSON mapping, indented.
fn print_json<M: prost::Message + prost::Name>(message: &M) -> anyhow::Result<()> {
    let json = newsflow_proto::json::to_json(message);
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

pub fn get(args: &GetArgs) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let mut client = args.target.connect().await?;
        let document = client
            .get_article(GetArticleRequest {
                id: args.id.clone(),
            })
            .await
            .map_err(refused)?
            .into_inner();
        if args.json {
            print_json(&document)?;
        } else {
            crate::render::print(&document);
        }
        Ok(())
    })
}

/// The identities best matching `name`, best first; an error when none does.
async fn search(
    client: &mut StorageServiceClient<Channel>,
    name: &str,
) -> anyhow::Result<Vec<EntityMatch>> {
    let matches = client
        .search_entities(SearchEntitiesRequest {
            query: name.to_owned(),
            fuzzy: true,
            limit: 5,
            ..Default::default()
        })
        .await
        .map_err(refused)?
        .into_inner()
        .entities;
    if matches.is_empty() {
        bail!("no stored entity matches {name:?}");
    }
    Ok(matches)
}

/// A key as given ("PERSON:vladimir putin"), or the key of the identity best matching a name.
async fn key_of(client: &mut StorageServiceClient<Channel>, given: &str) -> anyhow::Result<String> {
    if given.contains(':') {
        return Ok(given.to_owned());
    }
    Ok(search(client, given).await?.remove(0).key)
}

fn operate(operation: &EntityOperation) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let change = match operation {
            EntityOperation::Merge { into, from, target } => {
                let mut client = target.connect().await?;
                let request = MergeEntitiesRequest {
                    into_key: key_of(&mut client, into).await?,
                    from_key: key_of(&mut client, from).await?,
                };
                client.merge_entities(request).await
            }
            EntityOperation::Split { key, name, target } => {
                let mut client = target.connect().await?;
                let request = SplitEntityRequest {
                    key: key_of(&mut client, key).await?,
                    name: name.clone(),
                };
                client.split_entity(request).await
            }
        };
        let change = change.map_err(refused)?.into_inner();
        println!(
            "{} ({}): {} article entities moved",
            change.canonical_name, change.key, change.moved
        );
        Ok(())
    })
}

pub fn entity(args: &EntityArgs) -> anyhow::Result<()> {
    if let Some(operation) = &args.operation {
        return operate(operation);
    }
    let name = args.name.clone().unwrap_or_default();
    tokio::runtime::Runtime::new()?.block_on(async {
        let mut client = args.target.connect().await?;
        let matches = search(&mut client, &name).await?;
        let best = &matches[0];
        let timeline = client
            .entity_timeline(EntityTimelineRequest {
                entity_key: best.key.clone(),
                include_copies: args.copies,
                ..Default::default()
            })
            .await
            .map_err(refused)?
            .into_inner();
        if args.json {
            return print_json(&timeline);
        }
        println!(
            "{} ({}), in {} articles",
            timeline.canonical_name, timeline.entity_key, best.article_count
        );
        println!("also called: {}", timeline.aliases.join(", "));
        if !timeline.ambiguity.is_empty() {
            println!("kept apart: {}", timeline.ambiguity);
        }
        if matches.len() > 1 {
            let others: Vec<String> = matches[1..]
                .iter()
                .map(|m| format!("{} ({})", m.canonical_name, m.key))
                .collect();
            println!("also matching: {}", others.join(", "));
        }
        println!(
            "\n{:<10} {:>8} {:>8} {:>7} {:>4} {:>4} {:>4}  who takes stances toward it",
            "day", "articles", "mentions", "mean", "neg", "neu", "pos"
        );
        for day in &timeline.days {
            let speakers: Vec<String> = day
                .speakers
                .iter()
                .take(3)
                .map(|s| format!("{} {:+.2} ({})", s.speaker_name, s.mean_polarity, s.stances))
                .collect();
            println!(
                "{:<10} {:>8} {:>8} {:>+7.2} {:>4} {:>4} {:>4}  {}",
                day.date,
                day.articles,
                day.mentions,
                day.mean_polarity,
                day.negative,
                day.neutral,
                day.positive,
                speakers.join("; ")
            );
        }
        Ok(())
    })
}

/// One line per story: id, span, articles (and copies), label.
fn print_story_line(story: &Story) {
    let day = |ts: &Option<prost_types::Timestamp>| {
        ts.as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
            .map_or_else(|| "?".to_owned(), |t| t.format("%Y-%m-%d").to_string())
    };
    let entities: Vec<&str> = story.entities.iter().map(|e| e.name.as_str()).collect();
    println!(
        "{:>6}  {} .. {}  {:>3} articles {:>3} copies  {} | {}",
        story.id,
        day(&story.first_at),
        day(&story.last_at),
        story.article_count,
        story.copy_count,
        entities.join(", "),
        story.title
    );
}

pub fn stories(args: &StoriesArgs) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let mut client = args.target.connect().await?;
        let entity_key = match &args.entity {
            Some(name) => key_of(&mut client, name).await?,
            None => String::new(),
        };
        let page = client
            .list_stories(ListStoriesRequest {
                entity_key,
                page_size: args.limit.clamp(1, 500),
                ..Default::default()
            })
            .await
            .map_err(refused)?
            .into_inner();
        if args.json {
            return print_json(&page);
        }
        if page.stories.is_empty() {
            println!("no stories");
        }
        for story in &page.stories {
            print_story_line(story);
        }
        Ok(())
    })
}

pub fn story(args: &StoryArgs) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let mut client = args.target.connect().await?;
        let story = client
            .get_story(GetStoryRequest { id: args.id })
            .await
            .map_err(refused)?
            .into_inner();
        let articles = client
            .list_articles(ListArticlesRequest {
                story_id: args.id,
                page_size: args.limit.clamp(1, 500),
                ..Default::default()
            })
            .await
            .map_err(refused)?
            .into_inner();
        if args.json {
            println!("{}", newsflow_proto::json::to_json(&story));
            println!("{}", newsflow_proto::json::to_json(&articles));
            return Ok(());
        }
        print_story_line(&story);
        for summary in &articles.articles {
            let Some(article) = &summary.article else {
                continue;
            };
            println!(
                "  {}  {:<20}  {}",
                article.id, article.source, article.title
            );
        }
        Ok(())
    })
}
