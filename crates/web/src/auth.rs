//! API keys, as on ingest: when `NEWSFLOW_API_KEYS` is set, every request must carry one, as
//! `Authorization: Bearer <key>` (scripts, `curl`) or as the cookie the login form sets (a
//! browser cannot add a header to a link; the page's live stream sends the cookie too).
//! `/healthz`, `/metrics`, `/login` and `/static/` stay open.

use axum::{
    Form,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::Deserialize;

use crate::{
    AppState,
    api::{ApiError, params::Params},
    page::html,
};

/// The cookie holding the key a browser logged in with.
pub const COOKIE: &str = "newsflow_key";

/// Lets a request through when keys are off, when its path is open, or when it carries a key;
/// otherwise answers 401 (the API) or sends the browser to the login form (the page).
pub async fn require_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !state.keys.enabled() || is_open(path) || carries_key(&state, request.headers()) {
        return next.run(request).await;
    }
    if path.starts_with("/api/") || path == "/openapi.json" {
        return ApiError::unauthenticated().into_response();
    }
    let back = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    Redirect::to(&format!("/login?next={}", encode(&back))).into_response()
}

fn is_open(path: &str) -> bool {
    matches!(path, "/healthz" | "/metrics" | "/login") || path.starts_with("/static/")
}

fn carries_key(state: &AppState, headers: &HeaderMap) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if bearer.is_some() {
        return state.keys.allows(bearer);
    }
    cookie(headers, COOKIE).is_some_and(|key| state.keys.is_key(&key))
}

/// The value of cookie `name`, percent-decoded.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| percent_decode_str(value).decode_utf8().ok())
        .map(|value| value.into_owned())
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

/// Where the login form goes back to: a path of this site only.
fn local(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") => path.to_owned(),
        _ => "/".to_owned(),
    }
}

/// The login form's query and fields.
#[derive(Debug, Default, Deserialize)]
pub struct Login {
    /// The page to go back to.
    pub next: Option<String>,
    /// The API key.
    pub key: Option<String>,
}

/// `GET /login`: the form.
pub async fn form(State(state): State<AppState>, Params(login): Params<Login>) -> Response {
    login_page(&state, login.next.as_deref(), None, StatusCode::OK)
}

/// `POST /login`: checks the key and keeps it in a cookie.
pub async fn submit(State(state): State<AppState>, Form(login): Form<Login>) -> Response {
    let next = local(login.next.as_deref());
    let key = login.key.unwrap_or_default();
    if !state.keys.enabled() {
        return Redirect::to(&next).into_response();
    }
    if !state.keys.is_key(key.trim()) {
        return login_page(
            &state,
            Some(&next),
            Some("That key is not one of this service's API keys."),
            StatusCode::UNAUTHORIZED,
        );
    }
    let cookie = format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        encode(key.trim())
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn login_page(
    state: &AppState,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let next = local(next);
    let error = error
        .map(|message| {
            format!(
                r#"<p class="error" role="alert">{}</p>"#,
                html::escape(message)
            )
        })
        .unwrap_or_default();
    let note = if state.keys.enabled() {
        "This newsflow asks for an API key (one of <code>NEWSFLOW_API_KEYS</code>). The browser keeps it in a cookie for this site."
    } else {
        "This newsflow has no API keys: no key is needed."
    };
    let body = format!(
        r#"<h1>Log in</h1>
<p>{note}</p>
{error}
<form method="post" action="/login" class="login">
  <input type="hidden" name="next" value="{next}">
  <label for="key">API key</label>
  <input id="key" name="key" type="password" autocomplete="current-password" required>
  <button type="submit">Log in</button>
</form>"#,
        next = html::escape(&next),
    );
    (status, html::layout("Log in", "", &body)).into_response()
}
