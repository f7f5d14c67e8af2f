//! Reference locks: what each external reference resolved to at registration.

use std::collections::BTreeMap;
use std::sync::Arc;

use ovsr_core::{Namespace, VersionSelector};
use ovsr_store::SchemaStore;

use crate::fixtures::{digest_of, name, new_version, unique_namespace};

pub async fn references_round_trip_exactly(store: Arc<dyn SchemaStore>) {
    let ns = unique_namespace("refs");
    let schema = name(&ns, "locked");
    let references = BTreeMap::from([
        (
            "https://example.com/address.json".to_owned(),
            digest_of(r#"{"type":"object"}"#),
        ),
        (
            "https://example.com/ünïcode/a b.json?x=1&y=\"2\"".to_owned(),
            digest_of(r#"{"type":"string"}"#),
        ),
        ("urn:uuid:0b6d1c2e".to_owned(), digest_of("{}")),
    ]);
    let new = ovsr_store::NewVersion {
        references: references.clone(),
        ..new_version(&schema, r#"{"$ref":"https://example.com/address.json"}"#)
    };

    let registered = store.register(new).await.unwrap();
    assert_eq!(registered.version.references, references);
    let latest = store
        .get_version(&schema, VersionSelector::Latest, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.references, references);
    let by_digest = store
        .get_by_digest(&registered.version.digest, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_digest.references, references);
    let listed = store.list_versions(&schema, None, 10, false).await.unwrap();
    assert_eq!(listed[0].references, references);
    let space = Namespace::parse(&ns, "namespace").unwrap();
    let summaries = store
        .list_schemas(Some(&space), None, 10, false)
        .await
        .unwrap();
    let latest = summaries[0].latest.as_ref().unwrap();
    assert_eq!(latest.references, references);

    // A version that refers to nothing outside itself holds no locks.
    let plain = store
        .register(new_version(&schema, r#"{"type":"null"}"#))
        .await
        .unwrap();
    let read = store
        .get_version(
            &schema,
            VersionSelector::Exact(plain.version.version),
            false,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(read.references.is_empty());
}
