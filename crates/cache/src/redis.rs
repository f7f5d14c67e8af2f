//! The shared layer: Redis or Redis Cluster through fred.
//!
//! Every call has a short timeout and is tried once: a slow or absent Redis makes
//! reads go to the store, never wait. fred reconnects on its own in the background;
//! while it is disconnected calls fail at once without touching the network.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use fred::clients::SubscriberClient;
use fred::prelude::{
    Builder, ClientLike, Config, Expiration, KeysInterface, Pool, PubsubInterface, ReconnectPolicy,
    SortedSetsInterface,
};
use fred::types::InfoKind;
use futures::future::join_all;
use tracing::{info, warn};

use crate::{CacheError, CacheLayer, CacheMetrics};

/// Where Redis is and how patient to be with it.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `redis://host:port/db`, or `redis-cluster://host:port?node=host:port…`.
    pub url: String,
    /// Longest a cache call may take before the read goes to the store.
    pub timeout: Duration,
    /// Connections, used in turn; each pipelines many calls.
    pub pool_size: usize,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".to_owned(),
            timeout: Duration::from_millis(250),
            pool_size: 4,
        }
    }
}

/// Redis as a cache layer, with the channel and sorted set the cache coordinates on.
#[derive(Clone)]
pub struct RedisCache {
    pool: Pool,
    builder: Builder,
    metrics: CacheMetrics,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// Starts connecting and waits up to the call timeout for the first connection.
    /// A Redis that is down is not an error: the cache starts degraded and fred
    /// keeps trying.
    pub async fn connect(config: &RedisConfig, metrics: CacheMetrics) -> Result<Self, CacheError> {
        let parsed = Config::from_url(&config.url)
            .map_err(|err| CacheError::Unavailable(format!("redis url: {err}")))?;
        let builder = builder(parsed, config.timeout);
        let pool = builder
            .build_pool(config.pool_size.max(1))
            .map_err(|err| CacheError::Unavailable(err.to_string()))?;
        // The task drives the connections, reconnecting, until the pool quits.
        let _connections = pool.connect();
        let wait = (config.timeout * 4).max(Duration::from_secs(1));
        match tokio::time::timeout(wait, pool.wait_for_connect()).await {
            Ok(Ok(())) => info!(pool_size = config.pool_size, "cache: redis connected"),
            Ok(Err(err)) => warn!(error = %err, "cache: redis not reachable yet"),
            Err(_) => warn!(waited = ?wait, "cache: redis not reachable yet"),
        }
        Ok(Self {
            pool,
            builder,
            metrics,
        })
    }

    /// Whether the pool is connected now.
    pub fn is_connected(&self) -> bool {
        self.pool.is_connected()
    }

    /// A client of its own for subscriptions, on the same server and settings.
    pub fn subscriber(&self) -> Result<SubscriberClient, CacheError> {
        self.builder
            .build_subscriber_client()
            .map_err(|err| CacheError::Unavailable(err.to_string()))
    }

    /// Publishes `message` on `channel`.
    pub async fn publish(&self, channel: &str, message: Bytes) -> Result<(), CacheError> {
        self.ready()?;
        let call = self.pool.next().publish::<(), _, _>(channel, message);
        self.timed(call).await
    }

    /// Adds each `(member, count)` to the scores of the sorted set `key`.
    pub async fn increment_scores(
        &self,
        key: &str,
        counts: &[(String, u64)],
    ) -> Result<(), CacheError> {
        self.ready()?;
        let client = self.pool.next();
        let calls = counts.iter().map(|(member, count)| {
            #[allow(clippy::cast_precision_loss)]
            let increment = *count as f64;
            client.zincrby::<f64, _, _>(key, increment, member.as_str())
        });
        self.timed_all(calls).await
    }

    /// The `limit` highest-scored members of the sorted set `key`, highest first.
    pub async fn top_members(&self, key: &str, limit: usize) -> Result<Vec<String>, CacheError> {
        self.ready()?;
        let stop = i64::try_from(limit).unwrap_or(i64::MAX) - 1;
        let call = self
            .pool
            .next()
            .zrevrange::<Vec<String>, _>(key, 0, stop, false);
        self.timed(call).await
    }

    /// Redis's count of keys it evicted for room, from `INFO stats`.
    pub async fn evicted_keys(&self) -> Result<u64, CacheError> {
        self.ready()?;
        let call = self.pool.next().info::<String>(Some(InfoKind::Stats));
        let stats = self.timed(call).await?;
        let value = stats
            .lines()
            .find_map(|line| line.strip_prefix("evicted_keys:"))
            .and_then(|count| count.trim().parse().ok());
        value.ok_or_else(|| CacheError::Corrupt("INFO stats has no evicted_keys".to_owned()))
    }

    /// Fails at once while disconnected, rather than queueing behind a reconnect.
    fn ready(&self) -> Result<(), CacheError> {
        if self.is_connected() {
            Ok(())
        } else {
            self.metrics.redis_errors.inc();
            Err(CacheError::Unavailable("redis disconnected".to_owned()))
        }
    }

    async fn timed<T>(
        &self,
        call: impl Future<Output = Result<T, fred::error::Error>>,
    ) -> Result<T, CacheError> {
        let started = Instant::now();
        let result = call.await;
        self.observe(started);
        result.map_err(|err| self.failed(err))
    }

    /// Runs `calls` at once, pipelined on one connection, timed as one; the first
    /// failure fails the whole.
    async fn timed_all<T>(
        &self,
        calls: impl Iterator<Item = impl Future<Output = Result<T, fred::error::Error>>>,
    ) -> Result<(), CacheError> {
        let started = Instant::now();
        let results = join_all(calls).await;
        self.observe(started);
        results.into_iter().try_for_each(|result| match result {
            Ok(_) => Ok(()),
            Err(err) => Err(self.failed(err)),
        })
    }

    fn observe(&self, started: Instant) {
        let seconds = started.elapsed().as_secs_f64();
        self.metrics.redis_latency.observe(seconds);
    }

    fn failed(&self, err: fred::error::Error) -> CacheError {
        self.metrics.redis_errors.inc();
        CacheError::Unavailable(err.to_string())
    }
}

#[async_trait]
impl CacheLayer for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Bytes>, CacheError> {
        self.ready()?;
        let found = self
            .timed(self.pool.next().get::<Option<Bytes>, _>(key))
            .await?;
        if found.is_some() {
            self.metrics.redis_hits.inc();
        } else {
            self.metrics.redis_misses.inc();
        }
        Ok(found)
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Duration) -> Result<(), CacheError> {
        self.ready()?;
        let seconds = i64::try_from(ttl.as_secs().max(1)).unwrap_or(i64::MAX);
        let expire = Some(Expiration::EX(seconds));
        let call = self
            .pool
            .next()
            .set::<(), _, _>(key, value, expire, None, false);
        self.timed(call).await
    }

    async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.ready()?;
        let client = self.pool.next();
        // One DEL per key: in a cluster the keys live in different slots.
        let calls = keys.iter().map(|key| client.del::<i64, _>(key.as_str()));
        self.timed_all(calls).await
    }
}

/// fred settings for a cache: short timeouts, one attempt per call, reconnects
/// forever with backoff from 50 ms to 2 s.
fn builder(config: Config, timeout: Duration) -> Builder {
    let mut builder = Builder::from_config(config);
    builder
        .with_connection_config(|connection| {
            connection.connection_timeout = timeout.max(Duration::from_millis(500));
            connection.internal_command_timeout = timeout.max(Duration::from_millis(500));
            connection.max_command_attempts = 1;
        })
        .with_performance_config(|performance| {
            performance.default_command_timeout = timeout;
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 50, 2_000, 2));
    builder
}
