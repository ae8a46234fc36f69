//! newsflow-stance: the statement and stance stage. Consumes `article.extracted`, adds who said
//! what and how each holder stands toward each entity and configured topic
//! (`newsflow_analysis::StanceAnalysis`), publishes `article.classified` ([`stage`]); serves
//! the same as `Classify` over gRPC ([`grpc`]); configured in [`config`].

pub mod config;
pub mod grpc;
pub mod stage;

use std::{process::ExitCode, sync::Arc};

use clap::Parser;
use newsflow_analysis::{Budget, StanceAnalysis};
use newsflow_runtime::{CpuSlots, GrpcServer};
use tracing::info;

pub use config::Config;

/// The binary's entry point.
pub fn main() -> ExitCode {
    newsflow_analysis::one_tensor_thread_by_default();
    newsflow_runtime::block_on_main("newsflow-stance", run(Config::parse()))
}

/// Consumes and serves until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let started = newsflow_runtime::start("newsflow-stance", &config.service)?;
    let budget = Budget::from(&config.budget);
    let analysis = Arc::new(StanceAnalysis::load(
        &config.models,
        &config.topics,
        budget,
    )?);
    info!(models = analysis.version(), topics = ?analysis.topics(), "models loaded");
    let cpu = CpuSlots::per_core();
    let grpc = GrpcServer::with(&config.service.grpc).add_service(grpc::StanceGrpc::server(
        Arc::clone(&analysis),
        (config.models.clone(), budget),
        cpu.clone(),
    ));
    let stage = stage::classify(analysis, cpu, config.stage.batch_articles);
    let bus = &config.service.bus;
    newsflow_runtime::serve_stage(bus, stage, grpc, config.grpc_addr, &started.shutdown).await?;
    Ok(())
}
