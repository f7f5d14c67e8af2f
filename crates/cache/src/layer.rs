//! The interface both layers offer for raw bytes: what the conformance suite holds
//! every layer to.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::CacheError;

/// A key-value cache of bytes with a time to live per entry.
#[async_trait]
pub trait CacheLayer: Send + Sync + std::fmt::Debug {
    /// The value under `key`, unless absent or expired.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, CacheError>;

    /// Stores `value` under `key` for `ttl`, replacing what was there.
    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<(), CacheError>;

    /// Removes every key of `keys`; absent keys are ignored.
    async fn delete(&self, keys: &[String]) -> Result<(), CacheError>;
}
