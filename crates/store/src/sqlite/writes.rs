//! Deprecating and deleting: each one immediate transaction on the writer connection
//! that records its change in the outbox. Registering is in `register`.

use ovsr_core::{SchemaName, Version};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::now_ms;
use super::rows::{VERSION_COLUMNS, read_version};
use crate::{StoreError, StoredVersion};

pub(super) fn deprecate_in_transaction(
    conn: &mut Connection,
    schema: &SchemaName,
    version: Version,
) -> Result<StoredVersion, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (ns, name) = (schema.namespace().as_str(), schema.name());
    let now = now_ms();

    let changed = tx
        .prepare_cached(
            "UPDATE schema_versions SET state = 'deprecated' WHERE namespace = ?1 \
             AND name = ?2 AND version = ?3 AND state = 'active'",
        )?
        .execute(params![ns, name, version.get()])?;
    if changed > 0 {
        touch_schema(&tx, schema, now)?;
        record_change(&tx, schema, version.get(), "deprecated", now)?;
    }

    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM schema_versions v WHERE v.namespace = ?1 \
         AND v.name = ?2 AND v.version = ?3 AND v.state <> 'deleted'"
    );
    let found = tx
        .prepare_cached(&sql)?
        .query_row(params![ns, name, version.get()], |row| {
            read_version(row, false)
        })
        .optional()?
        .transpose()?;
    let Some(found) = found else {
        return Err(StoreError::NotFound(format!("{schema} version {version}")));
    };
    tx.commit()?;
    Ok(found)
}

pub(super) fn delete_in_transaction(
    conn: &mut Connection,
    schema: &SchemaName,
    version: Option<Version>,
) -> Result<Vec<Version>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (ns, name) = (schema.namespace().as_str(), schema.name());
    let now = now_ms();
    ensure_schema_exists(&tx, schema)?;

    if let Some(version) = version {
        let exists: Option<String> = tx
            .prepare_cached(
                "SELECT state FROM schema_versions WHERE namespace = ?1 AND name = ?2 \
                 AND version = ?3",
            )?
            .query_row(params![ns, name, version.get()], |row| row.get(0))
            .optional()?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("{schema} version {version}")));
        }
    }

    let only = version.map(Version::get);
    let live: Vec<u32> = tx
        .prepare_cached(
            "SELECT version FROM schema_versions WHERE namespace = ?1 AND name = ?2 \
             AND state <> 'deleted' AND (?3 IS NULL OR version = ?3) ORDER BY version",
        )?
        .query_map(params![ns, name, only], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for number in &live {
        tx.prepare_cached(
            "UPDATE schema_versions SET state = 'deleted' WHERE namespace = ?1 \
             AND name = ?2 AND version = ?3",
        )?
        .execute(params![ns, name, number])?;
        record_change(&tx, schema, *number, "deleted", now)?;
    }
    if !live.is_empty() {
        tx.prepare_cached(
            "UPDATE schemas SET updated_at_ms = ?3, latest_version = COALESCE(( \
             SELECT MAX(version) FROM schema_versions WHERE namespace = ?1 AND name = ?2 \
             AND state <> 'deleted'), 0) WHERE namespace = ?1 AND name = ?2",
        )?
        .execute(params![ns, name, now])?;
    }
    tx.commit()?;

    live.into_iter()
        .map(|n| Version::new(n, "version").map_err(|e| StoreError::Internal(e.to_string())))
        .collect()
}

pub(super) fn ensure_schema_exists(
    conn: &Connection,
    schema: &SchemaName,
) -> Result<(), StoreError> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM schemas WHERE namespace = ?1 AND name = ?2")?
        .query_row(params![schema.namespace().as_str(), schema.name()], |row| {
            row.get(0)
        })
        .optional()?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound(format!("schema {schema}"))),
    }
}

fn touch_schema(conn: &Connection, schema: &SchemaName, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE schemas SET updated_at_ms = ?3 WHERE namespace = ?1 AND name = ?2",
    )?
    .execute(params![schema.namespace().as_str(), schema.name(), now])?;
    Ok(())
}

/// Records a change in the outbox, in the caller's transaction.
pub(super) fn record_change(
    conn: &Connection,
    schema: &SchemaName,
    version: u32,
    kind: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO outbox (namespace, name, version, kind, created_at_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        schema.namespace().as_str(),
        schema.name(),
        version,
        kind,
        now
    ])?;
    Ok(())
}
