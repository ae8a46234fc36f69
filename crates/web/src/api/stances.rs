//! `GET /api/v1/stances`: the stance graph, holder -> target, over a period.

use axum::{Json, extract::State};
use newsflow_store::{EdgeFilter, MAX_EDGES, StanceMatch};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    ApiError, CommonErrors,
    model::{Edge, EdgeList},
    params::{self, Params},
};
use crate::AppState;

/// Edges by default.
pub const DEFAULT_EDGES: u32 = 100;

/// The parameters of `GET /api/v1/stances`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EdgeQuery {
    /// Only stances in articles at or after this time: RFC 3339 or a day (UTC).
    pub from: Option<String>,
    /// Only stances in articles before this time.
    pub to: Option<String>,
    /// Only stances held by this entity (key).
    pub holder: Option<String>,
    /// Only stances toward this entity (key) or topic.
    pub target: Option<String>,
    /// Only edges with this entity (key) at either end.
    pub entity: Option<String>,
    /// `true` to count stances in near-copies of stored articles too (a wire story run by
    /// several outlets); by default each story counts once.
    #[param(value_type = Option<bool>)]
    pub copies: Option<String>,
    /// Only stances of this polarity: negative (against), neutral, positive (for).
    pub polarity: Option<String>,
    /// Most edges, 1 to 1000; 100 by default. The edges with the most stances come first.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

/// Who holds stances toward whom: one edge per holder and target, with the stances counted by
/// class, the most stances first. Only stances a named entity holds (not the text's own).
#[utoipa::path(
    get,
    path = "/api/v1/stances",
    operation_id = "stance_edges",
    tag = "stances",
    params(EdgeQuery),
    responses((status = 200, description = "Stance edges", body = EdgeList), CommonErrors)
)]
pub async fn edges(
    State(state): State<AppState>,
    Params(query): Params<EdgeQuery>,
) -> Result<Json<EdgeList>, ApiError> {
    Ok(Json(graph(&state, &query).await?))
}

/// The edges for `query` (the page's stance view asks it too).
pub async fn graph(state: &AppState, query: &EdgeQuery) -> Result<EdgeList, ApiError> {
    let (from, to) = params::period(query.from.as_deref(), query.to.as_deref())?;
    let limit = params::limit("limit", query.limit.as_deref(), DEFAULT_EDGES, MAX_EDGES)?;
    // One more than asked tells whether the list was cut.
    let filter = EdgeFilter {
        from,
        to,
        stance: StanceMatch {
            holder: params::text("holder", query.holder.as_deref())?,
            target: params::text("target", query.target.as_deref())?,
            polarity: params::polarity("polarity", query.polarity.as_deref())?,
        },
        entity: params::text("entity", query.entity.as_deref())?,
        include_copies: params::flag("copies", query.copies.as_deref())?,
        limit: limit.saturating_add(1).min(MAX_EDGES + 1),
    };
    let mut edges = state.store.stance_edges(&filter).await?;
    let truncated = edges.len() > limit as usize;
    edges.truncate(limit as usize);
    Ok(EdgeList {
        edges: edges.iter().map(Edge::from).collect(),
        limit,
        truncated,
    })
}
