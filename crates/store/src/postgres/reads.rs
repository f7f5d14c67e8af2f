//! Reads: one statement each, outside any transaction, on whichever server the router
//! picked (a replica, or the primary).

use ovsr_core::{Digest, Namespace, SchemaName, Version, VersionSelector};

use super::failure::Failure;
use super::pool::CachedClient;
use super::rows::{SqlArg, column, parse_name, read_summary, read_version, version_columns};
use crate::{SchemaSummary, StoreError, StoredVersion};

const GET_LATEST: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", v.content FROM schemas s JOIN schema_versions v ON v.namespace = s.namespace \
     AND v.name = s.name AND v.version = s.latest_version \
     WHERE s.namespace = $1 AND s.name = $2"
);

const GET_EXACT: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", v.content FROM schema_versions v \
     WHERE v.namespace = $1 AND v.name = $2 AND v.version = $3 \
     AND ($4 OR v.state <> 'deleted')"
);

const GET_BY_DIGEST: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", v.content FROM schema_versions v \
     WHERE v.digest = $1 AND ($2 OR v.state <> 'deleted') \
     ORDER BY v.created_at_ms, v.namespace, v.name, v.version LIMIT 1"
);

// Two listing statements rather than one with `$1 IS NULL OR …`, so each gets a plan
// that walks the primary key. An absent cursor is ('', ''), which sorts before any name.
const LIST_SCHEMAS_IN_NAMESPACE: &str = concat!(
    "SELECT s.namespace, s.name, s.updated_at_ms, ",
    version_columns!(),
    " FROM schemas s LEFT JOIN schema_versions v ON v.namespace = s.namespace \
     AND v.name = s.name AND v.version = s.latest_version \
     WHERE s.namespace = $1 AND (s.namespace, s.name) > ($2, $3) \
     AND ($4 OR s.latest_version > 0) ORDER BY s.namespace, s.name LIMIT $5"
);

const LIST_SCHEMAS_EVERYWHERE: &str = concat!(
    "SELECT s.namespace, s.name, s.updated_at_ms, ",
    version_columns!(),
    " FROM schemas s LEFT JOIN schema_versions v ON v.namespace = s.namespace \
     AND v.name = s.name AND v.version = s.latest_version \
     WHERE (s.namespace, s.name) > ($1, $2) \
     AND ($3 OR s.latest_version > 0) ORDER BY s.namespace, s.name LIMIT $4"
);

const LIST_VERSIONS: &str = concat!(
    "SELECT ",
    version_columns!(),
    " FROM schema_versions v WHERE v.namespace = $1 AND v.name = $2 AND v.version > $3 \
     AND ($4 OR v.state <> 'deleted') ORDER BY v.version LIMIT $5"
);

const RESOLVE_ALIAS: &str = "SELECT name FROM schema_aliases WHERE namespace = $1 AND alias = $2";

const SCHEMA_EXISTS: &str = "SELECT 1 FROM schemas WHERE namespace = $1 AND name = $2";

/// One version with its content.
pub(super) async fn get_version(
    conn: &mut CachedClient,
    schema: &SchemaName,
    selector: VersionSelector,
    include_deleted: bool,
) -> Result<Option<StoredVersion>, Failure> {
    let (ns, name) = (schema.namespace().as_str(), schema.name());
    let row = match selector {
        VersionSelector::Latest => {
            let statement = conn.prepare_cached(GET_LATEST).await?;
            conn.client().query_opt(&statement, &[&ns, &name]).await?
        }
        VersionSelector::Exact(version) => {
            let statement = conn.prepare_cached(GET_EXACT).await?;
            let number = i64::from(version.get());
            let args: [SqlArg<'_>; 4] = [&ns, &name, &number, &include_deleted];
            conn.client().query_opt(&statement, &args).await?
        }
    };
    Ok(row.map(|row| read_version(&row, true)).transpose()?)
}

/// The earliest registered version holding `digest`.
pub(super) async fn get_by_digest(
    conn: &mut CachedClient,
    digest: &Digest,
    include_deleted: bool,
) -> Result<Option<StoredVersion>, Failure> {
    let digest = digest.to_string();
    let statement = conn.prepare_cached(GET_BY_DIGEST).await?;
    let row = conn
        .client()
        .query_opt(&statement, &[&digest, &include_deleted])
        .await?;
    Ok(row.map(|row| read_version(&row, true)).transpose()?)
}

/// One keyset page of schemas.
pub(super) async fn list_schemas(
    conn: &mut CachedClient,
    namespace: Option<&Namespace>,
    after: Option<&SchemaName>,
    limit: usize,
    include_deleted: bool,
) -> Result<Vec<SchemaSummary>, Failure> {
    let after_ns = after.map_or("", |s| s.namespace().as_str());
    let after_name = after.map_or("", SchemaName::name);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = match namespace {
        Some(namespace) => {
            let statement = conn.prepare_cached(LIST_SCHEMAS_IN_NAMESPACE).await?;
            let ns = namespace.as_str();
            let args: [SqlArg<'_>; 5] = [&ns, &after_ns, &after_name, &include_deleted, &limit];
            conn.client().query(&statement, &args).await?
        }
        None => {
            let statement = conn.prepare_cached(LIST_SCHEMAS_EVERYWHERE).await?;
            let args: [SqlArg<'_>; 4] = [&after_ns, &after_name, &include_deleted, &limit];
            conn.client().query(&statement, &args).await?
        }
    };
    let summaries = rows.iter().map(read_summary).collect::<Result<_, _>>()?;
    Ok(summaries)
}

/// One keyset page of a schema's versions, without content.
pub(super) async fn list_versions(
    conn: &mut CachedClient,
    schema: &SchemaName,
    after: Option<Version>,
    limit: usize,
    include_deleted: bool,
) -> Result<Vec<StoredVersion>, Failure> {
    let (ns, name) = (schema.namespace().as_str(), schema.name());
    let after = i64::from(after.map_or(0, Version::get));
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let statement = conn.prepare_cached(LIST_VERSIONS).await?;
    let args: [SqlArg<'_>; 5] = [&ns, &name, &after, &include_deleted, &limit];
    let rows = conn.client().query(&statement, &args).await?;

    // An empty page needs a second look: the schema may not exist at all.
    if rows.is_empty() {
        let exists = conn.prepare_cached(SCHEMA_EXISTS).await?;
        if conn
            .client()
            .query_opt(&exists, &[&ns, &name])
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound(format!("schema {schema}")).into());
        }
    }
    let versions = rows
        .iter()
        .map(|row| read_version(row, false))
        .collect::<Result<_, _>>()?;
    Ok(versions)
}

/// The schema an alias names within a namespace.
pub(super) async fn resolve_alias(
    conn: &mut CachedClient,
    namespace: &Namespace,
    alias: &str,
) -> Result<Option<SchemaName>, Failure> {
    let ns = namespace.as_str();
    let statement = conn.prepare_cached(RESOLVE_ALIAS).await?;
    let row = conn.client().query_opt(&statement, &[&ns, &alias]).await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let name: String = column(&row, 0)?;
    Ok(Some(parse_name(ns, &name)?))
}
