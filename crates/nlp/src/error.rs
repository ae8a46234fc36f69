//! The error type of the library.

use std::path::PathBuf;

/// Everything that can go wrong in `newsflow-nlp`.
#[derive(Debug, thiserror::Error)]
pub enum NlpError {
    /// A token range outside the document, or empty.
    #[error("invalid token range {start}..{end}")]
    InvalidSpan {
        /// First token index.
        start: usize,
        /// One past the last token index.
        end: usize,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A CoNLL file line that does not have the expected shape.
    #[error("{path}:{line}: {message}")]
    Conll {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A brat standoff annotation line that does not have the expected shape.
    #[error("{path}:{line}: {message}")]
    Annotation {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A data file line (JSON lines) that does not have the expected shape.
    #[error("{path}:{line}: {message}")]
    Data {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A model file that is not a valid model.
    #[error("invalid model file {path}: {message}")]
    Model {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Training was asked to do something it cannot.
    #[error("training: {0}")]
    Training(String),
    /// The analysis ran past its deadline and stopped.
    #[error("deadline: the analysis took longer than {}s and stopped in the {stage} stage", budget.as_secs_f32())]
    Deadline {
        /// The stage that noticed.
        stage: String,
        /// The budget the analysis had.
        budget: std::time::Duration,
    },
    /// Input the caller passed that cannot be analyzed (an empty sentence, a span outside it).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A tensor operation or the tokenizer failed.
    #[error("tensor: {0}")]
    Tensor(String),
    /// The neural tagger failed (a tensor operation or the tokenizer).
    #[error("neural tagger: {0}")]
    Neural(String),
    /// The compute device asked for cannot be used ([`crate::device`]).
    #[error("{0}")]
    Device(String),
    /// Evaluation inputs do not line up.
    #[error("evaluation: {0}")]
    Evaluation(String),
}

impl NlpError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NlpError::Io {
            path: path.into(),
            source,
        }
    }
}
