//! The end-to-end harness: the four service binaries (and, when a test asks, the feeds service)
//! started against the local RabbitMQ and PostgreSQL under a unique bus prefix and database, fed and followed through the `newsflow`
//! command (`submit`, `tail`, `get`, `entity`) as a user would, and killed or restarted at will.
//!
//! The binaries are the ones `cargo build --workspace --all-targets` leaves in the target folder;
//! `cargo test --workspace` builds them too (each service has integration tests of its own).
//! Each service's log goes to `target/e2e-logs/<prefix>-<service>.log`.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use newsflow_bus::{Topology, topology::ARTICLE_PROCESSED};
use newsflow_proto::v1::ArticleProcessed;
pub use newsflow_test_support::workspace::{binary, root};
use newsflow_test_support::{
    broker::{self, amqp_url},
    database::TestDatabase,
    free_port, unique_name,
};
use sqlx::PgPool;

/// The services in the order they start: each one's consumers find their queues, and ingest
/// can ask storage about duplicates.
pub const SERVICES: [&str; 4] = ["storage", "stance", "extractor", "ingest"];

/// The retry delay every process here uses (short, so retried work is seen within a test).
const RETRY_DELAYS: &str = "1s";
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// How a pipeline is set up.
#[derive(Clone, Debug)]
pub struct Options {
    /// `accurate` or `fast` (both the extractor and stance load the NER models).
    pub ner_mode: &'static str,
    /// Topics the stance service treats as targets.
    pub topics: &'static str,
    /// Extra environment per service.
    pub env: Vec<(&'static str, &'static str, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            ner_mode: "accurate",
            topics: "",
            env: Vec::new(),
        }
    }
}

/// A running pipeline: four service processes, a database and a bus prefix of its own.
pub struct Pipeline {
    pub prefix: String,
    pub database: TestDatabase,
    pub ingest_grpc: String,
    pub ingest_http: String,
    pub storage_grpc: String,
    grpc_ports: HashMap<&'static str, u16>,
    options: Options,
    children: HashMap<&'static str, Child>,
    replicas: Vec<Child>,
    logs: PathBuf,
    /// Set by [`Pipeline::stop`]; a pipeline dropped without it keeps its database.
    stopped: bool,
}

impl Pipeline {
    /// Creates the database and starts the four services, each serving before the next starts.
    pub async fn start(name: &str, options: Options) -> Self {
        let prefix = unique_name(&format!("e2e-{name}"), '-');
        let database = TestDatabase::new(&format!("e2e_{name}")).await;
        let grpc_ports: HashMap<&'static str, u16> = SERVICES
            .iter()
            .map(|&service| (service, free_port()))
            .collect();
        let ingest_http = format!("http://127.0.0.1:{}", free_port());
        let logs = root().join("target/e2e-logs");
        std::fs::create_dir_all(&logs).expect("the log folder");
        let mut pipeline = Self {
            ingest_grpc: format!("http://127.0.0.1:{}", grpc_ports["ingest"]),
            storage_grpc: format!("http://127.0.0.1:{}", grpc_ports["storage"]),
            ingest_http,
            prefix,
            database,
            grpc_ports,
            options,
            children: HashMap::new(),
            replicas: Vec::new(),
            logs,
            stopped: false,
        };
        for service in SERVICES {
            pipeline.spawn(service);
            pipeline.wait_serving(service).await;
        }
        pipeline
    }

    fn spawn(&mut self, service: &'static str) {
        let child = self.spawn_process(service, self.grpc_ports[service], service);
        self.children.insert(service, child);
    }

    /// Starts one more replica of a worker (`extractor`, `stance`, `storage`) beside the first,
    /// consuming the same queue, and waits until it serves.
    pub async fn add_replica(&mut self, service: &'static str) {
        let port = free_port();
        let name = format!("{service}-{}", self.replicas.len() + 2);
        let child = self.spawn_process(service, port, &name);
        self.replicas.push(child);
        let address = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(180);
        while !serving(&address).await {
            assert!(Instant::now() < deadline, "replica {name} did not serve");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn spawn_process(&self, service: &'static str, grpc_port: u16, log_name: &str) -> Child {
        let log_path = self.logs.join(format!("{}-{log_name}.log", self.prefix));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("the service log");
        let grpc = format!("127.0.0.1:{grpc_port}");
        let mut command = Command::new(binary(&format!("newsflow-{service}")));
        command
            .current_dir(root())
            .env("NEWSFLOW_AMQP_URL", amqp_url())
            .env("NEWSFLOW_BUS_PREFIX", &self.prefix)
            .env("NEWSFLOW_RETRY_DELAYS", RETRY_DELAYS)
            .env("NEWSFLOW_CONFIRM_TIMEOUT", "5s")
            .env("NEWSFLOW_SHUTDOWN_GRACE", "5s")
            .env("NEWSFLOW_METRICS_ADDR", "off")
            .env("NEWSFLOW_LOG", "info")
            .env("NEWSFLOW_NER_MODE", self.options.ner_mode)
            .env("HOSTNAME", format!("{log_name}-e2e"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        match service {
            "storage" => {
                command
                    .env("NEWSFLOW_STORAGE_GRPC_ADDR", &grpc)
                    .env("NEWSFLOW_DATABASE_URL", &self.database.url);
            }
            "stance" => {
                command
                    .env("NEWSFLOW_STANCE_GRPC_ADDR", &grpc)
                    .env("NEWSFLOW_TOPICS", self.options.topics);
            }
            "extractor" => {
                command.env("NEWSFLOW_EXTRACTOR_GRPC_ADDR", &grpc);
            }
            "feeds" => {
                command
                    .env("NEWSFLOW_FEEDS_GRPC_ADDR", &grpc)
                    .env(
                        "NEWSFLOW_FEEDS_HTTP_ADDR",
                        format!("127.0.0.1:{}", free_port()),
                    )
                    .env("NEWSFLOW_DATABASE_URL", &self.database.url)
                    .env("NEWSFLOW_INGEST_ADDR", &self.ingest_grpc);
            }
            "ingest" => {
                command
                    .env("NEWSFLOW_INGEST_GRPC_ADDR", &grpc)
                    .env(
                        "NEWSFLOW_INGEST_HTTP_ADDR",
                        self.ingest_http.trim_start_matches("http://"),
                    )
                    .env("NEWSFLOW_STORAGE_ADDR", &self.storage_grpc);
            }
            other => panic!("no service {other}"),
        }
        for (target, key, value) in &self.options.env {
            if *target == service {
                command.env(key, value);
            }
        }
        command
            .spawn()
            .unwrap_or_else(|e| panic!("starting newsflow-{service}: {e}"))
    }

    /// Starts the feeds service (not one of the four stages: a pipeline runs without it) with
    /// the options' `feeds` environment, and waits until it serves.
    pub async fn start_feeds(&mut self) {
        self.grpc_ports.insert("feeds", free_port());
        self.spawn("feeds");
        self.wait_serving("feeds").await;
    }

    /// Waits until the service answers its gRPC health check with SERVING.
    pub async fn wait_serving(&mut self, service: &'static str) {
        let address = format!("http://127.0.0.1:{}", self.grpc_ports[service]);
        let deadline = Instant::now() + Duration::from_secs(180);
        while Instant::now() < deadline {
            if let Some(child) = self.children.get_mut(service)
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "newsflow-{service} exited ({status}): see {}",
                    self.log_path(service)
                );
            }
            if serving(&address).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "newsflow-{service} did not serve within 3 minutes: see {}",
            self.log_path(service)
        );
    }

    pub fn log_path(&self, service: &str) -> String {
        self.logs
            .join(format!("{}-{service}.log", self.prefix))
            .display()
            .to_string()
    }

    /// `kill -9` of a service: no shutdown, no acks; what it held goes back to its queue.
    pub fn kill(&mut self, service: &'static str) {
        let mut child = self.children.remove(service).expect("the service runs");
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
    }

    /// SIGTERM to a service, as `docker stop` sends: it finishes what it holds and exits.
    /// Waits for the exit (a minute at most) and returns its status.
    pub async fn terminate(&mut self, service: &'static str) -> std::process::ExitStatus {
        let mut child = self.children.remove(service).expect("the service runs");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM to newsflow-{service}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().expect("the child's status") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "newsflow-{service} did not stop within a minute of SIGTERM: see {}",
                self.log_path(service)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts a service again, as it was configured, and waits until it serves.
    pub async fn restart(&mut self, service: &'static str) {
        self.spawn(service);
        self.wait_serving(service).await;
    }

    /// Runs the `newsflow` command with this pipeline's addresses and bus in its environment.
    pub fn newsflow(&self, args: &[&str]) -> std::process::Output {
        self.newsflow_command(args)
            .output()
            .expect("the newsflow command runs")
    }

    /// The `newsflow` command with this pipeline's addresses and bus in its environment.
    pub fn newsflow_command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary("newsflow"));
        command
            .current_dir(root())
            .args(args)
            .env("NEWSFLOW_AMQP_URL", amqp_url())
            .env("NEWSFLOW_BUS_PREFIX", &self.prefix)
            .env("NEWSFLOW_RETRY_DELAYS", RETRY_DELAYS)
            .env("NEWSFLOW_INGEST_GRPC", &self.ingest_grpc)
            .env("NEWSFLOW_STORAGE_ADDR", &self.storage_grpc)
            .stdin(Stdio::null());
        if let Some(port) = self.grpc_ports.get("feeds") {
            command.env("NEWSFLOW_FEEDS_ADDR", format!("http://127.0.0.1:{port}"));
        }
        command
    }

    /// `newsflow submit ARGS --json`: one outcome per article, in input order.
    pub fn submit(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let mut all = vec!["submit", "--json"];
        all.extend_from_slice(args);
        let output = self.newsflow(&all);
        let stderr = String::from_utf8_lossy(&output.stderr);
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("submit printed {line:?} ({e}); stderr: {stderr}"))
            })
            .collect()
    }

    /// Starts `newsflow tail --durable events`, its queue declared before this returns, so
    /// that no event published from now on is missed.
    pub async fn tail(&self) -> Tail {
        let name = "events";
        let topology = Topology::new(
            self.prefix.clone(),
            vec![RETRY_DELAY],
            [(format!("tail.{name}").as_str(), ARTICLE_PROCESSED)],
        );
        let connection = broker::connect().await;
        let channel = connection.create_channel().await.expect("channel");
        topology
            .declare(&channel)
            .await
            .expect("declare the tail queue");
        let _ = connection.close(200, "declared".into()).await;

        let mut child = self
            .newsflow_command(&["tail", "--durable", name])
            .env("NEWSFLOW_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("newsflow tail starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let event: ArticleProcessed = newsflow_proto::json::from_json(&line)
                    .unwrap_or_else(|e| {
                        panic!("tail printed {line:?}, not an ArticleProcessed: {e}")
                    });
                sink.lock().expect("events").push((Instant::now(), event));
            }
        });
        Tail { child, events }
    }

    /// A connection pool on this pipeline's database.
    pub async fn database(&self) -> PgPool {
        PgPool::connect(&self.database.url)
            .await
            .expect("the pipeline's database")
    }

    /// Ready messages in one of this pipeline's queues (`extractor`, `stance`, `storage`).
    pub async fn ready_in(&self, stage: &str) -> u32 {
        broker::ready(&format!("{}.{stage}", self.prefix)).await
    }

    /// Waits until the extractor is in the middle of a batch of `total`: it has taken some
    /// articles (at least 8 are gone from its queue) while others still wait there.
    pub async fn wait_mid_batch(&self, total: usize) {
        for _ in 0..1200 {
            let ready = self.ready_in("extractor").await as usize;
            assert!(
                ready > 0,
                "the extractor finished the batch before it could be interrupted"
            );
            if ready <= total.saturating_sub(8) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the extractor never started on the batch");
    }

    /// `newsflow submit ARGS`, every article accepted: their ids, in input order.
    pub fn submit_accepted(&self, args: &[&str]) -> Vec<String> {
        self.submit(args)
            .iter()
            .map(|outcome| {
                assert_eq!(outcome["outcome"], "accepted", "{outcome}");
                outcome["id"].as_str().expect("an id").to_owned()
            })
            .collect()
    }

    /// Stops the services and removes the database and the broker objects.
    pub async fn stop(mut self) {
        for mut child in self
            .children
            .drain()
            .map(|(_, c)| c)
            .chain(self.replicas.drain(..))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.stopped = true;
        // The stages' queues, and the one `tail` binds.
        let stages = Topology::pipeline(self.prefix.clone(), vec![RETRY_DELAY]);
        let tail = Topology::new(
            self.prefix.clone(),
            vec![RETRY_DELAY],
            [("tail.events", ARTICLE_PROCESSED)],
        );
        let connection = broker::connect().await;
        let channel = connection.create_channel().await.expect("channel");
        for topology in [tail, stages] {
            let _ = topology.delete(&channel).await;
        }
        let _ = connection.close(200, "cleaned".into()).await;
        // The database goes with `self`.
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        // A failed test leaves no processes behind (its queues and database stay, for a look).
        if !self.stopped {
            self.database.keep();
        }
        for child in self.children.values_mut().chain(self.replicas.iter_mut()) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn serving(address: &str) -> bool {
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let Ok(endpoint) = tonic::transport::Endpoint::from_shared(address.to_owned()) else {
        return false;
    };
    let Ok(channel) = endpoint
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await
    else {
        return false;
    };
    let answer = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await;
    matches!(answer, Ok(response) if response.get_ref().status == 1)
}

/// A pipeline in the middle of a batch of `articles` BBC articles, for the tests that
/// interrupt it: started with a small extractor prefetch (so most of the batch stays queued),
/// followed by `newsflow tail`, the batch accepted, and the extractor part-way through it.
pub async fn batch_in_flight(name: &str, articles: usize) -> (Pipeline, Tail, Vec<String>) {
    let pipeline = Pipeline::start(
        name,
        Options {
            env: vec![("extractor", "NEWSFLOW_PREFETCH", "4".into())],
            ..Options::default()
        },
    )
    .await;
    let tail = pipeline.tail().await;
    let csv = bbc_csv(articles, &scratch(name).join("bbc.csv"));
    let ids = pipeline.submit_accepted(&[csv.to_str().expect("a UTF-8 path")]);
    assert_eq!(ids.len(), articles);
    pipeline.wait_mid_batch(articles).await;
    (pipeline, tail, ids)
}

/// Waits for every article of `ids` to come out, checks each was announced and stored once,
/// and returns how many events came (re-announcements, and other articles', included).
pub async fn assert_all_announced_and_stored_once(
    pipeline: &Pipeline,
    tail: &Tail,
    ids: &[String],
) -> usize {
    let events = tail
        .wait_for(ids, Duration::from_secs(900), Duration::from_secs(3))
        .await;
    let announced: std::collections::HashSet<String> = events.iter().map(event_id).collect();
    let missing: Vec<&String> = ids.iter().filter(|id| !announced.contains(*id)).collect();
    assert!(missing.is_empty(), "never announced: {missing:?}");
    assert_stored_once(&pipeline.database().await, ids).await;
    events.len()
}

/// A running `newsflow tail` and the events it has printed so far.
pub struct Tail {
    child: Child,
    /// Each event with when it was printed.
    events: Arc<Mutex<Vec<(Instant, ArticleProcessed)>>>,
}

impl Tail {
    /// The events printed so far.
    pub fn events(&self) -> Vec<ArticleProcessed> {
        let events = self.events.lock().expect("events");
        events.iter().map(|(_, event)| event.clone()).collect()
    }

    /// When each event printed so far came, in order.
    pub fn arrivals(&self) -> Vec<Instant> {
        let events = self.events.lock().expect("events");
        events.iter().map(|(at, _)| *at).collect()
    }

    /// Waits until events for every id in `ids` have been printed, then `settle` longer for
    /// any duplicate to show; panics after `timeout`, naming the ids still missing.
    pub async fn wait_for(
        &self,
        ids: &[String],
        timeout: Duration,
        settle: Duration,
    ) -> Vec<ArticleProcessed> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen: std::collections::HashSet<String> =
                self.events().iter().map(event_id).collect();
            let missing: Vec<&String> = ids.iter().filter(|id| !seen.contains(*id)).collect();
            if missing.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {} articles never came out as article.processed within {timeout:?}: {:?}",
                missing.len(),
                ids.len(),
                &missing[..missing.len().min(5)]
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        tokio::time::sleep(settle).await;
        self.events()
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The article id of an event.
pub fn event_id(event: &ArticleProcessed) -> String {
    event
        .article
        .as_ref()
        .and_then(|document| document.article.as_ref())
        .map(|article| article.id.clone())
        .unwrap_or_default()
}

impl Pipeline {
    /// The messages parked in this pipeline's dead-letter queues, as `newsflow dead-letters
    /// list` prints them (one JSON object each: `message_id`, `reason`, ...).
    pub fn dead_letters(&self) -> Vec<serde_json::Value> {
        let listed = self.newsflow(&["dead-letters", "list"]);
        assert!(
            listed.status.success(),
            "{}",
            String::from_utf8_lossy(&listed.stderr)
        );
        String::from_utf8_lossy(&listed.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }
}

/// The first `count` articles of the BBC validation set, as a CSV file `newsflow submit` reads.
pub fn bbc_csv(count: usize, path: &Path) -> PathBuf {
    let source = root().join("../shared/data/bbc/val.csv");
    let mut reader = csv::Reader::from_path(&source).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared data sits beside the checkout)",
            source.display()
        )
    });
    let mut writer = csv::Writer::from_path(path).expect("a temporary CSV");
    writer.write_record(["text", "category"]).expect("header");
    for record in reader.records().take(count) {
        writer
            .write_record(&record.expect("a BBC row"))
            .expect("row");
    }
    writer.flush().expect("flushed");
    path.to_owned()
}

/// A scratch folder under the target folder, unique to this process and `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = root()
        .join("target/e2e-scratch")
        .join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Asserts each article is stored once, whole: one row, and as many entity, statement and
/// stance rows as its stored document holds (a redelivery replaced them rather than adding).
pub async fn assert_stored_once(database: &PgPool, ids: &[String]) {
    let rows: Vec<(String, i32, i32, i32, i64, i64, i64)> = sqlx::query_as(
        "SELECT a.id, a.entity_count, a.statement_count, a.stance_count, \
             (SELECT count(*) FROM article_entities e WHERE e.article_id = a.id), \
             (SELECT count(*) FROM statements s WHERE s.article_id = a.id), \
             (SELECT count(*) FROM stances t WHERE t.article_id = a.id) \
         FROM articles a WHERE a.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(database)
    .await
    .expect("query the stored articles");
    assert_eq!(rows.len(), ids.len(), "every article is stored, and once");
    for (id, entities, statements, stances, entity_rows, statement_rows, stance_rows) in rows {
        assert_eq!(
            (entities as i64, statements as i64, stances as i64),
            (entity_rows, statement_rows, stance_rows),
            "article {id}: its rows match its document"
        );
    }
}
