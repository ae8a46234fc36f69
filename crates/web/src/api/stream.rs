//! `GET /api/v1/stream`: processed articles as they are stored, as Server-Sent Events.

use std::{convert::Infallible, time::Duration};

use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures::{Stream, StreamExt, stream};

use super::{CommonErrors, model::LiveArticle};
use crate::AppState;

/// Every article stored from now on, in the brief form, as Server-Sent Events: first one
/// `ready` event once no article can be missed any more, then one `article` event per stored
/// article (`data` is the JSON of `LiveArticle`, `id` the article id); comments keep the
/// connection alive. `curl -N` shows it; a browser's `EventSource` reconnects by itself.
#[utoipa::path(
    get,
    path = "/api/v1/stream",
    operation_id = "stream",
    tag = "stream",
    responses(
        (status = 200, description = "`ready`, then one `article` event per stored article",
         content_type = "text/event-stream", body = LiveArticle),
        CommonErrors,
    )
)]
pub async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribed before waiting, so nothing published after `ready` is missed.
    let articles = state.live.subscribe(state.shutdown.clone());
    let live = state.live.clone();
    let shutdown = state.shutdown.clone();
    let ready =
        stream::once(async move { live.bound(&shutdown).await }).filter_map(|bound| async move {
            bound.then(|| Event::default().event("ready").data("{}"))
        });
    let events = articles.filter_map(|article| async move {
        Event::default()
            .event("article")
            .id(article.id.clone())
            .json_data(&*article)
            .ok()
    });
    Sse::new(ready.chain(events).map(Ok))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
