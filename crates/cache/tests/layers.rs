//! The cache layer conformance suite: behaviour every [`CacheLayer`] must show,
//! written once and run over the in-process layer (module `memory`) and the real
//! Redis on this machine (module `redis`, at `OVSR_TEST_REDIS_URL`, by default
//! `redis://127.0.0.1:6379`; it fails when Redis is unreachable).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ovsr_cache::{CacheLayer, CacheMetrics, MemoryCache, RedisCache, RedisConfig};

const LONG: Duration = Duration::from_secs(60);

/// Runs each test body over every layer, as `memory::name` and `redis::name`.
macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(super::memory_layer()).await;
                }
            )*
        }

        mod redis {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(super::redis_layer().await).await;
                }
            )*
        }
    };
}

conformance! {
    a_missing_key_is_a_miss_and_a_set_key_a_hit,
    a_set_replaces_the_previous_value,
    values_are_binary_safe_and_may_be_large,
    delete_removes_every_key_given_and_ignores_absent_ones,
    an_entry_expires_after_its_ttl,
    a_replacement_takes_the_new_ttl,
}

fn memory_layer() -> Arc<dyn CacheLayer> {
    Arc::new(MemoryCache::<String, Bytes>::new(64 << 20))
}

async fn redis_layer() -> Arc<dyn CacheLayer> {
    let url = std::env::var("OVSR_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let config = RedisConfig {
        url,
        timeout: Duration::from_secs(2),
        ..RedisConfig::default()
    };
    let redis = RedisCache::connect(&config, CacheMetrics::unregistered())
        .await
        .unwrap();
    assert!(
        redis.is_connected(),
        "Redis at {} is not reachable; start it or set OVSR_TEST_REDIS_URL",
        config.url
    );
    Arc::new(redis)
}

/// A key no other test or run uses.
fn unique_key(label: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("ovsr-test:{}:{nanos:x}:{n}:{label}", std::process::id())
}

async fn a_missing_key_is_a_miss_and_a_set_key_a_hit(layer: Arc<dyn CacheLayer>) {
    let key = unique_key("hit");
    assert_eq!(layer.get(&key).await.unwrap(), None);
    layer
        .set(&key, Bytes::from_static(b"one"), LONG)
        .await
        .unwrap();
    assert_eq!(layer.get(&key).await.unwrap().as_deref(), Some(&b"one"[..]));
}

async fn a_set_replaces_the_previous_value(layer: Arc<dyn CacheLayer>) {
    let key = unique_key("replace");
    layer
        .set(&key, Bytes::from_static(b"old"), LONG)
        .await
        .unwrap();
    layer
        .set(&key, Bytes::from_static(b"new"), LONG)
        .await
        .unwrap();
    assert_eq!(layer.get(&key).await.unwrap().as_deref(), Some(&b"new"[..]));
}

async fn values_are_binary_safe_and_may_be_large(layer: Arc<dyn CacheLayer>) {
    let key = unique_key("binary");
    let value: Vec<u8> = (0..(1 << 20)).map(|i: u32| (i % 251) as u8).collect();
    let value = Bytes::from(value);
    layer.set(&key, value.clone(), LONG).await.unwrap();
    assert_eq!(layer.get(&key).await.unwrap(), Some(value));
}

async fn delete_removes_every_key_given_and_ignores_absent_ones(layer: Arc<dyn CacheLayer>) {
    let kept = unique_key("kept");
    let gone: Vec<String> = (0..3).map(|i| unique_key(&format!("gone-{i}"))).collect();
    layer
        .set(&kept, Bytes::from_static(b"k"), LONG)
        .await
        .unwrap();
    for key in &gone {
        layer
            .set(key, Bytes::from_static(b"g"), LONG)
            .await
            .unwrap();
    }
    let mut doomed = gone.clone();
    doomed.push(unique_key("never-set"));
    layer.delete(&doomed).await.unwrap();
    for key in &gone {
        assert_eq!(layer.get(key).await.unwrap(), None, "{key} survived");
    }
    assert!(layer.get(&kept).await.unwrap().is_some());
    layer.delete(&[]).await.unwrap();
}

async fn an_entry_expires_after_its_ttl(layer: Arc<dyn CacheLayer>) {
    let key = unique_key("expiry");
    layer
        .set(&key, Bytes::from_static(b"brief"), Duration::from_secs(1))
        .await
        .unwrap();
    assert!(layer.get(&key).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(layer.get(&key).await.unwrap(), None);
}

async fn a_replacement_takes_the_new_ttl(layer: Arc<dyn CacheLayer>) {
    let key = unique_key("new-ttl");
    layer
        .set(&key, Bytes::from_static(b"a"), LONG)
        .await
        .unwrap();
    let brief = Duration::from_secs(1);
    layer
        .set(&key, Bytes::from_static(b"b"), brief)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(layer.get(&key).await.unwrap(), None);
}

#[tokio::test]
async fn the_memory_layer_stays_within_its_byte_bound() {
    let bound: u64 = 1 << 20;
    let cache = MemoryCache::<String, Bytes>::new(bound);
    let value = Bytes::from(vec![7u8; 10 << 10]);
    for i in 0..400 {
        cache.insert(format!("k{i}"), value.clone(), LONG).await;
    }
    let held = cache.weighted_bytes().await;
    assert!(held <= bound, "{held} bytes held, bound {bound}");
    assert!(
        held > bound / 2,
        "only {held} bytes held: evicting too eagerly"
    );
}

#[tokio::test]
async fn redis_that_is_down_fails_fast_instead_of_waiting() {
    // Nothing listens on port 1.
    let config = RedisConfig {
        url: "redis://127.0.0.1:1".to_owned(),
        timeout: Duration::from_millis(100),
        ..RedisConfig::default()
    };
    let metrics = CacheMetrics::unregistered();
    let redis = RedisCache::connect(&config, metrics.clone()).await.unwrap();
    assert!(!redis.is_connected());
    let started = std::time::Instant::now();
    let err = redis.get("anything").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(50), "{err}");
    assert!(metrics.redis_errors.get() >= 1);
}
