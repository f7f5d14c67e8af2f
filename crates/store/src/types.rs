//! The records a store reads and writes.

use std::sync::Arc;

use ovsr_core::{Digest, SchemaName, Version, VersionState};

/// A version to register: content already canonicalized and digested.
#[derive(Debug, Clone)]
pub struct NewVersion {
    /// The schema it belongs to.
    pub schema: SchemaName,
    /// RFC 8785 canonical text.
    pub content: String,
    /// `sha256` of `content`.
    pub digest: Digest,
    /// The document's top-level `title`.
    pub title: Option<String>,
    /// The document's top-level `description`.
    pub description: Option<String>,
    /// The dialect (`$schema` URI) the document was checked against.
    pub dialect: String,
    /// Tags given at registration.
    pub tags: Vec<String>,
}

/// A stored version. `content` is absent in listings.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVersion {
    /// The schema it belongs to.
    pub schema: SchemaName,
    /// Its number.
    pub version: Version,
    /// `sha256` of its canonical content.
    pub digest: Digest,
    /// Its lifecycle state.
    pub state: VersionState,
    /// Canonical text, shared cheaply between readers.
    pub content: Option<Arc<str>>,
    /// Size of the canonical text in bytes.
    pub size_bytes: u64,
    /// Top-level `title`.
    pub title: Option<String>,
    /// Top-level `description`.
    pub description: Option<String>,
    /// Dialect (`$schema` URI).
    pub dialect: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Registration time, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// The outcome of a register call.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    /// The version stored, or the existing one with identical content.
    pub version: StoredVersion,
    /// False when an existing version was returned.
    pub created: bool,
}

/// A schema with its latest live version, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaSummary {
    /// The schema.
    pub schema: SchemaName,
    /// The latest live version; `None` when every version is deleted.
    pub latest: Option<StoredVersion>,
    /// Last change, milliseconds since the Unix epoch.
    pub updated_at_ms: i64,
}
