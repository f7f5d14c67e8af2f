//! The schema store: the one trait every backend implements, the embedded SQLite
//! backend that `ovsr serve` uses by default, and the PostgreSQL backend for scale.
//!
//! A store keeps schemas, their immutable versions and an outbox of changes. It knows
//! nothing of gRPC or HTTP: it speaks in `ovsr_core` types and [`StoreError`].

mod error;
mod postgres;
mod sqlite;
mod types;

use std::time::Duration;

use async_trait::async_trait;
use ovsr_core::{Digest, Namespace, SchemaName, Version, VersionSelector};

pub use error::StoreError;
pub use postgres::{PgSchemaStore, PgStoreConfig};
pub use sqlite::SqliteSchemaStore;
pub use types::{
    ChangeEvent, ChangeId, ChangeKind, NewVersion, Registered, SchemaSummary, StoredVersion,
};

/// Where schemas and their versions live.
///
/// Every method is atomic. Reads that name a version never see a half-written one;
/// `register` allocates version numbers per schema with no gaps and no reuse.
#[async_trait]
pub trait SchemaStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a new version, or returns the live version of the same schema that
    /// already holds identical content (`created = false`).
    ///
    /// In the same transaction each of `new.aliases` is bound to the schema. An alias
    /// that already names another schema of the namespace fails the call with
    /// [`StoreError::Conflict`] and nothing is stored; one that already names this
    /// schema is left as it is. Aliases are bound even when identical content returns
    /// the existing version.
    async fn register(&self, new: NewVersion) -> Result<Registered, StoreError>;

    /// Registers each item as [`SchemaStore::register`] would, in the given order and
    /// in one transaction, so a later item sees the earlier ones: two items for one
    /// schema get consecutive versions, and identical content returns the version the
    /// earlier item stored.
    ///
    /// The answer has one slot per item. An item that fails on its own (an alias
    /// conflict) is rolled back alone and reported in its slot while the others
    /// commit. A failure of the store itself (unreachable, unavailable, internal)
    /// fails the whole call and commits nothing.
    ///
    /// The batch holds the writer (SQLite) or a transaction and its locks (PostgreSQL)
    /// for as long as it runs, so callers bound it: at most 1,000 items per call.
    async fn register_batch(
        &self,
        batch: Vec<NewVersion>,
    ) -> Result<Vec<Result<Registered, StoreError>>, StoreError>;

    /// The schema `alias` names within `namespace`, if any. An alias stays bound
    /// after its schema's versions are deleted.
    async fn resolve_alias(
        &self,
        namespace: &Namespace,
        alias: &str,
    ) -> Result<Option<SchemaName>, StoreError>;

    /// One version of a schema with its content. Deleted versions are returned only
    /// when `include_deleted` is set; `Latest` never selects a deleted version.
    async fn get_version(
        &self,
        schema: &SchemaName,
        selector: VersionSelector,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError>;

    /// The earliest registered version holding this content, with its content.
    async fn get_by_digest(
        &self,
        digest: &Digest,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError>;

    /// Up to `limit` schemas ordered by (namespace, name), strictly after `after`.
    async fn list_schemas(
        &self,
        namespace: Option<&Namespace>,
        after: Option<&SchemaName>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<SchemaSummary>, StoreError>;

    /// Up to `limit` versions of a schema in ascending order, strictly after `after`,
    /// without content.
    async fn list_versions(
        &self,
        schema: &SchemaName,
        after: Option<Version>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<StoredVersion>, StoreError>;

    /// Marks a live version deprecated (a no-op when it already is).
    async fn deprecate(
        &self,
        schema: &SchemaName,
        version: Version,
    ) -> Result<StoredVersion, StoreError>;

    /// Soft-deletes one version, or every live version when `version` is `None`.
    /// Returns the versions this call deleted.
    async fn delete(
        &self,
        schema: &SchemaName,
        version: Option<Version>,
    ) -> Result<Vec<Version>, StoreError>;

    /// Checks the store answers, for readiness probes.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Claims up to `limit` pending changes for `consumer`, oldest first, and leases
    /// them for `lease`.
    ///
    /// While a lease runs no other consumer is handed the same change, so several
    /// consumers can drain the outbox at once. A change not completed before its lease
    /// runs out is handed out again: delivery is at least once.
    async fn claim_changes(
        &self,
        consumer: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ChangeEvent>, StoreError>;

    /// Removes handled changes from the outbox and returns how many it removed.
    /// Ids already completed are ignored, so completing twice is harmless.
    async fn complete_changes(&self, ids: &[ChangeId]) -> Result<u64, StoreError>;

    /// How long the oldest change not yet completed has waited; `None` when nothing is
    /// pending. Claimed changes count as pending until completed.
    async fn oldest_pending_change_age(&self) -> Result<Option<Duration>, StoreError>;
}
