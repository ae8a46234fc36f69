//! The tonic `newsflow.v1.StorageService` over a [`Store`]: each call is one store query, and
//! every [`StoreError`] becomes the gRPC status a client can act on.

use newsflow_proto::v1::storage_service_server::{StorageService, StorageServiceServer};
use newsflow_proto::v1::{
    AnalyzedArticle, EntityTimelineRequest, EntityTimelineResponse, ExistsRequest, ExistsResponse,
    GetArticleRequest, GetStoryRequest, IdentityChange, ListArticlesRequest, ListArticlesResponse,
    ListStoriesRequest, ListStoriesResponse, MergeEntitiesRequest, SearchEntitiesRequest,
    SearchEntitiesResponse, SplitEntityRequest, Story,
};
use tonic::{Request, Response, Status};

use newsflow_store::{Store, StoreError};

/// The `StorageService` implementation.
#[derive(Clone, Debug)]
pub struct StorageGrpc {
    store: Store,
}

impl StorageGrpc {
    /// Serves queries from `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The tonic service, ready for `Server::builder().add_service(..)`.
    pub fn into_server(self) -> StorageServiceServer<Self> {
        StorageServiceServer::new(self)
    }
}

/// A store call's result as a gRPC answer.
fn answer<T>(result: Result<T, StoreError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(status)
}

/// The gRPC status for a store error. Database details stay in the log; the client learns
/// what kind of failure it was and whether retrying makes sense.
pub fn status(e: StoreError) -> Status {
    match &e {
        StoreError::InvalidArgument(msg) | StoreError::InvalidArticle(msg) => {
            Status::invalid_argument(msg.clone())
        }
        StoreError::NotFound(msg) => Status::not_found(msg.clone()),
        StoreError::Unavailable(_) => {
            tracing::warn!(error = %e, "database unavailable");
            Status::unavailable("the database is unavailable; retry later")
        }
        StoreError::Busy(_) => {
            tracing::warn!(error = %e, "database busy");
            Status::unavailable("the database is busy; retry later")
        }
        StoreError::TimedOut(_) => {
            tracing::warn!(error = %e, "database statement timed out");
            Status::deadline_exceeded(
                "the query ran past the database's statement timeout; narrow it or retry later",
            )
        }
        StoreError::Migrate(_) if e.is_transient() => {
            tracing::warn!(error = %e, "database unavailable");
            Status::unavailable("the database is unavailable; retry later")
        }
        StoreError::Corrupt { id, .. } => {
            tracing::error!(error = %e, "stored document does not decode");
            Status::data_loss(format!("the stored document of article {id:?} is corrupt"))
        }
        StoreError::Database(_) | StoreError::Migrate(_) => {
            tracing::error!(error = %e, "database error");
            Status::internal("internal database error")
        }
    }
}

#[tonic::async_trait]
impl StorageService for StorageGrpc {
    async fn get_article(
        &self,
        request: Request<GetArticleRequest>,
    ) -> Result<Response<AnalyzedArticle>, Status> {
        let id = request.into_inner().id;
        match self.store.get(&id).await.map_err(status)? {
            Some(stored) => Ok(Response::new(stored.article)),
            None => Err(Status::not_found(format!("article {id:?} is not stored"))),
        }
    }

    async fn list_articles(
        &self,
        request: Request<ListArticlesRequest>,
    ) -> Result<Response<ListArticlesResponse>, Status> {
        answer(self.store.list_articles(request.get_ref()).await)
    }

    async fn entity_timeline(
        &self,
        request: Request<EntityTimelineRequest>,
    ) -> Result<Response<EntityTimelineResponse>, Status> {
        answer(self.store.entity_timeline(request.get_ref()).await)
    }

    async fn search_entities(
        &self,
        request: Request<SearchEntitiesRequest>,
    ) -> Result<Response<SearchEntitiesResponse>, Status> {
        answer(self.store.search_entities(request.get_ref()).await)
    }

    async fn exists(
        &self,
        request: Request<ExistsRequest>,
    ) -> Result<Response<ExistsResponse>, Status> {
        let existing = self.store.exists(&request.get_ref().ids).await;
        answer(existing.map(|existing| ExistsResponse { existing }))
    }

    async fn merge_entities(
        &self,
        request: Request<MergeEntitiesRequest>,
    ) -> Result<Response<IdentityChange>, Status> {
        let req = request.get_ref();
        let change = self
            .store
            .merge_identities(&req.into_key, &req.from_key)
            .await;
        answer(change.map(change_message))
    }

    async fn split_entity(
        &self,
        request: Request<SplitEntityRequest>,
    ) -> Result<Response<IdentityChange>, Status> {
        let req = request.get_ref();
        let change = self.store.split_identity(&req.key, &req.name).await;
        answer(change.map(change_message))
    }

    async fn list_stories(
        &self,
        request: Request<ListStoriesRequest>,
    ) -> Result<Response<ListStoriesResponse>, Status> {
        answer(self.store.list_stories(request.get_ref()).await)
    }

    async fn get_story(
        &self,
        request: Request<GetStoryRequest>,
    ) -> Result<Response<Story>, Status> {
        let id = request.get_ref().id;
        match self.store.story(request.get_ref()).await.map_err(status)? {
            Some(story) => Ok(Response::new(story)),
            None => Err(Status::not_found(format!("story {id} is not stored"))),
        }
    }
}

fn change_message(change: newsflow_store::IdentityChange) -> IdentityChange {
    IdentityChange {
        key: change.key,
        canonical_name: change.canonical_name,
        moved: change.moved,
    }
}
