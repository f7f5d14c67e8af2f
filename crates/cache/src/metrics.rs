//! What the cache reports on `/metrics`. Handles are resolved once, so counting on
//! the read path is one atomic add.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type ByLayer = Family<[(&'static str, &'static str); 1], Counter>;

/// Hits, misses and evictions per layer, Redis latency and failures, and the
/// invalidations sent and received.
#[derive(Debug, Clone)]
pub struct CacheMetrics {
    /// Reads answered by the in-process layer.
    pub memory_hits: Counter,
    /// Reads the in-process layer could not answer.
    pub memory_misses: Counter,
    /// In-process entries dropped to stay within the byte bound.
    pub memory_evictions: Counter,
    /// Reads answered by Redis.
    pub redis_hits: Counter,
    /// Reads Redis could not answer (absent, or Redis failing).
    pub redis_misses: Counter,
    /// Redis calls that failed or timed out; the read went to the store.
    pub redis_errors: Counter,
    /// Keys Redis itself evicted (its `evicted_keys`), sampled periodically.
    pub redis_evictions: Gauge,
    /// Seconds per Redis call.
    pub redis_latency: Histogram,
    /// Invalidation messages received from other processes (and our own echo).
    pub invalidations_received: Counter,
    /// Invalidation messages this process published.
    pub invalidations_published: Counter,
}

impl CacheMetrics {
    /// Metrics registered nowhere, for tests and tools.
    pub fn unregistered() -> Self {
        Self::build(None)
    }

    /// Metrics registered in `registry` under the `ovsr_cache_` prefix.
    pub fn register(registry: &mut Registry) -> Self {
        Self::build(Some(registry.sub_registry_with_prefix("ovsr_cache")))
    }

    fn build(registry: Option<&mut Registry>) -> Self {
        let hits = ByLayer::default();
        let misses = ByLayer::default();
        let evictions = ByLayer::default();
        // 50 µs to about 0.8 s: loopback round trips through timeouts.
        let redis_latency = Histogram::new(exponential_buckets(50e-6, 2.0, 15));
        // One statement per handle: a family's guard lives to the end of its
        // statement, and a second get_or_create on it would wait for that guard.
        let memory_hits = layer_counter(&hits, "memory");
        let memory_misses = layer_counter(&misses, "memory");
        let memory_evictions = layer_counter(&evictions, "memory");
        let redis_hits = layer_counter(&hits, "redis");
        let redis_misses = layer_counter(&misses, "redis");
        let metrics = Self {
            memory_hits,
            memory_misses,
            memory_evictions,
            redis_hits,
            redis_misses,
            redis_errors: Counter::default(),
            redis_evictions: Gauge::default(),
            redis_latency,
            invalidations_received: Counter::default(),
            invalidations_published: Counter::default(),
        };
        let Some(registry) = registry else {
            return metrics;
        };
        registry.register("hits", "Reads answered by a cache layer", hits);
        registry.register("misses", "Reads a cache layer could not answer", misses);
        let help = "Entries the in-process layer dropped to stay within its byte bound";
        registry.register("evictions", help, evictions);
        let help = "Redis calls that failed or timed out (the read went to the store)";
        registry.register("redis_errors", help, metrics.redis_errors.clone());
        let help = "Keys Redis evicted for room (its evicted_keys), sampled";
        registry.register("redis_evicted_keys", help, metrics.redis_evictions.clone());
        let help = "Seconds per Redis call";
        registry.register("redis_latency_seconds", help, metrics.redis_latency.clone());
        let help = "Invalidation messages received";
        let received = metrics.invalidations_received.clone();
        registry.register("invalidations_received", help, received);
        let help = "Invalidation messages published";
        let published = metrics.invalidations_published.clone();
        registry.register("invalidations_published", help, published);
        metrics
    }
}

fn layer_counter(family: &ByLayer, layer: &'static str) -> Counter {
    let counter = family.get_or_create(&[("layer", layer)]);
    counter.clone()
}
