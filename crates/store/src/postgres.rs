//! The PostgreSQL store: a primary for writes, streaming replicas for reads, each
//! behind its own bb8 pool of tokio-postgres connections.
//!
//! The tables are the SQLite store's, keyed by namespace first so Citus can distribute
//! them. Migrations run at start-up under a session advisory lock, so several servers
//! starting at once migrate once.

mod failure;
mod outbox;
mod pool;
mod reads;
mod register;
mod replicas;
mod rows;
mod writes;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ovsr_core::{Digest, Namespace, SchemaName, Version, VersionSelector};
use tokio_postgres::{Client, NoTls};
use tracing::info;

use crate::{
    ChangeEvent, ChangeId, NewVersion, Registered, SchemaStore, SchemaSummary, StoreError,
    StoredVersion,
};
use failure::{Failure, retry_transient};
use pool::{PgConn, PgPool, PoolSettings, describe_target, parse_config};
use replicas::Replicas;

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// The session advisory lock held while migrating: "ovsrmig" in ASCII.
const MIGRATION_LOCK_KEY: i64 = 0x006f_7673_726d_6967;

/// How to reach PostgreSQL.
#[derive(Clone)]
pub struct PgStoreConfig {
    /// The primary: writes, and reads that must see them. A `postgres://` URL or a
    /// `key=value` string.
    pub primary_url: String,
    /// Streaming replicas that serve reads, round robin. Empty sends reads to the
    /// primary.
    pub replica_urls: Vec<String>,
    /// Connections per pool; the primary and each replica have their own pool.
    pub pool_size: u32,
    /// The longest a call waits for connections before answering
    /// [`StoreError::Unavailable`]. Within one read, replicas share half of it and the
    /// primary has the rest, so a dead replica still leaves the primary time.
    pub acquire_timeout: Duration,
    /// The server-side limit on one statement; a statement cancelled by it answers
    /// [`StoreError::Unavailable`].
    pub statement_timeout: Duration,
}

impl PgStoreConfig {
    /// A config for one primary and no replicas, with defaults for the rest.
    pub fn new(primary_url: impl Into<String>) -> Self {
        Self {
            primary_url: primary_url.into(),
            replica_urls: Vec::new(),
            pool_size: 16,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

// URLs may hold passwords, so only where they point is shown.
impl fmt::Debug for PgStoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = |url: &str| {
            parse_config(url).map_or_else(|_| "<invalid>".to_owned(), |c| describe_target(&c))
        };
        let replicas: Vec<String> = self.replica_urls.iter().map(|u| target(u)).collect();
        f.debug_struct("PgStoreConfig")
            .field("primary", &target(&self.primary_url))
            .field("replicas", &replicas)
            .field("pool_size", &self.pool_size)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

/// The PostgreSQL-backed [`SchemaStore`].
///
/// Writes, and the reads inside them, run on the primary in read-committed
/// transactions that lock the schema's row first; serialization failures and deadlocks
/// are retried inside the store a few times. Reads go to replicas round robin, skip a
/// replica that is down, and ask the primary before answering "not found", since a
/// replica may lag. Statements are prepared once per connection and reused.
///
/// # Behind PgBouncer (transaction pooling)
///
/// - Prepared statements: PgBouncer 1.21 or newer with `max_prepared_statements` set
///   (say 200), so it re-prepares them on whichever server connection a transaction
///   lands on. Older PgBouncer needs session pooling: this store prepares named
///   statements and would otherwise find them missing.
/// - The statement timeout travels as the `options` startup parameter. If PgBouncer
///   rejects it, list `options` in `ignore_startup_parameters` and set the timeout on
///   the role instead (`ALTER ROLE … SET statement_timeout = …`).
/// - Nothing here holds session state across transactions, with one exception: the
///   migration takes a session advisory lock. Run migrations against PostgreSQL
///   directly ([`PgSchemaStore::migrate`] with a direct URL), then start the store with
///   [`PgSchemaStore::connect`] through PgBouncer.
#[derive(Debug, Clone)]
pub struct PgSchemaStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    primary: PgPool,
    replicas: Replicas,
}

impl PgSchemaStore {
    /// Applies pending migrations on the primary, then opens the pools.
    pub async fn open(config: PgStoreConfig) -> Result<Self, StoreError> {
        Self::migrate(&config.primary_url, config.acquire_timeout).await?;
        Self::connect(config).await
    }

    /// Opens the pools without migrating. No connection is made until the first call,
    /// so a server that is down does not stop start-up; calls answer
    /// [`StoreError::Unavailable`] until it is back.
    pub async fn connect(config: PgStoreConfig) -> Result<Self, StoreError> {
        let primary_settings = PoolSettings {
            size: config.pool_size,
            acquire_timeout: config.acquire_timeout,
            statement_timeout: config.statement_timeout,
        };
        let replica_settings = PoolSettings {
            acquire_timeout: config.acquire_timeout / 2,
            ..primary_settings
        };
        let primary = PgPool::new(&config.primary_url, primary_settings)?;
        let replica_pools = config
            .replica_urls
            .iter()
            .map(|url| PgPool::new(url, replica_settings))
            .collect::<Result<Vec<_>, _>>()?;

        let replica_targets: Vec<&str> = replica_pools.iter().map(PgPool::target).collect();
        info!(
            primary = primary.target(),
            replicas = ?replica_targets,
            pool_size = config.pool_size,
            "postgres store opened"
        );
        let replicas = Replicas::new(replica_pools);
        Ok(Self {
            inner: Arc::new(Inner { primary, replicas }),
        })
    }

    /// Applies pending migrations over a direct connection to `url`, holding a session
    /// advisory lock so servers starting together migrate one at a time. Connecting
    /// gives up after `connect_timeout`; waiting for another server's migration does
    /// not.
    pub async fn migrate(url: &str, connect_timeout: Duration) -> Result<(), StoreError> {
        let config = parse_config(url)?;
        let target = describe_target(&config);
        let unreachable = |reason: String| {
            StoreError::Unavailable(format!("cannot connect to {target} to migrate: {reason}"))
        };

        let connecting = config.connect(NoTls);
        let (mut client, connection) = tokio::time::timeout(connect_timeout, connecting)
            .await
            .map_err(|_| unreachable("timed out".to_owned()))?
            .map_err(|err| unreachable(Failure::from(err).into_reason()))?;
        // The connection ends when the client is dropped at the end of this function.
        tokio::spawn(connection);

        let applied = migrate_holding_lock(&mut client).await.map_err(|failure| {
            if client.is_closed() {
                unreachable(failure.into_reason())
            } else {
                failure.into_store()
            }
        })?;
        info!(target = %target, applied, "postgres migrations applied");
        Ok(())
    }

    /// The same store with every read sent to the primary: for consumers that must see
    /// each committed change, such as an outbox reader re-reading what a change names,
    /// where a lagging replica would hand back the state before it.
    pub fn primary_only(&self) -> Self {
        let inner = Inner {
            primary: self.inner.primary.clone(),
            replicas: Replicas::new(Vec::new()),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    async fn read<T, F, Fut>(&self, query: F, found: fn(&T) -> bool) -> Result<T, StoreError>
    where
        F: Fn(PgConn) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let inner = &self.inner;
        inner.replicas.read(&inner.primary, query, found).await
    }
}

#[async_trait]
impl SchemaStore for PgSchemaStore {
    async fn register(&self, new: NewVersion) -> Result<Registered, StoreError> {
        retry_transient(|| register::register(&self.inner.primary, &new)).await
    }

    async fn register_batch(
        &self,
        batch: Vec<NewVersion>,
    ) -> Result<Vec<Result<Registered, StoreError>>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let primary = &self.inner.primary;
        retry_transient(|| register::register_batch(primary, &batch)).await
    }

    async fn resolve_alias(
        &self,
        namespace: &Namespace,
        alias: &str,
    ) -> Result<Option<SchemaName>, StoreError> {
        let query = |mut conn: PgConn| async move {
            reads::resolve_alias(&mut conn, namespace, alias).await
        };
        self.read(query, Option::is_some).await
    }

    async fn get_version(
        &self,
        schema: &SchemaName,
        selector: VersionSelector,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let query = |mut conn: PgConn| async move {
            reads::get_version(&mut conn, schema, selector, include_deleted).await
        };
        self.read(query, Option::is_some).await
    }

    async fn get_by_digest(
        &self,
        digest: &Digest,
        include_deleted: bool,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let query = |mut conn: PgConn| async move {
            reads::get_by_digest(&mut conn, digest, include_deleted).await
        };
        self.read(query, Option::is_some).await
    }

    async fn list_schemas(
        &self,
        namespace: Option<&Namespace>,
        after: Option<&SchemaName>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<SchemaSummary>, StoreError> {
        let query = |mut conn: PgConn| async move {
            reads::list_schemas(&mut conn, namespace, after, limit, include_deleted).await
        };
        // An empty page from a replica may be lag: the primary has the last word.
        self.read(query, |page: &Vec<SchemaSummary>| !page.is_empty())
            .await
    }

    async fn list_versions(
        &self,
        schema: &SchemaName,
        after: Option<Version>,
        limit: usize,
        include_deleted: bool,
    ) -> Result<Vec<StoredVersion>, StoreError> {
        let query = |mut conn: PgConn| async move {
            reads::list_versions(&mut conn, schema, after, limit, include_deleted).await
        };
        self.read(query, |_| true).await
    }

    async fn deprecate(
        &self,
        schema: &SchemaName,
        version: Version,
    ) -> Result<StoredVersion, StoreError> {
        retry_transient(|| writes::deprecate(&self.inner.primary, schema, version)).await
    }

    async fn delete(
        &self,
        schema: &SchemaName,
        version: Option<Version>,
    ) -> Result<Vec<Version>, StoreError> {
        retry_transient(|| writes::delete(&self.inner.primary, schema, version)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let conn = self
            .inner
            .primary
            .get()
            .await
            .map_err(Failure::into_store)?;
        conn.client()
            .simple_query("SELECT 1")
            .await
            .map_err(|err| Failure::from(err).into_store())?;
        Ok(())
    }

    async fn claim_changes(
        &self,
        consumer: &str,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<ChangeEvent>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let primary = &self.inner.primary;
        retry_transient(|| outbox::claim_changes(primary, consumer, limit, lease)).await
    }

    async fn complete_changes(&self, ids: &[ChangeId]) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        retry_transient(|| outbox::complete_changes(&self.inner.primary, ids)).await
    }

    async fn oldest_pending_change_age(&self) -> Result<Option<Duration>, StoreError> {
        let primary = &self.inner.primary;
        retry_transient(|| outbox::oldest_pending_change_age(primary)).await
    }
}

/// Runs the embedded migrations while holding the advisory lock; returns how many
/// were applied.
async fn migrate_holding_lock(client: &mut Client) -> Result<usize, Failure> {
    let free = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    if !rows::column::<bool>(&free, 0)? {
        info!("waiting for another server to finish migrating");
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
            .await?;
    }

    let report = embedded::migrations::runner().run_async(client).await;
    // Unlock even when migrating failed; closing the connection would also release it.
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await;
    let report = report
        .map_err(|err| Failure::Store(StoreError::Internal(format!("migration failed: {err}"))))?;
    unlocked?;
    Ok(report.applied_migrations().len())
}
