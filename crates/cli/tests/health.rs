//! `newsflow health ADDR` against a real `GrpcServer` (health built in), a closed port and a
//! port that accepts but never answers.

use std::{
    net::{SocketAddr, TcpListener},
    process::{Command, Output},
    sync::mpsc,
    thread,
};

use tokio_util::sync::CancellationToken;

/// A newsflow gRPC server with no services of its own, on a free local port, serving until the
/// guard is dropped.
struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    fn start() -> Self {
        let shutdown = CancellationToken::new();
        let (tx, rx) = mpsc::channel();
        let token = shutdown.clone();
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = newsflow_runtime::grpc::bind("127.0.0.1:0".parse().unwrap())
                    .await
                    .expect("bind");
                tx.send(listener.local_addr().expect("local addr"))
                    .expect("send addr");
                newsflow_runtime::GrpcServer::new()
                    .serve(listener, token)
                    .await
                    .expect("serve");
            });
        });
        let addr = rx.recv().expect("the server thread reports its address");
        Self {
            addr,
            shutdown,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

fn health(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_newsflow"))
        .arg("health")
        .args(args)
        .output()
        .expect("run newsflow health")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_serving_server_exits_zero_with_one_line() {
    let server = Server::start();
    let out = health(&[&server.addr.to_string()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("SERVING"), "{stdout}");
    assert!(
        stdout.contains(&format!("http://{}", server.addr)),
        "{stdout}"
    );
}

#[test]
fn an_unknown_service_exits_one() {
    let server = Server::start();
    let out = health(&[
        &server.addr.to_string(),
        "--service",
        "newsflow.v1.NoSuchService",
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("SERVICE_UNKNOWN"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn a_closed_port_exits_one() {
    let addr = format!("127.0.0.1:{}", newsflow_test_support::free_port());
    let out = health(&[&addr.to_string(), "--timeout", "2s"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot connect"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn a_silent_port_times_out_and_exits_one() {
    // Accepts TCP connections (the kernel's backlog) but never speaks HTTP/2.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let out = health(&[&addr.to_string(), "--timeout", "300ms"]);
    drop(listener);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}
