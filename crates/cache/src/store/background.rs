//! The cache's background work while Redis is configured: following invalidations,
//! flushing read counts, and warming at start-up.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fred::clients::SubscriberClient;
use fred::prelude::{ClientLike, EventInterface, PubsubInterface};
use ovsr_core::{SchemaName, VersionSelector};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::Shared;
use crate::RedisCache;
use crate::codec::{INVALIDATION_CHANNEL, READ_COUNTS_KEY};
use crate::invalidation::Invalidation;

/// How often the subscription's health is checked.
const HEALTH_EVERY: Duration = Duration::from_millis(100);
/// Longest warming waits for the invalidation subscription before going ahead.
const WARM_WAITS_FOR_SUBSCRIPTION: Duration = Duration::from_secs(5);

/// A name for this cache instance, unique across processes and within one.
pub(super) fn process_origin() -> String {
    static INSTANCES: AtomicU64 = AtomicU64::new(0);
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let instance = INSTANCES.fetch_add(1, Ordering::Relaxed);
    format!("{}-{started:x}-{instance}", std::process::id())
}

/// Starts the background tasks; without Redis there are none.
pub(super) fn spawn(shared: &Arc<Shared>, cancel: CancellationToken) {
    let Some(redis) = shared.redis.clone() else {
        return;
    };
    match redis.subscriber() {
        Ok(subscriber) => {
            let task = follow_invalidations(Arc::clone(shared), subscriber, cancel.clone());
            tokio::spawn(task);
        }
        Err(err) => {
            warn!(error = %err, "cache: no invalidation subscriber; pointers stay short-lived")
        }
    }
    let task = flush_read_counts(Arc::clone(shared), redis.clone(), cancel);
    tokio::spawn(task);
    tokio::spawn(warm_most_read(Arc::clone(shared), redis));
}

/// Applies invalidations as they arrive. Whenever the subscription may have missed
/// some (not connected yet, dropped, reconnected, lagging), every pointer in memory
/// is dropped and new ones get the short TTL until subscribed again.
async fn follow_invalidations(
    shared: Arc<Shared>,
    subscriber: SubscriberClient,
    cancel: CancellationToken,
) {
    let connection = subscriber.connect();
    let mut messages = subscriber.message_rx();
    let mut reconnects = subscriber.reconnect_rx();
    let mut health = tokio::time::interval(HEALTH_EVERY);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            received = messages.recv() => match received {
                Ok(message) => match message.value.as_bytes().map(Invalidation::decode) {
                    Some(Ok(invalidation)) => shared.apply(invalidation).await,
                    _ => warn!("cache: unreadable invalidation message ignored"),
                },
                Err(RecvError::Lagged(missed)) => {
                    warn!(missed, "cache: invalidations lagged; dropping pointers");
                    shared.pointers.clear();
                }
                Err(RecvError::Closed) => break,
            },
            _ = reconnects.recv() => shared.degrade("redis reconnected"),
            _ = health.tick() => {
                let live = shared.invalidations_live.load(Ordering::Acquire);
                if live && !subscriber.is_connected() {
                    shared.degrade("redis disconnected");
                } else if !live && subscriber.is_connected() {
                    resubscribe(&shared, &subscriber).await;
                }
            }
        }
    }
    let _ = subscriber.quit().await;
    connection.abort();
}

async fn resubscribe(shared: &Shared, subscriber: &SubscriberClient) {
    match subscriber.subscribe(INVALIDATION_CHANNEL).await {
        Ok(()) => {
            // What was published while we were away is lost: start clean.
            shared.pointers.clear();
            shared.invalidations_live.store(true, Ordering::Release);
            info!("cache: invalidations flowing");
        }
        Err(err) => debug!(error = %err, "cache: subscribing failed; retrying"),
    }
}

impl Shared {
    /// Invalidations may be missed from now on: forget every pointer and keep new
    /// ones short-lived until subscribed again.
    fn degrade(&self, reason: &'static str) {
        let was_live = self.invalidations_live.swap(false, Ordering::AcqRel);
        self.pointers.clear();
        if was_live {
            warn!(reason, ttl = ?self.config.degraded_pointer_ttl, "cache: invalidations interrupted");
        }
    }
}

/// Adds the sampled read counts to Redis's sorted set, and samples Redis's own
/// eviction count, until cancelled.
async fn flush_read_counts(shared: Arc<Shared>, redis: RedisCache, cancel: CancellationToken) {
    let mut every = tokio::time::interval(shared.config.read_counts_flush_every);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = every.tick() => {}
        }
        let counts: Vec<(String, u64)> = shared
            .popularity
            .take()
            .into_iter()
            .map(|(schema, count)| (schema.to_string(), count))
            .collect();
        if !counts.is_empty()
            && let Err(err) = redis.increment_scores(READ_COUNTS_KEY, &counts).await
        {
            debug!(error = %err, "cache: read counts not flushed");
        }
        if let Ok(evicted) = redis.evicted_keys().await {
            shared
                .metrics
                .redis_evictions
                .set(i64::try_from(evicted).unwrap_or(i64::MAX));
        }
    }
}

/// Loads the latest version of the most-read schemas into both layers.
async fn warm_most_read(shared: Arc<Shared>, redis: RedisCache) {
    let limit = shared.config.warm_schemas;
    if limit == 0 {
        return;
    }
    // Subscribing drops every pointer held, so warm after it, or in vain.
    let deadline = tokio::time::Instant::now() + WARM_WAITS_FOR_SUBSCRIPTION;
    while !shared.invalidations_live.load(Ordering::Acquire) {
        if tokio::time::Instant::now() >= deadline {
            debug!("cache: warming without a live subscription");
            break;
        }
        tokio::time::sleep(HEALTH_EVERY).await;
    }
    let names = match redis.top_members(READ_COUNTS_KEY, limit).await {
        Ok(names) => names,
        Err(err) => {
            debug!(error = %err, "cache: nothing to warm from");
            return;
        }
    };
    let mut warmed = 0;
    for name in &names {
        let Ok(schema) = SchemaName::parse(name, "schema") else {
            continue;
        };
        let read = shared.get_version(&schema, VersionSelector::Latest, false);
        if let Ok(Some(_)) = read.await {
            warmed += 1;
        }
    }
    info!(
        warmed,
        asked = names.len(),
        "cache: warmed with the most-read schemas"
    );
}
