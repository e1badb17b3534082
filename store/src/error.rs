//! The storage error type.

use sea_orm::DbErr;

/// A storage failure, as facts of the domain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database rejected or failed a statement.
    #[error("database operation failed")]
    Database(#[from] DbErr),
    /// The record does not exist (or is not visible to the caller).
    #[error("{what} not found")]
    NotFound {
        /// The kind of record looked for.
        what: &'static str,
    },
    /// A unique value is taken already.
    #[error("{what} already exists")]
    Conflict {
        /// The value that clashed.
        what: &'static str,
    },
    /// The record changed since the version the caller read.
    #[error("{what} changed since it was read")]
    Stale {
        /// The kind of record.
        what: &'static str,
    },
    /// A migration lock could not be taken.
    #[error("could not take the migration lock at {path}")]
    MigrationLock {
        /// The lock file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The deletion log could not be written or read.
    #[error("the deletion log at {path} failed")]
    DeletionLog {
        /// The log file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A stored value cannot be read back as its domain type.
    #[error("stored {what} is invalid")]
    Corrupt {
        /// The value that failed to parse.
        what: &'static str,
    },
}

impl StoreError {
    /// Returns whether the failure is a unique-constraint clash.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Conflict { .. } => true,
            StoreError::Database(error) => is_unique_violation(error),
            _ => false,
        }
    }
}

/// Returns whether a database error is a unique-constraint clash, on either
/// backend.
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
