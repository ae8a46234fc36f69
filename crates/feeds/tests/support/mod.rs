//! A tiny HTTP/1.1 server on 127.0.0.1 for the fetch tests: one request per connection, every
//! request logged (path, headers, arrival time), replies chosen by the test, including bodies
//! that trickle or never end, so a test can see what the fetcher did and did not ask for.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::Notify,
    time::Instant,
};
use url::Url;

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the server answers a request.
pub enum Reply {
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// 200, then one byte of body every `every`, until the client goes away.
    Trickle { every: Duration },
    /// 200 with `total` bytes of body produced as they are written (chunked, or with a
    /// Content-Length when `declare_length`), until done or the client goes away.
    Stream { total: u64, declare_length: bool },
}

impl Reply {
    pub fn ok(body: &str) -> Self {
        Self::status(200, body)
    }

    pub fn status(status: u16, body: &str) -> Self {
        Reply::Full {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn redirect(location: &str) -> Self {
        Reply::Full {
            status: 302,
            headers: vec![("location".into(), location.into())],
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Reply::Full { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

/// How a streamed or trickled body ended.
#[derive(Clone, Copy, Debug)]
pub struct BodyEnd {
    /// Body bytes written before the end.
    pub sent: u64,
    /// Whether the whole body was written (false: the client went away).
    pub completed: bool,
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

pub struct Server {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    seen: Mutex<Vec<Seen>>,
    body_ends: Mutex<Vec<BodyEnd>>,
    body_ended: Notify,
}

impl Server {
    /// Starts a server answering with `handler`; a robots.txt the handler does not answer
    /// gets a 404 from it like any other path.
    pub async fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            seen: Mutex::new(Vec::new()),
            body_ends: Mutex::new(Vec::new()),
            body_ended: Notify::new(),
        });
        let handler: Arc<Handler> = Arc::new(handler);
        let accepting = Arc::clone(&shared);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = Arc::clone(&accepting);
                let handler = Arc::clone(&handler);
                tokio::spawn(async move { serve(stream, &shared, &*handler).await });
            }
        });
        Self { addr, shared }
    }

    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Requests received for exactly this path.
    pub fn count(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path == path).count()
    }

    /// Waits (at most 10 s) until a streamed or trickled body has ended.
    pub async fn body_end(&self) -> BodyEnd {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let ended = self.shared.body_ended.notified();
                if let Some(end) = self.shared.body_ends.lock().unwrap().first() {
                    return *end;
                }
                ended.await;
            }
        })
        .await
        .expect("the server saw no body end within 10 s")
    }
}

async fn serve(stream: TcpStream, shared: &Shared, handler: &Handler) {
    let Some(seen) = read_request(&stream).await else {
        return;
    };
    shared.seen.lock().unwrap().push(seen.clone());
    let end = match handler(&seen) {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = write_all(&stream, head.as_bytes()).await;
            let _ = write_all(&stream, &body).await;
            return;
        }
        Reply::Trickle { every } => {
            let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            let mut sent = 0;
            let completed = write_all(&stream, head.as_bytes()).await.is_ok()
                && loop {
                    if write_all(&stream, b"1\r\nx\r\n").await.is_err() {
                        break false;
                    }
                    sent += 1;
                    tokio::time::sleep(every).await;
                };
            BodyEnd { sent, completed }
        }
        Reply::Stream {
            total,
            declare_length,
        } => {
            let framing = if declare_length {
                format!("content-length: {total}")
            } else {
                "transfer-encoding: chunked".to_owned()
            };
            let head = format!("HTTP/1.1 200 OK\r\n{framing}\r\nconnection: close\r\n\r\n");
            let chunk = vec![b'a'; 64 * 1024];
            let mut sent = 0u64;
            let mut ok = write_all(&stream, head.as_bytes()).await.is_ok();
            while ok && sent < total {
                let n = (total - sent).min(chunk.len() as u64) as usize;
                ok = if declare_length {
                    write_all(&stream, &chunk[..n]).await.is_ok()
                } else {
                    let mut framed = format!("{n:x}\r\n").into_bytes();
                    framed.extend_from_slice(&chunk[..n]);
                    framed.extend_from_slice(b"\r\n");
                    write_all(&stream, &framed).await.is_ok()
                };
                if ok {
                    sent += n as u64;
                }
            }
            if ok && !declare_length {
                ok = write_all(&stream, b"0\r\n\r\n").await.is_ok();
            }
            BodyEnd {
                sent,
                completed: ok && sent == total,
            }
        }
    };
    shared.body_ends.lock().unwrap().push(end);
    shared.body_ended.notify_waiters();
}

async fn read_request(stream: &TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        stream.readable().await.ok()?;
        let n = match stream.try_read(&mut byte) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return None,
        };
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
    }
    let at = Instant::now();
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Seen { path, headers, at })
}

/// Writes all of `data` (tokio's `io-util` is not among the workspace's features).
async fn write_all(stream: &TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        stream.writable().await?;
        match stream.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
