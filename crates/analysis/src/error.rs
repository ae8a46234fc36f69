//! What can go wrong loading the models or analysing an article.

use std::path::PathBuf;

use newsflow_nlp::NlpError;

/// An analysis error. Analysing the same input again fails the same way: none of these is worth
/// a retry.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// A model could not be loaded.
    #[error("loading the {model} from {}{hint}: {source}", path.display())]
    Load {
        /// Which model ("stance model").
        model: &'static str,
        /// Its directory.
        path: PathBuf,
        /// What to do about it (", run scripts/fetch-base-model.sh"), or empty.
        hint: &'static str,
        /// Why.
        #[source]
        source: NlpError,
    },
    /// The compute device asked for cannot be used (a GPU in a build without CUDA support,
    /// or one the machine lacks).
    #[error("compute device: {0}")]
    Device(NlpError),
    /// The input cannot be analysed: no article, an empty body, entities outside the text.
    #[error("{0}")]
    Invalid(String),
    /// The analysis ran past its deadline and stopped (the message reads "deadline: ...").
    #[error("{0}")]
    Deadline(NlpError),
    /// A stage failed on this input.
    #[error("analysis failed: {0}")]
    Stage(NlpError),
}

impl AnalysisError {
    /// Whether the analysis stopped at its deadline, rather than failing on its input.
    pub fn is_deadline(&self) -> bool {
        matches!(self, Self::Deadline(_))
    }
}

impl From<NlpError> for AnalysisError {
    fn from(error: NlpError) -> Self {
        match error {
            NlpError::Deadline { .. } => Self::Deadline(error),
            other => Self::Stage(other),
        }
    }
}
