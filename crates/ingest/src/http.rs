//! Plain HTTP for clients without gRPC.
//!
//! - `POST /v1/articles`: one JSON article (`{"body": ...}`), a JSON array of them, or NDJSON
//!   (`Content-Type: application/x-ndjson`, one article a line). One article is answered with
//!   `202 {"id", "duplicate": false}` (200 for a duplicate) or its error; many with
//!   `200 {"accepted", "duplicates", "refused", "results": [...]}`, each item with its own id or
//!   error. When the broker is down the answer is 503 with `Retry-After`; resubmitting a whole
//!   batch is safe, since what was accepted comes back as duplicates.
//! - `GET /healthz`: 200 while the process serves.
//! - `GET /metrics`: Prometheus metrics.
//!
//! Errors are `{"error": {"code", "field", "message"}}`, `field` naming the article field at
//! fault.

use std::sync::Arc;

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use futures::{StreamExt, stream};
use newsflow_bus::{TraceContext, trace::TRACEPARENT_HEADER};
use newsflow_runtime::PrometheusHandle;
use serde_json::{Value, json};

use newsflow_article::{
    ArticleError,
    json::{Items, ItemsError, field_before, items, parse_str},
};

use newsflow_runtime::ApiKeys;

use crate::{
    error::{IngestError, RETRY_AFTER_SECONDS, code_name},
    stage::{Accepted, Ingestor},
};

/// Articles of one request validated and published at once.
const BULK_CONCURRENCY: usize = 64;

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct HttpState {
    /// The front door's logic.
    pub ingestor: Arc<Ingestor>,
    /// API keys (none: open).
    pub keys: ApiKeys,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Largest request body, in bytes.
    pub max_request_bytes: usize,
    /// Most articles in one request.
    pub max_items: usize,
    /// How long a client may take to send the body.
    pub body_timeout: std::time::Duration,
}

/// The HTTP routes.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/v1/articles", post(submit))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn metrics(State(state): State<HttpState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn submit(State(state): State<HttpState>, headers: HeaderMap, body: Body) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if !state.keys.allows(authorization) {
        let mut response = error_response(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "",
            "missing or unknown API key: send `Authorization: Bearer <key>`",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let bytes =
        match tokio::time::timeout(state.body_timeout, to_bytes(body, state.max_request_bytes))
            .await
        {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) => {
                return error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "INVALID_ARGUMENT",
                    "",
                    &format!(
                        "the request is larger than {} bytes; send fewer articles at once",
                        state.max_request_bytes
                    ),
                );
            }
            Err(_) => {
                return error_response(
                    StatusCode::REQUEST_TIMEOUT,
                    "DEADLINE_EXCEEDED",
                    "",
                    &format!(
                        "the request body took longer than {:?} to arrive",
                        state.body_timeout
                    ),
                );
            }
        };
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(error) => {
            let at = error.valid_up_to();
            let prefix = String::from_utf8_lossy(&bytes[..at]);
            return error_response(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                field_before(&prefix),
                &format!("is not valid UTF-8 (bad byte at offset {at} of the request)"),
            );
        }
    };

    let ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.contains("ndjson") || kind.contains("jsonl"));
    // A caller's W3C `traceparent`: each article's trace continues the caller's.
    let parent = headers
        .get(TRACEPARENT_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(TraceContext::parse);
    match items(text, ndjson, state.max_items) {
        Ok(Items::One(item)) => single(&state, item, parent).await,
        Ok(Items::Many(items)) => {
            // Owned, so the per-item futures do not borrow the body (at most its size again).
            let owned = items.into_iter().map(|item| item.map(str::to_owned));
            bulk(&state, owned.collect(), parent).await
        }
        Err(error @ ItemsError::TooMany { .. }) => error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "INVALID_ARGUMENT",
            "",
            &error.to_string(),
        ),
        Err(error @ ItemsError::NotJson(_)) => error_response(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "",
            &error.to_string(),
        ),
    }
}

async fn single(state: &HttpState, item: &str, parent: Option<TraceContext>) -> Response {
    let result = match parse_str(item) {
        Ok(request) => state.ingestor.submit(request, parent).await,
        Err(error) => Err(error.into()),
    };
    match result {
        Ok(accepted) => {
            let status = if accepted.duplicate {
                StatusCode::OK
            } else {
                StatusCode::ACCEPTED
            };
            (status, axum::Json(accepted_json(&accepted))).into_response()
        }
        Err(error) => {
            let status = StatusCode::from_u16(error.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = error_response(
                status,
                code_name(error.code()),
                error.field(),
                &error.to_string(),
            );
            if matches!(error, IngestError::Unavailable(_)) {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            response
        }
    }
}

async fn bulk(
    state: &HttpState,
    items: Vec<Result<String, String>>,
    parent: Option<TraceContext>,
) -> Response {
    let results: Vec<Result<Accepted, IngestError>> = stream::iter(items)
        .map(|item| async move {
            let request = item
                .map_err(|message| ArticleError::invalid("", message))
                .and_then(|item| parse_str(&item))?;
            state.ingestor.submit(request, parent).await
        })
        .buffered(BULK_CONCURRENCY)
        .collect()
        .await;

    let (mut accepted, mut duplicates, mut refused, mut unavailable) = (0, 0, 0, false);
    let listed: Vec<Value> = results
        .iter()
        .enumerate()
        .map(|(index, result)| match result {
            Ok(item) => {
                if item.duplicate {
                    duplicates += 1;
                } else {
                    accepted += 1;
                }
                let mut answer = accepted_json(item);
                answer["index"] = json!(index);
                answer
            }
            Err(error) => {
                refused += 1;
                unavailable |= matches!(error, IngestError::Unavailable(_));
                json!({"index": index, "error": error_json(code_name(error.code()), error.field(), &error.to_string())})
            }
        })
        .collect();
    let body = json!({
        "accepted": accepted,
        "duplicates": duplicates,
        "refused": refused,
        "results": listed,
    });
    if unavailable {
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        response
    } else {
        (StatusCode::OK, axum::Json(body)).into_response()
    }
}

fn accepted_json(accepted: &Accepted) -> Value {
    json!({"id": accepted.id, "duplicate": accepted.duplicate})
}

fn error_json(code: &str, field: &str, message: &str) -> Value {
    json!({"code": code, "field": field, "message": message})
}

fn error_response(status: StatusCode, code: &str, field: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error_json(code, field, message)})),
    )
        .into_response()
}
