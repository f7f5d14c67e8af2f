//! The embedded store: one SQLite file in WAL mode.
//!
//! SQLite admits one writer at a time, so writes go through a single connection behind
//! a mutex (which also makes version allocation trivially gap-free), while reads spread
//! over a few connections that WAL lets run beside the writer. All calls run on tokio's
//! blocking pool so a slow disk never stalls the async workers.

mod outbox;
mod register;
mod rows;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use ovsr_core::{Digest, Namespace, SchemaName, Version, VersionSelector};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tracing::info;

use crate::{
    ChangeEvent, ChangeId, NewVersion, Registered, SchemaStore, SchemaSummary, StoreError,
    StoredVersion,
};
use register::{register_batch_in_transaction, register_in_transaction};
use rows::{SUMMARY_COLUMNS, VERSION_COLUMNS, read_summary, read_version};
use writes::{delete_in_transaction, deprecate_in_transaction, ensure_schema_exists};

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

const READER_CONNECTIONS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite-backed [`SchemaStore`].
#[derive(Debug, Clone)]
pub struct SqliteSchemaStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl SqliteSchemaStore {
    /// Opens (creating if needed) the database at `path` and applies pending
    /// migrations before returning.
    pub async fn open(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let path = path.into();
        let inner = tokio::task::spawn_blocking(move || open_blocking(path))
            .await
            .map_err(|err| StoreError::Internal(err.to_string()))??;
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn read<T, F>(&self, query: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        run_blocking(move || {
            let slot = inner.next_reader.fetch_add(1, Ordering::Relaxed) % inner.readers.len();
            let conn = inner.readers[slot].lock().map_err(poisoned)?;
            query(&conn)
        })
        .await
    }

    async fn write<T, F>(&self, change: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        run_blocking(move || {
            let mut conn = inner.writer.lock().map_err(poisoned)?;
            change(&mut conn)
        })
        .await
    }
}

#[async_trait]
impl SchemaStore for SqliteSchemaStore {
    async fn register(&self, new: NewVersion) -> Result<Registered, StoreError> {
        self.write(move |conn| register_in_transaction(conn, new))
            .await
    }

    async fn register_batch(
        &self,
        batch: Vec<NewVersion>,
    ) -> Result<Vec<Result<Registered, StoreError>>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        self.write(move |conn| register_batch_in_transaction(conn, batch))
            .await
    }

    async fn resolve_alias(
        &self,
        namespace: &Namespace,
        alias: &str,
    ) -> Result<Option<SchemaName>, StoreError> {
        let (namespace, alias) = (namespace.as_str().to_owned(), alias.to_owned());
        self.read(move |conn| register::resolve_alias(conn, &namespace, &alias))
            .await
    }

    async fn get_version(
        &self,
        schema: &SchemaName,
        selector: VersionSelector,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let schema = schema.clone();
        self.read(move |conn| {
            let (ns, name) = (schema.namespace().as_str(), schema.name());
            let found = match selector {
                VersionSelector::Latest => {
                    let sql = format!(
                        "SELECT {VERSION_COLUMNS}, v.content FROM schema_versions v \
                         JOIN schemas s ON s.namespace = v.namespace AND s.name = v.name \
                         WHERE v.namespace = ?1 AND v.name = ?2 AND v.version = s.latest_version"
                    );
                    conn.prepare_cached(&sql)?
                        .query_row(params![ns, name], |row| read_version(row, true))
                        .optional()?
                }
                VersionSelector::Exact(version) => {
                    let sql = format!(
                        "SELECT {VERSION_COLUMNS}, v.content FROM schema_versions v \
                         WHERE v.namespace = ?1 AND v.name = ?2 AND v.version = ?3 \
                         AND (?4 OR v.state <> 'deleted')"
                    );
                    let args = params![ns, name, version.get(), include_deleted];
                    conn.prepare_cached(&sql)?
                        .query_row(args, |row| read_version(row, true))
                        .optional()?
                }
            };
            found.transpose()
        })
        .await
    }

    async fn get_by_digest(
        &self,
        digest: &Digest,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let digest = digest.to_string();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {VERSION_COLUMNS}, v.content FROM schema_versions v \
                 WHERE v.digest = ?1 AND (?2 OR v.state <> 'deleted') \
                 ORDER BY v.created_at_ms, v.namespace, v.name, v.version LIMIT 1"
            );
            let found = conn
                .prepare_cached(&sql)?
                .query_row(params![digest, include_deleted], |row| {
                    read_version(row, true)
                })
                .optional()?;
            found.transpose()
        })
        .await
    }

    async fn list_schemas(
        &self,
        namespace: Option<&Namespace>,
        after: Option<&SchemaName>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<SchemaSummary>, StoreError> {
        let namespace = namespace.map(|ns| ns.as_str().to_owned());
        let after_ns = after.map(|s| s.namespace().as_str().to_owned());
        let after_name = after.map(|s| s.name().to_owned());
        self.read(move |conn| {
            let sql = format!(
                "SELECT {SUMMARY_COLUMNS} FROM schemas s \
                 LEFT JOIN schema_versions v ON v.namespace = s.namespace \
                     AND v.name = s.name AND v.version = s.latest_version \
                 WHERE (?1 IS NULL OR s.namespace = ?1) \
                 AND (?2 IS NULL OR (s.namespace, s.name) > (?2, ?3)) \
                 AND (?4 OR s.latest_version > 0) \
                 ORDER BY s.namespace, s.name LIMIT ?5"
            );
            let args = params![
                namespace,
                after_ns,
                after_name,
                include_deleted,
                limit as i64
            ];
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(args, read_summary)?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn list_versions(
        &self,
        schema: &SchemaName,
        after: Option<Version>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<StoredVersion>, StoreError> {
        let schema = schema.clone();
        self.read(move |conn| {
            let (ns, name) = (schema.namespace().as_str(), schema.name());
            ensure_schema_exists(conn, &schema)?;
            let sql = format!(
                "SELECT {VERSION_COLUMNS} FROM schema_versions v \
                 WHERE v.namespace = ?1 AND v.name = ?2 AND v.version > ?3 \
                 AND (?4 OR v.state <> 'deleted') ORDER BY v.version LIMIT ?5"
            );
            let after = after.map_or(0, Version::get);
            let args = params![ns, name, after, include_deleted, limit as i64];
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(args, |row| read_version(row, false))?;
            rows.map(|row| row?).collect()
        })
        .await
    }

    async fn deprecate(
        &self,
        schema: &SchemaName,
        version: Version,
    ) -> Result<StoredVersion, StoreError> {
        let schema = schema.clone();
        self.write(move |conn| deprecate_in_transaction(conn, &schema, version))
            .await
    }

    async fn delete(
        &self,
        schema: &SchemaName,
        version: Option<Version>,
    ) -> Result<Vec<Version>, StoreError> {
        let schema = schema.clone();
        self.write(move |conn| delete_in_transaction(conn, &schema, version))
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    async fn claim_changes(
        &self,
        consumer: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ChangeEvent>, StoreError> {
        let consumer = consumer.to_owned();
        self.write(move |conn| outbox::claim_changes(conn, &consumer, limit, lease, now_ms()))
            .await
    }

    async fn complete_changes(&self, ids: &[ChangeId]) -> Result<u64, StoreError> {
        let ids = ids.to_vec();
        self.write(move |conn| outbox::complete_changes(conn, &ids))
            .await
    }

    async fn oldest_pending_change_age(&self) -> Result<Option<Duration>, StoreError> {
        let oldest = self.read(outbox::oldest_pending_change_ms).await?;
        Ok(oldest.map(|created_at_ms| {
            let waited = now_ms().saturating_sub(created_at_ms).max(0);
            Duration::from_millis(waited.unsigned_abs())
        }))
    }
}

fn open_blocking(path: PathBuf) -> Result<Inner, StoreError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|err| {
            StoreError::Unavailable(format!("cannot create {}: {err}", parent.display()))
        })?;
    }

    let mut writer = open_connection(&path)?;
    let report = embedded::migrations::runner()
        .run(&mut writer)
        .map_err(|err| StoreError::Internal(format!("migration failed: {err}")))?;
    let applied = report.applied_migrations().len();
    info!(path = %path.display(), applied, "sqlite store opened");

    let readers = (0..READER_CONNECTIONS)
        .map(|_| open_connection(&path).map(Mutex::new))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Inner {
        path,
        writer: Mutex::new(writer),
        readers,
        next_reader: AtomicUsize::new(0),
    })
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets readers run beside the writer; NORMAL sync is durable across process
    // crashes and loses at most the last commits on power loss, the usual WAL trade.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

async fn run_blocking<T, F>(work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| StoreError::Internal(format!("store task failed: {err}")))?
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> StoreError {
    StoreError::Internal("a store connection was poisoned by a panic".to_owned())
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StoreError::Unavailable(err.to_string())
            }
            Some(ErrorCode::CannotOpen | ErrorCode::DiskFull | ErrorCode::ReadOnly) => {
                StoreError::Unavailable(err.to_string())
            }
            _ => StoreError::Internal(err.to_string()),
        }
    }
}
