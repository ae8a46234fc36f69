//! Every model of the analysis: where it lives (one name per directory, here and nowhere
//! else), the flags and environment variables that move it, and how it is loaded.
//!
//! The defaults are the committed task models under `models/` and what
//! `scripts/fetch-base-model.sh` fetches there, relative to the working directory (the
//! workspace root, or `/app` in the image).

use std::path::{Path, PathBuf};

use newsflow_nlp::{
    NlpError,
    ner::{NerMode, NerPaths, NerTagger},
    stance::StanceClassifier,
    statements::StatementFinder,
    types::FineTyper,
};

use crate::AnalysisError;

/// The perceptron NER model (both NER modes).
pub const DEFAULT_NER_MODEL: &str = "models/ner-perceptron";
/// The fine-tuned MiniLM tagger (accurate NER mode).
pub const DEFAULT_NER_NEURAL_MODEL: &str = "models/ner-minilm";
/// The base encoder every MiniLM model loads its fine-tuned weights over.
pub const DEFAULT_BASE_MODEL: &str = "models/base/all-MiniLM-L6-v2";
/// The gazetteers of the fine-typing stage.
pub const DEFAULT_GAZETTEERS: &str = "models/gazetteers";
/// The statement models (cues and candidate filter).
pub const DEFAULT_STATEMENTS_MODEL: &str = "models/statements";
/// The stance classifier.
pub const DEFAULT_STANCE_MODEL: &str = "models/stance-minilm";

/// Where each model lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelPaths {
    /// The perceptron NER model.
    pub ner: PathBuf,
    /// The MiniLM NER tagger.
    pub ner_neural: PathBuf,
    /// The base encoder.
    pub base: PathBuf,
    /// The gazetteers.
    pub gazetteers: PathBuf,
    /// The statement models.
    pub statements: PathBuf,
    /// The stance classifier.
    pub stance: PathBuf,
}

impl Default for ModelPaths {
    fn default() -> Self {
        Self {
            ner: DEFAULT_NER_MODEL.into(),
            ner_neural: DEFAULT_NER_NEURAL_MODEL.into(),
            base: DEFAULT_BASE_MODEL.into(),
            gazetteers: DEFAULT_GAZETTEERS.into(),
            statements: DEFAULT_STATEMENTS_MODEL.into(),
            stance: DEFAULT_STANCE_MODEL.into(),
        }
    }
}

impl ModelPaths {
    /// The default paths under `root` (a workspace checkout, for tests and tools run elsewhere).
    pub fn under(root: &Path) -> Self {
        let paths = Self::default();
        Self {
            ner: root.join(paths.ner),
            ner_neural: root.join(paths.ner_neural),
            base: root.join(paths.base),
            gazetteers: root.join(paths.gazetteers),
            statements: root.join(paths.statements),
            stance: root.join(paths.stance),
        }
    }
}

/// The models as flags and environment variables (flags win), the same in every service and
/// command that analyses. Each loader reads only the directories it needs.
#[derive(clap::Args, Clone, Debug)]
pub struct ModelArgs {
    /// `accurate`: the perceptron and the MiniLM tagger combined (0.943 F1 on CoNLL dev, a few
    /// thousand words a second a core); `fast`: the perceptron alone (0.915, over 100,000).
    #[arg(long, alias = "mode", env = "NEWSFLOW_NER_MODE", default_value_t = NerMode::Accurate)]
    pub ner_mode: NerMode,
    /// Directory of the perceptron NER model (both modes).
    #[arg(long, alias = "model", env = "NEWSFLOW_NER_MODEL", default_value = DEFAULT_NER_MODEL)]
    pub ner_model: PathBuf,
    /// Directory of the fine-tuned MiniLM NER tagger (accurate mode).
    #[arg(
        long,
        alias = "neural-model",
        env = "NEWSFLOW_NER_NEURAL_MODEL",
        default_value = DEFAULT_NER_NEURAL_MODEL
    )]
    pub ner_neural_model: PathBuf,
    /// Directory of the base encoder under every MiniLM model, fetched by
    /// scripts/fetch-base-model.sh.
    #[arg(long, env = "NEWSFLOW_BASE_MODEL", default_value = DEFAULT_BASE_MODEL)]
    pub base_model: PathBuf,
    /// Directory of the fine-typing stage's gazetteers, fetched by scripts/fetch-gazetteers.sh.
    #[arg(long, env = "NEWSFLOW_GAZETTEERS", default_value = DEFAULT_GAZETTEERS)]
    pub gazetteers: PathBuf,
    /// Directory of the statement models.
    #[arg(long, env = "NEWSFLOW_STATEMENTS_MODEL", default_value = DEFAULT_STATEMENTS_MODEL)]
    pub statements_model: PathBuf,
    /// Directory of the stance model.
    #[arg(long, env = "NEWSFLOW_STANCE_MODEL", default_value = DEFAULT_STANCE_MODEL)]
    pub stance_model: PathBuf,
}

impl Default for ModelArgs {
    fn default() -> Self {
        Self::with_paths(NerMode::Accurate, ModelPaths::default())
    }
}

impl ModelArgs {
    /// The models at `paths`, NER in `mode`.
    pub fn with_paths(mode: NerMode, paths: ModelPaths) -> Self {
        Self {
            ner_mode: mode,
            ner_model: paths.ner,
            ner_neural_model: paths.ner_neural,
            base_model: paths.base,
            gazetteers: paths.gazetteers,
            statements_model: paths.statements,
            stance_model: paths.stance,
        }
    }

    /// The NER tagger of the chosen mode.
    pub fn ner_tagger(&self) -> Result<NerTagger, AnalysisError> {
        let paths = NerPaths {
            perceptron: self.ner_model.clone(),
            neural: self.ner_neural_model.clone(),
            base: self.base_model.clone(),
        };
        let path = match self.ner_mode {
            NerMode::Fast => &self.ner_model,
            NerMode::Accurate => &self.ner_neural_model,
        };
        NerTagger::load_mode(self.ner_mode, &paths).map_err(load_error(
            "NER model",
            path,
            FETCH_BASE,
        ))
    }

    /// The fine-typing stage over the gazetteers.
    pub fn fine_typer(&self) -> Result<FineTyper, AnalysisError> {
        FineTyper::load(&self.gazetteers).map_err(load_error(
            "gazetteers",
            &self.gazetteers,
            ", run scripts/fetch-gazetteers.sh",
        ))
    }

    /// The statement finder.
    pub fn statement_finder(&self) -> Result<StatementFinder, AnalysisError> {
        StatementFinder::load(&self.statements_model).map_err(load_error(
            "statement models",
            &self.statements_model,
            "",
        ))
    }

    /// The stance classifier, over the base encoder.
    pub fn stance_classifier(&self) -> Result<StanceClassifier, AnalysisError> {
        StanceClassifier::load_with_base(&self.stance_model, &self.base_model).map_err(load_error(
            "stance model",
            &self.stance_model,
            FETCH_BASE,
        ))
    }
}

const FETCH_BASE: &str =
    " over the base encoder (run scripts/fetch-base-model.sh if it is missing)";

fn load_error(
    model: &'static str,
    path: &Path,
    hint: &'static str,
) -> impl FnOnce(NlpError) -> AnalysisError {
    let path = path.to_path_buf();
    move |source| AnalysisError::Load {
        model,
        path,
        hint,
        source,
    }
}
