//! What can go wrong in a search index, classified for callers.

use ovsr_core::InvalidArgument;

/// A search-index failure. Callers map the kinds to gRPC codes: `Unavailable` and
/// `Overloaded` to `UNAVAILABLE` and `RESOURCE_EXHAUSTED`, `InvalidQuery` to
/// `INVALID_ARGUMENT`, `Internal` to `INTERNAL` (masked to the client).
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The backend cannot be reached or is not ready; retrying later may succeed.
    #[error("search backend unavailable: {0}")]
    Unavailable(String),
    /// The backend refuses work for now (queue full, rate limited); back off and retry.
    #[error("search backend overloaded: {0}")]
    Overloaded(String),
    /// The query is malformed; `field` names the offending request field.
    #[error("invalid {field}: {reason}")]
    InvalidQuery {
        /// The request field at fault, such as `page_size` or `page_token`.
        field: String,
        /// Why it was refused, written for the client.
        reason: String,
    },
    /// A fault inside the index (corruption, I/O, a bug); not the caller's doing.
    #[error("search index failure: {0}")]
    Internal(String),
}

impl SearchError {
    /// Refuses a query, naming the field at fault.
    pub fn invalid_query(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidQuery {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<InvalidArgument> for SearchError {
    fn from(err: InvalidArgument) -> Self {
        Self::InvalidQuery {
            field: err.field,
            reason: err.reason,
        }
    }
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(err: tantivy::TantivyError) -> Self {
        match err {
            // Another process holds the index directory's writer lock.
            tantivy::TantivyError::LockFailure(..) => Self::Unavailable(err.to_string()),
            _ => Self::Internal(err.to_string()),
        }
    }
}
