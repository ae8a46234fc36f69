//! The ingest binary against the real local RabbitMQ: bad input and its errors, duplicates,
//! bulk submissions, API keys, and the broker going away and coming back.

mod support;

use std::{collections::HashSet, time::Duration};

use newsflow_proto::v1::{SubmitRequest, SubmitResponse};
use serde_json::json;
use support::{BrokerProxy, Ingest, amqp_url};
use tonic::Code;

const ARTICLE: &str = "Russian President Vladimir Putin warned on Friday that any Western troops \
                       deployed to Ukraine would be legitimate targets for Russia's armed forces.";

fn error_field(response: &support::HttpResponse) -> String {
    response.json()["error"]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn bad_input_over_http_gets_a_clear_error_naming_the_field() {
    let ingest = Ingest::start(
        "http-bad",
        &amqp_url(),
        &[
            ("NEWSFLOW_MAX_BODY_BYTES", "2000"),
            ("NEWSFLOW_MAX_REQUEST_BYTES", "100000"),
            ("NEWSFLOW_MAX_TITLE_CHARS", "50"),
            ("NEWSFLOW_REFUSE_UNSUPPORTED_LANGUAGES", "true"),
        ],
    )
    .await;

    let cases = [
        (json!({"body": ""}), 400, "body"),
        (json!({"title": "No body"}), 400, "body"),
        (json!({"body": "   \n\t "}), 400, "body"),
        (json!({"body": "x".repeat(2001)}), 413, "body"),
        (
            json!({"body": ARTICLE, "title": "t".repeat(51)}),
            413,
            "title",
        ),
        (json!({"body": ARTICLE, "url": "not a url"}), 400, "url"),
        (
            json!({"body": ARTICLE, "url": "ftp://example.com/a"}),
            400,
            "url",
        ),
        (
            json!({"body": ARTICLE, "published_at": "last Friday"}),
            400,
            "published_at",
        ),
        (
            json!({"body": ARTICLE, "published_at": 1756972800}),
            400,
            "published_at",
        ),
        (json!({"body": 42}), 400, "body"),
        (
            json!({"body": "Der russische Präsident Wladimir Putin warnte, dass westliche Truppen \
                            in der Ukraine legitime Ziele für die russischen Streitkräfte wären."}),
            400,
            "language",
        ),
    ];
    for (article, status, field) in cases {
        let response = ingest.post_json(&article).await;
        assert_eq!(response.status, status, "{article}: {}", response.body);
        assert_eq!(
            error_field(&response),
            field,
            "{article}: {}",
            response.body
        );
        assert!(
            !response.json()["error"]["message"]
                .as_str()
                .unwrap()
                .is_empty()
        );
    }

    let typo = ingest.post_json(&json!({"bdy": ARTICLE})).await;
    assert_eq!(typo.status, 400);
    assert!(typo.body.contains("bdy"), "{}", typo.body);

    let mut invalid_utf8 = br#"{"title": "ok", "body": "Putin "#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe]);
    invalid_utf8.extend_from_slice(br#" warned"}"#);
    let response = ingest.post(&[], &invalid_utf8).await;
    assert_eq!(response.status, 400);
    assert_eq!(error_field(&response), "body");
    assert!(response.body.contains("UTF-8"), "{}", response.body);

    let not_json = ingest.post(&[], b"body=Putin").await;
    assert_eq!(not_json.status, 400);
    assert!(not_json.body.contains("not JSON"), "{}", not_json.body);

    let huge = vec![b' '; 100_001];
    let too_large = ingest.post(&[], &huge).await;
    assert_eq!(too_large.status, 413);

    assert!(ingest.drain().await.is_empty(), "nothing bad was published");
}

#[tokio::test]
async fn bad_input_over_grpc_is_invalid_argument() {
    let ingest = Ingest::start(
        "grpc-bad",
        &amqp_url(),
        &[("NEWSFLOW_MAX_BODY_BYTES", "2000")],
    )
    .await;
    let mut client = ingest.grpc_client().await;
    let cases = [
        (SubmitRequest::default(), "body"),
        (
            SubmitRequest {
                body: "y".repeat(2001),
                ..Default::default()
            },
            "body",
        ),
        (
            SubmitRequest {
                body: ARTICLE.into(),
                url: "example.com/no-scheme".into(),
                ..Default::default()
            },
            "url",
        ),
        (
            SubmitRequest {
                body: ARTICLE.into(),
                published_at: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: 2_000_000_000,
                }),
                ..Default::default()
            },
            "published_at",
        ),
    ];
    for (request, field) in cases {
        let status = client.submit(request).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().starts_with(field), "{status:?}");
    }

    // Invalid UTF-8 in a string field cannot be built with the generated types: send the bytes.
    #[derive(Clone, PartialEq, prost::Message)]
    struct RawSubmit {
        #[prost(bytes = "vec", tag = "5")]
        body: Vec<u8>,
    }
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", ingest.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut raw = tonic::client::Grpc::new(channel);
    raw.ready().await.unwrap();
    let status = raw
        .unary::<RawSubmit, SubmitResponse, _>(
            tonic::Request::new(RawSubmit {
                body: vec![b'P', 0xff, 0xfe, b'!'],
            }),
            "/newsflow.v1.IngestService/Submit".parse().unwrap(),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("body"), "{status:?}");
    assert!(status.message().contains("UTF-8"), "{status:?}");

    assert!(ingest.drain().await.is_empty());
}

#[tokio::test]
async fn a_duplicate_is_recognized_and_not_sent_again() {
    let ingest = Ingest::start("dup", &amqp_url(), &[]).await;
    let first = ingest
        .post_json(&json!({"body": ARTICLE, "source": "test", "url": "https://example.com/a"}))
        .await;
    assert_eq!(first.status, 202, "{}", first.body);
    assert_eq!(first.json()["duplicate"], false);
    let id = first.json()["id"].as_str().unwrap().to_owned();

    // The same text with other whitespace is the same article, over either door.
    let again = ingest
        .post_json(&json!({"body": format!("  {}\n", ARTICLE.replace(' ', "  "))}))
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json(), json!({"id": id, "duplicate": true}));
    let mut client = ingest.grpc_client().await;
    let over_grpc = client
        .submit(SubmitRequest {
            body: ARTICLE.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(over_grpc.id, id);
    assert!(over_grpc.duplicate);

    // With another external id it is another article.
    let other = ingest
        .post_json(&json!({"body": ARTICLE, "external_id": "cms-42"}))
        .await;
    assert_eq!(other.status, 202);
    assert_ne!(other.json()["id"], json!(id));

    let published = ingest.drain().await;
    assert_eq!(published.len(), 2, "the duplicate went through once");
    let article = published[0].article.as_ref().unwrap();
    assert_eq!(article.id, id);
    assert_eq!(article.body, ARTICLE);
    assert_eq!(article.language, "en");
    assert_eq!(article.source, "test");
    assert!(article.ingested_at.is_some());
    assert_eq!(published[0].stages[0].stage, "ingest");
}

#[tokio::test]
async fn html_is_stripped_before_publishing() {
    let ingest = Ingest::start("html", &amqp_url(), &[]).await;
    let response = ingest
        .post_json(&json!({"body": "<article><h1>Warning</h1><p>Putin &amp; Peskov warned the West.</p><script>x()</script></article>"}))
        .await;
    assert_eq!(response.status, 202, "{}", response.body);
    let published = ingest.drain().await;
    let body = &published[0].article.as_ref().unwrap().body;
    assert!(body.contains("Putin & Peskov warned the West."), "{body}");
    assert!(!body.contains('<') && !body.contains("x()"), "{body}");
}

#[tokio::test]
async fn a_thousand_articles_over_a_grpc_stream_are_all_confirmed() {
    let ingest = Ingest::start("bulk-grpc", &amqp_url(), &[]).await;
    let mut client = ingest.grpc_client().await;
    let requests: Vec<SubmitRequest> = (0..1000)
        .map(|i| SubmitRequest {
            body: format!("{ARTICLE} Article number {i}."),
            external_id: format!("bulk-{i}"),
            ..Default::default()
        })
        .chain([SubmitRequest::default()]) // one bad article does not end the stream
        .collect();
    let mut responses = client
        .submit_stream(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let mut ids = HashSet::new();
    let mut errors = Vec::new();
    let mut index = 0;
    while let Some(response) = responses.message().await.unwrap() {
        assert_eq!(response.index, index, "answers in order");
        index += 1;
        match response.error {
            None => assert!(ids.insert(response.id)),
            Some(error) => errors.push(error),
        }
    }
    assert_eq!(ids.len(), 1000);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, "INVALID_ARGUMENT");
    assert_eq!(errors[0].field, "body");

    let published: HashSet<String> = ingest
        .drain()
        .await
        .into_iter()
        .map(|a| a.article.unwrap().id)
        .collect();
    assert_eq!(
        published, ids,
        "every confirmed article is in the queue, once"
    );
}

#[tokio::test]
async fn bulk_over_http_answers_each_item() {
    let ingest = Ingest::start("bulk-http", &amqp_url(), &[]).await;
    let ndjson: String = (0..200)
        .map(|i| json!({"body": format!("{ARTICLE} Item {i}.")}).to_string() + "\n")
        .collect::<String>()
        + "{\"body\": \"\"}\nnot json\n";
    let response = ingest
        .post(
            &[("Content-Type", "application/x-ndjson")],
            ndjson.as_bytes(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let summary = response.json();
    assert_eq!(summary["accepted"], 200);
    assert_eq!(summary["refused"], 2);
    assert_eq!(summary["results"][200]["error"]["field"], "body");
    assert_eq!(summary["results"][201]["index"], 201);

    let array = json!([{"body": format!("{ARTICLE} Item 0.")}, {"body": "A new one about NATO."}]);
    let response = ingest.post_json(&array).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["duplicates"], 1);
    assert_eq!(response.json()["accepted"], 1);
    assert_eq!(ingest.drain().await.len(), 201);
}

#[test]
fn production_setting_refuses_to_start_without_keys() {
    // NEWSFLOW_REQUIRE_API_KEYS with an empty key list: ingest exits before it listens.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_newsflow-ingest"))
        .env("NEWSFLOW_AMQP_URL", amqp_url())
        .env("NEWSFLOW_REQUIRE_API_KEYS", "true")
        .env("NEWSFLOW_API_KEYS", " , ")
        .env("NEWSFLOW_INGEST_GRPC_ADDR", "127.0.0.1:0")
        .env("NEWSFLOW_INGEST_HTTP_ADDR", "127.0.0.1:0")
        .env("NEWSFLOW_METRICS_ADDR", "off")
        .output()
        .expect("newsflow-ingest runs");
    assert!(!output.status.success(), "ingest started without keys");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("NEWSFLOW_REQUIRE_API_KEYS is set but NEWSFLOW_API_KEYS holds no key"),
        "{stderr}"
    );
}

#[tokio::test]
async fn api_keys_are_required_when_configured() {
    let ingest = Ingest::start("auth", &amqp_url(), &[("NEWSFLOW_API_KEYS", "k-one,k-two")]).await;
    let body = json!({"body": ARTICLE}).to_string();
    let refused = ingest.post(&[], body.as_bytes()).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    let wrong = ingest
        .post(&[("Authorization", "Bearer nope")], body.as_bytes())
        .await;
    assert_eq!(wrong.status, 401);
    let allowed = ingest
        .post(&[("Authorization", "Bearer k-two")], body.as_bytes())
        .await;
    assert_eq!(allowed.status, 202, "{}", allowed.body);

    let mut client = ingest.grpc_client().await;
    let status = client
        .submit(SubmitRequest {
            body: ARTICLE.into(),
            ..Default::default()
        })
        .await
        .expect_err("no key");
    assert_eq!(status.code(), Code::Unauthenticated);
    let mut request = tonic::Request::new(SubmitRequest {
        body: ARTICLE.into(),
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("authorization", "Bearer k-one".parse().unwrap());
    assert!(client.submit(request).await.unwrap().into_inner().duplicate);

    // Health and metrics stay open for probes and scrapers.
    let health = ingest.request("GET", "/healthz", &[], b"").await.unwrap();
    assert_eq!(health.status, 200);
    let metrics = ingest.request("GET", "/metrics", &[], b"").await.unwrap();
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .body
            .contains("newsflow_ingest_articles_total{outcome=\"accepted\"} 1"),
        "{}",
        metrics.body
    );
}

#[tokio::test]
async fn with_the_broker_down_ingest_answers_unavailable_and_accepts_nothing_until_it_is_back() {
    let mut proxy = BrokerProxy::start().await;
    let ingest = Ingest::start("down", &proxy.url(), &[]).await;
    let before = ingest
        .post_json(&json!({"body": "Before the outage."}))
        .await;
    assert_eq!(before.status, 202, "{}", before.body);

    proxy.down().await;
    let during = ingest.post_json(&json!({"body": ARTICLE})).await;
    assert_eq!(during.status, 503, "{}", during.body);
    assert_eq!(during.header("retry-after"), Some("5"));
    assert_eq!(during.json()["error"]["code"], "UNAVAILABLE");
    let mut client = ingest.grpc_client().await;
    let status = client
        .submit(SubmitRequest {
            body: ARTICLE.into(),
            ..Default::default()
        })
        .await
        .expect_err("broker down");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");

    proxy.up().await;
    let mut accepted = None;
    for _ in 0..50 {
        let response = ingest.post_json(&json!({"body": ARTICLE})).await;
        if response.status == 202 {
            accepted = Some(response);
            break;
        }
        assert_eq!(response.status, 503, "{}", response.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let accepted = accepted.expect("accepted once the broker is back");
    assert_eq!(
        accepted.json()["duplicate"],
        false,
        "the refused tries left no trace"
    );

    let published = ingest.drain().await;
    assert_eq!(
        published.len(),
        2,
        "before and after, nothing from the outage"
    );
}
