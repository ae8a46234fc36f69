//! The extractor stage on the real broker: `article.ingested` in, entities added,
//! `article.extracted` out; bad input dead-lettered, not retried. And `Extract` over gRPC.

use std::{path::PathBuf, time::Duration};

use lapin::{
    Connection, ConnectionProperties,
    options::{BasicAckOptions, BasicGetOptions, ExchangeDeleteOptions, QueueDeleteOptions},
};
use newsflow_bus::{
    BusConfig, Consumer, Outgoing, Publisher, Topology, TraceContext, topology::ARTICLE_INGESTED,
};
use newsflow_extractor::{consume::ExtractStage, extract::Extractor, grpc::ExtractionGrpc};
use newsflow_nlp::ner::{NerMode, NerPaths};
use newsflow_proto::v1::{
    AnalyzedArticle, Article, EntityType, ExtractRequest,
    extraction_service_client::ExtractionServiceClient,
};
use prost::Message;
use tokio_util::sync::CancellationToken;

const TEXT: &str = "Russian President Vladimir Putin warned on Friday that Western troops in \
                    Ukraine would be targets. Kremlin spokesman Dmitry Peskov said NATO was \
                    to blame. Putin spoke in Vladivostok.";

fn model() -> Extractor {
    let models = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let paths = NerPaths {
        perceptron: models.join("ner-perceptron"),
        neural: models.join("ner-minilm"),
        base: models.join("base/all-MiniLM-L6-v2"),
    };
    Extractor::load(NerMode::Accurate, &paths, &models.join("gazetteers")).expect(
        "the committed NER models load (the base encoder and the gazetteers: \
         scripts/fetch-base-model.sh)",
    )
}

fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

#[tokio::test]
async fn ingested_articles_come_out_with_their_entities() {
    let prefix = format!("test-extractor-{}", std::process::id());
    let topology = Topology::pipeline(prefix.clone(), vec![Duration::from_millis(200)]);
    let mut config = BusConfig::new(amqp_url(), prefix.clone());
    config.shutdown_grace = Duration::from_secs(5);
    let publisher = Publisher::connect(config.clone(), topology.clone())
        .await
        .expect("RabbitMQ answers (rabbitmq-server -detached)");
    let stage = ExtractStage {
        extractor: model(),
        publisher: publisher.clone(),
    };
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(
        Consumer::new(
            config.clone(),
            topology.clone(),
            "extractor",
            stage,
            publisher.clone(),
        )
        .run(shutdown.clone()),
    );

    let document = AnalyzedArticle {
        article: Some(Article {
            id: "x1".into(),
            body: TEXT.into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let trace = TraceContext::new_root();
    publisher
        .publish(&Outgoing::protobuf(
            ARTICLE_INGESTED,
            "x1",
            &document,
            trace,
        ))
        .await
        .unwrap();
    let empty = AnalyzedArticle {
        article: Some(Article {
            id: "x2".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    publisher
        .publish(&Outgoing::protobuf(
            ARTICLE_INGESTED,
            "x2",
            &empty,
            TraceContext::new_root(),
        ))
        .await
        .unwrap();

    let connection = Connection::connect(&config.url, ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let take = |queue: String| {
        let channel = channel.clone();
        async move {
            for _ in 0..200 {
                if let Some(message) = channel
                    .basic_get(queue.as_str().into(), BasicGetOptions::default())
                    .await
                    .unwrap()
                {
                    message
                        .delivery
                        .acker
                        .ack(BasicAckOptions::default())
                        .await
                        .unwrap();
                    return message.delivery;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("nothing arrived in {queue}");
        }
    };
    let extracted = take(topology.work_queue("stance")).await;
    let dead = take(topology.dead_letter_queue(&topology.work_queue("extractor"))).await;
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
    assert_eq!(output.stages.last().unwrap().stage, "extractor");
    let headers = extracted.properties.headers().clone().unwrap();
    let traceparent = newsflow_bus::message::header_str(&headers, "traceparent").unwrap();
    assert!(
        traceparent.contains(&trace.trace_id()),
        "one trace across hops"
    );

    assert_eq!(
        dead.properties.message_id().as_ref().unwrap().as_str(),
        "x2"
    );

    for queue in topology.stages().iter().flat_map(|s| {
        let work = topology.work_queue(&s.stage);
        [
            topology.retry_queue(&work, Duration::from_millis(200)),
            topology.dead_letter_queue(&work),
            work,
        ]
    }) {
        let _ = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    let _ = channel
        .exchange_delete(prefix.as_str().into(), ExchangeDeleteOptions::default())
        .await;
}

#[tokio::test]
async fn extract_over_grpc() {
    let listener = newsflow_runtime::grpc::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(
        newsflow_runtime::GrpcServer::new()
            .add_service(ExtractionGrpc::server(model()))
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
