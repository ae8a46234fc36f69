//! The one error type of the store, classified so callers can pick a gRPC status or decide
//! between retrying a message and dead-lettering it.

/// What went wrong in a [`Store`](crate::Store) call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A query's arguments are invalid (a bad page token, an empty search, too many ids).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An article cannot be saved as it is (no id, an analysis referring to ids it does not
    /// contain). Saving it again will fail again.
    #[error("invalid article: {0}")]
    InvalidArticle(String),
    /// The thing asked for is not stored.
    #[error("{0}")]
    NotFound(String),
    /// The database cannot be reached or refuses connections for now; worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The database rejected the work for a reason that may pass (a deadlock, a serialization
    /// failure, a full disk); worth retrying.
    #[error("database busy: {0}")]
    Busy(#[source] sqlx::Error),
    /// A statement ran past `statement_timeout` and PostgreSQL cancelled it: worth a later
    /// retry, but not an endless wait (the same statement may time out again).
    #[error("database statement timed out: {0}")]
    TimedOut(#[source] sqlx::Error),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored document no longer decodes as an `AnalyzedArticle`.
    #[error("stored document of article {id:?} does not decode: {source}")]
    Corrupt {
        /// The article id.
        id: String,
        /// The decoder's complaint.
        #[source]
        source: prost::DecodeError,
    },
}

impl StoreError {
    /// Whether the same call may succeed later (retry the message) rather than fail the same
    /// way again (dead-letter it).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unavailable(_) | Self::Busy(_) | Self::TimedOut(_) => true,
            Self::Migrate(
                sqlx::migrate::MigrateError::Execute(e)
                | sqlx::migrate::MigrateError::ExecuteMigration(e, _),
            ) => {
                matches!(classify(e), Class::Unavailable | Class::Busy)
            }
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match classify(&e) {
            Class::Unavailable => Self::Unavailable(e),
            Class::Busy => Self::Busy(e),
            Class::TimedOut => Self::TimedOut(e),
            Class::Other => Self::Database(e),
        }
    }
}

enum Class {
    Unavailable,
    Busy,
    TimedOut,
    Other,
}

fn classify(e: &sqlx::Error) -> Class {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Class::Unavailable,
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // Class 08: connection exceptions; 57P01-57P03: the server shutting down or
            // starting up; 53300: too many connections.
            Some(code) if code.starts_with("08") => Class::Unavailable,
            Some("57P01" | "57P02" | "57P03" | "53300") => Class::Unavailable,
            // Serialization failure, deadlock, lock timeout, other insufficient resources.
            Some("40001" | "40P01" | "55P03") => Class::Busy,
            Some(code) if code.starts_with("53") => Class::Busy,
            // query_canceled: statement_timeout (nothing else cancels the store's statements).
            Some("57014") => Class::TimedOut,
            _ => Class::Other,
        },
        _ => Class::Other,
    }
}
