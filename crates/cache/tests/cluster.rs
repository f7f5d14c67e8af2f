//! The Redis layer and the caching store over a real Redis Cluster of three masters,
//! started by the test: keys spread over slots on every node, pipelined reads,
//! deletes across slots, and invalidations over the cluster's pub/sub.

#![allow(clippy::unwrap_used)]

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/counting.rs"]
mod counting;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cluster::RedisCluster;
use counting::CountingStore;
use ovsr_cache::{
    CacheConfig, CacheLayer as _, CacheMetrics, CachingSchemaStore, RedisCache, RedisConfig,
};
use ovsr_core::{CanonicalDocument, SchemaName, VersionSelector};
use ovsr_store::{NewVersion, SchemaStore, SqliteSchemaStore};
use tokio_util::sync::CancellationToken;

fn config_for(cluster: &RedisCluster) -> RedisConfig {
    RedisConfig {
        url: cluster.url(),
        timeout: Duration::from_secs(2),
        ..RedisConfig::default()
    }
}

fn new_version(schema: &SchemaName, body: &str) -> NewVersion {
    let document = CanonicalDocument::from_slice(body.as_bytes(), 1 << 20).unwrap();
    NewVersion {
        schema: schema.clone(),
        content: document.canonical().to_owned(),
        digest: document.digest(),
        title: None,
        description: None,
        dialect: "https://json-schema.org/draft/2020-12/schema".to_owned(),
        tags: Vec::new(),
        aliases: Vec::new(),
        references: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_layer_reads_writes_and_deletes_keys_across_the_cluster() {
    let cluster = RedisCluster::start();
    let redis = RedisCache::connect(&config_for(&cluster), CacheMetrics::unregistered())
        .await
        .unwrap();
    assert!(redis.is_connected(), "not connected to {}", cluster.url());

    // Enough keys that every node's slots hold some.
    let keys: Vec<String> = (0..64).map(|i| format!("ovsr-test:cluster:{i}")).collect();
    for (i, key) in keys.iter().enumerate() {
        let value = Bytes::from(format!("value {i}"));
        redis
            .set(key, value, Duration::from_secs(60))
            .await
            .unwrap();
    }
    for (i, key) in keys.iter().enumerate() {
        let found = redis.get(key).await.unwrap();
        assert_eq!(found, Some(Bytes::from(format!("value {i}"))));
    }
    redis.delete(&keys).await.unwrap();
    for key in &keys {
        assert_eq!(
            redis.get(key).await.unwrap(),
            None,
            "{key} survived the delete"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_caches_on_one_cluster_agree_on_latest_within_100_ms() {
    let cluster = RedisCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteSchemaStore::open(dir.path().join("ovsr.db"))
        .await
        .unwrap();
    let store = Arc::new(CountingStore::new(Arc::new(sqlite)));
    let cancel = CancellationToken::new();
    let cache = |metrics: CacheMetrics| {
        let config = CacheConfig {
            redis: Some(config_for(&cluster)),
            ..CacheConfig::default()
        };
        let inner: Arc<dyn SchemaStore> = store.clone();
        CachingSchemaStore::start(inner, config, metrics, cancel.clone())
    };
    let reader_metrics = CacheMetrics::unregistered();
    let reader = cache(reader_metrics.clone()).await.unwrap();
    let writer = cache(CacheMetrics::unregistered()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(reader.invalidations_live() && writer.invalidations_live()) {
        assert!(Instant::now() < deadline, "no subscription on the cluster");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let schema = SchemaName::parse("cluster/order", "schema").unwrap();
    writer.register(new_version(&schema, "{}")).await.unwrap();
    let latest = |cache: &CachingSchemaStore| {
        let schema = schema.clone();
        let cache = cache.clone();
        async move {
            let found = cache
                .get_version(&schema, VersionSelector::Latest, false)
                .await
                .unwrap();
            found.map(|version| version.version.get())
        }
    };
    assert_eq!(latest(&reader).await, Some(1));
    // Served from the cluster now: a second reader finds it without the store.
    let reads_before = store.reads();
    let other = cache(CacheMetrics::unregistered()).await.unwrap();
    assert_eq!(latest(&other).await, Some(1));
    assert_eq!(
        store.reads(),
        reads_before,
        "the store answered, not the cluster"
    );

    let received = reader_metrics.invalidations_received.get();
    writer
        .register(new_version(&schema, r#"{"type":"object"}"#))
        .await
        .unwrap();
    let registered = Instant::now();
    while latest(&reader).await != Some(2) {
        let waited = registered.elapsed();
        assert!(
            waited < Duration::from_millis(100),
            "still stale after {waited:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(reader_metrics.invalidations_received.get() > received);
    cancel.cancel();
}
