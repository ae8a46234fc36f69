//! The `StorageService` over a real database: what a client gets, and how each store error
//! reads as a gRPC status.

use newsflow_proto::v1::{
    EntityTimelineRequest, ExistsRequest, GetArticleRequest, SearchEntitiesRequest,
    storage_service_server::StorageService,
};
use newsflow_storage::grpc::StorageGrpc;
use newsflow_store::Store;
use newsflow_test_support::{database::TestSchema, fixtures::corpus};
use tonic::{Code, Request};

/// A migrated store in a schema of its own, with the fixture corpus saved.
async fn store_with_corpus(schema: &TestSchema) -> Store {
    let store = Store::new(schema.pool.clone());
    store.migrate().await.expect("migrations apply");
    for doc in corpus() {
        store.save(&doc).await.expect("save fixture");
    }
    store
}

#[tokio::test]
async fn get_article_answers_the_stored_document_or_not_found() {
    let schema = TestSchema::new(4).await;
    let grpc = StorageGrpc::new(store_with_corpus(&schema).await);
    let got = grpc
        .get_article(Request::new(GetArticleRequest { id: "a2".into() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, corpus()[1]);
    let status = grpc
        .get_article(Request::new(GetArticleRequest { id: "zz".into() }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains("zz"));
    let status = grpc
        .get_article(Request::new(GetArticleRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn store_errors_read_as_the_status_a_client_can_act_on() {
    let schema = TestSchema::new(4).await;
    let grpc = StorageGrpc::new(store_with_corpus(&schema).await);
    let unknown = EntityTimelineRequest {
        entity_key: "PERSON:nobody".into(),
        ..Default::default()
    };
    let status = grpc
        .entity_timeline(Request::new(unknown))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let blank = SearchEntitiesRequest {
        query: "   ".into(),
        ..Default::default()
    };
    let status = grpc.search_entities(Request::new(blank)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let ids = vec!["zz".to_owned(), "a3".to_owned()];
    let existing = grpc
        .exists(Request::new(ExistsRequest { ids }))
        .await
        .unwrap();
    assert_eq!(existing.into_inner().existing, ["a3"]);

    // Nothing listens on port 1: the database is down.
    let down =
        StorageGrpc::new(Store::connect_lazy("postgres://postgres@127.0.0.1:1/test").unwrap());
    let request = GetArticleRequest { id: "a1".into() };
    let status = down.get_article(Request::new(request)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
}
