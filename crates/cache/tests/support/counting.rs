//! A pass-through around a real store that counts the reads reaching it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use ovsr_core::{Digest, Namespace, SchemaName, Version, VersionSelector};
use ovsr_store::{
    ChangeEvent, ChangeId, NewVersion, Registered, SchemaStore, SchemaSummary, StoreError,
    StoredVersion,
};

#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn SchemaStore>,
    reads: AtomicU64,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn SchemaStore>) -> Self {
        Self {
            inner,
            reads: AtomicU64::new(0),
        }
    }

    /// Version, digest and listing reads so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::SeqCst)
    }

    fn count(&self) {
        self.reads.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl SchemaStore for CountingStore {
    async fn register(&self, new: NewVersion) -> Result<Registered, StoreError> {
        self.inner.register(new).await
    }

    async fn register_batch(
        &self,
        batch: Vec<NewVersion>,
    ) -> Result<Vec<Result<Registered, StoreError>>, StoreError> {
        self.inner.register_batch(batch).await
    }

    async fn resolve_alias(
        &self,
        namespace: &Namespace,
        alias: &str,
    ) -> Result<Option<SchemaName>, StoreError> {
        self.inner.resolve_alias(namespace, alias).await
    }

    async fn get_version(
        &self,
        schema: &SchemaName,
        selector: VersionSelector,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError> {
        self.count();
        self.inner
            .get_version(schema, selector, include_deleted)
            .await
    }

    async fn get_by_digest(
        &self,
        digest: &Digest,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError> {
        self.count();
        self.inner.get_by_digest(digest, include_deleted).await
    }

    async fn list_schemas(
        &self,
        namespace: Option<&Namespace>,
        after: Option<&SchemaName>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<SchemaSummary>, StoreError> {
        self.count();
        self.inner
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
        self.count();
        self.inner
            .list_versions(schema, after, limit, include_deleted)
            .await
    }

    async fn deprecate(
        &self,
        schema: &SchemaName,
        version: Version,
    ) -> Result<StoredVersion, StoreError> {
        self.inner.deprecate(schema, version).await
    }

    async fn delete(
        &self,
        schema: &SchemaName,
        version: Option<Version>,
    ) -> Result<Vec<Version>, StoreError> {
        self.inner.delete(schema, version).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn claim_changes(
        &self,
        consumer: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ChangeEvent>, StoreError> {
        self.inner.claim_changes(consumer, limit, lease).await
    }

    async fn complete_changes(&self, ids: &[ChangeId]) -> Result<u64, StoreError> {
        self.inner.complete_changes(ids).await
    }

    async fn oldest_pending_change_age(&self) -> Result<Option<Duration>, StoreError> {
        self.inner.oldest_pending_change_age().await
    }
}
