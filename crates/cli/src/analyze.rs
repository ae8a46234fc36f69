//! `newsflow analyze`: the whole analysis in this process, with no broker and no database:
//! ingest's validation, then the extractor's and the stance service's parts of the analysis,
//! through the same calls the services make. Prints tables, or with `--json` the
//! `AnalyzedArticle` in protobuf's canonical JSON mapping.

use std::{io::Read, path::PathBuf, sync::Arc, time::SystemTime};

use anyhow::Context;
use clap::Args;
use newsflow_analysis::{Analysis, Budget, BudgetArgs, ModelArgs};
use newsflow_article::{Policy, validate};
use newsflow_proto::v1::{Analysis as Found, AnalyzedArticle, SubmitRequest};
use newsflow_runtime::{CpuSlots, stage::record};

/// Arguments of `newsflow analyze`.
#[derive(Args)]
pub struct AnalyzeArgs {
    /// A plain-text article, or `-` for standard input.
    file: PathBuf,
    /// The article's title.
    #[arg(long, default_value = "")]
    title: String,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Print the `AnalyzedArticle` in protobuf's canonical JSON mapping.
    #[arg(long)]
    json: bool,
}

/// The models of the analysis and the topics it takes stances toward, as the services take
/// them.
#[derive(Args, Clone, Debug)]
pub struct AnalysisArgs {
    #[command(flatten)]
    pub models: ModelArgs,
    #[command(flatten)]
    pub budget: BudgetArgs,
    /// Topics treated as stance targets, comma-separated (`Western troops,ceasefire`).
    #[arg(long, env = "NEWSFLOW_TOPICS", value_delimiter = ',')]
    pub topics: Vec<String>,
}

/// The pipeline's stages in one process.
pub struct Analyzer {
    policy: Policy,
    analysis: Arc<Analysis>,
    cpu: CpuSlots,
}

impl Analyzer {
    /// Loads the models; validation follows ingest's default policy.
    pub fn load(args: &AnalysisArgs) -> anyhow::Result<Self> {
        Ok(Self {
            policy: Policy::default(),
            analysis: Arc::new(Analysis::load(
                &args.models,
                &args.topics,
                Budget::from(&args.budget),
            )?),
            cpu: CpuSlots::per_core(),
        })
    }

    /// Validates one article as ingest would, then analyses it as the extractor and the
    /// stance service would, each adding its stage record.
    pub async fn analyze(&self, request: SubmitRequest) -> anyhow::Result<AnalyzedArticle> {
        let mut article = validate(request, &self.policy).map_err(anyhow::Error::msg)?;
        article.ingested_at = Some(SystemTime::now().into());
        let mut document = AnalyzedArticle {
            article: Some(article),
            analysis: Some(Found::default()),
            stages: vec![record("ingest", env!("CARGO_PKG_VERSION"))],
        };
        let analysis = Arc::clone(&self.analysis);
        self.cpu
            .run(move || -> anyhow::Result<AnalyzedArticle> {
                analysis.entities.apply(&mut document)?;
                document
                    .stages
                    .push(record("extractor", analysis.entities.version()));
                analysis.stance.apply(&mut document)?;
                document
                    .stages
                    .push(record("stance", analysis.stance.version()));
                Ok(document)
            })
            .await?
    }
}

pub fn run(args: &AnalyzeArgs) -> anyhow::Result<()> {
    let stdin = args.file.as_os_str() == "-";
    let body = if stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input (UTF-8 text)")?;
        text
    } else {
        std::fs::read_to_string(&args.file)
            .with_context(|| format!("reading {} (UTF-8 text)", args.file.display()))?
    };
    let analyzer = Analyzer::load(&args.analysis)?;
    let request = SubmitRequest {
        external_id: match args.file.file_name() {
            Some(name) if !stdin => name.to_string_lossy().into_owned(),
            _ => String::new(),
        },
        title: args.title.clone(),
        body,
        ..Default::default()
    };
    let document = tokio::runtime::Runtime::new()?.block_on(analyzer.analyze(request))?;
    if args.json {
        println!("{}", newsflow_proto::json::to_json(&document));
    } else {
        crate::render::print(&document);
    }
    Ok(())
}
