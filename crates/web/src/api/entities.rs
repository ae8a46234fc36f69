//! `GET /api/v1/entities`, `GET /api/v1/entities/{key}` and its `/timeline`.

use axum::{
    Json,
    extract::{Path, State},
};
use newsflow_proto::v1::{EntityTimelineRequest, SearchEntitiesRequest};
use newsflow_store::{MAX_SEARCH_LIMIT, time::to_proto};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    ApiError, CommonErrors,
    model::{EntityDetail, EntityHit, EntityList, ErrorBody, Timeline},
    params::{self, Params},
};
use crate::AppState;

/// The parameters of `GET /api/v1/entities`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntitySearch {
    /// A name or its beginning ("Putin", "Vladimir P").
    #[param(required = true)]
    pub q: Option<String>,
    /// Only entities of this type: person, org, gpe, loc, norp, event, date, misc.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub entity_type: Option<String>,
    /// Also names that resemble `q` (trigram similarity), not only prefixes: true or false.
    #[param(value_type = Option<bool>)]
    pub fuzzy: Option<String>,
    /// Most results, 1 to 100; 20 by default.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
}

/// Entities whose name is, starts with, or (with `fuzzy`) resembles `q`, best first.
#[utoipa::path(
    get,
    path = "/api/v1/entities",
    operation_id = "search_entities",
    tag = "entities",
    params(EntitySearch),
    responses((status = 200, description = "Matching entities", body = EntityList), CommonErrors)
)]
pub async fn search(
    State(state): State<AppState>,
    Params(query): Params<EntitySearch>,
) -> Result<Json<EntityList>, ApiError> {
    Ok(Json(find(&state, &query).await?))
}

/// The entities matching `query` (the page's search asks it too).
pub async fn find(state: &AppState, query: &EntitySearch) -> Result<EntityList, ApiError> {
    let Some(q) = params::text("q", query.q.as_deref())? else {
        return Err(ApiError::invalid(
            "q",
            "`q` is required: a name or its beginning",
        ));
    };
    let request = SearchEntitiesRequest {
        query: q,
        r#type: params::entity_type("type", query.entity_type.as_deref())?.map_or(0, |t| t as i32),
        fuzzy: params::flag("fuzzy", query.fuzzy.as_deref())?,
        limit: params::limit("limit", query.limit.as_deref(), 20, MAX_SEARCH_LIMIT)?,
    };
    let found = state.store.search_entities(&request).await?;
    Ok(EntityList {
        entities: found.entities.iter().map(EntityHit::from).collect(),
    })
}

/// What is stored about one entity: its name, type, articles, mentions, statements.
#[utoipa::path(
    get,
    path = "/api/v1/entities/{key}",
    operation_id = "get_entity",
    tag = "entities",
    params(("key" = String, Path, description = "The entity's key (\"PERSON:vladimir putin\"), URL-encoded")),
    responses(
        (status = 200, description = "The entity", body = EntityDetail),
        (status = 404, description = "No stored article mentions it", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<EntityDetail>, ApiError> {
    Ok(Json(entity(&state, &key).await?))
}

/// The entity `key`, or 404.
pub async fn entity(state: &AppState, key: &str) -> Result<EntityDetail, ApiError> {
    let key = params::text("key", Some(key))?.unwrap_or_default();
    match state.store.entity(&key).await? {
        Some(facts) => Ok(EntityDetail::from(&facts)),
        None => Err(ApiError::not_found(format!(
            "no stored article mentions entity {key:?}"
        ))),
    }
}

/// The parameters of `GET /api/v1/entities/{key}/timeline`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// Start (inclusive): RFC 3339 or a day (UTC); from the first article by default.
    pub from: Option<String>,
    /// End (exclusive); now by default.
    pub to: Option<String>,
    /// `true` to count near-copies of stored articles too (a wire story run by several
    /// outlets); by default each story counts once.
    #[param(value_type = Option<bool>)]
    pub copies: Option<String>,
}

/// How the entity is treated day by day (UTC): mentions, articles, the stances toward it by
/// class and who takes them.
#[utoipa::path(
    get,
    path = "/api/v1/entities/{key}/timeline",
    operation_id = "entity_timeline",
    tag = "entities",
    params(
        ("key" = String, Path, description = "The entity's key, URL-encoded"),
        Period,
    ),
    responses(
        (status = 200, description = "The timeline", body = Timeline),
        (status = 404, description = "No stored article mentions it", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn timeline(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Params(query): Params<Period>,
) -> Result<Json<Timeline>, ApiError> {
    Ok(Json(days(&state, &key, &query).await?))
}

/// The timeline of `key` over `period`.
pub async fn days(state: &AppState, key: &str, period: &Period) -> Result<Timeline, ApiError> {
    let key = params::text("key", Some(key))?.unwrap_or_default();
    let (from, to) = params::period(period.from.as_deref(), period.to.as_deref())?;
    let request = EntityTimelineRequest {
        entity_key: key,
        from: from.map(to_proto),
        to: to.map(to_proto),
        include_copies: params::flag("copies", period.copies.as_deref())?,
    };
    let timeline = state.store.entity_timeline(&request).await?;
    Ok(Timeline::from(&timeline))
}
