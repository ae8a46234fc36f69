//! Traces you can open: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the four services export their
//! spans over OTLP (HTTP/protobuf, or gRPC, to a receiver inside this test), and one article's
//! hops make one trace, each service's consumer span the child of the span that published to it
//! in the service before.

use std::{
    collections::{HashMap, HashSet},
    convert::Infallible,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use http_body_util::{BodyExt, Full};
use hyper::{
    Request, Response, StatusCode,
    body::{Bytes, Incoming},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use newsflow_bus::TraceContext;
use newsflow_e2e::{Options, Pipeline, SERVICES, scratch};
use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::{KeyValue, any_value},
    trace::v1::span::SpanKind,
};
use prost::Message;

/// The hops of an article, each service after the one that publishes to it.
const HOPS: [(&str, &str); 3] = [
    ("newsflow-extractor", "newsflow-ingest"),
    ("newsflow-stance", "newsflow-extractor"),
    ("newsflow-storage", "newsflow-stance"),
];

/// A span as the receiver got it, with the `service.name` of its resource.
#[derive(Clone, Debug)]
struct Exported {
    service: String,
    name: String,
    kind: i32,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent_span_id: Vec<u8>,
    attributes: HashMap<String, String>,
}

impl Exported {
    fn is(&self, kind: SpanKind) -> bool {
        self.kind == kind as i32
    }
}

type Spans = Arc<Mutex<Vec<Exported>>>;

/// An OTLP receiver that keeps the spans it is sent: over HTTP (`POST /v1/traces`, protobuf
/// bodies) or gRPC (`TraceService/Export`).
struct Receiver {
    address: SocketAddr,
    spans: Spans,
}

impl Receiver {
    async fn start(protocol: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the receiver");
        let address = listener.local_addr().expect("its address");
        let spans = Spans::default();
        let sink = Arc::clone(&spans);
        match protocol {
            "http/protobuf" => {
                tokio::spawn(async move {
                    while let Ok((stream, _)) = listener.accept().await {
                        let sink = Arc::clone(&sink);
                        tokio::spawn(async move {
                            let service =
                                service_fn(move |request| receive(request, Arc::clone(&sink)));
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                });
            }
            "grpc" => {
                let incoming = tonic::transport::server::TcpIncoming::from(listener);
                tokio::spawn(
                    tonic::transport::Server::builder()
                        .add_service(TraceServiceServer::new(GrpcReceiver(sink)))
                        .serve_with_incoming(incoming),
                );
            }
            other => panic!("no OTLP protocol {other}"),
        }
        Self { address, spans }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    fn spans(&self) -> Vec<Exported> {
        self.spans.lock().expect("spans").clone()
    }
}

/// The gRPC side of the receiver.
struct GrpcReceiver(Spans);

#[tonic::async_trait]
impl TraceService for GrpcReceiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        keep(request.into_inner(), &self.0);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// The HTTP side of the receiver.
async fn receive(
    request: Request<Incoming>,
    sink: Spans,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let answer = |status: StatusCode, body: Vec<u8>| {
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/x-protobuf"),
        );
        Ok(response)
    };
    if request.method() != hyper::Method::POST || request.uri().path() != "/v1/traces" {
        return answer(StatusCode::NOT_FOUND, Vec::new());
    }
    let Ok(body) = request.into_body().collect().await else {
        return answer(StatusCode::BAD_REQUEST, Vec::new());
    };
    let Ok(export) = ExportTraceServiceRequest::decode(body.to_bytes()) else {
        return answer(StatusCode::BAD_REQUEST, Vec::new());
    };
    keep(export, &sink);
    answer(
        StatusCode::OK,
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
}

/// Keeps the spans of one export, each with its resource's `service.name`.
fn keep(export: ExportTraceServiceRequest, sink: &Spans) {
    let mut spans = sink.lock().expect("spans");
    for resource_spans in export.resource_spans {
        let service = resource_spans
            .resource
            .as_ref()
            .and_then(|resource| {
                let name = resource
                    .attributes
                    .iter()
                    .find(|kv| kv.key == "service.name")?;
                value_text(name)
            })
            .unwrap_or_default();
        for span in resource_spans
            .scope_spans
            .into_iter()
            .flat_map(|scope| scope.spans)
        {
            spans.push(Exported {
                service: service.clone(),
                attributes: span
                    .attributes
                    .iter()
                    .filter_map(|kv| Some((kv.key.clone(), value_text(kv)?)))
                    .collect(),
                name: span.name,
                kind: span.kind,
                trace_id: span.trace_id,
                span_id: span.span_id,
                parent_span_id: span.parent_span_id,
            });
        }
    }
}

/// An attribute's value as text (strings as they are, other scalars formatted).
fn value_text(attribute: &KeyValue) -> Option<String> {
    Some(match attribute.value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(text) => text.clone(),
        any_value::Value::IntValue(number) => number.to_string(),
        any_value::Value::BoolValue(flag) => flag.to_string(),
        any_value::Value::DoubleValue(number) => number.to_string(),
        other => format!("{other:?}"),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The spans of the trace in which ingest accepted `article_id`, once every hop's consumer
/// span and the last publish are in; `None` while some are missing.
fn article_trace(spans: &[Exported], article_id: &str) -> Option<Vec<Exported>> {
    let submit = spans.iter().find(|span| {
        span.service == "newsflow-ingest"
            && span.name == "submit"
            && span.attributes.get("article_id").map(String::as_str) == Some(article_id)
    })?;
    let trace: Vec<Exported> = spans
        .iter()
        .filter(|span| span.trace_id == submit.trace_id)
        .cloned()
        .collect();
    let complete = HOPS.iter().all(|(service, _)| {
        trace
            .iter()
            .any(|span| &span.service == service && span.is(SpanKind::Consumer))
    }) && trace
        .iter()
        .any(|span| span.service == "newsflow-storage" && span.is(SpanKind::Producer));
    complete.then_some(trace)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_article_is_one_trace_across_the_four_services_over_http() {
    one_article_is_one_trace("http/protobuf", "traces_http").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_article_is_one_trace_across_the_four_services_over_grpc() {
    one_article_is_one_trace("grpc", "traces_grpc").await;
}

/// The four services exporting to `receiver` over `protocol`, a batch every `batch_delay_ms`.
async fn traced_pipeline(
    name: &str,
    receiver: &Receiver,
    protocol: &str,
    batch_delay_ms: u64,
) -> Pipeline {
    let mut env = Vec::new();
    for service in SERVICES {
        env.push((service, "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint()));
        env.push((service, "OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()));
        env.push((
            service,
            "OTEL_BSP_SCHEDULE_DELAY",
            batch_delay_ms.to_string(),
        ));
    }
    Pipeline::start(
        name,
        Options {
            env,
            ..Options::default()
        },
    )
    .await
}

/// Submits one short article through `newsflow submit`; its id.
fn submit_one(pipeline: &Pipeline, name: &str) -> String {
    let article = scratch(name).join("article.txt");
    std::fs::write(
        &article,
        "Kremlin spokesman Dmitry Peskov said on Monday that Moscow ruled out talks. \
         \"We will not negotiate under pressure,\" Peskov told reporters in Moscow.",
    )
    .expect("the article file");
    let ids = pipeline.submit_accepted(&[article.to_str().expect("a UTF-8 path")]);
    match ids.as_slice() {
        [id] => id.clone(),
        _ => panic!("one article accepted, not {ids:?}"),
    }
}

/// Waits (5 minutes at most) until the trace of `article_id` has come complete.
async fn wait_for_trace(
    receiver: &Receiver,
    pipeline: &Pipeline,
    article_id: &str,
) -> Vec<Exported> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if let Some(trace) = article_trace(&receiver.spans(), article_id) {
            return trace;
        }
        if Instant::now() > deadline {
            let seen: HashSet<(String, String)> = receiver
                .spans()
                .iter()
                .map(|span| (span.service.clone(), span.name.clone()))
                .collect();
            panic!(
                "the article's trace never came complete within 5 minutes; spans seen: {seen:?}; \
                 service logs under {}",
                pipeline.log_path("<service>")
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn one_article_is_one_trace(protocol: &str, name: &str) {
    let receiver = Receiver::start(protocol).await;
    // Batches go out every 200 ms rather than every 5 s: the test waits less.
    let pipeline = traced_pipeline(name, &receiver, protocol, 200).await;
    let owned_id = submit_one(&pipeline, name);
    let id = &owned_id;
    let trace = wait_for_trace(&receiver, &pipeline, id).await;
    assert_links(&trace);

    // One trace id: every hop's consumer span for this article is in the trace ingest began.
    let trace_id = trace[0].trace_id.clone();
    let services: HashSet<&str> = trace.iter().map(|span| span.service.as_str()).collect();
    for service in SERVICES {
        assert!(
            services.contains(format!("newsflow-{service}").as_str()),
            "no span of newsflow-{service} in the trace: {services:?}"
        );
    }
    let handled_elsewhere: Vec<String> = receiver
        .spans()
        .iter()
        .filter(|span| {
            span.is(SpanKind::Consumer)
                && span.attributes.get("message_id") == Some(id)
                && span.trace_id != trace_id
        })
        .map(|span| format!("{} in {}", span.service, hex(&span.trace_id)))
        .collect();
    assert!(
        handled_elsewhere.is_empty(),
        "hops of the article outside its trace {}: {handled_elsewhere:?}",
        hex(&trace_id)
    );

    // A client's `traceparent` over HTTP: ingest continues the client's trace.
    let client = TraceContext::new_root();
    let body = serde_json::json!({
        "external_id": "traces-http",
        "title": "Traced",
        "source": "e2e",
        "body": "Foreign minister Annalena Baerbock said Berlin would keep its embassy open.",
    })
    .to_string();
    let url = format!("{}/v1/articles", pipeline.ingest_http);
    let traceparent = client.to_string();
    let answer = newsflow_test_support::http::post(
        &url,
        &[
            ("content-type", "application/json"),
            ("traceparent", traceparent.as_str()),
        ],
        &body,
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    let http_id = answer.json()["id"]
        .as_str()
        .expect("the accepted article's id")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    let submit = loop {
        let found = receiver.spans().into_iter().find(|span| {
            span.name == "submit" && span.attributes.get("article_id") == Some(&http_id)
        });
        if let Some(submit) = found {
            break submit;
        }
        assert!(
            Instant::now() < deadline,
            "ingest's submit span for the HTTP article never came"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(
        hex(&submit.trace_id),
        client.trace_id(),
        "the client's trace"
    );
    assert_eq!(
        hex(&submit.parent_span_id),
        client.span_id(),
        "under the client's span"
    );

    pipeline.stop().await;
}

/// The parent links of one article's trace: ingest's `submit` is the root and publishes under
/// it; each later service's consumer span is the child of the previous service's publish span,
/// and its own publish is under its consumer span.
fn assert_links(trace: &[Exported]) {
    // Ingest: the trace's root, and the publish under it.
    let submit = trace
        .iter()
        .find(|span| span.service == "newsflow-ingest" && span.name == "submit")
        .expect("ingest's submit span");
    assert!(
        submit.parent_span_id.is_empty(),
        "ingest starts the trace: {submit:?}"
    );
    let publish = trace
        .iter()
        .find(|span| span.service == "newsflow-ingest" && span.is(SpanKind::Producer))
        .expect("ingest's publish span");
    assert_eq!(
        publish.parent_span_id, submit.span_id,
        "published under submit"
    );

    // Each later hop: its consumer span's parent is the previous service's publish span, and
    // what it publishes in turn is under its consumer span.
    for (service, previous) in HOPS {
        let consumer = trace
            .iter()
            .find(|span| span.service == service && span.is(SpanKind::Consumer))
            .expect("checked complete");
        let parent = trace
            .iter()
            .find(|span| span.span_id == consumer.parent_span_id)
            .unwrap_or_else(|| {
                panic!(
                    "{service}'s consumer span has parent {}, which no service exported",
                    hex(&consumer.parent_span_id)
                )
            });
        assert_eq!(
            (parent.service.as_str(), parent.is(SpanKind::Producer)),
            (previous, true),
            "{service}'s consumer span is a child of {previous}'s publish span, not {parent:?}"
        );
        let published = trace
            .iter()
            .find(|span| span.service == service && span.is(SpanKind::Producer))
            .unwrap_or_else(|| panic!("{service} exported no publish span"));
        assert_eq!(
            published.parent_span_id, consumer.span_id,
            "{service} publishes under its consumer span"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_last_spans_are_sent_when_the_services_stop() {
    let receiver = Receiver::start("http/protobuf").await;
    // No batch would go out for an hour: whatever arrives is sent at shutdown.
    let mut pipeline = traced_pipeline("traces_stop", &receiver, "http/protobuf", 3_600_000).await;
    let tail = pipeline.tail().await;
    let id = submit_one(&pipeline, "traces_stop");
    tail.wait_for(
        std::slice::from_ref(&id),
        Duration::from_secs(300),
        Duration::ZERO,
    )
    .await;
    assert!(
        receiver.spans().is_empty(),
        "spans were sent before the hour was up"
    );
    for service in ["ingest", "extractor", "stance", "storage"] {
        let status = pipeline.terminate(service).await;
        assert!(status.success(), "newsflow-{service} stopped with {status}");
    }
    let trace = article_trace(&receiver.spans(), &id).expect("the whole trace, sent at shutdown");
    assert_links(&trace);
    pipeline.stop().await;
}
