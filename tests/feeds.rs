//! The feeds service end to end: feeds added with `newsflow feeds add` on a running pipeline
//! bring their articles through it, from a web site this test serves on 127.0.0.1 (nothing
//! outside this machine is reached).
//!
//! The site serves an RSS 2.0, an Atom and a JSON feed of news pages dressed in navigation,
//! banners and footers; a `robots.txt` that forbids one path; an ETag on every feed; a PDF, a
//! front page with no article, a redirect loop, a page that answers 500, and a 50 MB page. A
//! second host trickles its feed slower than the fetch timeout, a third answers 500. The test
//! checks that every allowed item is stored once with its main text, the forbidden page is
//! never requested, the other refusals are counted by reason, a second poll is a conditional GET
//! that fetches nothing new, a restart of the feeds service repeats nothing, and the bad hosts are
//! reported without holding up the good one.

use std::{
    collections::HashMap,
    convert::Infallible,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::{
    Request, Response, StatusCode,
    body::{Bytes, Frame, Incoming},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use newsflow_e2e::{Options, Pipeline, assert_stored_once, root};

type Body = BoxBody<Bytes, Infallible>;

/// What the site saw: each request's path, when it started and, for the slow feed, when its
/// response ended.
#[derive(Default)]
struct Log {
    requests: Vec<(String, Instant, StatusCode)>,
    slow_feed: Vec<(Instant, Instant)>,
    big_bytes_sent: usize,
}

type Shared = Arc<Mutex<Log>>;

/// A site on 127.0.0.1: `handler` answers each request.
async fn serve(
    log: Shared,
    handler: fn(&Request<Incoming>, SocketAddr, Shared) -> Response<Body>,
) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let log = Arc::clone(&log);
                    async move {
                        let response = handler(&request, address, Arc::clone(&log));
                        let path = request.uri().path().to_owned();
                        log.lock().unwrap().requests.push((
                            path,
                            Instant::now(),
                            response.status(),
                        ));
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    address
}

fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into()).boxed()
}

fn respond(status: StatusCode, content_type: &str, body: Body) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(body)
        .expect("a response")
}

/// The news pages: (path, the first words of its text, the text).
fn articles() -> Vec<(&'static str, String)> {
    let example =
        std::fs::read_to_string(root().join("../shared/examples/western-troops-ukraine.txt"))
            .expect("the example article (../shared/examples)");
    let mut bbc = csv::Reader::from_path(root().join("../shared/data/bbc/val.csv"))
        .expect("BBC val (../shared/data)");
    let mut texts = vec![example];
    for record in bbc.records().take(3) {
        texts.push(record.expect("a BBC row")[0].to_owned());
    }
    [
        "/news/troops.html",
        "/news/bbc-1.html",
        "/news/bbc-2.html",
        "/news/bbc-3.html",
    ]
    .into_iter()
    .zip(texts)
    .collect()
}

/// A news page: the article in an `<article>`, and around it what a real page has.
fn page(headline: &str, text: &str) -> String {
    let paragraphs: String = text
        .split(['\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", p.replace('&', "&amp;").replace('<', "&lt;")))
        .collect();
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><title>{headline} | The Test Times</title>\
         <meta property=\"article:published_time\" content=\"2025-09-05T10:00:00Z\"></head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/world\">World</a> <a href=\"/sections\">All sections index</a></nav>\
         <div class=\"cookie-banner\">We use cookies to improve your experience. \
         <a href=\"/cookies\">Accept all cookies</a></div>\
         <article><h1>{headline}</h1>{paragraphs}</article>\
         <aside class=\"related\"><h2>Related stories</h2><ul><li><a href=\"/a\">Other story \
         one</a></li><li><a href=\"/b\">Other story two</a></li></ul></aside>\
         <footer>Copyright 2025 The Test Times. All rights reserved.</footer></body></html>"
    )
}

/// The good host: feeds, pages, robots.txt and the bad pages.
fn news_site(request: &Request<Incoming>, address: SocketAddr, log: Shared) -> Response<Body> {
    let base = format!("http://{address}");
    let etag = "\"v1\"";
    let feed = |content_type: &str, body: String| {
        if request
            .headers()
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            == Some(etag)
        {
            return Response::builder()
                .status(StatusCode::NOT_MODIFIED)
                .header("etag", etag)
                .body(full(""))
                .expect("a response");
        }
        let mut response = respond(StatusCode::OK, content_type, full(body));
        response
            .headers_mut()
            .insert("etag", etag.parse().expect("a header"));
        response
    };
    match request.uri().path() {
        "/robots.txt" => respond(
            StatusCode::OK,
            "text/plain",
            full("User-agent: *\nDisallow: /private/\n"),
        ),
        "/rss.xml" => feed(
            "application/rss+xml",
            format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Test Times World</title>\
             <item><title>Putin warns on Western troops</title><link>{base}/news/troops.html</link></item>\
             <item><title>Forbidden</title><link>{base}/private/secret.html</link></item>\
             <item><title>A report</title><link>{base}/files/report.pdf</link></item>\
             <item><title>Front page</title><link>{base}/index.html</link></item>\
             </channel></rss>"
            ),
        ),
        "/atom.xml" => feed(
            "application/atom+xml",
            format!(
                "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Test Times \
             Atom</title><id>urn:tt</id><updated>2025-09-05T10:00:00Z</updated>\
             <entry><title>BBC one</title><id>urn:1</id><updated>2025-09-05T10:00:00Z</updated>\
             <link rel=\"alternate\" href=\"{base}/news/bbc-1.html\"/></entry>\
             <entry><title>Loop</title><id>urn:2</id><updated>2025-09-05T10:00:00Z</updated>\
             <link href=\"{base}/loop/a\"/></entry>\
             <entry><title>Broken</title><id>urn:3</id><updated>2025-09-05T10:00:00Z</updated>\
             <link href=\"{base}/news/broken.html\"/></entry></feed>"
            ),
        ),
        "/feed.json" => feed(
            "application/feed+json",
            format!(
                "{{\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"Test Times JSON\", \
             \"items\": [{{\"id\": \"a\", \"url\": \"{base}/news/bbc-2.html\", \"title\": \"BBC two\"}}, \
             {{\"id\": \"b\", \"url\": \"{base}/news/bbc-3.html\", \"title\": \"BBC three\"}}, \
             {{\"id\": \"c\", \"url\": \"{base}/news/troops.html\", \"title\": \"Again\"}}, \
             {{\"id\": \"d\", \"url\": \"{base}/big.html\", \"title\": \"Huge\"}}]}}"
            ),
        ),
        "/files/report.pdf" => respond(
            StatusCode::OK,
            "application/pdf",
            full("%PDF-1.7 not a page"),
        ),
        "/index.html" => {
            let links: String = (0..40)
                .map(|i| format!("<li><a href=\"/news/{i}.html\">Story {i} of the day</a></li>"))
                .collect();
            respond(
                StatusCode::OK,
                "text/html",
                full(format!(
                    "<html><body><nav>Home</nav><ul>{links}</ul></body></html>"
                )),
            )
        }
        "/loop/a" => Response::builder()
            .status(StatusCode::FOUND)
            .header("location", "/loop/b")
            .body(full(""))
            .expect("a response"),
        "/loop/b" => Response::builder()
            .status(StatusCode::FOUND)
            .header("location", "/loop/a")
            .body(full(""))
            .expect("a response"),
        "/news/broken.html" => respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            full("oops"),
        ),
        "/big.html" => {
            // 50 MB, made as it is sent; the count shows how much went out before the client
            // hung up.
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let stream = futures::stream::unfold(0usize, move |sent| {
                let chunk = chunk.clone();
                let log = Arc::clone(&log);
                async move {
                    (sent < 50_000_000).then(|| {
                        log.lock().unwrap().big_bytes_sent = sent + chunk.len();
                        (
                            Ok::<_, Infallible>(Frame::data(chunk.clone())),
                            sent + chunk.len(),
                        )
                    })
                }
            });
            respond(StatusCode::OK, "text/html", StreamBody::new(stream).boxed())
        }
        path => match articles().into_iter().find(|(p, _)| *p == path) {
            Some((_, text)) => {
                // The headline is the first sentence's first words, as a page's h1 would be.
                let headline: String = text
                    .split_whitespace()
                    .take(6)
                    .collect::<Vec<_>>()
                    .join(" ");
                respond(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    full(page(&headline, &text)),
                )
            }
            None => respond(StatusCode::NOT_FOUND, "text/plain", full("not found")),
        },
    }
}

/// The slow host: its feed trickles for 8 s, past the 3 s fetch timeout.
fn slow_site(request: &Request<Incoming>, _: SocketAddr, log: Shared) -> Response<Body> {
    if request.uri().path() == "/robots.txt" {
        return respond(StatusCode::NOT_FOUND, "text/plain", full(""));
    }
    let started = Instant::now();
    let stream = futures::stream::unfold(0u32, move |sent| {
        let log = Arc::clone(&log);
        async move {
            if sent == 16 {
                log.lock()
                    .unwrap()
                    .slow_feed
                    .push((started, Instant::now()));
                return None;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            Some((
                Ok::<_, Infallible>(Frame::data(Bytes::from_static(b" "))),
                sent + 1,
            ))
        }
    });
    respond(
        StatusCode::OK,
        "application/rss+xml",
        StreamBody::new(stream).boxed(),
    )
}

/// The failing host: every request is a 500.
fn failing_site(_: &Request<Incoming>, _: SocketAddr, _: Shared) -> Response<Body> {
    respond(
        StatusCode::INTERNAL_SERVER_ERROR,
        "text/plain",
        full("down"),
    )
}

fn requests_of(log: &Shared, path: &str) -> usize {
    log.lock()
        .unwrap()
        .requests
        .iter()
        .filter(|(p, _, _)| p == path)
        .count()
}

/// `newsflow feeds status --json`: each feed's JSON by URL.
fn feeds_status(pipeline: &Pipeline) -> HashMap<String, serde_json::Value> {
    let out = pipeline.newsflow(&["feeds", "status", "--json"]);
    assert!(
        out.status.success(),
        "feeds status: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let feed: serde_json::Value = serde_json::from_str(line).expect("a feed as JSON");
            (feed["url"].as_str().expect("a url").to_owned(), feed)
        })
        .collect()
}

fn counter(feed: &serde_json::Value, name: &str) -> u64 {
    // 64-bit counters are strings in protobuf's JSON mapping; a zero is left out.
    feed["counters"][name]
        .as_str()
        .map_or(0, |n| n.parse().expect("a count"))
}

fn refused(feed: &serde_json::Value, reason: &str) -> u64 {
    feed["counters"]["refused"][reason]
        .as_str()
        .map_or(0, |n| n.parse().expect("a count"))
}

/// Items of every feed that are still pending.
async fn pending(database: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM feed_items WHERE state = 'pending'")
        .fetch_one(database)
        .await
        .expect("count pending items")
}

#[tokio::test(flavor = "multi_thread")]
async fn feeds_bring_their_articles_through_the_pipeline_politely() {
    let news: Shared = Shared::default();
    let slow: Shared = Shared::default();
    let down: Shared = Shared::default();
    let news_at = serve(Arc::clone(&news), news_site).await;
    let slow_at = serve(Arc::clone(&slow), slow_site).await;
    let down_at = serve(Arc::clone(&down), failing_site).await;

    let feeds_env = [
        ("NEWSFLOW_FEEDS_POLL_INTERVAL", "2s"),
        ("NEWSFLOW_FEEDS_MAX_BACKOFF", "4s"),
        ("NEWSFLOW_FEEDS_RETRY_DELAY", "500ms"),
        ("NEWSFLOW_FEEDS_ITEM_ATTEMPTS", "2"),
        ("NEWSFLOW_FEEDS_IDLE", "200ms"),
        ("NEWSFLOW_FEEDS_REQUEST_TIMEOUT", "3s"),
        ("NEWSFLOW_FEEDS_HOST_INTERVAL", "50ms"),
        ("NEWSFLOW_FEEDS_MAX_RESPONSE_BYTES", "4194304"),
        // The test's sites are on 127.0.0.1, which the follower refuses by default.
        ("NEWSFLOW_FEEDS_ALLOW_PRIVATE_ADDRESSES", "true"),
    ];
    let options = Options {
        env: feeds_env
            .iter()
            .map(|(k, v)| ("feeds", *k, v.to_string()))
            .collect(),
        ..Options::default()
    };
    let mut pipeline = Pipeline::start("feeds", options).await;
    pipeline.start_feeds().await;
    let database = pipeline.database().await;

    let urls = [
        format!("http://{news_at}/rss.xml"),
        format!("http://{news_at}/atom.xml"),
        format!("http://{news_at}/feed.json"),
        format!("http://{slow_at}/slow.xml"),
        format!("http://{down_at}/down.xml"),
    ];
    for url in &urls {
        let out = pipeline.newsflow(&["feeds", "add", url, "--source", "Test Times"]);
        assert!(
            out.status.success(),
            "feeds add {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let listed = pipeline.newsflow(&["feeds", "list"]);
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout).lines().count(),
        urls.len()
    );
    // Adding a feed twice changes nothing; a URL that is not one is refused with the reason.
    assert!(
        pipeline
            .newsflow(&["feeds", "add", &urls[0]])
            .status
            .success()
    );
    let bad = pipeline.newsflow(&["feeds", "add", "ftp://example.invalid/feed"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not an absolute http(s) URL"));

    // Every item of the good host is worked on to its end.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = feeds_status(&pipeline);
        let seen: u64 = urls[..3]
            .iter()
            .map(|u| counter(&status[u], "itemsSeen"))
            .sum();
        if seen == 11 && pending(&database).await == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the items were not all worked on: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let status = feeds_status(&pipeline);
    let (rss, atom, json) = (&status[&urls[0]], &status[&urls[1]], &status[&urls[2]]);
    assert_eq!(counter(rss, "articlesSubmitted"), 1, "{rss}");
    assert_eq!(refused(rss, "forbidden_by_robots"), 1, "{rss}");
    assert_eq!(refused(rss, "not_html"), 1, "{rss}");
    assert_eq!(refused(rss, "no_article"), 1, "{rss}");
    assert_eq!(counter(atom, "articlesSubmitted"), 1, "{atom}");
    assert_eq!(refused(atom, "redirect_loop"), 1, "{atom}");
    assert_eq!(refused(atom, "http_status"), 1, "{atom}");
    assert_eq!(counter(json, "articlesSubmitted"), 3, "{json}");
    assert_eq!(refused(json, "too_large"), 1, "{json}");
    assert_eq!(rss["title"], "Test Times World");

    // The forbidden page was never requested; the 50 MB page was cut off early; the 500 page
    // was tried as often as the attempts allow.
    assert_eq!(requests_of(&news, "/private/secret.html"), 0);
    assert!(
        news.lock().unwrap().big_bytes_sent < 20_000_000,
        "the big page was read too far"
    );
    assert_eq!(requests_of(&news, "/news/broken.html"), 2);

    // Every allowed article is stored once (the troops page, listed by two feeds, included),
    // with its main text and not the page around it.
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT article_id FROM feed_items WHERE state = 'submitted'")
            .fetch_all(&database)
            .await
            .expect("the submitted items");
    assert_eq!(ids.len(), 4, "four distinct articles: {ids:?}");
    let stored_deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM articles WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_one(&database)
            .await
            .expect("count stored");
        if stored == 4 {
            break;
        }
        assert!(
            Instant::now() < stored_deadline,
            "{stored} of 4 articles stored"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_stored_once(&database, &ids).await;
    let rows: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT url, source, title, body FROM articles WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(&database)
            .await
            .expect("the stored articles");
    for (url, source, title, body) in &rows {
        assert!(url.starts_with(&format!("http://{news_at}/news/")), "{url}");
        assert_eq!(source, "Test Times");
        assert!(!title.is_empty());
        for boilerplate in [
            "Accept all cookies",
            "Related stories",
            "All rights reserved",
            "All sections index",
        ] {
            assert!(
                !body.contains(boilerplate),
                "{url} kept {boilerplate:?}: {body}"
            );
        }
    }
    let troops = rows
        .iter()
        .find(|(url, ..)| url.ends_with("/news/troops.html"))
        .expect("troops");
    assert!(
        troops
            .3
            .starts_with("Russian President Vladimir Putin has warned"),
        "{}",
        troops.3
    );
    assert_eq!(
        troops.2, "Putin warns on Western troops",
        "the feed's headline"
    );

    // The bad hosts are reported (once their polls have failed: the slow one only after its
    // timeout, which the good host's items need not wait for), and they did not hold up the
    // good one: a good page was fetched while the slow feed was still trickling.
    let failing = |feed: &serde_json::Value| feed["consecutiveFailures"].as_u64().unwrap_or(0) >= 1;
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let status = feeds_status(&pipeline);
        if failing(&status[&urls[3]]) && failing(&status[&urls[4]]) {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the bad hosts were not reported: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (slow_feed, down_feed) = (&status[&urls[3]], &status[&urls[4]]);
    assert!(
        slow_feed["consecutiveFailures"].as_u64().unwrap_or(0) >= 1,
        "{slow_feed}"
    );
    assert!(
        slow_feed["lastError"]
            .as_str()
            .unwrap_or("")
            .contains("no complete response"),
        "{slow_feed}"
    );
    assert!(
        down_feed["consecutiveFailures"].as_u64().unwrap_or(0) >= 1,
        "{down_feed}"
    );
    assert!(
        down_feed["lastError"]
            .as_str()
            .unwrap_or("")
            .contains("500"),
        "{down_feed}"
    );
    let text =
        String::from_utf8_lossy(&pipeline.newsflow(&["feeds", "status"]).stdout).into_owned();
    assert!(
        text.contains("failing:") && text.contains("articles submitted 3"),
        "{text}"
    );
    {
        let slow = slow.lock().unwrap();
        let news = news.lock().unwrap();
        let (started, _) = slow
            .slow_feed
            .first()
            .copied()
            .unwrap_or((Instant::now(), Instant::now()));
        let first_slow_request = slow
            .requests
            .iter()
            .find(|(p, _, _)| p == "/slow.xml")
            .map(|(_, at, _)| *at)
            .unwrap_or(started);
        let meanwhile = news.requests.iter().any(|(p, at, _)| {
            p.starts_with("/news/")
                && *at > first_slow_request
                && *at < first_slow_request + Duration::from_secs(3)
        });
        assert!(
            meanwhile,
            "no good page was fetched while the slow feed was being read"
        );
    }

    // A second poll is a conditional GET: 304, and no page is fetched again.
    let pages_before: usize = articles().iter().map(|(p, _)| requests_of(&news, p)).sum();
    let not_modified = |log: &Shared| {
        log.lock()
            .unwrap()
            .requests
            .iter()
            .filter(|(p, _, s)| p == "/rss.xml" && *s == StatusCode::NOT_MODIFIED)
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while not_modified(&news) == 0 {
        assert!(
            Instant::now() < deadline,
            "the RSS feed was not polled again with its ETag"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A restart of the feeds service repeats nothing.
    let exit = pipeline.terminate("feeds").await;
    assert!(
        exit.success(),
        "the feeds service stops cleanly on SIGTERM: {exit}"
    );
    let polled_before = requests_of(&news, "/rss.xml");
    pipeline.restart("feeds").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while requests_of(&news, "/rss.xml") < polled_before + 2 {
        assert!(
            Instant::now() < deadline,
            "the restarted service did not poll again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let pages_after: usize = articles().iter().map(|(p, _)| requests_of(&news, p)).sum();
    assert_eq!(pages_after, pages_before, "no page was fetched again");
    assert_eq!(
        pages_before, 5,
        "each page fetched once per item that lists it"
    );
    let submitted: i64 =
        sqlx::query_scalar("SELECT count(*) FROM feed_items WHERE state = 'submitted'")
            .fetch_one(&database)
            .await
            .expect("count");
    assert_eq!(submitted, 5);

    // Removing a feed stops it and forgets its items.
    let out = pipeline.newsflow(&["feeds", "remove", &urls[4]]);
    assert!(out.status.success());
    assert!(!feeds_status(&pipeline).contains_key(&urls[4]));
    let again = pipeline.newsflow(&["feeds", "remove", &urls[4]]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("NotFound"));

    pipeline.stop().await;
}
