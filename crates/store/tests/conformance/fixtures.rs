//! What the conformance tests build on: stores, names, documents, outbox draining.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ovsr_core::{CanonicalDocument, Digest, SchemaName, Version};
use ovsr_store::{ChangeEvent, NewVersion, SchemaStore, SqliteSchemaStore};

pub async fn sqlite_store() -> (tempfile::TempDir, Arc<dyn SchemaStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteSchemaStore::open(dir.path().join("ovsr.db"))
        .await
        .unwrap();
    (dir, Arc::new(store))
}

/// A namespace no other test, process or earlier run uses.
pub fn unique_namespace(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{nanos}-{count}", std::process::id())
}

pub fn name(namespace: &str, name: &str) -> SchemaName {
    SchemaName::new(namespace, name, "schema").unwrap()
}

pub fn version(n: u32) -> Version {
    Version::new(n, "version").unwrap()
}

pub fn new_version(schema: &SchemaName, body: &str) -> NewVersion {
    let doc = CanonicalDocument::from_slice(body.as_bytes(), 1 << 20).unwrap();
    NewVersion {
        schema: schema.clone(),
        content: doc.canonical().to_owned(),
        digest: doc.digest(),
        title: Some(format!("title of {body}")),
        description: None,
        dialect: "https://json-schema.org/draft/2020-12/schema".to_owned(),
        tags: vec!["t1".to_owned()],
        aliases: Vec::new(),
        references: BTreeMap::new(),
    }
}

/// [`new_version`] with aliases.
pub fn aliased(schema: &SchemaName, body: &str, aliases: &[&str]) -> NewVersion {
    NewVersion {
        aliases: aliases.iter().map(|alias| (*alias).to_owned()).collect(),
        ..new_version(schema, body)
    }
}

/// The digest of a document, as a reference lock would hold it.
pub fn digest_of(body: &str) -> Digest {
    let doc = CanonicalDocument::from_slice(body.as_bytes(), 1 << 20).unwrap();
    doc.digest()
}

/// Claims and completes until nothing is due, as one consumer would.
pub async fn drain(store: Arc<dyn SchemaStore>, consumer: &str, batch: usize) -> Vec<ChangeEvent> {
    let mut delivered = Vec::new();
    loop {
        let claimed = store
            .claim_changes(consumer, batch, Duration::from_secs(60))
            .await
            .unwrap();
        if claimed.is_empty() {
            return delivered;
        }
        // Hold the claim across a yield so the other consumer runs meanwhile.
        tokio::task::yield_now().await;
        let ids: Vec<_> = claimed.iter().map(|event| event.id).collect();
        store.complete_changes(&ids).await.unwrap();
        delivered.extend(claimed);
    }
}

/// (name, version, kind) of the events in `namespace`, sorted.
pub fn events_in(namespace: &str, events: &[ChangeEvent]) -> Vec<(String, u32, &'static str)> {
    let mut mine: Vec<_> = events
        .iter()
        .filter(|event| event.schema.namespace().as_str() == namespace)
        .map(|event| {
            let name = event.schema.name().to_owned();
            (name, event.version.get(), event.kind.as_str())
        })
        .collect();
    mine.sort();
    mine
}
