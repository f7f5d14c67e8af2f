//! Store failures, classified once here so callers can map them to status codes.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The schema or version named does not exist (or is deleted).
    #[error("{0} not found")]
    NotFound(String),
    /// The backend cannot be reached or is overloaded; retrying later may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or corrupt data. Not for clients' eyes.
    #[error("store failure: {0}")]
    Internal(String),
}
