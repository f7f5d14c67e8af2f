//! [`CachingSchemaStore`]: any schema store, read through the cache layers.
//!
//! Reads resolve in steps that are each cached on their own: a schema's latest
//! version number, a version's record (digest, state, metadata), and content by
//! digest. A hot `GetSchema` is two or three in-process lookups. Writes go to the
//! store first; once committed, the pointers they moved are dropped everywhere and
//! what they created is written through.

mod background;
mod keys;
mod reads;
mod writes;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use ovsr_core::{Digest, Namespace, SchemaName, Version, VersionSelector};
use ovsr_store::{
    ChangeEvent, ChangeId, NewVersion, Registered, SchemaStore, SchemaSummary, StoreError,
    StoredVersion,
};
use tokio_util::sync::CancellationToken;

use crate::popularity::Popularity;
use crate::{CacheConfig, CacheError, CacheMetrics, MemoryCache, RedisCache};
use keys::{Pointer, PointerKey};

/// Share of the in-process budget given to content; pointers get the rest.
const CONTENT_SHARE_PERCENT: u64 = 75;

/// A schema store whose reads go through the in-process layer, then Redis (when
/// configured), then the store, and whose writes keep both layers honest.
#[derive(Debug, Clone)]
pub struct CachingSchemaStore {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    inner: Arc<dyn SchemaStore>,
    contents: MemoryCache<Digest, Arc<str>>,
    pointers: MemoryCache<PointerKey, Pointer>,
    redis: Option<RedisCache>,
    config: CacheConfig,
    metrics: CacheMetrics,
    /// Whether invalidations reach this process now. Always true without Redis,
    /// where this process is the only writer it can hear of.
    invalidations_live: AtomicBool,
    /// Bumped by every change: list pages carry it in their key, so one bump makes
    /// every cached page unreachable.
    list_generation: AtomicU64,
    popularity: Popularity,
    /// Names this process in the invalidations it sends.
    origin: String,
}

impl CachingSchemaStore {
    /// Wraps `inner`, connects to Redis when configured, and starts the background
    /// tasks (invalidations, read counts, warming) until `cancel`.
    pub async fn start(
        inner: Arc<dyn SchemaStore>,
        config: CacheConfig,
        metrics: CacheMetrics,
        cancel: CancellationToken,
    ) -> Result<Self, CacheError> {
        let redis = match &config.redis {
            Some(redis) => Some(RedisCache::connect(redis, metrics.clone()).await?),
            None => None,
        };
        let content_bytes = config.memory_bytes / 100 * CONTENT_SHARE_PERCENT;
        let pointer_bytes = config.memory_bytes - content_bytes;
        let evictions = metrics.memory_evictions.clone();
        let shared = Arc::new(Shared {
            inner,
            contents: MemoryCache::with_eviction_counter(content_bytes, evictions.clone()),
            pointers: MemoryCache::with_eviction_counter(pointer_bytes, evictions),
            invalidations_live: AtomicBool::new(redis.is_none()),
            redis,
            config,
            metrics,
            list_generation: AtomicU64::new(0),
            popularity: Popularity::default(),
            origin: background::process_origin(),
        });
        background::spawn(&shared, cancel);
        Ok(Self { shared })
    }

    /// Whether invalidations from other processes reach this one now.
    pub fn invalidations_live(&self) -> bool {
        self.shared.invalidations_live.load(Ordering::Acquire)
    }
}

impl Shared {
    /// How long a pointer may live in process now: the safety net while
    /// invalidations arrive, the short bound while they cannot.
    fn pointer_ttl(&self) -> Duration {
        if self.invalidations_live.load(Ordering::Acquire) {
            self.config.pointer_ttl
        } else {
            self.config.degraded_pointer_ttl
        }
    }

    fn list_generation(&self) -> u64 {
        self.list_generation.load(Ordering::Acquire)
    }
}

#[async_trait]
impl SchemaStore for CachingSchemaStore {
    async fn register(&self, new: NewVersion) -> Result<Registered, StoreError> {
        let registered = self.shared.inner.register(new).await?;
        if registered.created {
            self.shared
                .published(std::slice::from_ref(&registered.version))
                .await;
        }
        Ok(registered)
    }

    async fn register_batch(
        &self,
        batch: Vec<NewVersion>,
    ) -> Result<Vec<Result<Registered, StoreError>>, StoreError> {
        let results = self.shared.inner.register_batch(batch).await?;
        let created: Vec<StoredVersion> = results
            .iter()
            .filter_map(|result| result.as_ref().ok())
            .filter(|registered| registered.created)
            .map(|registered| registered.version.clone())
            .collect();
        if !created.is_empty() {
            self.shared.published(&created).await;
        }
        Ok(results)
    }

    async fn resolve_alias(
        &self,
        namespace: &Namespace,
        alias: &str,
    ) -> Result<Option<SchemaName>, StoreError> {
        self.shared.inner.resolve_alias(namespace, alias).await
    }

    async fn get_version(
        &self,
        schema: &SchemaName,
        selector: VersionSelector,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError> {
        self.shared.popularity.record(schema);
        self.shared
            .get_version(schema, selector, include_deleted)
            .await
    }

    async fn get_by_digest(
        &self,
        digest: &Digest,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError> {
        self.shared.get_by_digest(digest, include_deleted).await
    }

    async fn list_schemas(
        &self,
        namespace: Option<&Namespace>,
        after: Option<&SchemaName>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<SchemaSummary>, StoreError> {
        self.shared
            .list_schemas(namespace, after, limit, include_deleted)
            .await
    }

    async fn list_versions(
        &self,
        schema: &SchemaName,
        after: Option<Version>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<StoredVersion>, StoreError> {
        self.shared
            .list_versions(schema, after, limit, include_deleted)
            .await
    }

    async fn deprecate(
        &self,
        schema: &SchemaName,
        version: Version,
    ) -> Result<StoredVersion, StoreError> {
        let deprecated = self.shared.inner.deprecate(schema, version).await?;
        self.shared.deprecated(&deprecated).await;
        Ok(deprecated)
    }

    async fn delete(
        &self,
        schema: &SchemaName,
        version: Option<Version>,
    ) -> Result<Vec<Version>, StoreError> {
        let deleted = self.shared.inner.delete(schema, version).await?;
        if !deleted.is_empty() {
            self.shared.deleted(schema, &deleted).await;
        }
        Ok(deleted)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.shared.inner.ping().await
    }

    async fn claim_changes(
        &self,
        consumer: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ChangeEvent>, StoreError> {
        self.shared
            .inner
            .claim_changes(consumer, limit, lease)
            .await
    }

    async fn complete_changes(&self, ids: &[ChangeId]) -> Result<u64, StoreError> {
        self.shared.inner.complete_changes(ids).await
    }

    async fn oldest_pending_change_age(&self) -> Result<Option<Duration>, StoreError> {
        self.shared.inner.oldest_pending_change_age().await
    }
}
