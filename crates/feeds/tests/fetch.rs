//! The fetcher against local HTTP servers (127.0.0.1, one per "host"): robots.txt, conditional
//! GET, redirects, timeouts, size bounds and per-host politeness, checked by what the servers
//! saw. Nothing here leaves the machine.

mod support;

use std::time::Duration;

use newsflow_feeds::fetch::{FetchError, FetchSettings, Fetched, Fetcher, Validators};
use support::{Reply, Server};
use url::Url;

/// Short timeouts, no interval (tests that check spacing set their own), and the test servers'
/// loopback addresses allowed.
fn settings() -> FetchSettings {
    FetchSettings {
        allow_private_addresses: true,
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        max_redirects: 3,
        max_response_bytes: 1024 * 1024,
        host_interval: Duration::ZERO,
        host_concurrency: 1,
        robots_cache: Duration::from_secs(3600),
        ..FetchSettings::default()
    }
}

fn fetcher(settings: FetchSettings) -> Fetcher {
    Fetcher::new(settings).expect("fetcher")
}

fn none() -> Validators {
    Validators::default()
}

fn page_body(fetched: Fetched) -> Vec<u8> {
    match fetched {
        Fetched::Page { body, .. } => body,
        Fetched::NotModified => panic!("expected a page, got NotModified"),
    }
}

#[tokio::test]
async fn robots_txt_forbidden_paths_are_never_requested() {
    let server = Server::start(|req| match req.path.as_str() {
        "/robots.txt" => Reply::ok(
            "User-agent: *\nDisallow: /private\n\n\
             User-agent: otherbot\nDisallow: /\n",
        ),
        "/go-private" => Reply::redirect("/private/page"),
        _ => Reply::ok("hello"),
    })
    .await;
    let fetcher = fetcher(settings());

    for path in ["/private", "/private/page", "/go-private"] {
        let error = fetcher.get(&server.url(path), &none()).await.unwrap_err();
        assert!(
            matches!(error, FetchError::Forbidden { .. }),
            "{path}: {error}"
        );
        assert_eq!(error.reason(), "forbidden_by_robots");
        assert!(!error.is_transient());
    }
    assert_eq!(
        page_body(fetcher.get(&server.url("/public"), &none()).await.unwrap()),
        b"hello"
    );

    let seen: Vec<String> = server.seen().into_iter().map(|s| s.path).collect();
    assert!(
        seen.iter().all(|p| !p.starts_with("/private")),
        "requested: {seen:?}"
    );
    // the redirect itself was allowed, its target was checked before it was requested
    assert_eq!(server.count("/go-private"), 1);
    assert_eq!(
        server.count("/robots.txt"),
        1,
        "robots.txt is fetched once: {seen:?}"
    );
    assert!(
        server.seen()[0]
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("newsflow-feeds/"))
    );
}

#[tokio::test]
async fn robots_txt_group_for_our_user_agent_applies() {
    let server = Server::start(|req| match req.path.as_str() {
        "/robots.txt" => Reply::ok(
            "User-agent: *\nDisallow: /\n\n\
             User-agent: newsflow-feeds\nDisallow: /not-for-feeds\n",
        ),
        _ => Reply::ok("hello"),
    })
    .await;
    let fetcher = fetcher(settings());
    assert!(fetcher.get(&server.url("/news"), &none()).await.is_ok());
    let error = fetcher
        .get(&server.url("/not-for-feeds"), &none())
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "forbidden_by_robots");
    assert_eq!(server.count("/not-for-feeds"), 0);
}

#[tokio::test]
async fn unreadable_robots_txt_stops_fetching_from_the_site_for_now() {
    let server = Server::start(|req| match req.path.as_str() {
        "/robots.txt" => Reply::status(503, "busy"),
        _ => Reply::ok("hello"),
    })
    .await;
    let fetcher = fetcher(settings());
    for _ in 0..2 {
        let error = fetcher
            .get(&server.url("/news"), &none())
            .await
            .unwrap_err();
        assert_eq!(error.reason(), "robots_unavailable", "{error}");
        assert!(error.is_transient());
    }
    assert_eq!(server.count("/news"), 0);
    // not asked again before the retry time
    assert_eq!(server.count("/robots.txt"), 1);
}

#[tokio::test]
async fn etag_and_last_modified_give_not_modified() {
    const ETAG: &str = "\"v1\"";
    const MODIFIED: &str = "Wed, 21 Oct 2015 07:28:00 GMT";
    let server = Server::start(|req| {
        if req.header("if-none-match") == Some(ETAG) {
            return Reply::Full {
                status: 304,
                headers: vec![("etag".into(), ETAG.into())],
                body: Vec::new(),
            };
        }
        Reply::ok("<rss/>")
            .with_header("etag", ETAG)
            .with_header("last-modified", MODIFIED)
    })
    .await;
    let fetcher = fetcher(settings());
    let url = server.url("/feed.xml");

    let Fetched::Page {
        final_url,
        status,
        content_type,
        validators,
        body,
    } = fetcher.get(&url, &none()).await.unwrap()
    else {
        panic!("expected a page");
    };
    assert_eq!(final_url, url);
    assert_eq!(status, 200);
    assert_eq!(content_type.as_deref(), Some("text/plain"));
    assert_eq!(body, b"<rss/>");
    assert_eq!(
        validators,
        Validators {
            etag: Some(ETAG.into()),
            last_modified: Some(MODIFIED.into()),
        }
    );

    assert_eq!(
        fetcher.get(&url, &validators).await.unwrap(),
        Fetched::NotModified
    );
    let again = server
        .seen()
        .into_iter()
        .rfind(|s| s.path == "/feed.xml")
        .unwrap();
    assert_eq!(again.header("if-none-match"), Some(ETAG));
    assert_eq!(again.header("if-modified-since"), Some(MODIFIED));
}

#[tokio::test]
async fn a_slow_host_times_out_without_holding_up_another_host() {
    let slow = Server::start(|req| match req.path.as_str() {
        "/robots.txt" => Reply::status(404, ""),
        _ => Reply::Trickle {
            every: Duration::from_millis(50),
        },
    })
    .await;
    let quick = Server::start(|_| Reply::ok("quick")).await;
    let fetcher = fetcher(FetchSettings {
        request_timeout: Duration::from_millis(1500),
        // a long interval on the slow host must not space out the quick one either
        host_interval: Duration::from_millis(200),
        ..settings()
    });

    let slow_fetch = tokio::spawn({
        let fetcher = fetcher.clone();
        let url = slow.url("/trickle");
        async move { fetcher.get(&url, &none()).await }
    });
    // wait until the slow host is answering (trickling)
    while slow.count("/trickle") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        page_body(fetcher.get(&quick.url("/a"), &none()).await.unwrap()),
        b"quick"
    );
    assert!(
        !slow_fetch.is_finished(),
        "the quick host waited for the slow one"
    );

    let error = slow_fetch.await.unwrap().unwrap_err();
    assert!(matches!(error, FetchError::Timeout { .. }), "{error}");
    assert_eq!(error.reason(), "timeout");
    assert!(error.is_transient());
    let end = slow.body_end().await;
    assert!(!end.completed && end.sent > 0);
}

#[tokio::test]
async fn server_errors_are_transient_and_not_found_is_not() {
    let server = Server::start(|req| match req.path.as_str() {
        "/broken" => Reply::status(500, "oops"),
        "/busy" => Reply::status(429, "slow down"),
        _ => Reply::status(404, "no"),
    })
    .await;
    let fetcher = fetcher(settings());
    for (path, status, transient) in [
        ("/broken", 500, true),
        ("/busy", 429, true),
        ("/gone", 404, false),
    ] {
        let error = fetcher.get(&server.url(path), &none()).await.unwrap_err();
        assert_eq!(error.reason(), "http_status");
        assert_eq!(error.http_status(), Some(status));
        assert_eq!(error.is_transient(), transient, "{error}");
    }
}

#[tokio::test]
async fn redirects_are_followed_and_loops_and_chains_stopped() {
    let server = Server::start(|req| {
        let path = req.path.as_str();
        if let Some(n) = path.strip_prefix("/chain/") {
            let n: u32 = n.parse().unwrap();
            return Reply::redirect(&format!("/chain/{}", n + 1));
        }
        match path {
            "/old" => Reply::redirect("/new"),
            "/new" => Reply::ok("moved here"),
            "/a" => Reply::redirect("/b"),
            "/b" => Reply::redirect("/a"),
            "/elsewhere" => Reply::redirect("ftp://example.invalid/file"),
            _ => Reply::status(404, ""),
        }
    })
    .await;
    let fetcher = fetcher(settings());

    let Fetched::Page {
        final_url, body, ..
    } = fetcher.get(&server.url("/old"), &none()).await.unwrap()
    else {
        panic!("expected a page");
    };
    assert_eq!(final_url, server.url("/new"));
    assert_eq!(body, b"moved here");

    let error = fetcher.get(&server.url("/a"), &none()).await.unwrap_err();
    assert!(matches!(error, FetchError::RedirectLoop { .. }), "{error}");
    assert_eq!(error.reason(), "redirect_loop");
    assert_eq!((server.count("/a"), server.count("/b")), (1, 1));

    let error = fetcher
        .get(&server.url("/chain/0"), &none())
        .await
        .unwrap_err();
    assert!(
        matches!(error, FetchError::TooManyRedirects { limit: 3, .. }),
        "{error}"
    );
    assert_eq!(error.reason(), "too_many_redirects");
    let chain = server
        .seen()
        .iter()
        .filter(|s| s.path.starts_with("/chain/"))
        .count();
    assert_eq!(chain, 4, "the URL asked for and three redirects");

    let error = fetcher
        .get(&server.url("/elsewhere"), &none())
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "invalid_url", "{error}");
}

#[tokio::test]
async fn a_body_over_the_bound_is_cut_off_while_streaming() {
    const FIFTY_MB: u64 = 50 * 1024 * 1024;
    let server = Server::start(|req| match req.path.as_str() {
        "/robots.txt" => Reply::status(404, ""),
        _ => Reply::Stream {
            total: FIFTY_MB,
            declare_length: false,
        },
    })
    .await;
    let fetcher = fetcher(settings());
    let error = fetcher
        .get(&server.url("/huge"), &none())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            FetchError::TooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.reason(), "too_large");
    assert!(!error.is_transient());
    let end = server.body_end().await;
    assert!(!end.completed, "the server sent it all: {end:?}");
    assert!(end.sent < FIFTY_MB / 2, "{end:?}");
}

#[tokio::test]
async fn a_declared_length_over_the_bound_is_refused_before_reading() {
    const FIFTY_MB: u64 = 50 * 1024 * 1024;
    let server = Server::start(|req| match req.path.as_str() {
        "/robots.txt" => Reply::status(404, ""),
        _ => Reply::Stream {
            total: FIFTY_MB,
            declare_length: true,
        },
    })
    .await;
    let fetcher = fetcher(settings());
    let error = fetcher
        .get(&server.url("/huge"), &none())
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "too_large", "{error}");
    let end = server.body_end().await;
    assert!(!end.completed && end.sent < FIFTY_MB / 2, "{end:?}");
}

/// Gaps between the arrivals of consecutive requests at a server.
fn gaps(server: &Server) -> Vec<Duration> {
    let seen = server.seen();
    seen.windows(2).map(|w| w[1].at - w[0].at).collect()
}

#[tokio::test]
async fn requests_to_one_host_are_at_least_the_interval_apart() {
    let interval = Duration::from_millis(300);
    let server = Server::start(|_| Reply::ok("x")).await;
    let fetcher = fetcher(FetchSettings {
        host_interval: interval,
        ..settings()
    });
    // concurrent fetches to one host are spaced too, not only consecutive ones
    let (url_a, url_b, no_validators) = (server.url("/a"), server.url("/b"), none());
    let (a, b) = tokio::join!(
        fetcher.get(&url_a, &no_validators),
        fetcher.get(&url_b, &no_validators)
    );
    a.unwrap();
    b.unwrap();
    fetcher.get(&server.url("/c"), &none()).await.unwrap();

    let gaps = gaps(&server);
    assert_eq!(
        gaps.len(),
        3,
        "robots.txt and three pages: {:?}",
        server.seen()
    );
    // a little slack: the server stamps arrival, the fetcher spaces the starts
    let least = interval - Duration::from_millis(50);
    assert!(gaps.iter().all(|gap| *gap >= least), "gaps {gaps:?}");
}

#[tokio::test]
async fn crawl_delay_raises_the_interval_of_its_host() {
    let server = Server::start(|req| match req.path.as_str() {
        "/robots.txt" => Reply::ok("User-agent: *\nCrawl-delay: 0.4\n"),
        _ => Reply::ok("x"),
    })
    .await;
    let fetcher = fetcher(settings());
    fetcher.get(&server.url("/a"), &none()).await.unwrap();
    fetcher.get(&server.url("/b"), &none()).await.unwrap();
    let gaps = gaps(&server);
    // robots.txt → /a uses the configured interval (zero), /a → /b the crawl delay
    assert!(gaps[1] >= Duration::from_millis(350), "gaps {gaps:?}");
}

#[tokio::test]
async fn an_unreachable_host_is_a_transient_failure() {
    let addr = format!("127.0.0.1:{}", newsflow_test_support::free_port());
    let fetcher = fetcher(settings());
    let url = url::Url::parse(&format!("http://{addr}/feed")).unwrap();
    let error = fetcher.get(&url, &none()).await.unwrap_err();
    // robots.txt is asked for first; it cannot be read, so the page is not tried
    assert_eq!(error.reason(), "robots_unavailable", "{error}");
    assert!(error.is_transient());
    assert!(error.to_string().contains("cannot connect"), "{error}");
}

#[tokio::test]
async fn gzip_bodies_are_decoded() {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&b"<item/>".repeat(100)).unwrap();
    let packed = encoder.finish().unwrap();
    let server = Server::start(move |req| {
        assert_eq!(req.header("accept-encoding"), Some("gzip"));
        Reply::Full {
            status: 200,
            headers: vec![("content-encoding".into(), "gzip".into())],
            body: packed.clone(),
        }
    })
    .await;
    let fetcher = fetcher(settings());
    let body = page_body(fetcher.get(&server.url("/feed"), &none()).await.unwrap());
    assert_eq!(body, b"<item/>".repeat(100));
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let server = Server::start(|_| Reply::ok("hello")).await;
    let refusing = fetcher(FetchSettings {
        allow_private_addresses: false,
        ..settings()
    });
    // By address, and by a name that resolves to it: nothing is requested, not even robots.txt.
    let by_address = server.url("/page");
    let by_name = Url::parse(&format!(
        "http://localhost:{}/page",
        by_address.port().expect("a port")
    ))
    .unwrap();
    for url in [&by_address, &by_name] {
        let error = refusing.get(url, &none()).await.unwrap_err();
        assert!(
            matches!(error, FetchError::PrivateAddress { .. }),
            "{url}: {error}"
        );
        assert_eq!(error.reason(), "private_address");
        assert!(!error.is_transient());
    }
    for metadata in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/",
    ] {
        let error = refusing
            .get(&Url::parse(metadata).unwrap(), &none())
            .await
            .unwrap_err();
        assert!(
            matches!(error, FetchError::PrivateAddress { .. }),
            "{metadata}: {error}"
        );
    }
    assert!(server.seen().is_empty(), "nothing reached the server");

    let allowing = fetcher(settings());
    assert_eq!(
        page_body(allowing.get(&by_name, &none()).await.unwrap()),
        b"hello"
    );
}
