//! `GET /api/v1/stories` and `GET /api/v1/stories/{id}`: articles about one event, grouped as
//! storage saved them.

use axum::{
    Json,
    extract::{Path, State},
};
use newsflow_proto::v1::{GetStoryRequest, ListStoriesRequest};
use newsflow_store::{ArticleFilter, time::to_proto};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    ApiError, CommonErrors,
    articles::{DEFAULT_LIMIT, MAX_LIMIT},
    model::{ArticleBrief, ArticlePage, ErrorBody, StoryBrief, StoryDetail, StoryPage},
    next_cursor,
    params::{self, Params},
};
use crate::AppState;

/// The parameters of `GET /api/v1/stories`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StoryQuery {
    /// Only stories with an article mentioning this entity, by key ("PERSON:vladimir putin").
    pub entity: Option<String>,
    /// Only stories whose latest article is at or after this time: RFC 3339 or a day (UTC).
    pub from: Option<String>,
    /// Only stories whose earliest article is before this time.
    pub to: Option<String>,
    /// Stories per page, 1 to 500; 50 by default.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Stories, latest first: each one event's articles (near-copies counted apart), labelled by
/// its most salient entities and a representative title.
#[utoipa::path(
    get,
    path = "/api/v1/stories",
    operation_id = "list_stories",
    tag = "stories",
    params(StoryQuery),
    responses(
        (status = 200, description = "One page of stories", body = StoryPage),
        CommonErrors,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Params(query): Params<StoryQuery>,
) -> Result<Json<StoryPage>, ApiError> {
    Ok(Json(page(&state, &query).await?))
}

/// One page of stories for `query` (the page's story list asks it too).
pub async fn page(state: &AppState, query: &StoryQuery) -> Result<StoryPage, ApiError> {
    let (from, to) = params::period(query.from.as_deref(), query.to.as_deref())?;
    let request = ListStoriesRequest {
        entity_key: params::text("entity", query.entity.as_deref())?.unwrap_or_default(),
        from: from.map(to_proto),
        to: to.map(to_proto),
        page_size: params::limit("limit", query.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?,
        page_token: params::cursor(query.cursor.as_deref())?,
    };
    let page = state.store.list_stories(&request).await?;
    Ok(StoryPage {
        stories: page.stories.iter().map(StoryBrief::from_story).collect(),
        next_cursor: next_cursor(page.next_page_token),
    })
}

/// One story with the first page of its articles, newest first (the rest through
/// `/api/v1/articles?story=ID`).
#[utoipa::path(
    get,
    path = "/api/v1/stories/{id}",
    operation_id = "get_story",
    tag = "stories",
    params(("id" = u64, Path, description = "The story's id")),
    responses(
        (status = 200, description = "The story", body = StoryDetail),
        (status = 404, description = "No story with this id", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<StoryDetail>, ApiError> {
    let Some(id) = params::story_id("id", Some(&id))? else {
        return Err(ApiError::invalid("id", "a story id is required"));
    };
    let Some(story) = state.store.story(&GetStoryRequest { id }).await? else {
        return Err(ApiError::not_found(format!("story {id} is not stored")));
    };
    let filter = ArticleFilter {
        story: Some(id),
        ..ArticleFilter::default()
    };
    let found = state
        .store
        .find_articles(&filter, DEFAULT_LIMIT, "")
        .await?;
    Ok(Json(StoryDetail {
        story: StoryBrief::from_story(&story),
        articles: ArticlePage {
            articles: found
                .articles
                .iter()
                .map(ArticleBrief::from_summary)
                .collect(),
            next_cursor: next_cursor(found.next_page_token),
        },
    }))
}
