//! Building indexes, documents and queries for the conformance cases.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use ovsr_core::{Digest, Namespace, SchemaName, Version, VersionState};
use ovsr_search::{EmbeddedIndex, SearchDocument, SearchIndex, SearchPage, SearchQuery};
use serde_json::json;

/// Opens the same durable index each time it is called.
pub type Reopen = Box<dyn Fn() -> Arc<dyn SearchIndex> + Send>;

/// A fresh in-memory embedded index.
pub fn embedded_in_memory() -> Arc<dyn SearchIndex> {
    Arc::new(EmbeddedIndex::in_memory().expect("in-memory index"))
}

/// An on-disk embedded index in a temporary directory, reopenable.
pub fn embedded_on_disk() -> Reopen {
    let dir = Arc::new(tempfile::tempdir().expect("temporary directory"));
    Box::new(move || {
        let index = EmbeddedIndex::open(dir.path()).expect("on-disk index");
        Arc::new(index) as Arc<dyn SearchIndex>
    })
}

/// A namespace no other case uses.
pub fn unique_namespace(label: &str) -> Namespace {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Namespace::parse(&format!("{label}-{nanos:x}{n}"), "namespace").expect("namespace")
}

/// An active version 1 of `namespace/name` with a title, description and properties.
pub fn document(
    namespace: &Namespace,
    name: &str,
    title: &str,
    description: &str,
) -> SearchDocument {
    let schema = SchemaName::new(namespace.as_str(), name, "").expect("schema name");
    let body = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("https://example.test/{namespace}/{name}.json"),
        "title": title,
        "description": description,
        "type": "object",
        "properties": {"identifier": {"type": "string"}},
    });
    let digest = Digest::of_canonical(body.to_string().as_bytes());
    SearchDocument::from_schema(schema, Version::FIRST, digest, &body)
}

/// `document` with another version and state.
pub fn at_version(mut doc: SearchDocument, version: u32, state: VersionState) -> SearchDocument {
    doc.version = Version::new(version, "version").expect("version");
    doc.digest = Digest::of_canonical(format!("{}@{version}", doc.schema).as_bytes());
    doc.state = state;
    doc
}

/// A query for `text` within `namespaces`.
pub fn within(text: &str, namespaces: &[&Namespace]) -> SearchQuery {
    SearchQuery {
        namespaces: namespaces.iter().map(|ns| (*ns).clone()).collect(),
        ..SearchQuery::for_text(text)
    }
}

/// The schema names of a page's hits, in order.
pub fn names(page: &SearchPage) -> Vec<String> {
    page.hits
        .iter()
        .map(|hit| hit.schema.name().to_owned())
        .collect()
}

/// Runs a query that must succeed.
pub async fn search(index: &Arc<dyn SearchIndex>, query: &SearchQuery) -> SearchPage {
    index.search(query).await.expect("search")
}
