//! After a write commits: drop what it moved in both layers, write through what it
//! created, and tell the other processes.
//!
//! The order matters. Redis entries are dropped and rewritten before the message
//! goes out, so a process that drops its in-process entry on receipt reads the fresh
//! value from Redis, not the stale one.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use ovsr_core::{SchemaName, Version};
use ovsr_store::StoredVersion;
use tracing::{debug, warn};

use super::Shared;
use super::keys::PointerKey;
use crate::CacheLayer as _;
use crate::codec::{INVALIDATION_CHANNEL, latest_key, owner_key, version_key};
use crate::invalidation::{Invalidation, Moved};

/// Versions read per page when finding the digests a delete touched.
const DIGEST_PAGE: usize = 1000;

impl Shared {
    /// New versions were stored: their schemas' latest moved, and their digests may
    /// now be found where they were not.
    pub(super) async fn published(&self, versions: &[StoredVersion]) {
        let moved: Vec<Moved> = versions
            .iter()
            .map(|version| Moved {
                schema: version.schema.clone(),
                versions: vec![version.version],
                digests: vec![version.digest],
            })
            .collect();
        self.drop_moved(&moved).await;
        // Warm both layers with what was just published: it is likely read next.
        for version in versions {
            self.fill_version(version).await;
        }
        self.announce(moved).await;
    }

    /// A version changed state; its number and digest stay where they were.
    pub(super) async fn deprecated(&self, version: &StoredVersion) {
        let moved = vec![Moved {
            schema: version.schema.clone(),
            versions: vec![version.version],
            digests: Vec::new(),
        }];
        self.drop_moved(&moved).await;
        self.announce(moved).await;
    }

    /// Versions were deleted: latest may move back, and their digests may now be
    /// found elsewhere or nowhere.
    pub(super) async fn deleted(&self, schema: &SchemaName, versions: &[Version]) {
        let digests = self.digests_of(schema, versions).await;
        let moved = vec![Moved {
            schema: schema.clone(),
            versions: versions.to_vec(),
            digests,
        }];
        self.drop_moved(&moved).await;
        self.announce(moved).await;
    }

    /// Drops from this process's memory what another process says moved.
    pub(super) async fn apply(&self, invalidation: Invalidation) {
        self.metrics.invalidations_received.inc();
        if invalidation.origin == self.origin {
            return;
        }
        debug!(
            changes = invalidation.moved.len(),
            "cache: invalidation received"
        );
        self.drop_in_memory(&invalidation.moved).await;
    }

    async fn drop_moved(&self, moved: &[Moved]) {
        self.drop_in_memory(moved).await;
        let Some(redis) = &self.redis else {
            return;
        };
        let keys = redis_keys(moved);
        if let Err(err) = redis.delete(&keys).await {
            // Those entries now live out their TTL; readers may see them till then.
            warn!(error = %err, keys = keys.len(), "cache: could not drop stale redis entries");
        }
    }

    async fn drop_in_memory(&self, moved: &[Moved]) {
        self.list_generation.fetch_add(1, Ordering::AcqRel);
        for change in moved {
            let latest = PointerKey::Latest(change.schema.clone());
            self.pointers.remove(&latest).await;
            for version in &change.versions {
                let key = PointerKey::Version(change.schema.clone(), *version);
                self.pointers.remove(&key).await;
            }
            for digest in &change.digests {
                self.pointers
                    .remove(&PointerKey::Owner(*digest, false))
                    .await;
                self.pointers
                    .remove(&PointerKey::Owner(*digest, true))
                    .await;
            }
        }
    }

    async fn announce(&self, moved: Vec<Moved>) {
        let Some(redis) = &self.redis else {
            return;
        };
        let message = Invalidation {
            origin: self.origin.clone(),
            moved,
        };
        let payload = Bytes::from(message.encode());
        match redis.publish(INVALIDATION_CHANNEL, payload).await {
            Ok(()) => {
                self.metrics.invalidations_published.inc();
            }
            // Other processes hold stale pointers until their TTL runs out.
            Err(err) => warn!(error = %err, "cache: could not publish an invalidation"),
        }
    }

    /// The digests `versions` of `schema` hold, read back from the store. A failure
    /// leaves digest pointers to expire on their own.
    async fn digests_of(
        &self,
        schema: &SchemaName,
        versions: &[Version],
    ) -> Vec<ovsr_core::Digest> {
        let wanted: BTreeSet<Version> = versions.iter().copied().collect();
        let mut digests = Vec::new();
        let mut after = None;
        loop {
            let page = match self
                .inner
                .list_versions(schema, after, DIGEST_PAGE, true)
                .await
            {
                Ok(page) => page,
                Err(err) => {
                    warn!(error = %err, %schema, "cache: could not read deleted digests");
                    return digests;
                }
            };
            let full = page.len() == DIGEST_PAGE;
            after = page.last().map(|version| version.version);
            let deleted = page.iter().filter(|v| wanted.contains(&v.version));
            digests.extend(deleted.map(|version| version.digest));
            if !full {
                return digests;
            }
        }
    }
}

fn redis_keys(moved: &[Moved]) -> Vec<String> {
    let mut keys = Vec::new();
    for change in moved {
        keys.push(latest_key(&change.schema));
        keys.extend(
            change
                .versions
                .iter()
                .map(|v| version_key(&change.schema, *v)),
        );
        for digest in &change.digests {
            keys.push(owner_key(digest, false));
            keys.push(owner_key(digest, true));
        }
    }
    keys
}
