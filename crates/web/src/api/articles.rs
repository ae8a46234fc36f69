//! `GET /api/v1/articles` and `GET /api/v1/articles/{id}`.

use axum::{
    Json,
    extract::{Path, State},
};

use super::{
    ApiError, CommonErrors, article_query,
    model::{ArticleBrief, ArticleDetail, ArticlePage, ErrorBody},
    next_cursor,
    params::{self, Params},
};
use crate::AppState;

/// Default page size of the lists.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page of the lists (as `ListArticles`).
pub const MAX_LIMIT: u32 = 500;

article_query! {
    /// The parameters of `GET /api/v1/articles`.
    pub struct ArticleQuery {
        /// Articles per page, 1 to 500; 50 by default.
        #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
        pub limit: Option<String>,
        /// `next_cursor` of the previous page.
        pub cursor: Option<String>,
    }
}

/// Articles matching every filter given, newest first (published time, else ingested).
#[utoipa::path(
    get,
    path = "/api/v1/articles",
    operation_id = "list_articles",
    tag = "articles",
    params(ArticleQuery),
    responses(
        (status = 200, description = "One page of articles", body = ArticlePage),
        CommonErrors,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Params(query): Params<ArticleQuery>,
) -> Result<Json<ArticlePage>, ApiError> {
    Ok(Json(page(&state, &query).await?))
}

/// One page of articles for `query` (the page's feed and search ask it too).
pub async fn page(state: &AppState, query: &ArticleQuery) -> Result<ArticlePage, ApiError> {
    let filter = query.filter()?;
    let limit = params::limit("limit", query.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let cursor = params::cursor(query.cursor.as_deref())?;
    let found = state.store.find_articles(&filter, limit, &cursor).await?;
    Ok(ArticlePage {
        articles: found
            .articles
            .iter()
            .map(ArticleBrief::from_summary)
            .collect(),
        next_cursor: next_cursor(found.next_page_token),
    })
}

/// One article with its whole analysis: entities and their mentions, statements, stances.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}",
    operation_id = "get_article",
    tag = "articles",
    params(("id" = String, Path, description = "The article id, as ingest answered it")),
    responses(
        (status = 200, description = "The article", body = ArticleDetail),
        (status = 404, description = "No article with this id is stored", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ArticleDetail>, ApiError> {
    Ok(Json(article(&state, &id).await?))
}

/// The stored article `id`, or 404.
pub async fn article(state: &AppState, id: &str) -> Result<ArticleDetail, ApiError> {
    let id = params::text("id", Some(id))?.unwrap_or_default();
    match state.store.get(&id).await? {
        Some(stored) => Ok(ArticleDetail::from_stored(&stored)),
        None => Err(ApiError::not_found(format!("article {id:?} is not stored"))),
    }
}
