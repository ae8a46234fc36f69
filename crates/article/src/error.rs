//! Why an article is refused: the field at fault and what is wrong with it.

/// A submitted article that cannot be accepted as it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArticleError {
    /// A field is missing, malformed or refused by policy.
    #[error("{field}: {message}")]
    Invalid {
        /// The request field at fault (`body`, `url`); empty when the request as a whole is.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A field is larger than the configured limit.
    #[error("{field}: {message}")]
    TooLarge {
        /// The request field at fault.
        field: &'static str,
        /// Its size and the limit.
        message: String,
    },
}

impl ArticleError {
    /// A field that is missing, malformed or refused.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    /// The field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Invalid { field, .. } | Self::TooLarge { field, .. } => field,
        }
    }
}
