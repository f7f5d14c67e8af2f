//! Registering on the writer connection: one version or a batch, each in one immediate
//! transaction, both through the same per-item steps.

use std::sync::Arc;

use ovsr_core::{SchemaName, Version, VersionState};
use rusqlite::{Connection, DropBehavior, OptionalExtension, TransactionBehavior, params};

use super::now_ms;
use super::rows::{VERSION_COLUMNS, read_version};
use super::writes::record_change;
use crate::types::encode_references;
use crate::{NewVersion, Registered, StoreError, StoredVersion};

/// Registers one version in its own transaction.
pub(super) fn register_in_transaction(
    conn: &mut Connection,
    new: NewVersion,
) -> Result<Registered, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let registered = register_one(&tx, new, now_ms())?;
    tx.commit()?;
    Ok(registered)
}

/// Registers a batch in one transaction, each item under its own savepoint so an item
/// that fails on its own is rolled back alone.
pub(super) fn register_batch_in_transaction(
    conn: &mut Connection,
    batch: Vec<NewVersion>,
) -> Result<Vec<Result<Registered, StoreError>>, StoreError> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = now_ms();
    let mut outcomes = Vec::with_capacity(batch.len());

    for new in batch {
        let mut item = tx.savepoint()?;
        match register_one(&item, new, now) {
            Ok(registered) => {
                item.commit()?;
                outcomes.push(Ok(registered));
            }
            Err(err) if err.fails_item_alone() => {
                item.set_drop_behavior(DropBehavior::Rollback);
                item.finish()?;
                outcomes.push(Err(err));
            }
            // Returning drops the transaction uncommitted: nothing of the batch stays.
            Err(err) => return Err(err),
        }
    }
    tx.commit()?;
    Ok(outcomes)
}

/// The steps of one register inside an open transaction or savepoint. On an error the
/// caller rolls back whatever they wrote.
fn register_one(conn: &Connection, new: NewVersion, now: i64) -> Result<Registered, StoreError> {
    let (ns, name) = (new.schema.namespace().as_str(), new.schema.name());
    let digest = new.digest.to_string();

    // The schema's row comes first because aliases refer to it.
    conn.prepare_cached(
        "INSERT INTO schemas (namespace, name, max_version, latest_version, \
         created_at_ms, updated_at_ms) VALUES (?1, ?2, 0, 0, ?3, ?3) \
         ON CONFLICT (namespace, name) DO NOTHING",
    )?
    .execute(params![ns, name, now])?;
    bind_aliases(conn, &new.schema, &new.aliases, now)?;

    let sql = format!(
        "SELECT {VERSION_COLUMNS}, v.content FROM schema_versions v \
         WHERE v.namespace = ?1 AND v.name = ?2 AND v.digest = ?3 \
         AND v.state <> 'deleted' ORDER BY v.version LIMIT 1"
    );
    let existing = conn
        .prepare_cached(&sql)?
        .query_row(params![ns, name, digest], |row| read_version(row, true))
        .optional()?;
    if let Some(version) = existing {
        return Ok(Registered {
            version: version?,
            created: false,
        });
    }

    let number: i64 = conn
        .prepare_cached(
            "UPDATE schemas SET max_version = max_version + 1, \
             latest_version = max_version + 1, updated_at_ms = ?3 \
             WHERE namespace = ?1 AND name = ?2 RETURNING max_version",
        )?
        .query_row(params![ns, name, now], |row| row.get(0))?;
    let version = u32::try_from(number)
        .ok()
        .and_then(|n| Version::new(n, "version").ok())
        .ok_or_else(|| {
            StoreError::Internal(format!("{} has run out of version numbers", new.schema))
        })?;

    let tags = serde_json::to_string(&new.tags).unwrap_or_else(|_| "[]".to_owned());
    let aliases = serde_json::to_string(&new.aliases).unwrap_or_else(|_| "[]".to_owned());
    let references = encode_references(&new.references);
    conn.prepare_cached(
        "INSERT INTO schema_versions (namespace, name, version, digest, state, content, \
         title, description, dialect, tags, aliases, reference_locks, created_at_ms) \
         VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        ns,
        name,
        version.get(),
        digest,
        new.content,
        new.title,
        new.description,
        new.dialect,
        tags,
        aliases,
        references,
        now
    ])?;
    record_change(conn, &new.schema, version.get(), "registered", now)?;

    let size_bytes = new.content.len() as u64;
    Ok(Registered {
        version: StoredVersion {
            schema: new.schema,
            version,
            digest: new.digest,
            state: VersionState::Active,
            content: Some(Arc::from(new.content)),
            size_bytes,
            title: new.title,
            description: new.description,
            dialect: new.dialect,
            tags: new.tags,
            aliases: new.aliases,
            references: new.references,
            created_at_ms: now,
        },
        created: true,
    })
}

/// Binds each alias to `schema`, or fails with a conflict naming the schema that holds
/// one already.
fn bind_aliases(
    conn: &Connection,
    schema: &SchemaName,
    aliases: &[String],
    now: i64,
) -> Result<(), StoreError> {
    let (ns, name) = (schema.namespace().as_str(), schema.name());
    for alias in aliases {
        let bound = conn
            .prepare_cached(
                "INSERT INTO schema_aliases (namespace, alias, name, created_at_ms) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (namespace, alias) DO NOTHING",
            )?
            .execute(params![ns, alias, name, now])?;
        if bound > 0 {
            continue;
        }
        let owner: String = conn
            .prepare_cached("SELECT name FROM schema_aliases WHERE namespace = ?1 AND alias = ?2")?
            .query_row(params![ns, alias], |row| row.get(0))?;
        if owner != name {
            return Err(StoreError::alias_taken(alias, ns, &owner));
        }
    }
    Ok(())
}

/// The schema an alias names within a namespace.
pub(super) fn resolve_alias(
    conn: &Connection,
    namespace: &str,
    alias: &str,
) -> Result<Option<SchemaName>, StoreError> {
    let owner: Option<String> = conn
        .prepare_cached("SELECT name FROM schema_aliases WHERE namespace = ?1 AND alias = ?2")?
        .query_row(params![namespace, alias], |row| row.get(0))
        .optional()?;
    owner
        .map(|name| {
            SchemaName::new(namespace, &name, "stored").map_err(|err| {
                StoreError::Internal(format!("stored alias target does not parse: {err}"))
            })
        })
        .transpose()
}
