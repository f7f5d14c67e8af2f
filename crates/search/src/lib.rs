//! Discovery for OVSR: finding schemas by what they describe.
//!
//! The crate speaks its own types, not gRPC ones: a [`SearchDocument`] per schema (its
//! latest live version), a [`SearchQuery`] in and a [`SearchPage`] out, behind the
//! [`SearchIndex`] trait. [`EmbeddedIndex`] implements it on tantivy, in a directory or in
//! memory, so a single-machine registry needs no search service; a Meilisearch backend
//! implements the same trait for deployments at scale.

mod cursor;
mod document;
mod embedded;
mod error;
mod meili;
mod query;

use std::fmt::Debug;

use async_trait::async_trait;
use ovsr_core::SchemaName;

pub use document::SearchDocument;
pub use embedded::EmbeddedIndex;
pub use error::SearchError;
pub use meili::{MeiliConfig, MeiliIndex};
pub use query::{
    DEFAULT_PAGE_SIZE, Facet, FacetValue, Highlight, IndexStats, MAX_PAGE_SIZE, SearchHit,
    SearchPage, SearchQuery, SearchSort,
};

/// A full-text index of schemas.
///
/// The index holds one document per `namespace/name`. Writes are visible to searches
/// as soon as they return. The indexer that feeds it from the store's outbox records its
/// position with [`SearchIndex::set_checkpoint`]; that position lives with the index, so
/// an index restored from a backup resumes from the outbox position it was taken at.
#[async_trait]
pub trait SearchIndex: Send + Sync + Debug {
    /// Adds or replaces documents, keyed by `namespace/name`.
    ///
    /// Idempotent: upserting a document equal to the indexed one changes nothing. A
    /// document with a higher version, or the same version with new state, tags or read
    /// count, replaces the indexed one; a document with a lower version than the indexed
    /// one is a stale replay and is ignored. A replacement keeps the indexed read count
    /// when its own is lower, so a new version does not forget how often the schema was
    /// read.
    async fn upsert(&self, documents: Vec<SearchDocument>) -> Result<(), SearchError>;

    /// Adds reads to the counts of indexed schemas (the popularity sort key); schemas
    /// not indexed are skipped.
    async fn add_reads(&self, reads: Vec<(SchemaName, u64)>) -> Result<(), SearchError>;

    /// Removes a schema from the index; removing an absent schema is not an error.
    async fn remove(&self, schema: &SchemaName) -> Result<(), SearchError>;

    /// Runs a query. Invalid input is refused with [`SearchError::InvalidQuery`].
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError>;

    /// Pushes the index settings (searchable, filterable and sortable attributes, ranking
    /// rules) to the backend. Backends configured in code make this a no-op.
    async fn apply_settings(&self) -> Result<(), SearchError>;

    /// The outbox position last stored with [`SearchIndex::set_checkpoint`]; 0 when none.
    async fn checkpoint(&self) -> Result<u64, SearchError>;

    /// Stores the outbox position the index has caught up to, durably.
    async fn set_checkpoint(&self, position: u64) -> Result<(), SearchError>;

    /// Removes every document and resets the checkpoint to 0, for a full reindex.
    async fn clear(&self) -> Result<(), SearchError>;

    /// Counts of what the index holds.
    async fn stats(&self) -> Result<IndexStats, SearchError>;
}
