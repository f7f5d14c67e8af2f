//! The records a store reads and writes.

use std::collections::BTreeMap;
use std::sync::Arc;

use ovsr_core::{Digest, SchemaName, Version, VersionState};

use crate::StoreError;

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
    /// Other URLs this schema is known by within its namespace: absolute, without
    /// fragment, already checked by the caller. Registering binds each one to the
    /// schema, or fails with [`StoreError::Conflict`] when one names another schema.
    pub aliases: Vec<String>,
    /// Every URL the document refers to outside itself, to the digest it resolved to
    /// at registration. Stored as given.
    pub references: BTreeMap<String, Digest>,
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
    /// The aliases given when this version was registered, as given; empty for
    /// versions stored before aliases existed. Aliases given by a later identical
    /// register are bound to the schema but not added here: a version never changes.
    pub aliases: Vec<String>,
    /// The reference locks given at registration: each URL the document refers to
    /// outside itself, to the digest it resolved to. Empty for older versions.
    pub references: BTreeMap<String, Digest>,
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

/// The identity of one outbox event, increasing in the order events were recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeId(pub i64);

/// What a write did to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// A new version was stored.
    Registered,
    /// A version was marked deprecated.
    Deprecated,
    /// A version was soft-deleted.
    Deleted,
}

impl ChangeKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Deprecated => "deprecated",
            Self::Deleted => "deleted",
        }
    }

    /// Parses the stored spelling.
    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            "registered" => Some(Self::Registered),
            "deprecated" => Some(Self::Deprecated),
            "deleted" => Some(Self::Deleted),
            _ => None,
        }
    }
}

/// One change from the outbox, written in the same transaction as the change itself.
///
/// An event names what changed, not the state after it: consumers re-read the version
/// from the store, so events handled out of order or twice still converge.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    /// Its identity, for [`crate::SchemaStore::complete_changes`].
    pub id: ChangeId,
    /// The schema changed.
    pub schema: SchemaName,
    /// The version changed.
    pub version: Version,
    /// What happened to it.
    pub kind: ChangeKind,
    /// When the change was recorded, milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

impl ChangeEvent {
    /// Builds an event from stored columns, reporting anything that does not parse as
    /// internal: the row was written by something else.
    pub(crate) fn from_stored(
        id: i64,
        namespace: &str,
        name: &str,
        version: i64,
        kind: &str,
        created_at_ms: i64,
    ) -> Result<Self, StoreError> {
        let corrupt =
            |what: &str| StoreError::Internal(format!("stored change {what} does not parse"));
        let schema = SchemaName::new(namespace, name, "stored").map_err(|_| corrupt("name"))?;
        let number = u32::try_from(version).map_err(|_| corrupt("version"))?;
        Ok(Self {
            id: ChangeId(id),
            schema,
            version: Version::new(number, "version").map_err(|_| corrupt("version"))?,
            kind: ChangeKind::from_stored(kind).ok_or_else(|| corrupt("kind"))?,
            created_at_ms,
        })
    }
}

/// The stored form of reference locks: a JSON object of URL to digest text.
pub(crate) fn encode_references(references: &BTreeMap<String, Digest>) -> String {
    let as_text: BTreeMap<&str, String> = references
        .iter()
        .map(|(url, digest)| (url.as_str(), digest.to_string()))
        .collect();
    // A map of strings to strings always serializes.
    serde_json::to_string(&as_text).unwrap_or_else(|_| "{}".to_owned())
}

/// Reads reference locks back from [`encode_references`]' form.
pub(crate) fn decode_references(stored: &str) -> Result<BTreeMap<String, Digest>, StoreError> {
    let corrupt = || StoreError::Internal("stored reference locks do not parse".to_owned());
    let as_text: BTreeMap<String, String> = serde_json::from_str(stored).map_err(|_| corrupt())?;
    as_text
        .into_iter()
        .map(|(url, digest)| {
            let digest = Digest::parse(&digest, "reference").map_err(|_| corrupt())?;
            Ok((url, digest))
        })
        .collect()
}
