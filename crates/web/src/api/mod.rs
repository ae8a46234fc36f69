//! The REST query API under `/api/v1`, beside storage's gRPC `StorageService` with the same
//! semantics: JSON answers, cursor paging, limits stated in the OpenAPI document, every
//! refusal a JSON error naming the parameter at fault.
//!
//! Every route is registered through [`utoipa_axum`]'s `routes!`, which takes the path, the
//! method and the parameters from the handler's `#[utoipa::path]`, so the document served at
//! `/openapi.json` and the routes served are built from one list ([`router`]).

pub mod articles;
pub mod entities;
pub mod export;
pub mod model;
pub mod params;
pub mod stances;
pub mod statements;
pub mod stories;
pub mod stream;

use axum::{
    Json,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use newsflow_store::StoreError;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use model::{ErrorBody, ErrorDetail};

/// Seconds a client is asked to wait when the database is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// The document's fixed parts; paths and schemas come from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "newsflow query API",
        description = "Stored articles and their analysis (entities, statements, stances), \
            exports and a live stream, served by newsflow-web. Spans are Unicode code points \
            into the article's normalized body. Lists page by cursor: pass `next_cursor` back \
            as `cursor`. Errors are `{\"error\": {\"code\", \"parameter\", \"message\"}}`. When \
            the service has API keys, send `Authorization: Bearer <key>`."
    ),
    tags(
        (name = "articles", description = "Articles by any filter, one article with its analysis"),
        (name = "entities", description = "Entities across articles and how they are treated over time"),
        (name = "statements", description = "Who said what, by speaker or about an entity"),
        (name = "stances", description = "Who is for or against whom"),
        (name = "stories", description = "Articles about one event, grouped as they are stored"),
        (name = "export", description = "CSV and NDJSON exports, streamed"),
        (name = "stream", description = "Processed articles as they are stored (Server-Sent Events)"),
    ),
    modifiers(&BearerKeys),
    security((), ("api_key" = []))
)]
pub struct ApiDoc;

/// Declares the Bearer scheme the API keys use.
struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The API's routes and the OpenAPI document describing exactly them.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(articles::list))
        .routes(routes!(articles::get))
        .routes(routes!(entities::search))
        .routes(routes!(entities::get))
        .routes(routes!(entities::timeline))
        .routes(routes!(statements::list))
        .routes(routes!(stances::edges))
        .routes(routes!(stories::list))
        .routes(routes!(stories::get))
        .routes(routes!(export::export))
        .routes(routes!(stream::stream))
        .split_for_parts()
}

/// `GET /openapi.json`.
pub async fn openapi_json(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.as_str().to_owned(),
    )
        .into_response()
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// A refusal or failure, as the API answers it.
#[derive(Clone, Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// `INVALID_ARGUMENT`, `UNAUTHENTICATED`, `NOT_FOUND`, `UNAVAILABLE`, `INTERNAL`.
    pub code: &'static str,
    /// The query parameter at fault.
    pub parameter: Option<String>,
    /// What went wrong.
    pub message: String,
}

impl ApiError {
    /// 400 for `parameter`.
    pub fn invalid(parameter: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "INVALID_ARGUMENT",
            parameter: (!parameter.is_empty()).then(|| parameter.to_owned()),
            message: message.into(),
        }
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "NOT_FOUND",
            parameter: None,
            message: message.into(),
        }
    }

    /// 401.
    pub fn unauthenticated() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "UNAUTHENTICATED",
            parameter: None,
            message: "missing or unknown API key: send `Authorization: Bearer <key>`".into(),
        }
    }

    /// Whether the database is out of reach (for the page's "unavailable" state).
    pub fn is_unavailable(&self) -> bool {
        self.status == StatusCode::SERVICE_UNAVAILABLE
    }

    fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                parameter: self.parameter.clone(),
                message: self.message.clone(),
            },
        }
    }
}

impl From<StoreError> for ApiError {
    /// Database details stay in the log; the client learns what kind of failure it was and
    /// whether retrying makes sense.
    fn from(e: StoreError) -> Self {
        let error = |status, code, message: &str| Self {
            status,
            code,
            parameter: None,
            message: message.to_owned(),
        };
        match &e {
            StoreError::InvalidArgument(message) | StoreError::InvalidArticle(message) => {
                // The store's only argument a route passes unparsed is the cursor.
                let parameter = if message.starts_with("bad page_token") {
                    "cursor"
                } else {
                    ""
                };
                Self::invalid(parameter, message.replace("page_token", "cursor"))
            }
            StoreError::NotFound(message) => Self::not_found(message.clone()),
            StoreError::TimedOut(_) => {
                tracing::warn!(error = %e, "database statement timed out");
                error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "TIMEOUT",
                    "the query ran past the database's statement timeout; narrow it or retry later",
                )
            }
            // A database down or busy (or a migration that failed for that reason).
            _ if e.is_transient() => {
                tracing::warn!(error = %e, "database unavailable");
                error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "UNAVAILABLE",
                    "the database is unavailable; retry later",
                )
            }
            StoreError::Corrupt { id, .. } => {
                tracing::error!(error = %e, "stored document does not decode");
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL",
                    &format!("the stored document of article {id:?} is corrupt"),
                )
            }
            StoreError::Database(_)
            | StoreError::Migrate(_)
            | StoreError::Unavailable(_)
            | StoreError::Busy(_) => {
                tracing::error!(error = %e, "database error");
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL",
                    "internal database error",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        match self.status {
            StatusCode::SERVICE_UNAVAILABLE => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            StatusCode::UNAUTHORIZED => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

/// `next_cursor` of a page: `None` on the last one.
pub fn next_cursor(token: String) -> Option<String> {
    (!token.is_empty()).then_some(token)
}

/// The article filters every article route and the export take, declared once: the struct of
/// query parameters (with the route's own ones appended) and its conversion to the store's
/// filter.
macro_rules! article_query {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// Only articles published (or, without a published time, ingested) at or after
            /// this time: RFC 3339 (`2025-09-04T10:00:00Z`) or a day (`2025-09-04`, UTC).
            pub from: Option<String>,
            /// Only articles published (or ingested) before this time; after `from`.
            pub to: Option<String>,
            /// Only articles from this source ("Reuters").
            pub source: Option<String>,
            /// Only articles mentioning this entity, by key ("PERSON:vladimir putin").
            pub entity: Option<String>,
            /// Only articles mentioning an entity of this type: person, org, gpe, loc, norp,
            /// event, date, misc.
            #[serde(rename = "type")]
            #[param(rename = "type")]
            pub entity_type: Option<String>,
            /// Only articles naming this place: its GeoNames id (`geo.geonames_id` of an
            /// entity; 2988507 is Paris, France), by whatever name.
            pub place: Option<String>,
            /// Only articles of this story (`id` of a story).
            pub story: Option<String>,
            /// Only articles with a stance held by this entity (key).
            pub holder: Option<String>,
            /// Only articles with a stance toward this entity (key) or topic; with `holder`
            /// and `polarity`, the same stance must match all three.
            pub target: Option<String>,
            /// Only articles with a stance of this polarity: negative (against), neutral,
            /// positive (for).
            pub polarity: Option<String>,
            /// Full-text search over title and body (English stemming; `"a phrase"`, `-not`,
            /// `or`), at most 500 characters.
            pub q: Option<String>,
            $($(#[$field_meta])* pub $field: $ty,)*
        }

        impl $name {
            /// The store's filter, every parameter checked.
            pub fn filter(&self) -> Result<newsflow_store::ArticleFilter, $crate::api::ApiError> {
                use $crate::api::params;
                let (from, to) = params::period(self.from.as_deref(), self.to.as_deref())?;
                Ok(newsflow_store::ArticleFilter {
                    from,
                    to,
                    source: params::text("source", self.source.as_deref())?,
                    entity_key: params::text("entity", self.entity.as_deref())?,
                    entity_type: params::entity_type("type", self.entity_type.as_deref())?,
                    place: params::geonames_id("place", self.place.as_deref())?,
                    story: params::story_id("story", self.story.as_deref())?,
                    stance: newsflow_store::StanceMatch {
                        holder: params::text("holder", self.holder.as_deref())?,
                        target: params::text("target", self.target.as_deref())?,
                        polarity: params::polarity("polarity", self.polarity.as_deref())?,
                    },
                    text: params::text("q", self.q.as_deref())?,
                })
            }
        }
    };
}
pub(crate) use article_query;

/// The answers every route may give besides its own, for `#[utoipa::path]`.
#[derive(utoipa::IntoResponses)]
pub enum CommonErrors {
    /// A parameter is invalid; `parameter` names it.
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// API keys are configured and the request carries none of them.
    #[response(status = 401)]
    Unauthenticated(#[to_schema] ErrorBody),
    /// The database is unavailable; retry after `Retry-After` seconds.
    #[response(status = 503)]
    Unavailable(#[to_schema] ErrorBody),
}
