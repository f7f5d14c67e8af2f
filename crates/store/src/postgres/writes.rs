//! Deprecating and deleting: each one transaction on the primary that records its
//! change in the outbox. Registering is in `register`.
//!
//! Every transaction first locks the schema's row, so writes to one schema queue behind
//! each other in one order (no deadlocks between them) and version numbers are
//! allocated by bumping that row: per schema, gap-free, with no global counter.

use ovsr_core::{SchemaName, Version};
use tokio_postgres::Transaction;

use super::failure::Failure;
use super::pool::{PgPool, StatementCache};
use super::rows::{column, now_ms, read_version, version_columns};
use crate::{StoreError, StoredVersion};

const LOCK_SCHEMA: &str = "SELECT 1 FROM schemas WHERE namespace = $1 AND name = $2 FOR UPDATE";

const DEPRECATE: &str = concat!(
    "WITH changed AS ( \
       UPDATE schema_versions SET state = 'deprecated' \
       WHERE namespace = $1 AND name = $2 AND version = $3 AND state = 'active' \
       RETURNING version), \
     touched AS ( \
       UPDATE schemas SET updated_at_ms = ",
    now_ms!(),
    " WHERE namespace = $1 AND name = $2 AND EXISTS (SELECT 1 FROM changed)) \
     INSERT INTO outbox (namespace, name, version, kind, created_at_ms) \
     SELECT $1, $2, version, 'deprecated', ",
    now_ms!(),
    " FROM changed"
);

const GET_LIVE_VERSION: &str = concat!(
    "SELECT ",
    version_columns!(),
    " FROM schema_versions v WHERE v.namespace = $1 AND v.name = $2 AND v.version = $3 \
     AND v.state <> 'deleted'"
);

const VERSION_EXISTS: &str =
    "SELECT 1 FROM schema_versions WHERE namespace = $1 AND name = $2 AND version = $3";

const DELETE: &str = concat!(
    "WITH gone AS ( \
       UPDATE schema_versions SET state = 'deleted' \
       WHERE namespace = $1 AND name = $2 AND state <> 'deleted' \
       AND ($3::bigint IS NULL OR version = $3) RETURNING version), \
     logged AS ( \
       INSERT INTO outbox (namespace, name, version, kind, created_at_ms) \
       SELECT $1, $2, version, 'deleted', ",
    now_ms!(),
    " FROM gone) \
     SELECT version FROM gone ORDER BY version"
);

// A separate statement: the one above cannot see its own updates.
const RESET_LATEST: &str = concat!(
    "UPDATE schemas SET updated_at_ms = ",
    now_ms!(),
    ", latest_version = COALESCE((SELECT max(version) FROM schema_versions \
       WHERE namespace = $1 AND name = $2 AND state <> 'deleted'), 0) \
     WHERE namespace = $1 AND name = $2"
);

/// Marks a live version deprecated and returns it.
pub(super) async fn deprecate(
    primary: &PgPool,
    schema: &SchemaName,
    version: Version,
) -> Result<StoredVersion, Failure> {
    let mut conn = primary.get().await?;
    let (client, statements) = conn.split();
    let tx = client.transaction().await?;
    let (ns, name) = (schema.namespace().as_str(), schema.name());
    let number = i64::from(version.get());
    let not_found = || StoreError::NotFound(format!("{schema} version {version}"));

    if !lock_schema(&tx, statements, ns, name).await? {
        return Err(not_found().into());
    }
    let deprecate = statements.prepare_cached(&tx, DEPRECATE).await?;
    tx.execute(&deprecate, &[&ns, &name, &number]).await?;

    let get = statements.prepare_cached(&tx, GET_LIVE_VERSION).await?;
    let Some(row) = tx.query_opt(&get, &[&ns, &name, &number]).await? else {
        return Err(not_found().into());
    };
    let found = read_version(&row, false)?;
    tx.commit().await?;
    Ok(found)
}

/// Soft-deletes one version or every live one, returning those this call deleted.
pub(super) async fn delete(
    primary: &PgPool,
    schema: &SchemaName,
    version: Option<Version>,
) -> Result<Vec<Version>, Failure> {
    let mut conn = primary.get().await?;
    let (client, statements) = conn.split();
    let tx = client.transaction().await?;
    let (ns, name) = (schema.namespace().as_str(), schema.name());
    let only = version.map(|v| i64::from(v.get()));

    if !lock_schema(&tx, statements, ns, name).await? {
        return Err(StoreError::NotFound(format!("schema {schema}")).into());
    }
    if let (Some(version), Some(number)) = (version, only) {
        let exists = statements.prepare_cached(&tx, VERSION_EXISTS).await?;
        if tx
            .query_opt(&exists, &[&ns, &name, &number])
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound(format!("{schema} version {version}")).into());
        }
    }

    let delete = statements.prepare_cached(&tx, DELETE).await?;
    let rows = tx.query(&delete, &[&ns, &name, &only]).await?;
    if !rows.is_empty() {
        let reset = statements.prepare_cached(&tx, RESET_LATEST).await?;
        tx.execute(&reset, &[&ns, &name]).await?;
    }
    tx.commit().await?;

    rows.iter()
        .map(|row| version_from_row(column(row, 0)?))
        .collect::<Result<_, StoreError>>()
        .map_err(Failure::from)
}

/// Locks the schema's row for the rest of the transaction; false when it does not exist.
pub(super) async fn lock_schema(
    tx: &Transaction<'_>,
    statements: &mut StatementCache,
    ns: &str,
    name: &str,
) -> Result<bool, Failure> {
    let lock = statements.prepare_cached(tx, LOCK_SCHEMA).await?;
    Ok(tx.query_opt(&lock, &[&ns, &name]).await?.is_some())
}

/// A stored version number, checked.
pub(super) fn version_from_row(number: i64) -> Result<Version, StoreError> {
    u32::try_from(number)
        .ok()
        .and_then(|n| Version::new(n, "version").ok())
        .ok_or_else(|| StoreError::Internal(format!("stored version {number} does not parse")))
}
