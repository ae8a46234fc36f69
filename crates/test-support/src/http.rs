//! A small HTTP/1.1 client for tests of HTTP services: whole responses, or the body as it
//! streams (Server-Sent Events, large exports).

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

/// A whole response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; fails the test when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }
}

/// A response whose body is read as it arrives.
pub struct Streaming {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    body: Incoming,
}

impl Streaming {
    /// The next piece of the body; `None` at its end. Fails the test when the transfer breaks.
    pub async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            let frame = self.body.frame().await?.expect("the body streams");
            if let Ok(data) = frame.into_data() {
                return Some(data);
            }
        }
    }
}

/// GETs `url` with `headers` and reads the whole body. Fails the test when the service cannot
/// be reached.
pub async fn get(url: &str, headers: &[(&str, &str)]) -> Response {
    let mut streaming = open(url, headers).await;
    let mut body = Vec::new();
    while let Some(chunk) = streaming.next_chunk().await {
        body.extend_from_slice(&chunk);
    }
    Response {
        status: streaming.status,
        headers: streaming.headers,
        body,
    }
}

/// GETs `url` with `headers`, returning as soon as the headers are in.
pub async fn open(url: &str, headers: &[(&str, &str)]) -> Streaming {
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut request = hyper::Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Empty::new()).expect("a request");
    let response = client
        .request(request)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let headers = header_list(response.headers());
    Streaming {
        status: response.status().as_u16(),
        headers,
        body: response.into_body(),
    }
}

/// POSTs `body` to `url` with `headers` and reads the whole answer.
pub async fn post(url: &str, headers: &[(&str, &str)], body: &str) -> Response {
    send(hyper::Method::POST, url, headers, body).await
}

/// DELETEs `url` with `headers` and reads the whole answer.
pub async fn delete(url: &str, headers: &[(&str, &str)]) -> Response {
    send(hyper::Method::DELETE, url, headers, "").await
}

async fn send(method: hyper::Method, url: &str, headers: &[(&str, &str)], body: &str) -> Response {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut request = hyper::Request::builder().method(method.clone()).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("a request");
    let response = client
        .request(request)
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let headers = header_list(response.headers());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body")
        .to_bytes()
        .to_vec();
    Response {
        status,
        headers,
        body,
    }
}

fn header_list(headers: &hyper::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Whether `url` answers 200 now.
pub async fn answers(url: &str) -> bool {
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let Ok(request) = hyper::Request::get(url).body(Empty::new()) else {
        return false;
    };
    matches!(client.request(request).await, Ok(response) if response.status() == 200)
}
