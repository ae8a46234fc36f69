//! newsflow-extractor: the entity stage. Consumes `article.ingested`, adds the article's
//! entities (`newsflow_analysis::EntityAnalysis`), publishes `article.extracted` ([`stage`]);
//! serves the same analysis as `Extract` over gRPC ([`grpc`]); configured in [`config`].

pub mod config;
pub mod grpc;
pub mod stage;

use std::{process::ExitCode, sync::Arc};

use clap::Parser;
use newsflow_analysis::{Budget, EntityAnalysis};
use newsflow_runtime::{CpuSlots, GrpcServer};
use tracing::info;

pub use config::Config;

/// The binary's entry point.
pub fn main() -> ExitCode {
    newsflow_analysis::one_tensor_thread_by_default();
    newsflow_runtime::block_on_main("newsflow-extractor", run(Config::parse()))
}

/// Consumes and serves until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let started = newsflow_runtime::start("newsflow-extractor", &config.service)?;
    let budget = Budget::from(&config.budget);
    let analysis = Arc::new(EntityAnalysis::load(&config.models, budget)?);
    info!(models = analysis.version(), "models loaded");
    let cpu = CpuSlots::per_core();
    let grpc = GrpcServer::with(&config.service.grpc).add_service(grpc::ExtractionGrpc::server(
        Arc::clone(&analysis),
        cpu.clone(),
    ));
    let stage = stage::extract(analysis, cpu, config.stage.batch_articles);
    let bus = &config.service.bus;
    newsflow_runtime::serve_stage(bus, stage, grpc, config.grpc_addr, &started.shutdown).await?;
    Ok(())
}
