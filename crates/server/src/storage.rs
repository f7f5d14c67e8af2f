//! Opening the store the configuration names: PostgreSQL when a database URL is
//! given, the embedded SQLite file in the data directory otherwise.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ovsr_cache::{CacheConfig, CacheMetrics, CachingSchemaStore, RedisConfig};
use ovsr_store::{PgSchemaStore, PgStoreConfig, SchemaStore, SqliteSchemaStore, StoreError};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::ServeConfig;

/// The name of the store file inside the data directory.
const SQLITE_FILE: &str = "ovsr.db";

/// Pause between attempts to reach a PostgreSQL that is not up yet.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// The store as the server uses it.
#[derive(Debug)]
pub struct Stores {
    /// Behind the cache layers, reading from replicas: what requests are served from.
    pub serving: Arc<dyn SchemaStore>,
    /// Uncached and on the primary: what the outbox consumers re-read changes from,
    /// since a cached pointer or a lagging replica may still show the state before a
    /// change, and an index built from that would keep it until the next change.
    pub source: Arc<dyn SchemaStore>,
}

/// Opens the configured store behind the cache layers; background cache work runs
/// until `cancel`.
pub async fn open_cached(
    config: &ServeConfig,
    metrics: CacheMetrics,
    cancel: CancellationToken,
) -> anyhow::Result<Stores> {
    let (store, source) = open_with_source(config).await?;
    if config.cache_bytes == 0 && config.redis_url.is_none() {
        info!("cache: off");
        return Ok(Stores {
            serving: store,
            source,
        });
    }
    let redis = config.redis_url.as_ref().map(|url| RedisConfig {
        url: url.clone(),
        timeout: config.redis_timeout,
        ..RedisConfig::default()
    });
    let cache = CacheConfig {
        memory_bytes: config.cache_bytes,
        redis,
        pointer_ttl: config.cache_pointer_ttl,
        // A read racing a write can put a stale pointer back in Redis after the
        // writer dropped it; the same TTL as in process bounds that too.
        shared_pointer_ttl: config.cache_pointer_ttl,
        degraded_pointer_ttl: config.cache_degraded_ttl,
        negative_ttl: config.cache_negative_ttl,
        warm_schemas: config.cache_warm_schemas,
        ..CacheConfig::default()
    };
    info!(
        memory_bytes = cache.memory_bytes,
        redis = config.redis_url.as_deref().map_or("none".to_owned(), redact),
        redis_timeout = ?config.redis_timeout,
        pointer_ttl = ?cache.pointer_ttl,
        degraded_pointer_ttl = ?cache.degraded_pointer_ttl,
        negative_ttl = ?cache.negative_ttl,
        "cache"
    );
    let cached = CachingSchemaStore::start(store, cache, metrics, cancel)
        .await
        .context("starting the cache")?;
    Ok(Stores {
        serving: Arc::new(cached),
        source,
    })
}

/// A URL without its credentials, for logs.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://{host}")
        }
        None => "(unparsable url)".to_owned(),
    }
}

/// Opens (and migrates) the configured store.
pub async fn open(config: &ServeConfig) -> anyhow::Result<Arc<dyn SchemaStore>> {
    Ok(open_with_source(config).await?.0)
}

/// Opens (and migrates) the configured store, and beside it a view of the same store
/// that reads only from the primary.
async fn open_with_source(
    config: &ServeConfig,
) -> anyhow::Result<(Arc<dyn SchemaStore>, Arc<dyn SchemaStore>)> {
    let Some(url) = &config.database_url else {
        let path = config.data_dir.join(SQLITE_FILE);
        info!(path = %path.display(), "store: embedded SQLite");
        let store = SqliteSchemaStore::open(path)
            .await
            .context("opening the embedded store")?;
        let store: Arc<dyn SchemaStore> = Arc::new(store);
        return Ok((Arc::clone(&store), store));
    };
    let pg = PgStoreConfig {
        replica_urls: config.database_replica_urls.clone(),
        pool_size: config.database_pool_size,
        acquire_timeout: config.database_acquire_timeout,
        statement_timeout: config.database_statement_timeout,
        ..PgStoreConfig::new(url.clone())
    };
    info!(
        database = ?pg,
        acquire_timeout = ?pg.acquire_timeout,
        statement_timeout = ?pg.statement_timeout,
        "store: PostgreSQL"
    );
    migrate_when_reachable(url, config).await?;
    let store = PgSchemaStore::connect(pg)
        .await
        .context("opening the PostgreSQL store")?;
    let source = Arc::new(store.primary_only());
    Ok((Arc::new(store), source))
}

/// Applies migrations, retrying while PostgreSQL is unreachable (it may be starting
/// beside us) for up to the start-up timeout. Other failures stop at once.
async fn migrate_when_reachable(url: &str, config: &ServeConfig) -> anyhow::Result<()> {
    let deadline = Instant::now() + config.database_startup_timeout;
    loop {
        match PgSchemaStore::migrate(url, config.database_acquire_timeout).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Unavailable(reason)) if Instant::now() < deadline => {
                warn!(%reason, retry_in = ?RETRY_EVERY, "PostgreSQL not reachable yet");
                tokio::time::sleep(RETRY_EVERY).await;
            }
            Err(err) => return Err(err).context("migrating the PostgreSQL store"),
        }
    }
}
