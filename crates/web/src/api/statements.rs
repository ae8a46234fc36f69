//! `GET /api/v1/statements`: who said what, by speaker or about an entity.

use axum::{Json, extract::State};
use newsflow_store::StatementFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    ApiError, CommonErrors,
    articles::{DEFAULT_LIMIT, MAX_LIMIT},
    model::{StatementHit, StatementList},
    next_cursor,
    params::{self, Params},
};
use crate::AppState;

/// The parameters of `GET /api/v1/statements`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// Only statements by this speaker, by entity key ("PERSON:dmitry peskov").
    pub speaker: Option<String>,
    /// Only statements about this entity (key): their content mentions it, or they take a
    /// stance toward it (given as `stance`).
    pub about: Option<String>,
    /// Only statements in articles at or after this time: RFC 3339 or a day (UTC).
    pub from: Option<String>,
    /// Only statements in articles before this time.
    pub to: Option<String>,
    /// Statements per page, 1 to 500; 50 by default.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Statements, newest article first and in text order within an article.
#[utoipa::path(
    get,
    path = "/api/v1/statements",
    operation_id = "list_statements",
    tag = "statements",
    params(StatementQuery),
    responses((status = 200, description = "One page of statements", body = StatementList), CommonErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    Params(query): Params<StatementQuery>,
) -> Result<Json<StatementList>, ApiError> {
    Ok(Json(page(&state, &query).await?))
}

/// One page of statements for `query` (the entity page asks it too).
pub async fn page(state: &AppState, query: &StatementQuery) -> Result<StatementList, ApiError> {
    let (from, to) = params::period(query.from.as_deref(), query.to.as_deref())?;
    let filter = StatementFilter {
        speaker: params::text("speaker", query.speaker.as_deref())?,
        about: params::text("about", query.about.as_deref())?,
        from,
        to,
    };
    let limit = params::limit("limit", query.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let cursor = params::cursor(query.cursor.as_deref())?;
    let found = state.store.statements(&filter, limit, &cursor).await?;
    Ok(StatementList {
        statements: found.statements.iter().map(StatementHit::from).collect(),
        next_cursor: next_cursor(found.next_page_token),
    })
}
