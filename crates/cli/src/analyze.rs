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
        let mut analysed = self.analyze_many(vec![request]).await?;
        analysed.pop().context("the analysis gave no result")?
    }

    /// [`Analyzer::analyze`] of several articles in one call on one CPU slot, each part over
    /// all of them at once, as the services analyse a batch under a backlog; one result per
    /// article, in order.
    pub async fn analyze_many(
        &self,
        requests: Vec<SubmitRequest>,
    ) -> anyhow::Result<Vec<anyhow::Result<AnalyzedArticle>>> {
        let validated: Vec<anyhow::Result<AnalyzedArticle>> = requests
            .into_iter()
            .map(|request| {
                let mut article = validate(request, &self.policy).map_err(anyhow::Error::msg)?;
                article.ingested_at = Some(SystemTime::now().into());
                Ok(AnalyzedArticle {
                    article: Some(article),
                    analysis: Some(Found::default()),
                    stages: vec![record("ingest", env!("CARGO_PKG_VERSION"))],
                })
            })
            .collect();
        let analysis = Arc::clone(&self.analysis);
        let analysed = self
            .cpu
            .run(move || {
                let (entities, stance) = (&analysis.entities, &analysis.stance);
                let extracted = each_part(validated, ("extractor", entities.version()), |d| {
                    entities.apply_many(d)
                });
                each_part(extracted, ("stance", stance.version()), |d| {
                    stance.apply_many(d)
                })
            })
            .await?;
        Ok(analysed)
    }
}

/// One part of the analysis over the documents that have come this far, all in one call, its
/// stage record added to each that passes; the others keep their error.
fn each_part(
    documents: Vec<anyhow::Result<AnalyzedArticle>>,
    (stage, version): (&str, &str),
    part: impl FnOnce(&mut [AnalyzedArticle]) -> Vec<Result<(), newsflow_analysis::AnalysisError>>,
) -> Vec<anyhow::Result<AnalyzedArticle>> {
    let (mut ready, mut slots) = (Vec::new(), Vec::new());
    let mut out: Vec<anyhow::Result<AnalyzedArticle>> = Vec::with_capacity(documents.len());
    for document in documents {
        match document {
            Ok(document) => {
                slots.push(out.len());
                ready.push(document);
                out.push(Err(anyhow::anyhow!("not analysed")));
            }
            Err(error) => out.push(Err(error)),
        }
    }
    let results = part(&mut ready);
    for ((slot, mut document), result) in slots.into_iter().zip(ready).zip(results) {
        out[slot] = result.map_err(anyhow::Error::from).map(|()| {
            document.stages.push(record(stage, version));
            document
        });
    }
    out
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
