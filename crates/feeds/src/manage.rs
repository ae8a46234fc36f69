//! Managing the followed feeds: `newsflow.v1.FeedsService` over gRPC (what `newsflow feeds`
//! calls) and the same over HTTP with JSON:
//!
//! - `GET /v1/feeds`: `{"feeds": [Feed]}`, each feed in the protobuf JSON mapping of `Feed`
//!   (times in RFC 3339, 64-bit counters as strings);
//! - `POST /v1/feeds` with `{"url", "source"}`: the feed (201 when new, 200 when followed already);
//! - `DELETE /v1/feeds?url=URL`: 204, or 404 when it was not followed;
//! - `GET /healthz`, `GET /metrics`.

use std::collections::HashMap;

use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use newsflow_proto::json::to_json;
use newsflow_proto::v1::{
    AddFeedRequest, Feed, FeedCounters, ListFeedsRequest, ListFeedsResponse, RemoveFeedRequest,
    RemoveFeedResponse,
    feeds_service_server::{FeedsService, FeedsServiceServer},
};
use newsflow_runtime::{ApiKeyCheck, ApiKeys, PrometheusHandle};
use newsflow_store::{FeedRecord, Store, StoreError};
use serde_json::json;
use tonic::{Request, Response as GrpcResponse, Status, service::interceptor::InterceptedService};

/// Longest feed URL accepted, in bytes.
const MAX_URL_BYTES: usize = 4096;
/// Longest outlet name, in characters.
const MAX_SOURCE_CHARS: usize = 256;

/// The feeds' management over a [`Store`].
#[derive(Clone)]
pub struct Feeds {
    store: Store,
}

impl Feeds {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The gRPC service behind the API-key check.
    pub fn grpc(self, keys: ApiKeys) -> InterceptedService<FeedsServiceServer<Self>, ApiKeyCheck> {
        InterceptedService::new(FeedsServiceServer::new(self), ApiKeyCheck::new(keys))
    }

    /// Follows `url` (checked); the feed, and whether it is new.
    pub async fn add(&self, url: &str, source: &str) -> Result<(Feed, bool), Status> {
        let url = checked_url(url)?;
        let source = source.trim();
        if source.chars().count() > MAX_SOURCE_CHARS || source.chars().any(char::is_control) {
            return Err(Status::invalid_argument(format!(
                "source: at most {MAX_SOURCE_CHARS} characters, no control characters"
            )));
        }
        let before = self.store.feed(&url).await.map_err(status)?;
        let record = self.store.add_feed(&url, source).await.map_err(status)?;
        Ok((feed(record), before.is_none()))
    }

    async fn remove(&self, url: &str) -> Result<(), Status> {
        if self.store.remove_feed(url.trim()).await.map_err(status)? {
            Ok(())
        } else {
            Err(Status::not_found(format!("{url:?} is not followed")))
        }
    }

    async fn list(&self) -> Result<Vec<Feed>, Status> {
        Ok(self
            .store
            .list_feeds()
            .await
            .map_err(status)?
            .into_iter()
            .map(feed)
            .collect())
    }
}

#[tonic::async_trait]
impl FeedsService for Feeds {
    async fn add_feed(
        &self,
        request: Request<AddFeedRequest>,
    ) -> Result<GrpcResponse<Feed>, Status> {
        let request = request.into_inner();
        let (feed, _) = self.add(&request.url, &request.source).await?;
        Ok(GrpcResponse::new(feed))
    }

    async fn remove_feed(
        &self,
        request: Request<RemoveFeedRequest>,
    ) -> Result<GrpcResponse<RemoveFeedResponse>, Status> {
        self.remove(&request.into_inner().url).await?;
        Ok(GrpcResponse::new(RemoveFeedResponse {}))
    }

    async fn list_feeds(
        &self,
        _: Request<ListFeedsRequest>,
    ) -> Result<GrpcResponse<ListFeedsResponse>, Status> {
        Ok(GrpcResponse::new(ListFeedsResponse {
            feeds: self.list().await?,
        }))
    }
}

/// An absolute http(s) URL, or why not.
fn checked_url(url: &str) -> Result<String, Status> {
    let url = url.trim();
    if url.len() > MAX_URL_BYTES {
        return Err(Status::invalid_argument(format!(
            "url: {} bytes; the limit is {MAX_URL_BYTES}",
            url.len()
        )));
    }
    let parsed = url::Url::parse(url)
        .map_err(|e| Status::invalid_argument(format!("url: {url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Status::invalid_argument(format!(
            "url: {url:?} is not an absolute http(s) URL"
        )));
    }
    Ok(parsed.into())
}

/// The status for a store error: the database's details stay in the log.
fn status(error: StoreError) -> Status {
    tracing::warn!(%error, "feeds: database call failed");
    if error.is_transient() {
        Status::unavailable("the database is unavailable; retry later")
    } else {
        Status::internal("internal database error")
    }
}

/// A stored feed as the contract's `Feed`.
pub fn feed(record: FeedRecord) -> Feed {
    let time = |t: chrono::DateTime<chrono::Utc>| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    };
    Feed {
        url: record.url,
        source: record.source,
        title: record.title,
        added_at: Some(time(record.added_at)),
        last_polled_at: record.last_polled_at.map(time),
        last_success_at: record.last_success_at.map(time),
        next_poll_at: Some(time(record.next_poll_at)),
        consecutive_failures: u32::try_from(record.consecutive_failures).unwrap_or(0),
        last_error: record.last_error,
        counters: Some(FeedCounters {
            items_seen: record.items_seen.max(0) as u64,
            pages_fetched: record.pages_fetched.max(0) as u64,
            articles_submitted: record.articles_submitted.max(0) as u64,
            refused: record
                .refused
                .0
                .into_iter()
                .map(|(reason, n)| (reason, n.max(0) as u64))
                .collect(),
        }),
    }
}

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub feeds: Feeds,
    pub keys: ApiKeys,
    pub metrics: PrometheusHandle,
}

/// The HTTP routes.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/v1/feeds", get(list).post(add).delete(remove))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(|State(state): State<HttpState>| async move { state.metrics.render() }),
        )
        .with_state(state)
}

#[derive(serde::Deserialize)]
struct AddBody {
    url: String,
    #[serde(default)]
    source: String,
}

async fn list(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    if let Some(refused) = unauthorized(&state, &headers) {
        return refused;
    }
    match state.feeds.list().await {
        Ok(feeds) => {
            Json(json!({"feeds": feeds.iter().map(to_json).collect::<Vec<_>>()})).into_response()
        }
        Err(status) => error(&status),
    }
}

async fn add(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Result<Json<AddBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers) {
        return refused;
    }
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => {
            return error(&Status::invalid_argument(format!(
                "the body must be {{\"url\": ..., \"source\": ...}}: {rejection}"
            )));
        }
    };
    match state.feeds.add(&body.url, &body.source).await {
        Ok((feed, new)) => {
            let code = if new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (code, Json(to_json(&feed))).into_response()
        }
        Err(status) => error(&status),
    }
}

async fn remove(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers) {
        return refused;
    }
    let Some(url) = query.get("url") else {
        return error(&Status::invalid_argument("url: give the feed as ?url=..."));
    };
    match state.feeds.remove(url).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(status) => error(&status),
    }
}

fn unauthorized(state: &HttpState, headers: &HeaderMap) -> Option<Response> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    (!state.keys.allows(authorization)).then(|| {
        error(&Status::unauthenticated(
            "missing or unknown API key: send `Authorization: Bearer <key>`",
        ))
    })
}

/// `{"error": {"code", "message"}}` with the HTTP status of the gRPC code.
fn error(status: &Status) -> Response {
    let code = match status.code() {
        tonic::Code::InvalidArgument => StatusCode::BAD_REQUEST,
        tonic::Code::NotFound => StatusCode::NOT_FOUND,
        tonic::Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        tonic::Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (
        code,
        Json(
            json!({"error": {"code": format!("{:?}", status.code()), "message": status.message()}}),
        ),
    )
        .into_response()
}
