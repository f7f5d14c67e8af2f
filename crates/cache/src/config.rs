//! How the cache is sized and how long entries live.

use std::time::Duration;

use crate::RedisConfig;

/// Sizes and lifetimes of the cache layers.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Bytes the in-process layer may hold (content and pointers together).
    pub memory_bytes: u64,
    /// Redis behind the in-process layer; `None` runs the in-process layer alone.
    pub redis: Option<RedisConfig>,
    /// How long a pointer (latest, a version's state, a list page) lives in process
    /// while invalidations arrive: the safety net for a lost message.
    pub pointer_ttl: Duration,
    /// How long a pointer lives in process while invalidations cannot arrive (Redis
    /// unreachable), which bounds staleness then.
    pub degraded_pointer_ttl: Duration,
    /// How long a "not found" is remembered.
    pub negative_ttl: Duration,
    /// How long a pointer lives in Redis.
    pub shared_pointer_ttl: Duration,
    /// How long content lives in either layer. Content never changes; this only
    /// returns memory for digests nobody reads.
    pub content_ttl: Duration,
    /// How many of the most-read schemas are loaded into the cache at start-up.
    pub warm_schemas: usize,
    /// How often sampled read counts are added to Redis.
    pub read_counts_flush_every: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            memory_bytes: 256 << 20,
            redis: None,
            pointer_ttl: Duration::from_secs(30),
            degraded_pointer_ttl: Duration::from_secs(2),
            negative_ttl: Duration::from_secs(5),
            shared_pointer_ttl: Duration::from_secs(30),
            content_ttl: Duration::from_secs(7 * 24 * 3600),
            warm_schemas: 100,
            read_counts_flush_every: Duration::from_secs(10),
        }
    }
}
