//! newsflow-extractor: the entity stage. Consumes `article.ingested`, finds and groups the
//! article's entities with the NER model ([`extract`]), publishes `article.extracted`
//! ([`consume`]); serves the same analysis as `Extract` over gRPC ([`grpc`]).

pub mod consume;
pub mod convert;
pub mod extract;
pub mod grpc;

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::Parser;
use newsflow_bus::{Consumer, Publisher};
use newsflow_nlp::ner::{NerMode, NerPaths};
use newsflow_runtime::{BusArgs, GrpcServer, TelemetryArgs, grpc::bind, shutdown, telemetry};
use tracing::{error, info};

/// newsflow-extractor: finds the entities of each article.
#[derive(Parser, Clone, Debug)]
#[command(name = "newsflow-extractor", version)]
pub struct Config {
    #[command(flatten)]
    pub bus: BusArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    /// gRPC listen address (ExtractionService, health, reflection).
    #[arg(
        long,
        env = "NEWSFLOW_EXTRACTOR_GRPC_ADDR",
        default_value = "0.0.0.0:50052"
    )]
    pub grpc_addr: SocketAddr,
    /// Directory of the NER model.
    #[arg(
        long,
        env = "NEWSFLOW_NER_MODEL",
        default_value = "models/ner-perceptron"
    )]
    pub ner_model: PathBuf,
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    let config = Config::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("newsflow-extractor: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            error!("{error:#}");
            eprintln!("newsflow-extractor: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Consumes and serves until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    telemetry::init(&config.telemetry)?;
    let shutdown = shutdown::on_signals();
    let extractor = config.ner.load()?;
    info!(model = extractor.version(), "model loaded");

    let bus = config.bus.config("extractor");
    let publisher = Publisher::new(bus.clone(), config.bus.topology());
    let stage = consume::ExtractStage {
        extractor: extractor.clone(),
        publisher: publisher.clone(),
    };
    let consumer = Consumer::new(bus, config.bus.topology(), "extractor", stage, publisher);
    let server = GrpcServer::new()
        .add_service(grpc::ExtractionGrpc::server(extractor))
        .serve(bind(config.grpc_addr).await?, shutdown.clone());
    let consuming = async {
        let result = consumer.run(shutdown.clone()).await;
        // A consumer that cannot run (a broker refusing the topology) stops the service.
        shutdown.cancel();
        result
    };
    let (consumed, served) = tokio::join!(consuming, server);
    consumed.context("consumer")?;
    served.context("gRPC server")?;
    info!("stopped");
    Ok(())
}
