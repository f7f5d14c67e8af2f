//! The caching store over the real embedded store, alone, with the real Redis on
//! this machine (`OVSR_TEST_REDIS_URL`, by default `redis://127.0.0.1:6379`), and with
//! a Redis Cluster of three masters the test starts.
//!
//! Store reads are counted by a pass-through wrapper around the SQLite store, so a
//! test can tell a cached answer from one the store gave.

#![allow(clippy::unwrap_used)]

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/counting.rs"]
mod counting;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use cluster::RedisCluster;
use counting::CountingStore;
use fred::prelude::{ClientLike as _, SortedSetsInterface as _};
use ovsr_cache::{CacheConfig, CacheMetrics, CachingSchemaStore, RedisConfig};
use ovsr_core::{CanonicalDocument, SchemaName, Version, VersionSelector, VersionState};
use ovsr_store::{NewVersion, SchemaStore, SqliteSchemaStore};
use tokio_util::sync::CancellationToken;

const LATEST: VersionSelector = VersionSelector::Latest;
const DEGRADED_TTL: Duration = Duration::from_millis(300);
/// The sorted set of read counts the cache keeps in Redis.
const READ_COUNTS: &str = "ovsr:v1:reads";

struct Fixture {
    _dir: tempfile::TempDir,
    counted: Arc<CountingStore>,
    cancel: CancellationToken,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = SqliteSchemaStore::open(dir.path().join("ovsr.db"))
            .await
            .unwrap();
        Self {
            _dir: dir,
            counted: Arc::new(CountingStore::new(Arc::new(sqlite))),
            cancel: CancellationToken::new(),
        }
    }

    /// A cache over the fixture's store, with Redis when `redis` is set.
    async fn cache(&self, redis: bool) -> (CachingSchemaStore, CacheMetrics) {
        self.cache_on(redis.then(redis_config)).await
    }

    /// A cache over the fixture's store, with the Redis `redis` names, if any.
    async fn cache_on(&self, redis: Option<RedisConfig>) -> (CachingSchemaStore, CacheMetrics) {
        let with_redis = redis.is_some();
        let config = CacheConfig {
            redis,
            ..CacheConfig::default()
        };
        let metrics = CacheMetrics::unregistered();
        let inner: Arc<dyn SchemaStore> = self.counted.clone();
        let cache = CachingSchemaStore::start(inner, config, metrics.clone(), self.cancel.clone())
            .await
            .unwrap();
        if with_redis {
            wait_until(Duration::from_secs(5), || cache.invalidations_live()).await;
        }
        (cache, metrics)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn redis_config() -> RedisConfig {
    let url = std::env::var("OVSR_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    RedisConfig {
        url,
        timeout: Duration::from_secs(1),
        ..RedisConfig::default()
    }
}

async fn wait_until(limit: Duration, condition: impl Fn() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < limit,
            "condition not met within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn unique_schema(name: &str) -> SchemaName {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let namespace = format!("cache-{}-{nanos:x}-{n}", std::process::id());
    SchemaName::new(&namespace, name, "schema").unwrap()
}

fn new_version(schema: &SchemaName, body: &str) -> NewVersion {
    let doc = CanonicalDocument::from_slice(body.as_bytes(), 1 << 20).unwrap();
    NewVersion {
        schema: schema.clone(),
        content: doc.canonical().to_owned(),
        digest: doc.digest(),
        title: Some("a title".to_owned()),
        description: None,
        dialect: "https://json-schema.org/draft/2020-12/schema".to_owned(),
        tags: vec!["t".to_owned()],
        aliases: Vec::new(),
        references: BTreeMap::new(),
    }
}

fn exact(n: u32) -> VersionSelector {
    VersionSelector::Exact(Version::new(n, "version").unwrap())
}

async fn latest_number(store: &dyn SchemaStore, schema: &SchemaName) -> Option<u32> {
    let found = store.get_version(schema, LATEST, false).await.unwrap();
    found.map(|version| version.version.get())
}

#[tokio::test]
async fn hot_reads_are_answered_without_the_store() {
    let fixture = Fixture::new().await;
    let (cache, metrics) = fixture.cache(false).await;
    let schema = unique_schema("hot");
    let registered = cache
        .register(new_version(&schema, r#"{"type":"string"}"#))
        .await;
    let digest = registered.unwrap().version.digest;
    let before = fixture.counted.reads();

    for _ in 0..10 {
        let latest = cache.get_version(&schema, LATEST, false).await.unwrap();
        assert_eq!(
            latest.unwrap().content.as_deref(),
            Some(r#"{"type":"string"}"#)
        );
        let pinned = cache.get_version(&schema, exact(1), false).await.unwrap();
        assert_eq!(pinned.unwrap().digest, digest);
    }
    let by_digest = cache.get_by_digest(&digest, false).await.unwrap().unwrap();
    assert_eq!(by_digest.schema, schema);
    let _ = cache.get_by_digest(&digest, false).await.unwrap().unwrap();

    // Publishing wrote the version through; only latest and the digest's owner
    // were read from the store, once each.
    assert_eq!(fixture.counted.reads() - before, 2);
    // Nine latest reads at two lookups (the first went to the store), ten pinned at
    // one, and the second digest read at two.
    assert!(
        metrics.memory_hits.get() >= 30,
        "{} memory hits",
        metrics.memory_hits.get()
    );
}

async fn reads_follow_every_write_at_once(redis: bool) {
    let fixture = Fixture::new().await;
    let (cache, _) = fixture.cache(redis).await;
    let schema = unique_schema("moving");
    cache.register(new_version(&schema, "{}")).await.unwrap();
    assert_eq!(latest_number(&cache, &schema).await, Some(1));

    cache
        .register(new_version(&schema, r#"{"type":"null"}"#))
        .await
        .unwrap();
    assert_eq!(latest_number(&cache, &schema).await, Some(2));

    let two = Version::new(2, "version").unwrap();
    cache.deprecate(&schema, two).await.unwrap();
    let read = cache.get_version(&schema, exact(2), false).await.unwrap();
    assert_eq!(read.unwrap().state, VersionState::Deprecated);

    cache.delete(&schema, Some(two)).await.unwrap();
    assert_eq!(latest_number(&cache, &schema).await, Some(1));
    assert!(
        cache
            .get_version(&schema, exact(2), false)
            .await
            .unwrap()
            .is_none()
    );
    let deleted = cache.get_version(&schema, exact(2), true).await.unwrap();
    assert_eq!(deleted.unwrap().state, VersionState::Deleted);

    let listed = cache.list_versions(&schema, None, 10, false).await.unwrap();
    assert_eq!(listed.len(), 1);
    cache.delete(&schema, None).await.unwrap();
    assert_eq!(latest_number(&cache, &schema).await, None);
    assert!(
        cache
            .list_versions(&schema, None, 10, false)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn reads_follow_every_write_at_once_in_memory() {
    reads_follow_every_write_at_once(false).await;
}

#[tokio::test]
async fn reads_follow_every_write_at_once_with_redis() {
    reads_follow_every_write_at_once(true).await;
}

#[tokio::test]
async fn a_not_found_is_remembered_until_a_register() {
    let fixture = Fixture::new().await;
    let (cache, _) = fixture.cache(false).await;
    let schema = unique_schema("absent");
    assert_eq!(latest_number(&cache, &schema).await, None);
    let before = fixture.counted.reads();
    assert_eq!(latest_number(&cache, &schema).await, None);
    assert_eq!(
        fixture.counted.reads(),
        before,
        "the miss was not remembered"
    );

    cache.register(new_version(&schema, "{}")).await.unwrap();
    assert_eq!(latest_number(&cache, &schema).await, Some(1));
}

#[tokio::test]
async fn a_change_made_through_one_cache_reaches_another_within_100_ms() {
    let fixture = Fixture::new().await;
    let (reader, reader_metrics) = fixture.cache(true).await;
    let (writer, _) = fixture.cache(true).await;
    let schema = unique_schema("shared");
    writer.register(new_version(&schema, "{}")).await.unwrap();
    assert_eq!(latest_number(&reader, &schema).await, Some(1));
    assert_next_version_reaches_within_100_ms(&writer, &reader, &reader_metrics, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_caches_on_one_redis_cluster_agree_on_latest_within_100_ms() {
    let cluster = RedisCluster::start();
    let fixture = Fixture::new().await;
    let (reader, reader_metrics) = fixture.cache_on(Some(cluster.redis_config())).await;
    let (writer, _) = fixture.cache_on(Some(cluster.redis_config())).await;
    let schema = unique_schema("cluster");
    writer.register(new_version(&schema, "{}")).await.unwrap();
    assert_eq!(latest_number(&reader, &schema).await, Some(1));
    // Served from the cluster now: a third cache finds it without the store.
    let reads_before = fixture.counted.reads();
    let (other, _) = fixture.cache_on(Some(cluster.redis_config())).await;
    assert_eq!(latest_number(&other, &schema).await, Some(1));
    assert_eq!(
        fixture.counted.reads(),
        reads_before,
        "the store answered, not the cluster"
    );
    assert_next_version_reaches_within_100_ms(&writer, &reader, &reader_metrics, &schema).await;
}

/// Registers the next version of `schema` through `writer`, then asserts `reader`
/// serves it as latest within 100 ms, told by an invalidation.
async fn assert_next_version_reaches_within_100_ms(
    writer: &CachingSchemaStore,
    reader: &CachingSchemaStore,
    reader_metrics: &CacheMetrics,
    schema: &SchemaName,
) {
    let expected = latest_number(reader, schema).await.unwrap_or(0) + 1;
    let received = reader_metrics.invalidations_received.get();
    let body = format!(r#"{{"type":"object","x-version":{expected}}}"#);
    writer.register(new_version(schema, &body)).await.unwrap();
    let registered = Instant::now();
    loop {
        if latest_number(reader, schema).await == Some(expected) {
            break;
        }
        let waited = registered.elapsed();
        assert!(
            waited < Duration::from_millis(100),
            "still stale after {waited:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(reader_metrics.invalidations_received.get() > received);
}

#[tokio::test]
async fn an_unreachable_redis_costs_nothing_but_latency() {
    let fixture = Fixture::new().await;
    let metrics = CacheMetrics::unregistered();
    let config = CacheConfig {
        redis: Some(RedisConfig {
            url: "redis://127.0.0.1:1".to_owned(),
            timeout: Duration::from_millis(50),
            ..RedisConfig::default()
        }),
        degraded_pointer_ttl: DEGRADED_TTL,
        ..CacheConfig::default()
    };
    let inner: Arc<dyn SchemaStore> = fixture.counted.clone();
    let cache = CachingSchemaStore::start(inner, config, metrics.clone(), fixture.cancel.clone())
        .await
        .unwrap();
    assert!(!cache.invalidations_live());

    let schema = unique_schema("no-redis");
    cache.register(new_version(&schema, "{}")).await.unwrap();
    assert_eq!(latest_number(&cache, &schema).await, Some(1));
    cache.register(new_version(&schema, "[]")).await.unwrap();
    assert_eq!(latest_number(&cache, &schema).await, Some(2));
    assert!(metrics.redis_errors.get() > 0);

    // No invalidation can arrive, so pointers live only the short degraded TTL.
    let reads = fixture.counted.reads();
    assert_eq!(latest_number(&cache, &schema).await, Some(2));
    assert_eq!(fixture.counted.reads(), reads, "latest was not cached");
    tokio::time::sleep(DEGRADED_TTL + Duration::from_millis(100)).await;
    assert_eq!(latest_number(&cache, &schema).await, Some(2));
    assert_eq!(
        fixture.counted.reads(),
        reads + 1,
        "latest outlived the degraded TTL"
    );
}

#[tokio::test]
async fn the_most_read_schemas_are_warmed_at_start_up() {
    let fixture = Fixture::new().await;
    let config = CacheConfig {
        redis: Some(redis_config()),
        read_counts_flush_every: Duration::from_millis(50),
        warm_schemas: 1,
        ..CacheConfig::default()
    };
    let inner: Arc<dyn SchemaStore> = fixture.counted.clone();
    let start = |metrics: &CacheMetrics| {
        let (inner, config) = (inner.clone(), config.clone());
        CachingSchemaStore::start(inner, config, metrics.clone(), fixture.cancel.clone())
    };
    let first = start(&CacheMetrics::unregistered()).await.unwrap();
    let schema = unique_schema("popular");
    first.register(new_version(&schema, "{}")).await.unwrap();
    for _ in 0..160 {
        assert_eq!(latest_number(&first, &schema).await, Some(1));
    }

    let redis = fred::prelude::Builder::from_config(
        fred::prelude::Config::from_url(&redis_config().url).unwrap(),
    )
    .build()
    .unwrap();
    redis.init().await.unwrap();
    let member = schema.to_string();
    let counted = Instant::now();
    loop {
        let score: Option<f64> = redis.zscore(READ_COUNTS, member.as_str()).await.unwrap();
        if score.unwrap_or(0.0) >= 80.0 {
            break;
        }
        assert!(
            counted.elapsed() < Duration::from_secs(5),
            "reads not counted: {score:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Make it the most read of all, whatever else this Redis has counted.
    let _: f64 = redis
        .zincrby(READ_COUNTS, 1e15, member.as_str())
        .await
        .unwrap();

    let metrics = CacheMetrics::unregistered();
    let second = start(&metrics).await.unwrap();
    wait_until(Duration::from_secs(5), || metrics.redis_hits.get() >= 3).await;
    let (redis_hits, store_reads) = (metrics.redis_hits.get(), fixture.counted.reads());
    assert_eq!(latest_number(&second, &schema).await, Some(1));
    assert_eq!(
        metrics.redis_hits.get(),
        redis_hits,
        "not warmed into memory"
    );
    assert_eq!(fixture.counted.reads(), store_reads);
    let _: i64 = redis.zrem(READ_COUNTS, member.as_str()).await.unwrap();
}
