//! Cache failures. None of them reaches a client: a failing layer is skipped.

/// Why a cache call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CacheError {
    /// The layer cannot be reached now (not connected, timed out); the caller goes
    /// to the layer below.
    #[error("cache unavailable: {0}")]
    Unavailable(String),
    /// An entry could not be decoded: written by another version of OVSR, or
    /// corrupt. The caller treats it as a miss.
    #[error("cache entry unreadable: {0}")]
    Corrupt(String),
}
