//! The ingest stage, accepting one article: validate, check for a duplicate, publish
//! `article.ingested`, and answer only once the broker has confirmed.

use std::time::SystemTime;

use newsflow_bus::{Outgoing, Publisher, TraceContext, topology::ARTICLE_INGESTED};
use newsflow_proto::v1::{Analysis, AnalyzedArticle, SubmitRequest};
use newsflow_runtime::{CpuSlots, stage::record};
use tracing::{Instrument, field, info, info_span, warn};

use newsflow_article::{Policy, validate};

use crate::{dedup::Dedup, error::IngestError};

/// An accepted article.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The article id.
    pub id: String,
    /// True when it had been accepted before and was not sent again.
    pub duplicate: bool,
}

/// The front door's logic, shared by the gRPC and HTTP servers.
pub struct Ingestor {
    publisher: Publisher,
    policy: Policy,
    dedup: Dedup,
    /// Validation (HTML to text, normalization, language) runs here, one article per core,
    /// never on the async threads that answer health checks and other clients.
    cpu: CpuSlots,
}

impl Ingestor {
    /// An ingestor publishing through `publisher`.
    pub fn new(publisher: Publisher, policy: Policy, dedup: Dedup) -> Self {
        Self {
            publisher,
            policy,
            dedup,
            cpu: CpuSlots::per_core(),
        }
    }

    /// The limits and policies in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Accepts one article, or says why not. `Ok` means the broker has the article (or had it
    /// before); on any error nothing was published.
    ///
    /// The article's trace starts here, in a `submit` span, unless the client's request carried
    /// a `traceparent` (`parent`), which the trace then continues.
    pub async fn submit(
        &self,
        request: SubmitRequest,
        parent: Option<TraceContext>,
    ) -> Result<Accepted, IngestError> {
        let span = info_span!("submit", article_id = field::Empty, trace_id = field::Empty);
        let trace = TraceContext::start(&span, parent);
        span.record("trace_id", field::display(trace.trace_id()));
        let result = self
            .try_submit(request, trace)
            .instrument(span.clone())
            .await;
        if let Ok(accepted) = &result {
            span.record("article_id", accepted.id.as_str());
        }
        let outcome = match &result {
            Ok(Accepted {
                duplicate: true, ..
            }) => "duplicate",
            Ok(_) => "accepted",
            Err(IngestError::Unavailable(_)) => "unavailable",
            Err(IngestError::Internal(_)) => "failed",
            Err(_) => "refused",
        };
        metrics::counter!("newsflow_ingest_articles_total", "outcome" => outcome).increment(1);
        result
    }

    async fn try_submit(
        &self,
        request: SubmitRequest,
        trace: TraceContext,
    ) -> Result<Accepted, IngestError> {
        let policy = self.policy.clone();
        let mut article = self
            .cpu
            .run(move || validate(request, &policy))
            .await
            .map_err(|failed| IngestError::Internal(failed.to_string()))??;
        let id = article.id.clone();
        if self.dedup.seen(&id).await {
            return Ok(Accepted {
                id,
                duplicate: true,
            });
        }
        let now = prost_types::Timestamp::from(SystemTime::now());
        article.ingested_at = Some(now);
        let document = AnalyzedArticle {
            article: Some(article),
            analysis: Some(Analysis::default()),
            stages: vec![record("ingest", env!("CARGO_PKG_VERSION"))],
        };
        let message = Outgoing::protobuf(ARTICLE_INGESTED, &id, &document, trace);
        self.publisher.publish(&message).await.map_err(|error| {
            warn!(%error, article_id = %id, "publish failed; refusing the article");
            IngestError::Unavailable(error.to_string())
        })?;
        self.dedup.remember(&id);
        info!(article_id = %id, trace_id = %trace.trace_id(), "article accepted");
        Ok(Accepted {
            id,
            duplicate: false,
        })
    }
}
