//! The read path: in-process, then Redis, then the store, filling the layers above
//! on the way back.

use std::sync::Arc;

use ovsr_core::{Digest, Namespace, SchemaName, Version, VersionSelector, VersionState};
use ovsr_store::{SchemaSummary, StoreError, StoredVersion};
use tracing::debug;

use super::Shared;
use super::keys::{Pointer, PointerKey};
use crate::codec::{self, content_key, latest_key, owner_key, version_key};
use crate::{CacheError, CacheLayer as _};

/// What the cache layers know about a pointer.
enum Known<T> {
    /// Cached, possibly as "not found" (`None`).
    Cached(Option<T>),
    /// Neither layer holds it: ask the store.
    Unknown,
}

impl Shared {
    pub(super) async fn get_version(
        &self,
        schema: &SchemaName,
        selector: VersionSelector,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let number = match selector {
            VersionSelector::Exact(number) => number,
            VersionSelector::Latest => match self.cached_latest(schema).await {
                Known::Cached(Some(number)) => number,
                Known::Cached(None) => return Ok(None),
                Known::Unknown => return self.load_version(schema, selector, false).await,
            },
        };
        let record = match self.cached_version(schema, number).await {
            Known::Cached(Some(record)) => record,
            Known::Cached(None) => return Ok(None),
            Known::Unknown => return self.load_version(schema, selector, include_deleted).await,
        };
        if record.state == VersionState::Deleted {
            return match selector {
                // The latest pointer is stale: the store knows the new one.
                VersionSelector::Latest => self.load_version(schema, selector, false).await,
                VersionSelector::Exact(_) if !include_deleted => Ok(None),
                VersionSelector::Exact(_) => self.with_content(record, schema, selector).await,
            };
        }
        self.with_content(record, schema, selector).await
    }

    pub(super) async fn get_by_digest(
        &self,
        digest: &Digest,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let (schema, number) = match self.cached_owner(digest, include_deleted).await {
            Known::Cached(Some(owner)) => owner,
            Known::Cached(None) => return Ok(None),
            Known::Unknown => return self.load_by_digest(digest, include_deleted).await,
        };
        let record = match self.cached_version(&schema, number).await {
            Known::Cached(Some(record)) => record,
            _ => return self.load_by_digest(digest, include_deleted).await,
        };
        if record.state == VersionState::Deleted && !include_deleted {
            return self.load_by_digest(digest, include_deleted).await;
        }
        let selector = VersionSelector::Exact(number);
        self.with_content(record, &schema, selector).await
    }

    pub(super) async fn list_schemas(
        &self,
        namespace: Option<&Namespace>,
        after: Option<&SchemaName>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<SchemaSummary>, StoreError> {
        let key = PointerKey::Schemas {
            generation: self.list_generation(),
            namespace: namespace.cloned(),
            after: after.cloned(),
            limit,
            include_deleted,
        };
        if let Some(Pointer::Schemas(page)) = self.memory_pointer(&key).await {
            return Ok(page.as_ref().clone());
        }
        let page = self
            .inner
            .list_schemas(namespace, after, limit, include_deleted)
            .await?;
        let value = Pointer::Schemas(Arc::new(page.clone()));
        self.pointers.insert(key, value, self.pointer_ttl()).await;
        Ok(page)
    }

    pub(super) async fn list_versions(
        &self,
        schema: &SchemaName,
        after: Option<Version>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<StoredVersion>, StoreError> {
        let key = PointerKey::Versions {
            generation: self.list_generation(),
            schema: schema.clone(),
            after,
            limit,
            include_deleted,
        };
        if let Some(Pointer::Versions(page)) = self.memory_pointer(&key).await {
            return Ok(page.as_ref().clone());
        }
        let page = self
            .inner
            .list_versions(schema, after, limit, include_deleted)
            .await?;
        let value = Pointer::Versions(Arc::new(page.clone()));
        self.pointers.insert(key, value, self.pointer_ttl()).await;
        Ok(page)
    }

    /// Attaches cached content to a record, or reads the whole version from the
    /// store when the content is in neither layer.
    async fn with_content(
        &self,
        record: Arc<StoredVersion>,
        schema: &SchemaName,
        selector: VersionSelector,
    ) -> Result<Option<StoredVersion>, StoreError> {
        // Records filled in process carry their content: one lookup, not two.
        if record.content.is_some() {
            return Ok(Some(StoredVersion::clone(&record)));
        }
        match self.cached_content(&record.digest).await {
            Some(content) => {
                let mut version = StoredVersion::clone(&record);
                version.content = Some(content);
                // From Redis the record came alone; keep it whole from now on.
                let key = PointerKey::Version(schema.clone(), version.version);
                let whole = Pointer::Version(Some(Arc::new(version.clone())));
                self.pointers.insert(key, whole, self.pointer_ttl()).await;
                Ok(Some(version))
            }
            None => self.load_version(schema, selector, true).await,
        }
    }

    /// Reads a version from the store and caches what it learnt, "not found"
    /// included. Exact versions are read with deleted ones, so the record cached is
    /// the truth whatever a later reader asks; the answer is then filtered.
    async fn load_version(
        &self,
        schema: &SchemaName,
        selector: VersionSelector,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError> {
        debug!(%schema, %selector, "cache: reading version from the store");
        let exact = matches!(selector, VersionSelector::Exact(_));
        let found = self.inner.get_version(schema, selector, exact).await?;
        match (&found, selector) {
            (None, VersionSelector::Latest) => {
                let key = PointerKey::Latest(schema.clone());
                self.remember_negative(key, Pointer::Latest(None)).await;
            }
            (None, VersionSelector::Exact(number)) => {
                let key = PointerKey::Version(schema.clone(), number);
                self.remember_negative(key, Pointer::Version(None)).await;
            }
            (Some(version), VersionSelector::Latest) => {
                self.fill_latest(schema, version.version).await;
                self.fill_version(version).await;
            }
            (Some(version), VersionSelector::Exact(_)) => self.fill_version(version).await,
        }
        let visible = found.filter(|v| include_deleted || v.state != VersionState::Deleted);
        Ok(visible)
    }

    async fn load_by_digest(
        &self,
        digest: &Digest,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError> {
        debug!(%digest, "cache: reading digest from the store");
        let found = self.inner.get_by_digest(digest, include_deleted).await?;
        let key = PointerKey::Owner(*digest, include_deleted);
        let Some(version) = &found else {
            self.remember_negative(key, Pointer::Owner(None)).await;
            return Ok(None);
        };
        let owner = (version.schema.clone(), version.version);
        let ttl = self.pointer_ttl();
        let value = Pointer::Owner(Some(owner));
        self.pointers.insert(key, value, ttl).await;
        let redis_key = owner_key(digest, include_deleted);
        let encoded = codec::encode_owner(&version.schema, version.version);
        self.set_shared(&redis_key, encoded, self.config.shared_pointer_ttl)
            .await;
        self.fill_version(version).await;
        Ok(found)
    }

    async fn cached_latest(&self, schema: &SchemaName) -> Known<Version> {
        let key = PointerKey::Latest(schema.clone());
        if let Some(Pointer::Latest(found)) = self.memory_pointer(&key).await {
            return Known::Cached(found);
        }
        let Some(bytes) = self.get_shared(&latest_key(schema)).await else {
            return Known::Unknown;
        };
        let Ok(number) = codec::decode_number(&bytes) else {
            return Known::Unknown;
        };
        let ttl = self.pointer_ttl();
        self.pointers
            .insert(key, Pointer::Latest(Some(number)), ttl)
            .await;
        Known::Cached(Some(number))
    }

    async fn cached_version(
        &self,
        schema: &SchemaName,
        number: Version,
    ) -> Known<Arc<StoredVersion>> {
        let key = PointerKey::Version(schema.clone(), number);
        if let Some(Pointer::Version(found)) = self.memory_pointer(&key).await {
            return Known::Cached(found);
        }
        let Some(bytes) = self.get_shared(&version_key(schema, number)).await else {
            return Known::Unknown;
        };
        let Ok(record) = codec::decode_version(&bytes) else {
            return Known::Unknown;
        };
        let record = Arc::new(record);
        let value = Pointer::Version(Some(Arc::clone(&record)));
        self.pointers.insert(key, value, self.pointer_ttl()).await;
        Known::Cached(Some(record))
    }

    async fn cached_owner(
        &self,
        digest: &Digest,
        include_deleted: bool,
    ) -> Known<(SchemaName, Version)> {
        let key = PointerKey::Owner(*digest, include_deleted);
        if let Some(Pointer::Owner(found)) = self.memory_pointer(&key).await {
            return Known::Cached(found);
        }
        let redis_key = owner_key(digest, include_deleted);
        let Some(bytes) = self.get_shared(&redis_key).await else {
            return Known::Unknown;
        };
        let Ok(owner) = codec::decode_owner(&bytes) else {
            return Known::Unknown;
        };
        let value = Pointer::Owner(Some(owner.clone()));
        self.pointers.insert(key, value, self.pointer_ttl()).await;
        Known::Cached(Some(owner))
    }

    async fn cached_content(&self, digest: &Digest) -> Option<Arc<str>> {
        if let Some(content) = self.contents.get(digest).await {
            self.metrics.memory_hits.inc();
            return Some(content);
        }
        self.metrics.memory_misses.inc();
        let bytes = self.get_shared(&content_key(digest)).await?;
        let content: Arc<str> = Arc::from(std::str::from_utf8(&bytes).ok()?);
        let ttl = self.config.content_ttl;
        self.contents
            .insert(*digest, Arc::clone(&content), ttl)
            .await;
        Some(content)
    }

    /// Caches a version's record and content in both layers.
    pub(super) async fn fill_version(&self, version: &StoredVersion) {
        if let Some(content) = &version.content {
            let ttl = self.config.content_ttl;
            self.contents
                .insert(version.digest, Arc::clone(content), ttl)
                .await;
            let key = content_key(&version.digest);
            let bytes = bytes::Bytes::copy_from_slice(content.as_bytes());
            self.set_shared(&key, bytes, ttl).await;
        }
        // Redis keeps the record and the content apart (content is shared by every
        // version holding it); in process the record keeps its content beside it.
        let redis_key = version_key(&version.schema, version.version);
        let encoded = codec::encode_version(version);
        let key = PointerKey::Version(version.schema.clone(), version.version);
        let value = Pointer::Version(Some(Arc::new(version.clone())));
        self.pointers.insert(key, value, self.pointer_ttl()).await;
        self.set_shared(&redis_key, encoded, self.config.shared_pointer_ttl)
            .await;
    }

    async fn fill_latest(&self, schema: &SchemaName, number: Version) {
        let key = PointerKey::Latest(schema.clone());
        let value = Pointer::Latest(Some(number));
        self.pointers.insert(key, value, self.pointer_ttl()).await;
        let encoded = codec::encode_number(number);
        self.set_shared(&latest_key(schema), encoded, self.config.shared_pointer_ttl)
            .await;
    }

    /// Remembers "not found" in process only, for the short negative TTL.
    async fn remember_negative(&self, key: PointerKey, value: Pointer) {
        debug_assert!(value.is_negative());
        let ttl = self.config.negative_ttl.min(self.pointer_ttl());
        self.pointers.insert(key, value, ttl).await;
    }

    async fn memory_pointer(&self, key: &PointerKey) -> Option<Pointer> {
        let found = self.pointers.get(key).await;
        if found.is_some() {
            self.metrics.memory_hits.inc();
        } else {
            self.metrics.memory_misses.inc();
        }
        found
    }

    /// A Redis read; any failure is a miss, counted in the metrics.
    async fn get_shared(&self, key: &str) -> Option<bytes::Bytes> {
        let redis = self.redis.as_ref()?;
        match redis.get(key).await {
            Ok(found) => found,
            Err(CacheError::Unavailable(reason) | CacheError::Corrupt(reason)) => {
                debug!(%reason, "cache: redis read skipped");
                None
            }
        }
    }

    /// A Redis write; a failure only costs a later miss.
    pub(super) async fn set_shared(
        &self,
        key: &str,
        value: bytes::Bytes,
        ttl: std::time::Duration,
    ) {
        let Some(redis) = &self.redis else {
            return;
        };
        if let Err(err) = redis.set(key, value, ttl).await {
            debug!(error = %err, "cache: redis write skipped");
        }
    }
}
