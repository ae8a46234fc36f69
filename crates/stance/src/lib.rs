//! newsflow-stance: the statement and stance stage. Consumes `article.extracted`, finds who said
//! what and how each holder stands toward each entity and configured topic ([`analyze`]),
//! publishes `article.classified` ([`stage`]); serves the same as `Classify` over gRPC
//! ([`grpc`]).

pub mod analyze;
pub mod grpc;
pub mod stage;

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::Parser;
use newsflow_bus::{Consumer, Publisher};
use newsflow_extractor::extract::Extractor;
use newsflow_nlp::{stance::StanceClassifier, statements::StatementFinder};
use newsflow_runtime::{BusArgs, GrpcServer, TelemetryArgs, grpc::bind, shutdown, telemetry};
use tracing::info;

/// newsflow-stance: statements and stances of each article.
#[derive(Parser, Clone, Debug)]
#[command(name = "newsflow-stance", version)]
pub struct Config {
    #[command(flatten)]
    pub bus: BusArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    /// gRPC listen address (StanceService, health, reflection).
    #[arg(
        long,
        env = "NEWSFLOW_STANCE_GRPC_ADDR",
        default_value = "0.0.0.0:50053"
    )]
    pub grpc_addr: SocketAddr,
    /// Directory of the stance model.
    #[arg(
        long,
        env = "NEWSFLOW_STANCE_MODEL",
        default_value = "models/stance-minilm"
    )]
    pub stance_model: PathBuf,
    /// Directory of the base encoder the stance model builds on.
    #[arg(
        long,
        env = "NEWSFLOW_BASE_MODEL",
        default_value = "models/base/all-MiniLM-L6-v2"
    )]
    pub base_model: PathBuf,
    /// Directory of the statement models.
    #[arg(
        long,
        env = "NEWSFLOW_STATEMENTS_MODEL",
        default_value = "models/statements"
    )]
    pub statements_model: PathBuf,
    /// NER models, for `Classify` calls that bring no entities.
    #[command(flatten)]
    pub ner: newsflow_extractor::NerArgs,
    /// Topics to treat as targets, comma-separated ("Western troops,ceasefire").
    #[arg(long, env = "NEWSFLOW_TOPICS", value_delimiter = ',')]
    pub topics: Vec<String>,
}

impl Config {
    /// Loads the models this configuration names.
    pub fn load(&self) -> anyhow::Result<(stage::Classifier, Extractor)> {
        let statements = StatementFinder::load(&self.statements_model).with_context(|| {
            format!(
                "loading the statement models from {}",
                self.statements_model.display()
            )
        })?;
        let stance = StanceClassifier::load_with_base(&self.stance_model, &self.base_model)
            .with_context(|| {
                format!(
                    "loading the stance model from {} over {} (run scripts/fetch-base-model.sh)",
                    self.stance_model.display(),
                    self.base_model.display()
                )
            })?;
        let extractor = self.ner.load()?;
        let topics = self
            .topics
            .iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        let version = format!(
            "{}@{}",
            self.stance_model
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "stance".into()),
            env!("CARGO_PKG_VERSION")
        );
        let classifier =
            stage::Classifier::new(analyze::Models { statements, stance }, topics, version);
        Ok((classifier, extractor))
    }
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    newsflow_nlp::one_tensor_thread_by_default();
    newsflow_runtime::block_on_main("newsflow-stance", run(Config::parse()))
}

/// Consumes and serves until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    telemetry::init(&config.telemetry)?;
    let shutdown = shutdown::on_signals();
    let (classifier, extractor) = config.load()?;
    info!(topics = ?classifier.topics(), "models loaded");

    let bus = config.bus.config("stance");
    let publisher = Publisher::new(bus.clone(), config.bus.topology());
    let stage = stage::StanceStage {
        classifier: classifier.clone(),
        publisher: publisher.clone(),
    };
    let consumer = Consumer::new(bus, config.bus.topology(), "stance", stage, publisher);
    let server = GrpcServer::new()
        .add_service(grpc::StanceGrpc::server(classifier, extractor))
        .serve(bind(config.grpc_addr).await?, shutdown.clone());
    newsflow_runtime::consume_and_serve(consumer.run(shutdown.clone()), server, &shutdown).await?;
    info!("stopped");
    Ok(())
}
