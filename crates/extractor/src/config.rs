//! The extractor's configuration: flags or environment variables (flags win).

use std::net::SocketAddr;

use newsflow_analysis::{BudgetArgs, ModelArgs};
use newsflow_runtime::{AnalysisStageArgs, ServiceArgs};

/// newsflow-extractor: finds the entities of each article.
#[derive(clap::Parser, Clone, Debug)]
#[command(name = "newsflow-extractor", version)]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// gRPC listen address (ExtractionService, health, reflection).
    #[arg(
        long,
        env = "NEWSFLOW_EXTRACTOR_GRPC_ADDR",
        default_value = "0.0.0.0:50052"
    )]
    pub grpc_addr: SocketAddr,
    /// The models (this stage loads the NER models and the gazetteers).
    #[command(flatten)]
    pub models: ModelArgs,
    /// What one article's analysis may cost.
    #[command(flatten)]
    pub budget: BudgetArgs,
    /// How many articles one analysis call takes under a backlog.
    #[command(flatten)]
    pub stage: AnalysisStageArgs,
}
