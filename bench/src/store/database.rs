//! The benchmark's own database, reached directly: created when missing, asked what
//! data set it holds, prepared for pgbench, and described for the report.
//!
//! Besides the store's tables it holds two of the benchmark's: `bench_dataset`, the
//! options of the data set loaded (so a rerun knows it may skip loading), and
//! `bench_digest_keys`, each key's digest (so pgbench can draw random digests).

use std::collections::HashMap;
use std::str::FromStr;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

use super::dataset::{NAMESPACE_PREFIX, Shape, WRITES_NAMESPACE};
use super::statements::{CREATE_SCHEMA, bind, literal};

/// Counts the loaded versions, leaving out what the register workloads wrote.
const COUNT_LOADED: &str = "SELECT count(*) FROM schema_versions WHERE namespace LIKE 'team-%'";

/// The data set a database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatasetState {
    /// `(versions, seed)` of the last load started, if any.
    pub recorded: Option<(u64, u64)>,
    /// Versions of the loaded namespaces present.
    pub loaded_versions: u64,
}

/// What the report says about the database.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseFacts {
    /// `host:port/dbname`, without credentials.
    pub target: String,
    /// `server_version`.
    pub server_version: String,
    /// `shared_buffers`.
    pub shared_buffers: String,
    /// The whole database, bytes.
    pub database_bytes: i64,
    /// `schema_versions` with its indexes and TOAST, bytes.
    pub schema_versions_bytes: i64,
    /// `schemas` with its index, bytes.
    pub schemas_bytes: i64,
    /// Mean size of a loaded version's content, bytes.
    pub mean_content_bytes: f64,
}

/// Connects, with the connection driven on the current runtime.
pub async fn connect(url: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .with_context(|| format!("connecting to {}", describe_target(url)))?;
    // The connection ends when the client is dropped.
    tokio::spawn(connection);
    Ok(client)
}

/// Creates the database `url` names unless it exists, through the `postgres`
/// database of the same server; true when it was created.
pub async fn create_database_if_missing(url: &str) -> Result<bool> {
    let mut config = Config::from_str(url).context("parsing the database URL")?;
    let database = config
        .get_dbname()
        .context("the database URL names no database")?
        .to_owned();
    config.dbname("postgres");
    let (admin, connection) = config
        .connect(NoTls)
        .await
        .with_context(|| format!("connecting to the server of {}", describe_target(url)))?;
    tokio::spawn(connection);

    let exists = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database])
        .await?
        .is_some();
    if exists {
        return Ok(false);
    }
    let quoted = database.replace('"', "\"\"");
    admin
        .batch_execute(&format!("CREATE DATABASE \"{quoted}\""))
        .await
        .with_context(|| format!("creating database {database}"))?;
    Ok(true)
}

/// What the (migrated) database holds.
pub async fn dataset_state(client: &Client) -> Result<DatasetState> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS bench_dataset (versions bigint NOT NULL, seed text NOT NULL)",
        )
        .await?;
    let recorded = client
        .query_opt("SELECT versions, seed FROM bench_dataset", &[])
        .await?
        .map(|row| {
            let versions: i64 = row.get(0);
            let seed: String = row.get(1);
            (
                u64::try_from(versions).unwrap_or(0),
                seed.parse().unwrap_or(0),
            )
        });
    let loaded: i64 = client.query_one(COUNT_LOADED, &[]).await?.get(0);
    Ok(DatasetState {
        recorded,
        loaded_versions: u64::try_from(loaded).unwrap_or(0),
    })
}

/// Empties every table of the store and the benchmark: the database held another
/// data set.
pub async fn empty(client: &Client) -> Result<()> {
    client
        .batch_execute(
            "DROP TABLE IF EXISTS bench_digest_keys; \
             TRUNCATE schema_aliases, schema_versions, schemas, outbox, bench_dataset",
        )
        .await
        .context("emptying the benchmark database")
}

/// Notes the data set a load is about to write, so an interrupted load resumes.
pub async fn record_dataset(client: &Client, shape: &Shape, seed: u64) -> Result<()> {
    let versions = i64::try_from(shape.versions)?;
    let seed = seed.to_string();
    client.batch_execute("DELETE FROM bench_dataset").await?;
    client
        .execute(
            "INSERT INTO bench_dataset (versions, seed) VALUES ($1, $2)",
            &[&versions, &seed],
        )
        .await?;
    Ok(())
}

/// The number of loaded versions present.
pub async fn count_loaded(client: &Client) -> Result<u64> {
    let loaded: i64 = client.query_one(COUNT_LOADED, &[]).await?.get(0);
    Ok(u64::try_from(loaded).unwrap_or(0))
}

/// Settles the tables after a load (visibility map, statistics) so plans and timings
/// do not shift when autovacuum would get to them mid-run.
pub async fn vacuum_analyze(client: &Client) -> Result<()> {
    // VACUUM refuses to run in a transaction block, so one statement per call.
    for table in ["schemas", "schema_versions", "outbox"] {
        client
            .batch_execute(&format!("VACUUM (ANALYZE) {table}"))
            .await
            .with_context(|| format!("vacuuming {table}"))?;
    }
    Ok(())
}

/// Builds `bench_digest_keys` (key to digest, in key order) unless it is complete.
pub async fn build_digest_keys(client: &Client, shape: &Shape) -> Result<()> {
    let present = client
        .query_opt("SELECT count(*) FROM bench_digest_keys", &[])
        .await;
    let expected = i64::try_from(shape.versions)?;
    if let Ok(Some(row)) = present
        && row.get::<_, i64>(0) == expected
    {
        return Ok(());
    }
    let build = format!(
        "DROP TABLE IF EXISTS bench_digest_keys; \
         CREATE TABLE bench_digest_keys AS \
           SELECT (row_number() OVER (ORDER BY namespace, name, version) - 1) AS k, digest \
           FROM schema_versions WHERE namespace LIKE '{NAMESPACE_PREFIX}%'; \
         ALTER TABLE bench_digest_keys ADD PRIMARY KEY (k); \
         ANALYZE bench_digest_keys"
    );
    client
        .batch_execute(&build)
        .await
        .context("building bench_digest_keys")
}

/// The digests of `keys`, in their order.
pub async fn digests_of(client: &Client, keys: &[u64]) -> Result<Vec<String>> {
    let wanted: Vec<i64> = keys.iter().filter_map(|k| i64::try_from(*k).ok()).collect();
    let rows = client
        .query(
            "SELECT k, digest FROM bench_digest_keys WHERE k = ANY($1)",
            &[&wanted],
        )
        .await?;
    let by_key: HashMap<i64, String> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    wanted
        .iter()
        .map(|k| {
            by_key
                .get(k)
                .cloned()
                .with_context(|| format!("no digest for key {k}"))
        })
        .collect()
}

/// Creates the schema rows pgbench's writers register into, as the store does on a
/// schema's first version (pgbench scripts cannot branch on "missing").
pub async fn create_writer_schemas(client: &Client, names: &[String]) -> Result<()> {
    let namespace = literal(WRITES_NAMESPACE);
    for name in names {
        let create = bind(CREATE_SCHEMA, &[&namespace, &literal(name)]);
        client.batch_execute(&create).await?;
    }
    Ok(())
}

/// Sizes and settings for the report.
pub async fn facts(client: &Client, url: &str) -> Result<DatabaseFacts> {
    let text = |row: tokio_postgres::Row| row.get::<_, String>(0);
    let server_version = text(client.query_one("SHOW server_version", &[]).await?);
    let shared_buffers = text(client.query_one("SHOW shared_buffers", &[]).await?);
    let sizes = client
        .query_one(
            "SELECT pg_database_size(current_database()), \
             pg_total_relation_size('schema_versions'), pg_total_relation_size('schemas')",
            &[],
        )
        .await?;
    let mean = client
        .query_one(
            "SELECT coalesce(avg(octet_length(content)), 0)::float8 FROM \
             (SELECT content FROM schema_versions WHERE namespace LIKE 'team-%' LIMIT 10000) s",
            &[],
        )
        .await?;
    Ok(DatabaseFacts {
        target: describe_target(url),
        server_version,
        shared_buffers,
        database_bytes: sizes.get(0),
        schema_versions_bytes: sizes.get(1),
        schemas_bytes: sizes.get(2),
        mean_content_bytes: mean.get(0),
    })
}

/// `user@host:port/dbname` of a URL, never its password.
pub fn describe_target(url: &str) -> String {
    let Ok(config) = Config::from_str(url) else {
        return "<invalid database URL>".to_owned();
    };
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres");
    let dbname = config.get_dbname().unwrap_or(user);
    format!("{user}@{host}:{port}/{dbname}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_never_show_passwords() {
        let target = describe_target("postgres://bench:secret@db.example:6432/store");
        assert_eq!(target, "bench@db.example:6432/store");
    }
}
