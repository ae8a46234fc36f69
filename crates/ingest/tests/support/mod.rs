//! Runs the real `newsflow-ingest` binary against the local RabbitMQ under a unique exchange and
//! queue prefix, with a small HTTP client and a TCP proxy that can take "the broker" away.

#![allow(dead_code)] // each test file uses a different part

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::Duration,
};

use newsflow_bus::Topology;
use newsflow_proto::v1::AnalyzedArticle;
use newsflow_test_support::{broker, unique_name};
pub use newsflow_test_support::{broker::amqp_url, free_port};
use prost::Message;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    task::JoinHandle,
};

/// The retry delay ingest is started with (its topology is declared with it).
const RETRY_DELAY: Duration = Duration::from_secs(1);

fn broker_addr() -> SocketAddr {
    let url = amqp_url();
    let host_port = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5672");
    host_port.parse().expect("AMQP_URL host:port")
}

/// A running ingest process and the names it publishes under.
pub struct Ingest {
    pub prefix: String,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    child: Child,
}

impl Ingest {
    /// Starts ingest with extra environment variables, against `amqp_url` (the broker, or a
    /// proxy in front of it), and waits until it serves HTTP.
    pub async fn start(name: &str, amqp_url: &str, env: &[(&str, &str)]) -> Self {
        let prefix = unique_name(&format!("test-ingest-{name}"), '-');
        let grpc: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_newsflow-ingest"));
        command
            .env("NEWSFLOW_AMQP_URL", amqp_url)
            .env("NEWSFLOW_BUS_PREFIX", &prefix)
            .env("NEWSFLOW_RETRY_DELAYS", "1s")
            .env("NEWSFLOW_CONFIRM_TIMEOUT", "3s")
            .env("NEWSFLOW_INGEST_GRPC_ADDR", grpc.to_string())
            .env("NEWSFLOW_INGEST_HTTP_ADDR", http.to_string())
            .env("NEWSFLOW_METRICS_ADDR", "off")
            .env("NEWSFLOW_LOG", "warn")
            .stdout(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("newsflow-ingest starts");
        let ingest = Self {
            prefix,
            grpc,
            http,
            child,
        };
        for _ in 0..200 {
            if let Ok(response) = ingest.request("GET", "/healthz", &[], b"").await
                && response.status == 200
            {
                return ingest;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("ingest did not start serving HTTP on {}", ingest.http);
    }

    pub fn work_queue(&self) -> String {
        format!("{}.extractor", self.prefix)
    }

    /// One HTTP/1.1 request, `Connection: close`.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<HttpResponse> {
        let mut stream = TcpStream::connect(self.http).await?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok(HttpResponse::parse(&raw))
    }

    /// The most memory the ingest process has held (VmHWM), in KiB.
    pub fn peak_memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the process's status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }

    /// POSTs `body` to `/v1/articles` with `headers`.
    pub async fn post(&self, headers: &[(&str, &str)], body: &[u8]) -> HttpResponse {
        self.request("POST", "/v1/articles", headers, body)
            .await
            .expect("HTTP request")
    }

    /// POSTs JSON to `/v1/articles`.
    pub async fn post_json(&self, body: &serde_json::Value) -> HttpResponse {
        let json = [("Content-Type", "application/json")];
        self.post(&json, body.to_string().as_bytes()).await
    }

    pub async fn grpc_client(
        &self,
    ) -> newsflow_proto::v1::ingest_service_client::IngestServiceClient<tonic::transport::Channel>
    {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", self.grpc))
            .unwrap()
            .connect()
            .await
            .expect("gRPC connects");
        newsflow_proto::v1::ingest_service_client::IngestServiceClient::new(channel)
    }

    /// Takes every message from the work queue (acking it) and decodes it.
    pub async fn drain(&self) -> Vec<AnalyzedArticle> {
        broker::drain(&self.work_queue())
            .await
            .iter()
            .map(|delivery| AnalyzedArticle::decode(delivery.data.as_slice()).expect("protobuf"))
            .collect()
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        broker::delete_later(Topology::pipeline(self.prefix.clone(), vec![RETRY_DELAY]));
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    fn parse(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        Self {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// A TCP proxy in front of the broker that a test can stop (the broker is "down": connections
/// are cut and new ones refused) and start again on the same port.
pub struct BrokerProxy {
    pub port: u16,
    task: Option<JoinHandle<()>>,
}

impl BrokerProxy {
    pub async fn start() -> Self {
        let mut proxy = Self {
            port: free_port(),
            task: None,
        };
        proxy.up().await;
        proxy
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    pub async fn up(&mut self) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket
            .bind(format!("127.0.0.1:{}", self.port).parse().unwrap())
            .expect("proxy port free");
        let listener = socket.listen(64).unwrap();
        let upstream = broker_addr();
        self.task = Some(tokio::spawn(async move {
            let mut pipes = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                pipes.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }));
    }

    /// Cuts every connection and refuses new ones.
    pub async fn down(&mut self) {
        if let Some(task) = self.task.take() {
            // Aborting the accept loop drops the listener and the JoinSet, which aborts every
            // pipe and closes both ends.
            task.abort();
            let _ = task.await;
        }
    }
}
