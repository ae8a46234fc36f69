//! Why ingest refuses an article, and how each reason reads over gRPC and HTTP.

use newsflow_article::ArticleError;
use tonic::{Code, Status};

/// Seconds a client should wait before retrying when the broker is down.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// An article ingest could not accept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The article is not valid as it is: a field is missing, malformed, refused by policy or
    /// too large.
    #[error(transparent)]
    Refused(#[from] ArticleError),
    /// The broker did not confirm the publish: nothing was accepted; retry later.
    #[error(
        "the broker is unavailable, nothing was accepted; retry in {RETRY_AFTER_SECONDS} s ({0})"
    )]
    Unavailable(String),
    /// Ingest failed on its side (a bug): nothing was accepted.
    #[error("ingest failed on its side, nothing was accepted: {0}")]
    Internal(String),
}

impl IngestError {
    /// The field at fault, if the error is about one.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Refused(error) => error.field(),
            Self::Unavailable(_) | Self::Internal(_) => "",
        }
    }

    /// The gRPC status code.
    pub fn code(&self) -> Code {
        match self {
            Self::Refused(_) => Code::InvalidArgument,
            Self::Unavailable(_) => Code::Unavailable,
            Self::Internal(_) => Code::Internal,
        }
    }

    /// The HTTP status code.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Refused(ArticleError::Invalid { .. }) => 400,
            Self::Refused(ArticleError::TooLarge { .. }) => 413,
            Self::Unavailable(_) => 503,
            Self::Internal(_) => 500,
        }
    }
}

impl From<IngestError> for Status {
    fn from(error: IngestError) -> Self {
        Status::new(error.code(), error.to_string())
    }
}

/// The gRPC code's canonical name, as `SubmitError.code` carries it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::Unavailable => "UNAVAILABLE",
        Code::Unauthenticated => "UNAUTHENTICATED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        _ => "INTERNAL",
    }
}
