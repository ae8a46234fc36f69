//! Every model of the analysis: where it lives (one name per directory, here and nowhere
//! else), the flags and environment variables that move it, and how it is loaded.
//!
//! The defaults are the committed task models under `models/` and what
//! `scripts/fetch-base-model.sh` fetches there, relative to the working directory (the
//! workspace root, or `/app` in the image).

use std::path::{Path, PathBuf};

use newsflow_nlp::{
    NlpError,
    device::ComputeDevice,
    encoder::Encoder,
    gazetteer::Nations,
    geo::Gazetteer,
    ner::{NerMode, NerPaths, NerTagger},
    stance::{StanceClassifier, StanceStage},
    statements::StatementFinder,
    types::FineTyper,
};

use crate::AnalysisError;

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
    /// The target-sentiment classifier: how the text portrays a target.
    pub stance: PathBuf,
    /// The holder-stance classifier: whether a holder is for or against a target.
    pub holder: PathBuf,
}

impl Default for ModelPaths {
    /// The committed task models, and what `scripts/fetch-base-model.sh` fetches beside them.
    fn default() -> Self {
        Self {
            ner: "models/ner-perceptron".into(),
            ner_neural: "models/ner-minilm".into(),
            base: "models/base/all-MiniLM-L6-v2".into(),
            gazetteers: "models/gazetteers".into(),
            statements: "models/statements".into(),
            stance: "models/stance-minilm-plain".into(),
            holder: "models/holder-minilm".into(),
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
            holder: root.join(paths.holder),
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
    #[arg(long, env = "NEWSFLOW_NER_MODEL", default_value_os_t = ModelPaths::default().ner)]
    pub ner_model: PathBuf,
    /// Directory of the fine-tuned MiniLM NER tagger (accurate mode).
    #[arg(
        long,
        alias = "neural-model",
        env = "NEWSFLOW_NER_NEURAL_MODEL",
        default_value_os_t = ModelPaths::default().ner_neural
    )]
    pub ner_neural_model: PathBuf,
    /// Directory of the base encoder under every MiniLM model, fetched by
    /// scripts/fetch-base-model.sh.
    #[arg(long, env = "NEWSFLOW_BASE_MODEL", default_value_os_t = ModelPaths::default().base)]
    pub base_model: PathBuf,
    /// Directory of the gazetteers (fine types; places; country names for affiliations), fetched by
    /// scripts/fetch-gazetteers.sh.
    #[arg(long, env = "NEWSFLOW_GAZETTEERS", default_value_os_t = ModelPaths::default().gazetteers)]
    pub gazetteers: PathBuf,
    /// Directory of the statement models.
    #[arg(long, env = "NEWSFLOW_STATEMENTS_MODEL", default_value_os_t = ModelPaths::default().statements)]
    pub statements_model: PathBuf,
    /// Directory of the stance model.
    #[arg(long, env = "NEWSFLOW_STANCE_MODEL", default_value_os_t = ModelPaths::default().stance)]
    pub stance_model: PathBuf,
    /// Directory of the holder-stance model (a speaker's stance toward a target).
    #[arg(long, env = "NEWSFLOW_HOLDER_MODEL", default_value_os_t = ModelPaths::default().holder)]
    pub holder_model: PathBuf,
    /// Which model reads a speaker's stance: `holder`, the holder-stance model (whether the
    /// speaker is for or against the target); or `portrayal`, the target-sentiment model (how
    /// the speaker's words portray it; what newsflow did before it had a holder-stance model,
    /// kept to compare).
    #[arg(long, env = "NEWSFLOW_SPEAKER_STANCE", default_value_t = SpeakerStance::Holder)]
    pub speaker_stance: SpeakerStance,
    /// Where the MiniLM models compute: `cpu` (the default), or `cuda` / `cuda:N` in a build
    /// with the `cuda` feature on a machine with that GPU.
    #[arg(long, env = "NEWSFLOW_DEVICE", default_value_t = ComputeDevice::Cpu)]
    pub device: ComputeDevice,
}

/// Which model reads a speaker's stance.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpeakerStance {
    /// The holder-stance model.
    Holder,
    /// The target-sentiment model.
    Portrayal,
}

impl std::fmt::Display for SpeakerStance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SpeakerStance::Holder => "holder",
            SpeakerStance::Portrayal => "portrayal",
        })
    }
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
            holder_model: paths.holder,
            speaker_stance: SpeakerStance::Holder,
            device: ComputeDevice::Cpu,
        }
    }

    /// Chooses the compute device for the MiniLM models this process loads (once, before the
    /// first of them).
    fn use_device(&self) -> Result<(), AnalysisError> {
        newsflow_nlp::device::select(self.device).map_err(AnalysisError::Device)
    }

    /// The NER tagger of the chosen mode.
    pub fn ner_tagger(&self) -> Result<NerTagger, AnalysisError> {
        self.use_device()?;
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

    /// The GeoNames gazetteer that places GPE and LOC entities.
    pub fn geo_gazetteer(&self) -> Result<Gazetteer, AnalysisError> {
        Gazetteer::load(&self.gazetteers).map_err(load_error(
            "place gazetteer",
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
        self.use_device()?;
        StanceClassifier::load_with_base(&self.stance_model, &self.base_model).map_err(load_error(
            "stance model",
            &self.stance_model,
            FETCH_BASE,
        ))
    }

    /// What names which country, from the gazetteers (for the affiliations).
    pub fn nations(&self) -> Result<Nations, AnalysisError> {
        Nations::load(&self.gazetteers).map_err(load_error(
            "country names",
            &self.gazetteers,
            ", run scripts/fetch-gazetteers.sh",
        ))
    }

    /// The stance stage these models make: the target-sentiment model, the holder-stance model
    /// unless speakers' stances are read by the target-sentiment model too, and the country
    /// names.
    pub fn stance_stage(&self) -> Result<StanceStage, AnalysisError> {
        let sentiment = self.stance_classifier()?;
        let holder = match self.speaker_stance {
            // Over the same base encoder in memory: one copy of the base weights, not two.
            SpeakerStance::Holder => {
                Some(self.holder_classifier_over(sentiment.encoder().clone())?)
            }
            SpeakerStance::Portrayal => None,
        };
        let stage = StanceStage::new(sentiment).with_nations(self.nations()?);
        Ok(match holder {
            Some(holder) => stage.with_holder_model(holder)?,
            None => stage,
        })
    }

    /// The holder-stance classifier, over the base encoder.
    pub fn holder_classifier(&self) -> Result<StanceClassifier, AnalysisError> {
        self.use_device()?;
        let base = Encoder::load(&self.base_model).map_err(load_error(
            "holder-stance model",
            &self.holder_model,
            FETCH_BASE,
        ))?;
        self.holder_classifier_over(base)
    }

    /// The holder-stance classifier over a base encoder already loaded.
    fn holder_classifier_over(&self, base: Encoder) -> Result<StanceClassifier, AnalysisError> {
        let classifier =
            StanceClassifier::load_over(&self.holder_model, &self.base_model, base).map_err(
                load_error("holder-stance model", &self.holder_model, FETCH_BASE),
            )?;
        if !classifier.reads_holder() {
            return Err(load_error("holder-stance model", &self.holder_model, "")(
                NlpError::InvalidInput("it is a target-sentiment model: it marks no holder".into()),
            ));
        }
        Ok(classifier)
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
