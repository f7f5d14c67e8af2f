//! Building indexes, documents and queries for the conformance cases.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use ovsr_core::{Digest, Namespace, SchemaName, Version, VersionState};
use ovsr_search::{
    EmbeddedIndex, MeiliConfig, MeiliIndex, SearchDocument, SearchIndex, SearchPage, SearchQuery,
};
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

/// A fresh index on the shared Meilisearch server, with its settings applied.
pub fn meili_fresh() -> Arc<dyn SearchIndex> {
    meili_index(&unique_index_uid())
}

/// An index on the shared Meilisearch server, reopenable by its uid.
pub fn meili_reopenable() -> Reopen {
    let uid = unique_index_uid();
    Box::new(move || meili_index(&uid))
}

/// A client of the shared server on index `uid`, after applying its settings.
///
/// The cases take indexes from plain functions; the settings are applied on a thread
/// of its own so that it may block while the test's runtime runs.
fn meili_index(uid: &str) -> Arc<dyn SearchIndex> {
    let server = crate::meili::shared().expect("a Meilisearch server");
    let config = MeiliConfig {
        api_key: Some(crate::meili::MASTER_KEY.to_owned()),
        index: uid.to_owned(),
        ..MeiliConfig::new(server.url())
    };
    let index = Arc::new(MeiliIndex::new(config).expect("Meilisearch client"));
    let applying = Arc::clone(&index);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(applying.apply_settings())
    })
    .join()
    .expect("settings thread")
    .expect("apply Meilisearch settings");
    index
}

fn unique_index_uid() -> String {
    format!("conformance-{}", unique_namespace("i"))
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
