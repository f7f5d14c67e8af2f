//! Registering on the primary: one version or a batch, each in one transaction, both
//! through the same per-item steps.
//!
//! An item first locks its schema's row (creating it when missing), so registers of
//! one schema queue behind each other and version numbers are allocated by bumping
//! that row. Aliases are bound before anything else is written, under the same lock.

use std::sync::Arc;

use ovsr_core::VersionState;
use tokio_postgres::Transaction;

use super::failure::Failure;
use super::pool::{PgPool, StatementCache};
use super::rows::{SqlArg, column, now_ms, read_version, version_columns};
use super::writes::{lock_schema, version_from_row};
use crate::types::encode_references;
use crate::{NewVersion, Registered, StoreError, StoredVersion};

const CREATE_SCHEMA: &str = concat!(
    "INSERT INTO schemas (namespace, name, max_version, latest_version, created_at_ms, \
     updated_at_ms) VALUES ($1, $2, 0, 0, ",
    now_ms!(),
    ", ",
    now_ms!(),
    ") ON CONFLICT (namespace, name) DO NOTHING"
);

// A concurrent binding of the same alias makes this wait for that transaction, and the
// next statement sees its outcome: no unique violation, no retry.
const BIND_ALIAS: &str = concat!(
    "INSERT INTO schema_aliases (namespace, alias, name, created_at_ms) \
     VALUES ($1, $2, $3, ",
    now_ms!(),
    ") ON CONFLICT (namespace, alias) DO NOTHING"
);

const ALIAS_OWNER: &str = "SELECT name FROM schema_aliases WHERE namespace = $1 AND alias = $2";

const FIND_LIVE_DIGEST: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", v.content FROM schema_versions v \
     WHERE v.namespace = $1 AND v.name = $2 AND v.digest = $3 AND v.state <> 'deleted' \
     ORDER BY v.version LIMIT 1"
);

// Allocates the next number, stores the version and records the change in one statement.
const INSERT_VERSION: &str = concat!(
    "WITH allocated AS ( \
       UPDATE schemas SET max_version = max_version + 1, latest_version = max_version + 1, \
         updated_at_ms = ",
    now_ms!(),
    " WHERE namespace = $1 AND name = $2 RETURNING max_version, updated_at_ms), \
     stored AS ( \
       INSERT INTO schema_versions (namespace, name, version, digest, state, content, title, \
         description, dialect, tags, aliases, reference_locks, created_at_ms) \
       SELECT $1, $2, max_version, $3::text, 'active', $4::text, $5::text, $6::text, \
         $7::text, $8::text[], $9::text[], $10::text::jsonb, updated_at_ms \
       FROM allocated RETURNING version, created_at_ms), \
     logged AS ( \
       INSERT INTO outbox (namespace, name, version, kind, created_at_ms) \
       SELECT $1, $2, version, 'registered', created_at_ms FROM stored) \
     SELECT version, created_at_ms FROM stored"
);

/// Stores a new version, or returns the live one holding the same content.
pub(super) async fn register(primary: &PgPool, new: &NewVersion) -> Result<Registered, Failure> {
    let mut conn = primary.get().await?;
    let (client, statements) = conn.split();
    let tx = client.transaction().await?;
    let registered = register_one(&tx, statements, new).await?;
    tx.commit().await?;
    Ok(registered)
}

/// Registers a batch in one transaction, each item under its own savepoint so an item
/// that fails on its own is rolled back alone.
// TODO: each item that writes takes a subtransaction id; past 64 in one transaction
// PostgreSQL's subxid cache overflows, which slows snapshots on the primary and the
// replicas while the batch runs. Large batches of mostly new versions pay it.
pub(super) async fn register_batch(
    primary: &PgPool,
    batch: &[NewVersion],
) -> Result<Vec<Result<Registered, StoreError>>, Failure> {
    let mut conn = primary.get().await?;
    let (client, statements) = conn.split();
    let mut tx = client.transaction().await?;
    let mut outcomes = Vec::with_capacity(batch.len());

    for new in batch {
        let item = tx.transaction().await?;
        match register_one(&item, statements, new).await {
            Ok(registered) => {
                item.commit().await?;
                outcomes.push(Ok(registered));
            }
            Err(Failure::Store(err)) if err.fails_item_alone() => {
                item.rollback().await?;
                outcomes.push(Err(err));
            }
            // Returning drops the transaction uncommitted: nothing of the batch stays,
            // and contention retries the whole batch.
            Err(failure) => return Err(failure),
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// The steps of one register inside an open transaction or savepoint. On an error the
/// caller rolls back whatever they wrote.
async fn register_one(
    tx: &Transaction<'_>,
    statements: &mut StatementCache,
    new: &NewVersion,
) -> Result<Registered, Failure> {
    let (ns, name) = (new.schema.namespace().as_str(), new.schema.name());
    let digest = new.digest.to_string();

    if !lock_schema(tx, statements, ns, name).await? {
        let create = statements.prepare_cached(tx, CREATE_SCHEMA).await?;
        tx.execute(&create, &[&ns, &name]).await?;
        lock_schema(tx, statements, ns, name).await?;
    }
    bind_aliases(tx, statements, new).await?;

    // Under the lock this statement sees every committed version of the schema.
    let find = statements.prepare_cached(tx, FIND_LIVE_DIGEST).await?;
    if let Some(row) = tx.query_opt(&find, &[&ns, &name, &digest]).await? {
        return Ok(Registered {
            version: read_version(&row, true)?,
            created: false,
        });
    }

    let references = encode_references(&new.references);
    let insert = statements.prepare_cached(tx, INSERT_VERSION).await?;
    let args: [SqlArg<'_>; 10] = [
        &ns,
        &name,
        &digest,
        &new.content,
        &new.title,
        &new.description,
        &new.dialect,
        &new.tags,
        &new.aliases,
        &references,
    ];
    let row = tx.query_one(&insert, &args).await?;

    let number: i64 = column(&row, 0)?;
    let created_at_ms: i64 = column(&row, 1)?;
    Ok(Registered {
        version: StoredVersion {
            schema: new.schema.clone(),
            version: version_from_row(number)?,
            digest: new.digest,
            state: VersionState::Active,
            content: Some(Arc::from(new.content.as_str())),
            size_bytes: new.content.len() as u64,
            title: new.title.clone(),
            description: new.description.clone(),
            dialect: new.dialect.clone(),
            tags: new.tags.clone(),
            aliases: new.aliases.clone(),
            references: new.references.clone(),
            created_at_ms,
        },
        created: true,
    })
}

/// Binds each alias of `new` to its schema, or fails with a conflict naming the schema
/// that holds one already.
async fn bind_aliases(
    tx: &Transaction<'_>,
    statements: &mut StatementCache,
    new: &NewVersion,
) -> Result<(), Failure> {
    let (ns, name) = (new.schema.namespace().as_str(), new.schema.name());
    for alias in &new.aliases {
        let bind = statements.prepare_cached(tx, BIND_ALIAS).await?;
        if tx.execute(&bind, &[&ns, alias, &name]).await? > 0 {
            continue;
        }
        let owner = statements.prepare_cached(tx, ALIAS_OWNER).await?;
        let Some(row) = tx.query_opt(&owner, &[&ns, alias]).await? else {
            // Aliases are never removed, so this is a binding rolled back meanwhile.
            return Err(Failure::Contention(format!("alias {alias} changed hands")));
        };
        let owner: String = column(&row, 0)?;
        if owner != name {
            return Err(StoreError::alias_taken(alias, ns, &owner).into());
        }
    }
    Ok(())
}
