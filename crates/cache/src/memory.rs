//! The in-process layer: moka, bounded by the bytes its entries hold, with a time to
//! live chosen per entry.

use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use moka::Expiry;
use moka::future::Cache;
use moka::notification::RemovalCause;
use prometheus_client::metrics::counter::Counter;

use crate::{CacheError, CacheLayer};

/// Bytes every entry costs beside its key and value: moka's node and our slot.
const ENTRY_OVERHEAD_BYTES: usize = 96;

/// How many bytes a key or value holds, for the bound.
pub trait Weigh {
    /// Approximate heap and inline size in bytes.
    fn weigh(&self) -> usize;
}

impl Weigh for Bytes {
    fn weigh(&self) -> usize {
        self.len()
    }
}

impl Weigh for String {
    fn weigh(&self) -> usize {
        self.len()
    }
}

impl Weigh for Arc<str> {
    fn weigh(&self) -> usize {
        self.len()
    }
}

/// A value and how long it may live.
#[derive(Debug, Clone)]
struct Slot<V> {
    value: V,
    ttl: Duration,
}

/// Lets each slot carry its own time to live, also when it replaces another.
struct SlotExpiry;

impl<K, V> Expiry<K, Slot<V>> for SlotExpiry {
    fn expire_after_create(&self, _: &K, slot: &Slot<V>, _: Instant) -> Option<Duration> {
        Some(slot.ttl)
    }

    fn expire_after_update(
        &self,
        _: &K,
        slot: &Slot<V>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(slot.ttl)
    }
}

/// An in-process cache holding at most `capacity_bytes` of keys and values.
#[derive(Clone)]
pub struct MemoryCache<K, V> {
    entries: Cache<K, Slot<V>>,
}

impl<K, V> std::fmt::Debug for MemoryCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("entries", &self.entries.entry_count())
            .field("weighted_bytes", &self.entries.weighted_size())
            .finish()
    }
}

impl<K, V> MemoryCache<K, V>
where
    K: Hash + Eq + Weigh + Send + Sync + 'static,
    V: Weigh + Clone + Send + Sync + 'static,
{
    /// A cache bounded by `capacity_bytes`.
    pub fn new(capacity_bytes: u64) -> Self {
        Self::with_eviction_counter(capacity_bytes, Counter::default())
    }

    /// A cache that counts in `evictions` the entries it drops for room.
    pub fn with_eviction_counter(capacity_bytes: u64, evictions: Counter) -> Self {
        let entries = Cache::builder()
            .max_capacity(capacity_bytes)
            .weigher(|key: &K, slot: &Slot<V>| {
                let bytes = key.weigh() + slot.value.weigh() + ENTRY_OVERHEAD_BYTES;
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .expire_after(SlotExpiry)
            .eviction_listener(move |_, _, cause| {
                if cause == RemovalCause::Size {
                    evictions.inc();
                }
            })
            .build();
        Self { entries }
    }

    /// The value under `key`, unless absent or expired.
    pub async fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get(key).await.map(|slot| slot.value)
    }

    /// Stores `value` under `key` for `ttl`.
    pub async fn insert(&self, key: K, value: V, ttl: Duration) {
        self.entries.insert(key, Slot { value, ttl }).await;
    }

    /// Drops the entry under `key`.
    pub async fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.invalidate(key).await;
    }

    /// Drops every entry. Later reads miss at once; memory is reclaimed lazily.
    pub fn clear(&self) {
        self.entries.invalidate_all();
    }

    /// Bytes held now, after pending maintenance runs.
    pub async fn weighted_bytes(&self) -> u64 {
        self.entries.run_pending_tasks().await;
        self.entries.weighted_size()
    }
}

#[async_trait]
impl CacheLayer for MemoryCache<String, Bytes> {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, CacheError> {
        Ok(MemoryCache::get(self, key).await)
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<(), CacheError> {
        self.insert(key.to_owned(), value, ttl).await;
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        for key in keys {
            self.remove(key.as_str()).await;
        }
        Ok(())
    }
}
