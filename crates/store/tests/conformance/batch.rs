//! Batch registers: one transaction, items in order, each rolled back alone on its own
//! failure.

use std::sync::Arc;

use ovsr_core::{Namespace, SchemaName, VersionSelector};
use ovsr_store::{ChangeKind, Registered, SchemaStore, StoreError};

use crate::fixtures::{aliased, drain, name, new_version, unique_namespace, version};

pub async fn a_batch_stores_all_items_in_order_with_consecutive_versions_and_per_item_results(
    store: Arc<dyn SchemaStore>,
) {
    let _turn = crate::OUTBOX_DRAINERS.lock().await;
    let ns = unique_namespace("batch");
    let (a, b) = (name(&ns, "a"), name(&ns, "b"));
    assert!(store.register_batch(Vec::new()).await.unwrap().is_empty());

    let bodies = [r#"{"minimum":1}"#, r#"{"minimum":2}"#, r#"{"minimum":3}"#];
    let batch = vec![
        new_version(&a, bodies[0]),
        new_version(&b, bodies[0]),
        new_version(&a, bodies[1]),
        new_version(&a, bodies[2]),
    ];
    let outcomes = store.register_batch(batch).await.unwrap();
    let slots: Vec<_> = registered(outcomes)
        .iter()
        .map(|r| {
            (
                r.version.schema.name().to_owned(),
                r.version.version.get(),
                r.created,
            )
        })
        .collect();
    let expected = [
        ("a", 1, true),
        ("b", 1, true),
        ("a", 2, true),
        ("a", 3, true),
    ];
    let expected: Vec<_> = expected.map(|(n, v, c)| (n.to_owned(), v, c)).to_vec();
    assert_eq!(slots, expected);

    for (number, body) in (1..).zip(bodies) {
        let read = store
            .get_version(&a, VersionSelector::Exact(version(number)), false)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.content.as_deref(), Some(canonical(body).as_str()));
    }

    let events = drain(Arc::clone(&store), "indexer", 100).await;
    let mine: Vec<_> = events
        .iter()
        .filter(|event| event.schema.namespace().as_str() == ns)
        .map(|event| {
            (
                event.schema.name().to_owned(),
                event.version.get(),
                event.kind,
            )
        })
        .collect();
    let expected: Vec<_> = [("a", 1), ("b", 1), ("a", 2), ("a", 3)]
        .map(|(n, v)| (n.to_owned(), v, ChangeKind::Registered))
        .to_vec();
    assert_eq!(mine, expected, "one event per stored item, in batch order");
}

pub async fn a_batch_item_with_a_conflicting_alias_fails_alone_while_its_neighbours_commit(
    store: Arc<dyn SchemaStore>,
) {
    let ns = unique_namespace("batch-alias");
    let space = Namespace::parse(&ns, "namespace").unwrap();
    let [held, shared, fresh, other] =
        ["held", "shared", "fresh", "other"].map(|file| format!("https://example.com/{file}.json"));
    let owner = name(&ns, "owner");
    store
        .register(aliased(&owner, "{}", &[held.as_str()]))
        .await
        .unwrap();

    let [first, loser, middle, late] = ["first", "loser", "middle", "late"].map(|n| name(&ns, n));
    let batch = vec![
        aliased(&first, r#"{"title":"first"}"#, &[shared.as_str()]),
        aliased(
            &loser,
            r#"{"title":"loser"}"#,
            &[fresh.as_str(), held.as_str()],
        ),
        aliased(&middle, r#"{"title":"middle"}"#, &[other.as_str()]),
        // Taken by an earlier item of the same batch.
        aliased(&late, r#"{"title":"late"}"#, &[shared.as_str()]),
    ];
    let outcomes = store.register_batch(batch).await.unwrap();
    assert_eq!(outcomes.len(), 4);
    assert_eq!(outcomes[0].as_ref().unwrap().version.version, version(1));
    assert_conflict(
        &outcomes[1],
        &format!("alias {held} already names {ns}/owner"),
    );
    assert_eq!(outcomes[2].as_ref().unwrap().version.version, version(1));
    assert_conflict(
        &outcomes[3],
        &format!("alias {shared} already names {ns}/first"),
    );

    let resolve = async |alias: &str| store.resolve_alias(&space, alias).await.unwrap();
    assert_eq!(resolve(&shared).await, Some(first));
    assert_eq!(resolve(&other).await, Some(middle));
    assert_eq!(resolve(&held).await, Some(owner));
    assert_eq!(
        resolve(&fresh).await,
        None,
        "the failed item's aliases are rolled back"
    );

    let listed = store
        .list_schemas(Some(&space), None, 10, true)
        .await
        .unwrap();
    let names: Vec<_> = listed.iter().map(|s| s.schema.name().to_owned()).collect();
    assert_eq!(names, ["first", "middle", "owner"]);
}

pub async fn a_batch_with_identical_content_twice_returns_the_same_version_for_both(
    store: Arc<dyn SchemaStore>,
) {
    let ns = unique_namespace("batch-twin");
    let (twin, known) = (name(&ns, "twin"), name(&ns, "known"));
    let stored = store
        .register(new_version(&known, r#"{"type":"number"}"#))
        .await
        .unwrap();

    let batch = vec![
        new_version(&twin, r#"{"type":"boolean"}"#),
        new_version(&twin, r#"{ "type" : "boolean" }"#),
        new_version(&known, r#"{"type":"number"}"#),
    ];
    let outcomes = registered(store.register_batch(batch).await.unwrap());
    assert!(outcomes[0].created);
    assert!(!outcomes[1].created);
    assert_eq!(outcomes[1].version, outcomes[0].version);
    assert_eq!(outcomes[1].version.version, version(1));
    assert!(!outcomes[2].created);
    assert_eq!(outcomes[2].version, stored.version);

    let listed = store.list_versions(&twin, None, 10, true).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_latest(&store, &known, 1).await;
}

fn registered(outcomes: Vec<Result<Registered, StoreError>>) -> Vec<Registered> {
    outcomes.into_iter().map(Result::unwrap).collect()
}

fn assert_conflict(outcome: &Result<Registered, StoreError>, expected: &str) {
    match outcome {
        Err(StoreError::Conflict(message)) => assert_eq!(message, expected),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn assert_latest(store: &Arc<dyn SchemaStore>, schema: &SchemaName, expected: u32) {
    let latest = store
        .get_version(schema, VersionSelector::Latest, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.version, version(expected));
}

fn canonical(body: &str) -> String {
    let doc = ovsr_core::CanonicalDocument::from_slice(body.as_bytes(), 1 << 20).unwrap();
    doc.canonical().to_owned()
}
