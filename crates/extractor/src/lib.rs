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
use tracing::info;

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
    #[command(flatten)]
    pub ner: NerArgs,
}

/// Which NER models to load.
#[derive(clap::Args, Clone, Debug)]
pub struct NerArgs {
    /// `accurate`: the perceptron and the MiniLM tagger combined (0.943 F1 on CoNLL dev, a few
    /// thousand words a second a core); `fast`: the perceptron alone (0.915, over 100,000).
    #[arg(long, env = "NEWSFLOW_NER_MODE", default_value_t = NerMode::Accurate)]
    pub ner_mode: NerMode,
    /// Directory of the perceptron NER model (both modes).
    #[arg(
        long,
        env = "NEWSFLOW_NER_MODEL",
        default_value = "models/ner-perceptron"
    )]
    pub ner_model: PathBuf,
    /// Directory of the fine-tuned MiniLM tagger (accurate mode).
    #[arg(
        long,
        env = "NEWSFLOW_NER_NEURAL_MODEL",
        default_value = "models/ner-minilm"
    )]
    pub ner_neural_model: PathBuf,
    /// Directory of the base encoder (accurate mode), fetched by scripts/fetch-base-model.sh.
    #[arg(
        long,
        env = "NEWSFLOW_BASE_MODEL",
        default_value = "models/base/all-MiniLM-L6-v2"
    )]
    pub ner_base_model: PathBuf,
    /// Directory of the gazetteers of the fine-typing stage (GPE/LOC, NORP), fetched by
    /// scripts/fetch-gazetteers.sh.
    #[arg(
        long,
        env = "NEWSFLOW_GAZETTEERS",
        default_value = newsflow_nlp::gazetteer::DEFAULT_GAZETTEERS_DIR
    )]
    pub gazetteers: PathBuf,
}

impl NerArgs {
    /// Loads the extractor these settings name.
    pub fn load(&self) -> anyhow::Result<extract::Extractor> {
        let paths = NerPaths {
            perceptron: self.ner_model.clone(),
            neural: self.ner_neural_model.clone(),
            base: self.ner_base_model.clone(),
        };
        extract::Extractor::load(self.ner_mode, &paths, &self.gazetteers).with_context(|| {
            format!(
                "loading the {} NER models ({}, {}, {}) and the gazetteers ({})",
                self.ner_mode,
                paths.perceptron.display(),
                paths.neural.display(),
                paths.base.display(),
                self.gazetteers.display()
            )
        })
    }
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    newsflow_nlp::one_tensor_thread_by_default();
    newsflow_runtime::block_on_main("newsflow-extractor", run(Config::parse()))
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
    newsflow_runtime::consume_and_serve(consumer.run(shutdown.clone()), server, &shutdown).await?;
    info!("stopped");
    Ok(())
}
