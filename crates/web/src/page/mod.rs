//! The web page: server-rendered HTML from the same queries as the API, with the static files
//! embedded (the styles, a small script for the live feed and the chart, and Chart.js 4.6.1
//! from its npm package; see `assets/README.md`). Nothing to build, no framework to install;
//! without JavaScript everything but the live updates and the chart still works (the chart's
//! numbers are in a table beside it).
//!
//! Views: the live feed (`/`), an article with its analysis marked in the text
//! (`/articles/{id}`), an entity's timeline and who said what about it (`/entities/{key}`),
//! who stands for or against whom (`/stances`), and search (`/search`).

pub mod html;
mod marks;
mod views;

use axum::{
    Router,
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{AppState, api::ApiError, auth};

/// The page's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(views::feed))
        .route("/articles/{id}", get(views::article))
        .route("/entities/{key}", get(views::entity))
        .route("/stories", get(views::stories))
        .route("/stances", get(views::stances))
        .route("/search", get(views::search))
        .route("/login", get(auth::form).post(auth::submit))
        .route("/static/{name}", get(asset))
}

/// The embedded static files: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/app.js"),
    ),
    // Chart.js 4.6.1 (MIT), unchanged from the npm package: assets/README.md.
    (
        "chart.umd.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/chart.umd.min.js"),
    ),
    (
        "chart.js-LICENSE.md",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/chart.js-LICENSE.md"),
    ),
];

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(file, ..)| *file == name) {
        Some((_, content_type, bytes)) => {
            let mut response = (*bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            response
        }
        None => failure(ApiError::not_found(format!("no static file {name:?}"))),
    }
}

/// A failed view as a page that says what happened and what to do.
pub fn failure(error: ApiError) -> Response {
    let (title, advice) = match error.status {
        StatusCode::SERVICE_UNAVAILABLE => (
            "The database cannot be reached",
            "newsflow-web is running, but PostgreSQL does not answer (or is busy). The page \
             works again as soon as it does: reload in a few seconds. An operator can check \
             the database and storage with <code>docker compose ps</code>.",
        ),
        StatusCode::NOT_FOUND => ("Not found", "Nothing is stored under this address."),
        StatusCode::BAD_REQUEST => (
            "That request is not valid",
            "Change the value named below and try again.",
        ),
        _ => (
            "Something went wrong",
            "The error is in the service's log. Reload to try again.",
        ),
    };
    let parameter = error
        .parameter
        .as_deref()
        .map(|p| format!(" (<code>{}</code>)", html::escape(p)))
        .unwrap_or_default();
    let body = format!(
        r#"<section class="problem" role="alert" data-status="{status}">
<h1>{title}</h1>
<p>{advice}</p>
<p class="detail">{message}{parameter}</p>
<p><a href="/">Back to the live feed</a></p>
</section>"#,
        status = error.status.as_u16(),
        message = html::escape(&error.message),
    );
    (error.status, html::layout(title, "", &body)).into_response()
}
