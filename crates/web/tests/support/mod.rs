//! Runs the real `newsflow-web` binary against a fresh database on the local PostgreSQL and a
//! bus prefix of its own on the local RabbitMQ; stores fixtures through the store, publishes
//! `article.processed` as storage would, and reads the answers over HTTP.

#![allow(dead_code)] // each test file uses a different part

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use newsflow_bus::{Outgoing, Publisher, Topology, TraceContext, topology::ARTICLE_PROCESSED};
use newsflow_proto::v1::{AnalyzedArticle, ArticleProcessed, ProcessedReason};
use newsflow_store::{Store, time::to_proto};
use newsflow_test_support::{
    broker::TestBus,
    database::TestDatabase,
    eventually, free_port,
    http::{self, Response, Streaming},
    workspace::root,
};

/// A running web service with its own database and bus prefix.
pub struct Web {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The store over the service's database, for fixtures.
    pub store: Store,
    pub bus: TestBus,
    pub database: TestDatabase,
    child: Child,
}

impl Web {
    /// A fresh, migrated database, and the service serving it (with extra environment).
    pub async fn start(name: &str, env: &[(&str, &str)]) -> Self {
        let database = TestDatabase::new(&format!("web_{name}")).await;
        let store = Store::new(database.pool(8).await);
        store.migrate().await.expect("migrations apply");
        let url = database.url.clone();
        Self::start_on(name, &url, env, store, database).await
    }

    /// The service against `database_url` (which may be down).
    pub async fn start_on(
        name: &str,
        database_url: &str,
        env: &[(&str, &str)],
        store: Store,
        database: TestDatabase,
    ) -> Self {
        let bus = TestBus::new(&format!("web-{name}"), |prefix| {
            Topology::pipeline(prefix, vec![Duration::from_secs(1)])
        })
        .await;
        let port = free_port();
        let logs = root().join("target/e2e-logs");
        std::fs::create_dir_all(&logs).expect("the log folder");
        let log = std::fs::File::create(logs.join(format!("web-{name}.log"))).expect("a log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_newsflow-web"));
        command
            .env("NEWSFLOW_DATABASE_URL", database_url)
            .env("NEWSFLOW_WEB_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env(
                "NEWSFLOW_AMQP_URL",
                newsflow_test_support::broker::amqp_url(),
            )
            .env("NEWSFLOW_BUS_PREFIX", &bus.prefix)
            .env("NEWSFLOW_METRICS_ADDR", "off")
            .env("NEWSFLOW_LOG", "info")
            .env_remove("NEWSFLOW_API_KEYS")
            .stdout(Stdio::null())
            .stderr(log);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("newsflow-web starts");
        let web = Self {
            url: format!("http://127.0.0.1:{port}"),
            store,
            bus,
            database,
            child,
        };
        let health = format!("{}/healthz", web.url);
        let mut serving = false;
        for _ in 0..600 {
            if http::answers(&health).await {
                serving = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(serving, "newsflow-web did not serve on {}", web.url);
        web
    }

    /// The process id (for its memory).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// GET `path` (with its query).
    pub async fn get(&self, path: &str) -> Response {
        http::get(&format!("{}{path}", self.url), &[]).await
    }

    /// GET `path` with headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        http::get(&format!("{}{path}", self.url), headers).await
    }

    /// GET `path`, expecting 200 and JSON.
    pub async fn json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status, 200, "GET {path}: {}", response.text());
        response.json()
    }

    /// Opens the live stream and waits for its `ready` event.
    pub async fn stream(&self) -> Sse {
        let mut stream = Sse {
            body: http::open(&format!("{}/api/v1/stream", self.url), &[]).await,
            buffer: String::new(),
        };
        assert_eq!(stream.body.status, 200);
        let (event, _) = stream.next_event().await;
        assert_eq!(event, "ready");
        stream
    }

    /// Saves `articles`.
    pub async fn save(&self, articles: &[AnalyzedArticle]) {
        for article in articles {
            self.store.save(article).await.expect("the fixture saves");
        }
    }

    /// Saves `article` and publishes it as `article.processed`, as storage does.
    pub async fn store_and_announce(&self, article: &AnalyzedArticle) {
        let outcome = self.store.save(article).await.expect("the article saves");
        let id = article
            .article
            .as_ref()
            .map(|a| a.id.clone())
            .unwrap_or_default();
        let event = ArticleProcessed {
            article: Some(article.clone()),
            stored_at: Some(to_proto(outcome.stored_at)),
            reason: ProcessedReason::Live as i32,
            duplicate_of: outcome.duplicate_of.unwrap_or_default(),
            story_id: outcome.story_id.unwrap_or(0),
        };
        let publisher = Publisher::new(self.bus.config.clone(), self.bus.topology.clone());
        publisher
            .publish(
                &Outgoing::protobuf(ARTICLE_PROCESSED, &id, &event, TraceContext::new_root())
                    .not_mandatory(),
            )
            .await
            .expect("the broker confirms");
    }
}

impl Drop for Web {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Server-Sent Events stream being read.
pub struct Sse {
    body: Streaming,
    buffer: String,
}

impl Sse {
    /// The next event's name and data; fails the test after 20 seconds without one.
    pub async fn next_event(&mut self) -> (String, String) {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let (mut event, mut data) = (String::from("message"), String::new());
                    for line in block.lines() {
                        if let Some(name) = line.strip_prefix("event:") {
                            event = name.trim().to_owned();
                        } else if let Some(value) = line.strip_prefix("data:") {
                            data.push_str(value.trim_start());
                        }
                    }
                    // Comments (keep-alives) make blocks of no data.
                    if !data.is_empty() {
                        return (event, data);
                    }
                    continue;
                }
                let chunk = self.body.next_chunk().await.expect("the stream stays open");
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .expect("an event within 20 seconds")
    }
}

/// The peak resident memory (VmHWM) and the current one (VmRSS) of process `pid`, in KiB.
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Waits up to `seconds` for `condition`.
pub async fn within(seconds: u64, condition: impl FnMut() -> bool) -> bool {
    eventually(Duration::from_secs(seconds), condition).await
}
