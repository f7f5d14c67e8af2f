//! Store failures, classified once here so callers can map them to status codes.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The schema or version named does not exist (or is deleted).
    #[error("{0} not found")]
    NotFound(String),
    /// The write contradicts what is stored, as when an alias already names another
    /// schema. Nothing was written; retrying the same call fails the same way.
    #[error("{0}")]
    Conflict(String),
    /// The backend cannot be reached or is overloaded; retrying later may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or corrupt data. Not for clients' eyes.
    #[error("store failure: {0}")]
    Internal(String),
}

impl StoreError {
    /// Whether this failure belongs to one item of a batch, which is then rolled back
    /// alone, rather than to the whole call.
    pub(crate) fn fails_item_alone(&self) -> bool {
        matches!(self, Self::Conflict(_))
    }

    /// The conflict of an alias bound to another schema of the namespace.
    pub(crate) fn alias_taken(alias: &str, namespace: &str, owner: &str) -> Self {
        Self::Conflict(format!("alias {alias} already names {namespace}/{owner}"))
    }
}
