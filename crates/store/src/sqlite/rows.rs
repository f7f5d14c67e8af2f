//! Reading rows into store records.
//!
//! Rows are checked as they are read: a name, digest or state that does not parse means
//! the database was written by something else, which is reported as internal, never
//! served.

use std::sync::Arc;

use ovsr_core::{Digest, SchemaName, Version, VersionState};
use rusqlite::Row;

use crate::types::decode_references;
use crate::{SchemaSummary, StoreError, StoredVersion};

/// The version columns every query selects, in the order [`read_version`] reads them.
/// Content, when wanted, follows as one more column.
pub(super) const VERSION_COLUMNS: &str = "v.namespace, v.name, v.version, v.digest, v.state, \
     length(CAST(v.content AS BLOB)), v.title, v.description, v.dialect, v.tags, \
     v.created_at_ms, v.aliases, v.reference_locks";

/// The schema columns, then the latest version's columns (null when none is live).
pub(super) const SUMMARY_COLUMNS: &str = "s.namespace, s.name, s.updated_at_ms, \
     v.namespace, v.name, v.version, v.digest, v.state, \
     length(CAST(v.content AS BLOB)), v.title, v.description, v.dialect, v.tags, \
     v.created_at_ms, v.aliases, v.reference_locks";

const VERSION_COLUMN_COUNT: usize = 13;

/// Reads [`VERSION_COLUMNS`] (and content when `with_content`). The outer result is
/// SQLite's, the inner one says whether the row made sense.
pub(super) fn read_version(
    row: &Row<'_>,
    with_content: bool,
) -> rusqlite::Result<Result<StoredVersion, StoreError>> {
    read_version_at(row, 0, with_content)
}

/// Reads [`SUMMARY_COLUMNS`].
pub(super) fn read_summary(row: &Row<'_>) -> rusqlite::Result<Result<SchemaSummary, StoreError>> {
    let namespace: String = row.get(0)?;
    let name: String = row.get(1)?;
    let updated_at_ms: i64 = row.get(2)?;
    let has_latest = row.get::<_, Option<u32>>(5)?.is_some();
    let latest = if has_latest {
        Some(read_version_at(row, 3, false)?)
    } else {
        None
    };
    Ok((|| {
        Ok(SchemaSummary {
            schema: parse_name(&namespace, &name)?,
            latest: latest.transpose()?,
            updated_at_ms,
        })
    })())
}

fn read_version_at(
    row: &Row<'_>,
    at: usize,
    with_content: bool,
) -> rusqlite::Result<Result<StoredVersion, StoreError>> {
    let namespace: String = row.get(at)?;
    let name: String = row.get(at + 1)?;
    let number: u32 = row.get(at + 2)?;
    let digest: String = row.get(at + 3)?;
    let state: String = row.get(at + 4)?;
    let size_bytes: i64 = row.get(at + 5)?;
    let title: Option<String> = row.get(at + 6)?;
    let description: Option<String> = row.get(at + 7)?;
    let dialect: String = row.get(at + 8)?;
    let tags: String = row.get(at + 9)?;
    let created_at_ms: i64 = row.get(at + 10)?;
    let aliases: String = row.get(at + 11)?;
    let references: String = row.get(at + 12)?;
    let content: Option<String> = if with_content {
        Some(row.get(at + VERSION_COLUMN_COUNT)?)
    } else {
        None
    };

    Ok((|| {
        let corrupt = |what: &str| StoreError::Internal(format!("stored {what} does not parse"));
        Ok(StoredVersion {
            schema: parse_name(&namespace, &name)?,
            version: Version::new(number, "version").map_err(|_| corrupt("version"))?,
            digest: Digest::parse(&digest, "digest").map_err(|_| corrupt("digest"))?,
            state: VersionState::from_stored(&state).ok_or_else(|| corrupt("state"))?,
            content: content.map(Arc::from),
            size_bytes: u64::try_from(size_bytes).map_err(|_| corrupt("size"))?,
            title,
            description,
            dialect,
            tags: serde_json::from_str(&tags).map_err(|_| corrupt("tags"))?,
            aliases: serde_json::from_str(&aliases).map_err(|_| corrupt("aliases"))?,
            references: decode_references(&references)?,
            created_at_ms,
        })
    })())
}

fn parse_name(namespace: &str, name: &str) -> Result<SchemaName, StoreError> {
    SchemaName::new(namespace, name, "stored")
        .map_err(|err| StoreError::Internal(format!("stored name does not parse: {err}")))
}
