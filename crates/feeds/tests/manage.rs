//! Managing feeds over HTTP (`/v1/feeds`) against the real PostgreSQL: add (201, then 200 for a
//! feed followed already), list, remove (204, then 404), clear errors for a bad URL or body, and
//! the API-key check.

use newsflow_feeds::manage::{Feeds, HttpState, router};
use newsflow_runtime::ApiKeys;
use newsflow_store::Store;
use newsflow_test_support::{database::TestSchema, http};

/// Serves the routes over a fresh schema; returns the base URL and the schema (dropped with it).
async fn serve(keys: ApiKeys) -> (String, TestSchema) {
    let schema = TestSchema::new(2).await;
    let store = Store::new(schema.pool.clone());
    store.migrate().await.expect("migrations apply");
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .build_recorder()
        .handle();
    let app = router(HttpState {
        feeds: Feeds::new(store),
        keys,
        metrics,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, schema)
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test]
async fn feeds_are_added_listed_and_removed_over_http() {
    let (base, _schema) = serve(ApiKeys::default()).await;
    let feeds = format!("{base}/v1/feeds");

    let added = http::post(
        &feeds,
        &[JSON],
        r#"{"url": "http://news.test/rss.xml", "source": "Test Times"}"#,
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text());
    assert_eq!(added.json()["url"], "http://news.test/rss.xml");
    assert_eq!(added.json()["source"], "Test Times");
    let again = http::post(&feeds, &[JSON], r#"{"url": "http://news.test/rss.xml"}"#).await;
    assert_eq!(again.status, 200, "{}", again.text());

    let bad_url = http::post(&feeds, &[JSON], r#"{"url": "file:///etc/passwd"}"#).await;
    assert_eq!(bad_url.status, 400);
    assert!(
        bad_url.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("http(s)")
    );
    let bad_body = http::post(&feeds, &[JSON], r#"{"link": "http://news.test/"}"#).await;
    assert_eq!(bad_body.status, 400, "{}", bad_body.text());

    let listed = http::get(&feeds, &[]).await;
    assert_eq!(listed.status, 200);
    let list = listed.json();
    let urls: Vec<&str> = list["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, ["http://news.test/rss.xml"]);

    let removed = http::delete(&format!("{feeds}?url=http://news.test/rss.xml"), &[]).await;
    assert_eq!(removed.status, 204);
    let missing = http::delete(&format!("{feeds}?url=http://news.test/rss.xml"), &[]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        http::get(&feeds, &[]).await.json()["feeds"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    assert_eq!(http::get(&format!("{base}/healthz"), &[]).await.status, 200);
}

#[tokio::test]
async fn with_keys_configured_a_key_is_needed() {
    let (base, _schema) = serve(ApiKeys::new(["sesame".to_owned()])).await;
    let feeds = format!("{base}/v1/feeds");
    assert_eq!(http::get(&feeds, &[]).await.status, 401);
    let refused = http::post(&feeds, &[JSON], r#"{"url": "http://news.test/rss.xml"}"#).await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        http::get(&feeds, &[("authorization", "Bearer sesame")])
            .await
            .status,
        200
    );
    // Health stays open.
    assert_eq!(http::get(&format!("{base}/healthz"), &[]).await.status, 200);
}
