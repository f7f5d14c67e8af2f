//! The indexer: drains the store's outbox into the search index.
//!
//! Each round claims a batch of changes, re-reads every schema they touch and
//! upserts its document, and only then completes the changes and stores the
//! checkpoint. A crash or a failed write leaves the changes claimed; their lease
//! runs out and they are handed out again, so no change is lost.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ovsr_cache::Popularity;
use ovsr_core::{SchemaName, Version};
use ovsr_search::SearchIndex;
use ovsr_store::{ChangeEvent, ChangeKind, SchemaStore};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::{SearchMetrics, Searcher, document_of};

/// Changes claimed per round.
const BATCH: usize = 100;

/// How long a claim is held before the changes are handed out again.
const LEASE: Duration = Duration::from_secs(30);

/// How long an idle indexer waits before looking again, unless woken sooner.
const IDLE_WAIT: Duration = Duration::from_millis(200);

/// The first and the longest pause after a failed round.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Feeds the index from the outbox until cancelled.
#[derive(Debug)]
pub struct Indexer {
    pub store: Arc<dyn SchemaStore>,
    pub index: Arc<dyn SearchIndex>,
    /// The name it claims outbox changes under.
    pub consumer: &'static str,
    /// Whether the index's settings must be applied before the first round.
    pub settings_pending: bool,
    pub searcher: Searcher,
    pub metrics: SearchMetrics,
    /// Pinged after local writes, so they are indexed without waiting a full
    /// idle interval.
    pub wake: Arc<Notify>,
    /// Reads served since the counts were last handed to the index.
    pub reads: Arc<Popularity>,
    /// How often read counts go to the index.
    pub reads_every: Duration,
}

/// What one round found for one schema.
#[derive(Debug, Clone, Copy)]
struct Touched {
    /// The highest version a change named.
    highest: Version,
    /// Whether any change deleted a version.
    deleted: bool,
}

impl Indexer {
    /// Runs rounds until `cancel`: at once while changes are pending, after an idle
    /// wait when none are, after a growing backoff when a round fails.
    pub async fn run(self, cancel: CancellationToken) {
        info!(
            consumer = self.consumer,
            batch = BATCH,
            "search indexer started"
        );
        if self.settings_pending && !self.apply_settings_when_reachable(&cancel).await {
            info!("search indexer stopped");
            return;
        }
        let mut backoff = FIRST_BACKOFF;
        // Changes claimed by a round that failed, retried before claiming more: left
        // to their lease instead, they would wait it out after the index is back.
        let mut held = Vec::new();
        let mut reads_due = Instant::now() + self.reads_every;
        while !cancel.is_cancelled() {
            self.record_lag().await;
            if Instant::now() >= reads_due {
                self.hand_over_reads().await;
                reads_due = Instant::now() + self.reads_every;
            }
            match self.index_one_batch(&mut held).await {
                Ok(handled) if handled > 0 => backoff = FIRST_BACKOFF,
                Ok(_) => {
                    backoff = FIRST_BACKOFF;
                    tokio::select! {
                        () = cancel.cancelled() => break,
                        () = self.wake.notified() => {}
                        () = tokio::time::sleep(IDLE_WAIT) => {}
                    }
                }
                Err(err) => {
                    warn!(error = %err, retry_in = ?backoff, "indexing failed");
                    if !back_off(&cancel, &mut backoff).await {
                        break;
                    }
                }
            }
        }
        info!("search indexer stopped");
    }

    /// Applies the index settings, retrying with backoff; false when cancelled first.
    async fn apply_settings_when_reachable(&self, cancel: &CancellationToken) -> bool {
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.index.apply_settings().await {
                Ok(()) => return true,
                Err(err) => {
                    debug!(error = %err, retry_in = ?backoff, "index settings not applied yet");
                    if !back_off(cancel, &mut backoff).await {
                        return false;
                    }
                }
            }
        }
    }

    /// Indexes the held batch, or else a newly claimed one; returns how many changes
    /// it handled. A failure leaves the batch in `held` for the next round.
    async fn index_one_batch(&self, held: &mut Vec<ChangeEvent>) -> anyhow::Result<usize> {
        // TODO: servers sharing a PostgreSQL with embedded indexes each claim part of
        // the outbox into their own index; each needs a consumer name of its own,
        // registered so the outbox keeps changes until every consumer has them.
        if held.is_empty() {
            *held = self
                .store
                .claim_changes(self.consumer, BATCH, LEASE)
                .await?;
        }
        self.index_changes(held).await?;
        let handled = held.len();
        held.clear();
        Ok(handled)
    }

    /// Writes the documents of what `changes` touch, then completes them.
    async fn index_changes(&self, changes: &[ChangeEvent]) -> anyhow::Result<()> {
        let Some(position) = changes.iter().map(|change| change.id.0).max() else {
            return Ok(());
        };

        let mut documents = Vec::new();
        for (schema, touched) in touched_schemas(changes) {
            // A deleted latest version hands "latest" back to a lower one, which an
            // upsert alone would ignore as a stale replay.
            if touched.deleted {
                self.index.remove(&schema).await?;
            }
            let store = self.store.as_ref();
            if let Some(document) = document_of(store, &schema, touched.highest).await? {
                documents.push(document);
            }
        }
        let written = documents.len() as u64;
        self.index.upsert(documents).await?;
        self.searcher.index_changed();
        self.metrics.documents_indexed.inc_by(written);

        let ids: Vec<_> = changes.iter().map(|change| change.id).collect();
        self.store.complete_changes(&ids).await?;
        let position = u64::try_from(position).unwrap_or_default();
        self.index.set_checkpoint(position).await?;
        debug!(
            changes = changes.len(),
            documents = written,
            position,
            "indexed"
        );
        Ok(())
    }

    /// Adds the reads counted since last time to the index; counts are estimates, so
    /// a failed write drops them rather than hold them.
    async fn hand_over_reads(&self) {
        let reads = self.reads.take();
        if reads.is_empty() {
            return;
        }
        let schemas = reads.len();
        match self.index.add_reads(reads).await {
            Ok(()) => {
                self.searcher.index_changed();
                debug!(schemas, "read counts indexed");
            }
            Err(err) => debug!(error = %err, schemas, "read counts dropped"),
        }
    }

    /// Publishes the outbox's oldest pending age; a failure to read it is left to
    /// the next round, which fails visibly if the store is down.
    async fn record_lag(&self) {
        if let Ok(age) = self.store.oldest_pending_change_age().await {
            let seconds = age.unwrap_or_default().as_secs_f64();
            self.metrics.indexing_lag.set(seconds);
        }
    }
}

/// Waits out `backoff` and doubles it, up to [`MAX_BACKOFF`]; false when cancelled
/// first.
async fn back_off(cancel: &CancellationToken, backoff: &mut Duration) -> bool {
    tokio::select! {
        () = cancel.cancelled() => return false,
        () = tokio::time::sleep(*backoff) => {}
    }
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
    true
}

/// The schemas a batch touches, each once.
fn touched_schemas(changes: &[ChangeEvent]) -> BTreeMap<SchemaName, Touched> {
    let mut touched: BTreeMap<SchemaName, Touched> = BTreeMap::new();
    for change in changes {
        let deleted = change.kind == ChangeKind::Deleted;
        touched
            .entry(change.schema.clone())
            .and_modify(|seen| {
                seen.highest = seen.highest.max(change.version);
                seen.deleted |= deleted;
            })
            .or_insert(Touched {
                highest: change.version,
                deleted,
            });
    }
    touched
}
