//! `newsflow-storage replay`: stored articles published again, as `article.processed` events
//! for a new downstream consumer or as `article.ingested` to run the analysis again.

use anyhow::Context;
use futures::StreamExt;
use newsflow_bus::{Outgoing, Publisher, TraceContext, topology::ARTICLE_INGESTED};
use newsflow_proto::v1::{Analysis, AnalyzedArticle, ProcessedReason};
use newsflow_runtime::stage::article_id;
use tracing::warn;

use newsflow_store::{ReplayFilter, Store, StoreError};

use crate::{config::ReplayAs, stage::publish_processed};

/// Re-publishes the stored articles `filter` selects; returns how many. Stops at the first
/// publish the broker does not confirm (run it again: replays are idempotent downstream).
pub async fn replay(
    store: &Store,
    publisher: &Publisher,
    filter: ReplayFilter,
    target: ReplayAs,
) -> anyhow::Result<usize> {
    let mut stored = store.replay(filter);
    let mut count = 0;
    while let Some(item) = stored.next().await {
        let article = match item {
            Ok(article) => article,
            Err(error @ StoreError::Corrupt { .. }) => {
                warn!(%error, "skipping an article that no longer decodes");
                continue;
            }
            Err(error) => return Err(error).context("reading stored articles"),
        };
        let trace = TraceContext::new_root();
        match target {
            ReplayAs::Processed => {
                publish_processed(publisher, &article, ProcessedReason::Replay, trace).await?
            }
            ReplayAs::Ingested => {
                let id = article_id(&article.article);
                let fresh = AnalyzedArticle {
                    article: article.article.article.clone(),
                    analysis: Some(Analysis::default()),
                    stages: article
                        .article
                        .stages
                        .iter()
                        .filter(|record| record.stage == "ingest")
                        .cloned()
                        .collect(),
                };
                publisher
                    .publish(&Outgoing::protobuf(ARTICLE_INGESTED, &id, &fresh, trace))
                    .await?
            }
        }
        count += 1;
    }
    Ok(count)
}
