//! The store conformance suite: behaviour every `SchemaStore` must show. Each test is
//! written once over `Arc<dyn SchemaStore>` and run over every backend: the embedded
//! SQLite store (module `sqlite`) and PostgreSQL (module `postgres`, which fails when
//! PostgreSQL is unreachable).

// Test helpers unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

#[path = "conformance/aliases.rs"]
mod aliases;
#[path = "conformance/batch.rs"]
mod batch;
#[path = "conformance/fixtures.rs"]
mod fixtures;
#[path = "support/postgres.rs"]
mod postgres_support;
#[path = "conformance/references.rs"]
mod references;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aliases::*;
use batch::*;
use fixtures::{drain, events_in, name, new_version, sqlite_store, unique_namespace, version};
use ovsr_core::{Namespace, SchemaName, VersionSelector, VersionState};
use ovsr_store::{ChangeKind, PgSchemaStore, SchemaStore, SqliteSchemaStore, StoreError};
use references::*;
use tokio::sync::Mutex;

/// Runs each named test body over every backend, as `sqlite::name` and
/// `postgres::name`.
macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let (_dir, store) = super::sqlite_store().await;
                    super::$test(store).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let store = super::postgres_support::open_test_store().await;
                    super::$test(std::sync::Arc::new(store)).await;
                }
            )*
        }
    };
}

conformance! {
    register_allocates_versions_from_one_and_is_idempotent,
    concurrent_registers_produce_consecutive_versions,
    concurrent_registers_of_identical_content_store_it_once,
    latest_follows_registers_and_deletes_and_numbers_are_never_reused,
    deprecate_keeps_a_version_readable,
    unknown_schemas_are_not_found,
    get_by_digest_finds_content_across_schemas,
    keyset_pages_see_every_schema_once_while_writes_happen,
    deleted_schemas_leave_listings_unless_asked_for,
    every_write_records_its_change_in_the_outbox,
    two_consumers_draining_the_outbox_at_once_never_share_or_lose_an_event,
    an_abandoned_claim_is_handed_out_again_after_its_lease,
    oldest_pending_change_age_counts_from_the_oldest_uncompleted_change,
    aliases_bind_and_resolve_within_their_namespace_only,
    an_alias_held_by_another_schema_fails_the_register_with_conflict_and_stores_nothing,
    re_registering_identical_content_with_a_new_alias_binds_it,
    concurrent_registers_claiming_one_alias_bind_it_to_exactly_one_schema,
    references_round_trip_exactly,
    a_batch_stores_all_items_in_order_with_consecutive_versions_and_per_item_results,
    a_batch_item_with_a_conflicting_alias_fails_alone_while_its_neighbours_commit,
    a_batch_with_identical_content_twice_returns_the_same_version_for_both,
}

/// The outbox is shared by every namespace, so tests that drain it take turns; the
/// events of other tests they drain meanwhile are completed and ignored.
static OUTBOX_DRAINERS: Mutex<()> = Mutex::const_new(());

async fn register_allocates_versions_from_one_and_is_idempotent(store: Arc<dyn SchemaStore>) {
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
    assert_eq!(again.version.created_at_ms, first.version.created_at_ms);

    let second = store
        .register(new_version(&order, r#"{"type":"array"}"#))
        .await
        .unwrap();
    assert!(second.created);
    assert_eq!(second.version.version, version(2));
    assert_eq!(second.version.tags, vec!["t1".to_owned()]);

    let read = store
        .get_version(&order, VersionSelector::Exact(version(2)), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, second.version);
}

async fn concurrent_registers_produce_consecutive_versions(store: Arc<dyn SchemaStore>) {
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

    let listed = store.list_versions(&schema, None, 100, true).await.unwrap();
    let listed: Vec<u32> = listed.iter().map(|v| v.version.get()).collect();
    assert_eq!(listed, (1..=32).collect::<Vec<u32>>());
}

async fn concurrent_registers_of_identical_content_store_it_once(store: Arc<dyn SchemaStore>) {
    let schema = name(&unique_namespace("same"), "twin");

    let tasks = (0..16).map(|_| {
        let store = Arc::clone(&store);
        let new = new_version(&schema, r#"{"type":"boolean"}"#);
        tokio::spawn(async move { store.register(new).await })
    });
    let results: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert_eq!(results.iter().filter(|r| r.created).count(), 1);
    assert!(results.iter().all(|r| r.version.version == version(1)));
}

async fn latest_follows_registers_and_deletes_and_numbers_are_never_reused(
    store: Arc<dyn SchemaStore>,
) {
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

async fn deprecate_keeps_a_version_readable(store: Arc<dyn SchemaStore>) {
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

async fn unknown_schemas_are_not_found(store: Arc<dyn SchemaStore>) {
    let ghost = name(&unique_namespace("nobody"), "ghost");
    let err = store.delete(&ghost, None).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)));
    let err = store.deprecate(&ghost, version(1)).await.unwrap_err();
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

async fn get_by_digest_finds_content_across_schemas(store: Arc<dyn SchemaStore>) {
    let ns = unique_namespace("dig");
    // Unique content: the digest index is shared with every other test and run.
    let body = format!(r#"{{"const":"{ns}"}}"#);
    let first = store
        .register(new_version(&name(&ns, "a"), &body))
        .await
        .unwrap();
    store
        .register(new_version(&name(&ns, "b"), &body))
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

async fn keyset_pages_see_every_schema_once_while_writes_happen(store: Arc<dyn SchemaStore>) {
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

async fn deleted_schemas_leave_listings_unless_asked_for(store: Arc<dyn SchemaStore>) {
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

async fn every_write_records_its_change_in_the_outbox(store: Arc<dyn SchemaStore>) {
    let _turn = OUTBOX_DRAINERS.lock().await;
    let ns = unique_namespace("out");
    let schema = name(&ns, "logged");
    store
        .register(new_version(&schema, r#"{"minimum":1}"#))
        .await
        .unwrap();
    store
        .register(new_version(&schema, r#"{"minimum":1}"#))
        .await
        .unwrap();
    store
        .register(new_version(&schema, r#"{"minimum":2}"#))
        .await
        .unwrap();
    store.deprecate(&schema, version(1)).await.unwrap();
    store.deprecate(&schema, version(1)).await.unwrap();
    store.delete(&schema, None).await.unwrap();

    let delivered = drain(Arc::clone(&store), "indexer", 100).await;
    let mine: Vec<_> = delivered
        .iter()
        .filter(|event| event.schema.namespace().as_str() == ns)
        .map(|event| (event.version.get(), event.kind))
        .collect();
    // No-op writes (an identical register, a second deprecate) record nothing.
    let expected = vec![
        (1, ChangeKind::Registered),
        (2, ChangeKind::Registered),
        (1, ChangeKind::Deprecated),
        (1, ChangeKind::Deleted),
        (2, ChangeKind::Deleted),
    ];
    assert_eq!(mine, expected, "events in id order");
    assert!(delivered.windows(2).all(|pair| pair[0].id < pair[1].id));
}

async fn two_consumers_draining_the_outbox_at_once_never_share_or_lose_an_event(
    store: Arc<dyn SchemaStore>,
) {
    let _turn = OUTBOX_DRAINERS.lock().await;
    let ns = unique_namespace("drain");
    let mut expected = Vec::new();
    for i in 0..24 {
        let schema = name(&ns, &format!("s{i:02}"));
        store.register(new_version(&schema, r#"{}"#)).await.unwrap();
        expected.push((schema.name().to_owned(), 1, "registered"));
        if i % 2 == 0 {
            store.deprecate(&schema, version(1)).await.unwrap();
            expected.push((schema.name().to_owned(), 1, "deprecated"));
        }
        if i % 3 == 0 {
            store.delete(&schema, None).await.unwrap();
            expected.push((schema.name().to_owned(), 1, "deleted"));
        }
    }
    expected.sort();

    let consumers = ["consumer-a", "consumer-b"].map(|consumer| {
        let store = Arc::clone(&store);
        tokio::spawn(async move { drain(store, consumer, 3).await })
    });
    let mut delivered = Vec::new();
    for consumer in consumers {
        delivered.extend(consumer.await.unwrap());
    }

    let ids: HashSet<_> = delivered.iter().map(|event| event.id).collect();
    assert_eq!(ids.len(), delivered.len(), "an event was delivered twice");
    assert_eq!(events_in(&ns, &delivered), expected, "an event was lost");
}

async fn an_abandoned_claim_is_handed_out_again_after_its_lease(store: Arc<dyn SchemaStore>) {
    let _turn = OUTBOX_DRAINERS.lock().await;
    drain(Arc::clone(&store), "sweeper", 100).await;
    let ns = unique_namespace("lease");
    let schema = name(&ns, "dropped");
    store.register(new_version(&schema, r#"{}"#)).await.unwrap();
    let expected = vec![("dropped".to_owned(), 1, "registered")];

    let lease = Duration::from_millis(500);
    let first = store.claim_changes("crashes", 100, lease).await.unwrap();
    assert_eq!(events_in(&ns, &first), expected);

    // While the lease runs nobody else is handed the event.
    let during = store.claim_changes("other", 100, lease).await.unwrap();
    assert!(events_in(&ns, &during).is_empty());

    tokio::time::sleep(lease + Duration::from_millis(300)).await;
    let after = drain(Arc::clone(&store), "other", 100).await;
    assert_eq!(events_in(&ns, &after), expected);
}

async fn oldest_pending_change_age_counts_from_the_oldest_uncompleted_change(
    store: Arc<dyn SchemaStore>,
) {
    let _turn = OUTBOX_DRAINERS.lock().await;
    let ns = unique_namespace("age");
    let schema = name(&ns, "waiting");
    store.register(new_version(&schema, r#"{}"#)).await.unwrap();

    let wait = Duration::from_millis(300);
    tokio::time::sleep(wait).await;
    let age = store.oldest_pending_change_age().await.unwrap();
    let age = age.expect("a change is pending");
    assert!(age >= wait - Duration::from_millis(20), "{age:?}");

    drain(Arc::clone(&store), "indexer", 100).await;
    // Other tests may have written since, but nothing pending predates the drain.
    let after = store.oldest_pending_change_age().await.unwrap();
    assert!(after.is_none_or(|age| age < wait), "{after:?}");
}

/// Reopening a store keeps what it held and applies no migration twice.
async fn reopening_keeps_data(open: impl AsyncFn() -> Arc<dyn SchemaStore>) {
    let schema = name(&unique_namespace("keep"), "me");
    {
        let store = open().await;
        store
            .register(new_version(&schema, r#"{"type":"null"}"#))
            .await
            .unwrap();
    }
    let store = open().await;
    let found = store
        .get_version(&schema, VersionSelector::Latest, false)
        .await
        .unwrap();
    assert_eq!(found.unwrap().version, version(1));
    store.ping().await.unwrap();
}

mod reopening {
    use super::*;

    #[tokio::test]
    async fn sqlite_reopening_keeps_data_and_skips_applied_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("ovsr.db");
        reopening_keeps_data(async || -> Arc<dyn SchemaStore> {
            let store = SqliteSchemaStore::open(&path).await.unwrap();
            Arc::new(store) as Arc<dyn SchemaStore>
        })
        .await;
    }

    #[tokio::test]
    async fn postgres_reopening_keeps_data_and_skips_applied_migrations() {
        reopening_keeps_data(async || -> Arc<dyn SchemaStore> {
            let store: PgSchemaStore = postgres_support::open_test_store().await;
            Arc::new(store) as Arc<dyn SchemaStore>
        })
        .await;
    }
}
