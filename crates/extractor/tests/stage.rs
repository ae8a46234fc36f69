//! The extractor stage on the real broker: `article.ingested` in, entities added,
//! `article.extracted` out; bad input dead-lettered, not retried. And `Extract` over gRPC.

use std::sync::Arc;

use newsflow_analysis::{EntityAnalysis, ModelArgs, ModelPaths, NerMode};
use newsflow_bus::{Outgoing, Publisher, TraceContext, topology::ARTICLE_INGESTED};
use newsflow_extractor::{grpc::ExtractionGrpc, stage};
use newsflow_proto::v1::{
    AnalyzedArticle, Article, EntityType, ExtractRequest,
    extraction_service_client::ExtractionServiceClient,
};
use newsflow_runtime::{CpuSlots, GrpcServer};
use newsflow_test_support::{broker, broker::TestBus, workspace};
use prost::Message;
use tokio_util::sync::CancellationToken;

const TEXT: &str = "Russian President Vladimir Putin warned on Friday that Western troops in \
                    Ukraine would be targets. Kremlin spokesman Dmitry Peskov said NATO was \
                    to blame. Putin spoke in Vladivostok.";

fn analysis() -> Arc<EntityAnalysis> {
    let models = ModelArgs::with_paths(NerMode::Accurate, ModelPaths::under(&workspace::root()));
    let budget = newsflow_analysis::Budget::default();
    Arc::new(EntityAnalysis::load(&models, budget).unwrap_or_else(|e| panic!("{e}")))
}

fn article(id: &str, body: &str) -> AnalyzedArticle {
    AnalyzedArticle {
        article: Some(Article {
            id: id.into(),
            body: body.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn ingested_articles_come_out_with_their_entities() {
    let bus = TestBus::pipeline("extractor").await;
    let publisher = Publisher::connect(bus.config.clone(), bus.topology.clone())
        .await
        .expect("publisher connects");
    // One slot, batches of eight: the two articles may share a call; each still gets its own
    // outcome.
    let stage = stage::extract(analysis(), CpuSlots::new(1), 8);
    let consumer =
        newsflow_runtime::stage::consumer(bus.config.clone(), bus.topology.clone(), stage);
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(consumer.run(shutdown.clone()));

    let trace = TraceContext::new_root();
    for (id, body, trace) in [("x1", TEXT, trace), ("x2", "", TraceContext::new_root())] {
        let message = Outgoing::protobuf(ARTICLE_INGESTED, id, &article(id, body), trace);
        publisher.publish(&message).await.unwrap();
    }
    let extracted = broker::take(&bus.work_queue("stance")).await;
    let dead = broker::take(&bus.dead_letter_queue("extractor")).await;
    shutdown.cancel();
    running.await.unwrap().unwrap();

    let output = AnalyzedArticle::decode(extracted.data.as_slice()).unwrap();
    let entities = output.analysis.unwrap().entities;
    let people: Vec<&str> = entities
        .iter()
        .filter(|e| e.r#type == EntityType::Person as i32)
        .map(|e| e.canonical_name.as_str())
        .collect();
    assert!(people.contains(&"Vladimir Putin"), "{people:?}");
    assert!(people.contains(&"Dmitry Peskov"), "{people:?}");
    let putin = entities
        .iter()
        .find(|e| e.canonical_name == "Vladimir Putin")
        .unwrap();
    assert_eq!(
        putin.mentions.len(),
        2,
        "'Vladimir Putin' and 'Putin' are one entity"
    );
    for mention in &putin.mentions {
        let span = mention.span.unwrap();
        let sliced: String = TEXT
            .chars()
            .skip(span.start as usize)
            .take((span.end - span.start) as usize)
            .collect();
        assert_eq!(sliced, mention.text, "code-point spans slice the body");
    }
    let record = output.stages.last().unwrap();
    assert_eq!(record.stage, "extractor");
    assert_eq!(record.version, "ner-accurate@0.1.0");
    let headers = extracted.properties.headers().clone().unwrap();
    let traceparent = newsflow_bus::message::header_str(&headers, "traceparent").unwrap();
    assert!(
        traceparent.contains(&trace.trace_id()),
        "one trace across hops"
    );

    assert_eq!(
        dead.properties.message_id().as_ref().unwrap().as_str(),
        "x2",
        "the empty article is parked, not retried"
    );
}

#[tokio::test]
async fn extract_over_grpc() {
    let listener = newsflow_runtime::grpc::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(
        GrpcServer::new()
            .add_service(ExtractionGrpc::server(analysis(), CpuSlots::per_core()))
            .serve(listener, shutdown.clone()),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = ExtractionServiceClient::new(channel);
    let response = client
        .extract(ExtractRequest {
            text: format!("  {TEXT}  "),
            language: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.text, TEXT, "normalized");
    assert!(
        response
            .entities
            .iter()
            .any(|e| e.key == "PERSON:vladimir putin")
    );

    let empty = client
        .extract(ExtractRequest {
            text: " ".into(),
            language: String::new(),
        })
        .await
        .expect_err("empty");
    assert_eq!(empty.code(), tonic::Code::InvalidArgument);
    let french = client
        .extract(ExtractRequest {
            text: TEXT.into(),
            language: "fr".into(),
        })
        .await
        .expect_err("not served");
    assert_eq!(french.code(), tonic::Code::InvalidArgument);
    shutdown.cancel();
    server.await.unwrap().unwrap();
}
