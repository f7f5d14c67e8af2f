//! Reading PostgreSQL rows into store records.
//!
//! As with SQLite, a row that does not parse was written by something else and is
//! reported as internal, never served.

use std::sync::Arc;

use ovsr_core::{Digest, SchemaName, Version, VersionState};
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

use crate::types::decode_references;
use crate::{ChangeEvent, SchemaSummary, StoreError, StoredVersion};

/// The version columns every query selects, in the order [`read_version`] reads them.
/// Content, when wanted, follows as one more column. A macro so SQL stays `'static`.
macro_rules! version_columns {
    () => {
        "v.namespace, v.name, v.version, v.digest, v.state, octet_length(v.content), \
         v.title, v.description, v.dialect, v.tags, v.created_at_ms, v.aliases, \
         v.reference_locks::text"
    };
}
pub(super) use version_columns;

/// Milliseconds since the epoch by the database's clock at transaction start, so every
/// row a transaction writes carries one time and servers' clocks never disagree.
macro_rules! now_ms {
    () => {
        "floor(extract(epoch FROM now()) * 1000)::bigint"
    };
}
pub(super) use now_ms;

const VERSION_COLUMN_COUNT: usize = 13;

/// Reads [`version_columns!`] from the start of a row, and content when `with_content`.
pub(super) fn read_version(row: &Row, with_content: bool) -> Result<StoredVersion, StoreError> {
    read_version_at(row, 0, with_content)
}

/// Reads `s.namespace, s.name, s.updated_at_ms` followed by [`version_columns!`] of the
/// latest version, which are null when no version is live.
pub(super) fn read_summary(row: &Row) -> Result<SchemaSummary, StoreError> {
    let namespace: String = column(row, 0)?;
    let name: String = column(row, 1)?;
    let updated_at_ms: i64 = column(row, 2)?;
    let has_latest = column::<Option<i64>>(row, 5)?.is_some();
    let latest = if has_latest {
        Some(read_version_at(row, 3, false)?)
    } else {
        None
    };
    Ok(SchemaSummary {
        schema: parse_name(&namespace, &name)?,
        latest,
        updated_at_ms,
    })
}

/// Reads outbox columns `id, namespace, name, version, kind, created_at_ms`.
pub(super) fn read_change(row: &Row) -> Result<ChangeEvent, StoreError> {
    let namespace: String = column(row, 1)?;
    let name: String = column(row, 2)?;
    let kind: String = column(row, 4)?;
    ChangeEvent::from_stored(
        column(row, 0)?,
        &namespace,
        &name,
        column(row, 3)?,
        &kind,
        column(row, 5)?,
    )
}

fn read_version_at(row: &Row, at: usize, with_content: bool) -> Result<StoredVersion, StoreError> {
    let namespace: String = column(row, at)?;
    let name: String = column(row, at + 1)?;
    let number: i64 = column(row, at + 2)?;
    let digest: String = column(row, at + 3)?;
    let state: String = column(row, at + 4)?;
    let size_bytes: i32 = column(row, at + 5)?;
    let references: String = column(row, at + 12)?;
    let content: Option<String> = if with_content {
        Some(column(row, at + VERSION_COLUMN_COUNT)?)
    } else {
        None
    };

    let corrupt = |what: &str| StoreError::Internal(format!("stored {what} does not parse"));
    let number = u32::try_from(number).map_err(|_| corrupt("version"))?;
    Ok(StoredVersion {
        schema: parse_name(&namespace, &name)?,
        version: Version::new(number, "version").map_err(|_| corrupt("version"))?,
        digest: Digest::parse(&digest, "digest").map_err(|_| corrupt("digest"))?,
        state: VersionState::from_stored(&state).ok_or_else(|| corrupt("state"))?,
        content: content.map(Arc::from),
        size_bytes: u64::try_from(size_bytes).map_err(|_| corrupt("size"))?,
        title: column(row, at + 6)?,
        description: column(row, at + 7)?,
        dialect: column(row, at + 8)?,
        tags: column(row, at + 9)?,
        created_at_ms: column(row, at + 10)?,
        aliases: column(row, at + 11)?,
        references: decode_references(&references)?,
    })
}

/// One column, with a type mismatch reported as internal.
pub(super) fn column<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, StoreError> {
    row.try_get(index)
        .map_err(|err| StoreError::Internal(format!("reading column {index}: {err}")))
}

pub(super) fn parse_name(namespace: &str, name: &str) -> Result<SchemaName, StoreError> {
    SchemaName::new(namespace, name, "stored")
        .map_err(|err| StoreError::Internal(format!("stored name does not parse: {err}")))
}

/// One statement argument.
pub(super) type SqlArg<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);
