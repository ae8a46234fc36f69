//! The stance service's configuration: flags or environment variables (flags win).

use std::net::SocketAddr;

use newsflow_analysis::{BudgetArgs, ModelArgs};
use newsflow_runtime::{AnalysisStageArgs, ServiceArgs};

/// newsflow-stance: statements and stances of each article.
#[derive(clap::Parser, Clone, Debug)]
#[command(name = "newsflow-stance", version)]
pub struct Config {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// gRPC listen address (StanceService, health, reflection).
    #[arg(
        long,
        env = "NEWSFLOW_STANCE_GRPC_ADDR",
        default_value = "0.0.0.0:50053"
    )]
    pub grpc_addr: SocketAddr,
    /// The models (this stage loads the statement and stance models; the NER models only for
    /// the first `Classify` call that brings no entities).
    #[command(flatten)]
    pub models: ModelArgs,
    /// What one article's analysis may cost.
    #[command(flatten)]
    pub budget: BudgetArgs,
    /// How many articles one analysis call takes under a backlog.
    #[command(flatten)]
    pub stage: AnalysisStageArgs,
    /// Topics to treat as targets, comma-separated ("Western troops,ceasefire").
    #[arg(long, env = "NEWSFLOW_TOPICS", value_delimiter = ',')]
    pub topics: Vec<String>,
}
