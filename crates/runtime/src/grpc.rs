//! The gRPC server every service runs: its own services plus `grpc.health.v1.Health` and
//! reflection, so `grpcurl` and orchestrators' health checks work against any of them.

use std::{convert::Infallible, net::SocketAddr, time::Duration};

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::{
    body::Body,
    server::NamedService,
    service::{Routes, RoutesBuilder},
    transport::Server,
};
use tonic_health::ServingStatus;
use tracing::info;

use crate::{RuntimeError, config::parse_duration};

type Request = tonic::codegen::http::Request<Body>;

/// The bounds and options of a gRPC server, as flags and environment variables.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct GrpcArgs {
    /// Longest a call may run before it is answered DEADLINE_EXCEEDED.
    #[arg(long, env = "NEWSFLOW_GRPC_TIMEOUT", default_value = "150s", value_parser = parse_duration)]
    pub grpc_timeout: Duration,
    /// Calls one connection may have running at once; more wait.
    #[arg(long, env = "NEWSFLOW_GRPC_CONCURRENCY", default_value_t = 64)]
    pub grpc_concurrency: usize,
    /// Serve gRPC reflection (what `grpcurl list` reads); `false` to hide the API's shape.
    #[arg(long, env = "NEWSFLOW_GRPC_REFLECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub grpc_reflection: bool,
}

impl Default for GrpcArgs {
    fn default() -> Self {
        Self {
            grpc_timeout: Duration::from_secs(150),
            grpc_concurrency: 64,
            grpc_reflection: true,
        }
    }
}

/// A gRPC server being assembled.
#[derive(Default)]
pub struct GrpcServer {
    routes: RoutesBuilder,
    names: Vec<&'static str>,
    settings: GrpcArgs,
}

impl GrpcServer {
    /// A server with no services of its own yet, with the default bounds.
    pub fn new() -> Self {
        Self::default()
    }

    /// A server with no services of its own yet, with `settings`.
    pub fn with(settings: &GrpcArgs) -> Self {
        Self {
            settings: *settings,
            ..Self::default()
        }
    }

    /// Adds a service; health reports it as serving while the server runs.
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: tower_service::Service<Request, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Serves on `listener` until `shutdown` is cancelled, then reports NOT_SERVING, stops
    /// accepting connections and drains the requests in flight.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> Result<(), RuntimeError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        // "" is the whole server, as grpc-health-probe asks by default.
        for name in self.names.iter().copied().chain([""]) {
            health
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        let mut routes = self.routes;
        routes.add_service(health_service);
        if self.settings.grpc_reflection {
            let reflection = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(newsflow_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .build_v1()
                .map_err(|e| RuntimeError::Grpc(format!("reflection: {e}")))?;
            routes.add_service(reflection);
        }
        let routes: Routes = routes.routes();

        let addr = listener.local_addr().map_err(RuntimeError::Io)?;
        info!(%addr, services = ?self.names, "serving gRPC");
        let names = self.names;
        let stopping = async move {
            shutdown.cancelled().await;
            for name in names.iter().copied().chain([""]) {
                health
                    .set_service_status(name, ServingStatus::NotServing)
                    .await;
            }
        };
        Server::builder()
            .timeout(self.settings.grpc_timeout)
            .concurrency_limit_per_connection(self.settings.grpc_concurrency.max(1))
            .add_routes(routes)
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), stopping)
            .await
            .map_err(|e| RuntimeError::Grpc(e.to_string()))
    }
}

/// Binds a listen address, with an error that names it.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, RuntimeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| RuntimeError::Bind { addr, source })
}

/// Refuses a request field longer than `limit` bytes with `INVALID_ARGUMENT`, naming it.
pub fn check_size(field: &str, value: &str, limit: usize) -> Result<(), tonic::Status> {
    if value.len() > limit {
        return Err(tonic::Status::invalid_argument(format!(
            "{field}: is {} bytes; the limit is {limit}",
            value.len()
        )));
    }
    Ok(())
}
