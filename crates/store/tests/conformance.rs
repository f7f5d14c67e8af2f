//! The store conformance suite: behaviour every `SchemaStore` must show, run here over
//! the embedded SQLite store.

// Test helpers unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use ovsr_core::{CanonicalDocument, Namespace, SchemaName, Version, VersionSelector, VersionState};
use ovsr_store::{NewVersion, SchemaStore, SqliteSchemaStore, StoreError};

async fn sqlite_store() -> (tempfile::TempDir, Arc<dyn SchemaStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteSchemaStore::open(dir.path().join("ovsr.db"))
        .await
        .unwrap();
    (dir, Arc::new(store))
}

fn unique_namespace(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{nanos}")
}

fn name(namespace: &str, name: &str) -> SchemaName {
    SchemaName::new(namespace, name, "schema").unwrap()
}

fn version(n: u32) -> Version {
    Version::new(n, "version").unwrap()
}

fn new_version(schema: &SchemaName, body: &str) -> NewVersion {
    let doc = CanonicalDocument::from_slice(body.as_bytes(), 1 << 20).unwrap();
    NewVersion {
        schema: schema.clone(),
        content: doc.canonical().to_owned(),
        digest: doc.digest(),
        title: Some(format!("title of {body}")),
        description: None,
        dialect: "https://json-schema.org/draft/2020-12/schema".to_owned(),
        tags: vec!["t1".to_owned()],
    }
}

#[tokio::test]
async fn register_allocates_versions_from_one_and_is_idempotent() {
    let (_dir, store) = sqlite_store().await;
    let order = name(&unique_namespace("acme"), "order");

    let first = store
        .register(new_version(&order, r#"{"type":"object"}"#))
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.version.version, version(1));
    assert_eq!(first.version.state, VersionState::Active);

    let again = store
        .register(new_version(&order, r#"{ "type": "object" }"#))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.version.version, version(1));
    assert_eq!(again.version.content, first.version.content);

    let second = store
        .register(new_version(&order, r#"{"type":"array"}"#))
        .await
        .unwrap();
    assert!(second.created);
    assert_eq!(second.version.version, version(2));
    assert_eq!(second.version.tags, vec!["t1".to_owned()]);
}

#[tokio::test]
async fn concurrent_registers_produce_consecutive_versions() {
    let (_dir, store) = sqlite_store().await;
    let schema = name(&unique_namespace("race"), "hot");

    let tasks = (0..32).map(|i| {
        let store = Arc::clone(&store);
        let new = new_version(&schema, &format!(r#"{{"maxLength":{i}}}"#));
        tokio::spawn(async move { store.register(new).await })
    });
    let results = futures::future::join_all(tasks).await;
    let numbers: BTreeSet<u32> = results
        .into_iter()
        .map(|r| r.unwrap().unwrap().version.version.get())
        .collect();
    assert_eq!(numbers, (1..=32).collect::<BTreeSet<u32>>());
}

#[tokio::test]
async fn latest_follows_registers_and_deletes_and_numbers_are_never_reused() {
    let (_dir, store) = sqlite_store().await;
    let schema = name(&unique_namespace("life"), "cycle");
    for body in [r#"{"minimum":1}"#, r#"{"minimum":2}"#] {
        store.register(new_version(&schema, body)).await.unwrap();
    }
    let latest = |store: Arc<dyn SchemaStore>, schema: SchemaName| async move {
        let found = store
            .get_version(&schema, VersionSelector::Latest, false)
            .await
            .unwrap();
        found.map(|v| v.version.get())
    };
    assert_eq!(latest(store.clone(), schema.clone()).await, Some(2));

    let deleted = store.delete(&schema, Some(version(2))).await.unwrap();
    assert_eq!(deleted, vec![version(2)]);
    assert_eq!(latest(store.clone(), schema.clone()).await, Some(1));
    let exact = VersionSelector::Exact(version(2));
    assert!(
        store
            .get_version(&schema, exact, false)
            .await
            .unwrap()
            .is_none()
    );
    let hidden = store
        .get_version(&schema, exact, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hidden.state, VersionState::Deleted);

    // The deleted content comes back as a new number, not as the deleted one.
    let again = store
        .register(new_version(&schema, r#"{"minimum":2}"#))
        .await
        .unwrap();
    assert!(again.created);
    assert_eq!(again.version.version, version(3));

    let all = store.delete(&schema, None).await.unwrap();
    assert_eq!(all, vec![version(1), version(3)]);
    assert_eq!(latest(store.clone(), schema.clone()).await, None);
    assert!(store.delete(&schema, None).await.unwrap().is_empty());
}

#[tokio::test]
async fn deprecate_keeps_a_version_readable() {
    let (_dir, store) = sqlite_store().await;
    let schema = name(&unique_namespace("dep"), "old");
    store
        .register(new_version(&schema, r#"{"type":"string"}"#))
        .await
        .unwrap();

    let deprecated = store.deprecate(&schema, version(1)).await.unwrap();
    assert_eq!(deprecated.state, VersionState::Deprecated);
    let read = store
        .get_version(&schema, VersionSelector::Latest, false)
        .await
        .unwrap();
    assert_eq!(read.unwrap().state, VersionState::Deprecated);

    let missing = store.deprecate(&schema, version(9)).await.unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)), "{missing}");
}

#[tokio::test]
async fn unknown_schemas_are_not_found() {
    let (_dir, store) = sqlite_store().await;
    let ghost = name("nobody", "ghost");
    let err = store.delete(&ghost, None).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)));
    let err = store
        .list_versions(&ghost, None, 10, false)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)));
    let found = store
        .get_version(&ghost, VersionSelector::Latest, true)
        .await
        .unwrap();
    assert!(found.is_none());
}

#[tokio::test]
async fn get_by_digest_finds_content_across_schemas() {
    let (_dir, store) = sqlite_store().await;
    let ns = unique_namespace("dig");
    let body = r#"{"const":"shared"}"#;
    let first = store
        .register(new_version(&name(&ns, "a"), body))
        .await
        .unwrap();
    store
        .register(new_version(&name(&ns, "b"), body))
        .await
        .unwrap();

    let found = store
        .get_by_digest(&first.version.digest, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.schema, name(&ns, "a"));
    assert_eq!(found.content, first.version.content);
}

#[tokio::test]
async fn keyset_pages_see_every_schema_once_while_writes_happen() {
    let (_dir, store) = sqlite_store().await;
    let ns = unique_namespace("page");
    let namespace = Namespace::parse(&ns, "namespace").unwrap();
    for i in 0..10 {
        let schema = name(&ns, &format!("s{i:02}"));
        store.register(new_version(&schema, r#"{}"#)).await.unwrap();
    }

    let mut seen = Vec::new();
    let mut after: Option<SchemaName> = None;
    loop {
        let page = store
            .list_schemas(Some(&namespace), after.as_ref(), 3, false)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        // A schema added behind the cursor must not shift later pages.
        let behind = name(&ns, &format!("a{}", seen.len()));
        store.register(new_version(&behind, r#"{}"#)).await.unwrap();
        after = page.last().map(|s| s.schema.clone());
        seen.extend(page.into_iter().map(|s| s.schema.name().to_owned()));
    }
    let expected: Vec<String> = (0..10).map(|i| format!("s{i:02}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn deleted_schemas_leave_listings_unless_asked_for() {
    let (_dir, store) = sqlite_store().await;
    let ns = unique_namespace("gone");
    let namespace = Namespace::parse(&ns, "namespace").unwrap();
    let schema = name(&ns, "temp");
    store.register(new_version(&schema, r#"{}"#)).await.unwrap();
    store.delete(&schema, None).await.unwrap();

    let listed = store
        .list_schemas(Some(&namespace), None, 10, false)
        .await
        .unwrap();
    assert!(listed.is_empty());
    let all = store
        .list_schemas(Some(&namespace), None, 10, true)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].latest.is_none());

    let versions = store.list_versions(&schema, None, 10, true).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert!(versions[0].content.is_none());
}

#[tokio::test]
async fn reopening_keeps_data_and_skips_applied_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("ovsr.db");
    let schema = name("keep", "me");
    {
        let store = SqliteSchemaStore::open(&path).await.unwrap();
        store
            .register(new_version(&schema, r#"{"type":"null"}"#))
            .await
            .unwrap();
    }
    let store = SqliteSchemaStore::open(&path).await.unwrap();
    let found = store
        .get_version(&schema, VersionSelector::Latest, false)
        .await
        .unwrap();
    assert_eq!(found.unwrap().version, version(1));
    store.ping().await.unwrap();
}
