//! A full rebuild of the index from the store, for `ovsr reindex`.

use std::fmt;
use std::time::{Duration, Instant};

use ovsr_core::{SchemaName, Version};
use ovsr_search::SearchIndex;
use ovsr_store::SchemaStore;

use super::document_of;

/// Schemas listed, and documents upserted, per step.
const PAGE: usize = 500;

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReindexSummary {
    /// Schemas the store listed.
    pub schemas: u64,
    /// Documents written to the index.
    pub documents: u64,
    /// The outbox position the index was left at.
    pub checkpoint: u64,
    /// How long it took.
    pub elapsed: Duration,
}

impl fmt::Display for ReindexSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "reindexed {} documents from {} schemas in {:.1?} (checkpoint {})",
            self.documents, self.schemas, self.elapsed, self.checkpoint
        )
    }
}

/// Clears `index` and writes the document of every schema in `store`, deleted ones
/// included, so searches asking for them still find them.
///
/// Changes still waiting in the outbox are left there: the next server's indexer
/// replays them, which converges because each change is re-read from the store.
pub async fn reindex(
    store: &dyn SchemaStore,
    index: &dyn SearchIndex,
) -> anyhow::Result<ReindexSummary> {
    let started = Instant::now();
    // The rebuilt index reflects the store as of now, so it has caught up at least as
    // far as the old one had.
    let checkpoint = index.checkpoint().await?;
    index.clear().await?;
    let mut summary = ReindexSummary::default();
    let mut after: Option<SchemaName> = None;
    loop {
        let page = store.list_schemas(None, after.as_ref(), PAGE, true).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = Some(last.schema.clone());

        let mut documents = Vec::with_capacity(page.len());
        for listed in &page {
            // Only a schema without a live version needs its deleted versions looked up.
            let highest = match &listed.latest {
                Some(latest) => Some(latest.version),
                None => highest_version(store, &listed.schema).await?,
            };
            let Some(highest) = highest else {
                continue;
            };
            if let Some(document) = document_of(store, &listed.schema, highest).await? {
                documents.push(document);
            }
        }
        summary.schemas += page.len() as u64;
        summary.documents += documents.len() as u64;
        index.upsert(documents).await?;
    }

    index.set_checkpoint(checkpoint).await?;
    summary.checkpoint = checkpoint;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// The highest version number of a schema, deleted versions included.
async fn highest_version(
    store: &dyn SchemaStore,
    schema: &SchemaName,
) -> anyhow::Result<Option<Version>> {
    let mut after = None;
    let mut highest = None;
    loop {
        let versions = store.list_versions(schema, after, PAGE, true).await?;
        let Some(last) = versions.last() else {
            return Ok(highest);
        };
        highest = Some(last.version);
        after = highest;
    }
}
