//! The Redis layer over a real Redis Cluster of three masters, started by the test:
//! keys spread over slots on every node, read and deleted across slots. The caching
//! store's test on a cluster is in `store.rs`.

#![allow(clippy::unwrap_used)]

#[path = "support/cluster.rs"]
mod cluster;

use std::time::Duration;

use bytes::Bytes;
use cluster::RedisCluster;
use ovsr_cache::{CacheLayer as _, CacheMetrics, RedisCache};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_layer_reads_writes_and_deletes_keys_across_the_cluster() {
    let cluster = RedisCluster::start();
    let redis = RedisCache::connect(&cluster.redis_config(), CacheMetrics::unregistered())
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
