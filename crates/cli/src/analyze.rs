//! `newsflow analyze`: the whole analysis in this process, with no broker and no database:
//! ingest's validation, then the extractor's and the stance service's stages, exactly as the
//! pipeline runs them. Prints tables, or with `--json` the `AnalyzedArticle` in protobuf's
//! canonical JSON mapping.

use std::{io::Read, path::PathBuf, time::SystemTime};

use anyhow::Context;
use clap::{Args, Parser};
use newsflow_extractor::{NerArgs, extract::Extractor};
use newsflow_ingest::validate::{Policy, validate};
use newsflow_proto::v1::{Analysis, AnalyzedArticle, StageRecord, SubmitRequest};
use newsflow_stance::stage::Classifier;

/// Arguments of `newsflow analyze`.
#[derive(Args)]
pub struct AnalyzeArgs {
    /// A plain-text article, or `-` for standard input.
    file: PathBuf,
    /// The article's title.
    #[arg(long, default_value = "")]
    title: String,
    #[command(flatten)]
    pub models: ModelArgs,
    /// Print the `AnalyzedArticle` in protobuf's canonical JSON mapping.
    #[arg(long)]
    json: bool,
}

/// The models of the analysis, named as the services name them.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    #[command(flatten)]
    pub ner: NerArgs,
    /// Stance model directory.
    #[arg(
        long,
        env = "NEWSFLOW_STANCE_MODEL",
        default_value = "models/stance-minilm"
    )]
    pub stance_model: PathBuf,
    /// Statement models directory.
    #[arg(
        long,
        env = "NEWSFLOW_STATEMENTS_MODEL",
        default_value = "models/statements"
    )]
    pub statements_model: PathBuf,
    /// Topics treated as stance targets, comma-separated (`Western troops,ceasefire`).
    #[arg(long, env = "NEWSFLOW_TOPICS", value_delimiter = ',')]
    pub topics: Vec<String>,
}

/// The pipeline's stages in one process.
pub struct Analyzer {
    policy: Policy,
    extractor: Extractor,
    classifier: Classifier,
}

impl Analyzer {
    /// Loads the models; validation follows ingest's defaults and `NEWSFLOW_*` settings.
    pub fn load(models: &ModelArgs) -> anyhow::Result<Self> {
        let stance = newsflow_stance::Config {
            stance_model: models.stance_model.clone(),
            base_model: models.ner.ner_base_model.clone(),
            statements_model: models.statements_model.clone(),
            topics: models.topics.clone(),
            ner: models.ner.clone(),
            ..newsflow_stance::Config::parse_from(["newsflow-stance"])
        };
        let (classifier, extractor) = stance.load()?;
        let policy = newsflow_ingest::config::Config::parse_from(["newsflow-ingest"]).policy();
        Ok(Self {
            policy,
            extractor,
            classifier,
        })
    }

    /// Validates, extracts and classifies one article.
    pub async fn analyze(&self, request: SubmitRequest) -> anyhow::Result<AnalyzedArticle> {
        let mut article = validate(request, &self.policy).map_err(anyhow::Error::msg)?;
        let now = prost_types::Timestamp::from(SystemTime::now());
        article.ingested_at = Some(now);
        let mut document = AnalyzedArticle {
            article: Some(article),
            analysis: Some(Analysis::default()),
            stages: vec![StageRecord {
                stage: "ingest".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                instance: "newsflow-analyze".into(),
                finished_at: Some(now),
            }],
        };
        self.extractor.extract(&mut document).await?;
        self.classifier.apply(&mut document).await?;
        Ok(document)
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
    let analyzer = Analyzer::load(&args.models)?;
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
