//! Aliases: other URLs a schema is known by, bound per namespace when registering.

use std::sync::Arc;

use ovsr_core::{Namespace, VersionSelector};
use ovsr_store::{SchemaStore, StoreError};

use crate::fixtures::{aliased, drain, events_in, name, new_version, unique_namespace, version};

const BASE: &str = "https://json.schemastore.org/base.json";

pub async fn aliases_bind_and_resolve_within_their_namespace_only(store: Arc<dyn SchemaStore>) {
    let (ns_a, ns_b) = (unique_namespace("alias-a"), unique_namespace("alias-b"));
    let (space_a, space_b) = (namespace(&ns_a), namespace(&ns_b));
    let base = name(&ns_a, "base");

    let registered = store
        .register(aliased(&base, r#"{"type":"object"}"#, &[BASE]))
        .await
        .unwrap();
    assert_eq!(registered.version.aliases, vec![BASE.to_owned()]);
    let read = store
        .get_version(&base, VersionSelector::Latest, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.aliases, vec![BASE.to_owned()]);
    assert_eq!(resolve(&store, &space_a, BASE).await, Some(base.clone()));
    assert_eq!(resolve(&store, &space_b, BASE).await, None);

    // The same URL in another namespace is another, independent alias.
    let other = name(&ns_b, "other");
    store
        .register(aliased(&other, r#"{"type":"array"}"#, &[BASE]))
        .await
        .unwrap();
    assert_eq!(resolve(&store, &space_b, BASE).await, Some(other));
    assert_eq!(resolve(&store, &space_a, BASE).await, Some(base.clone()));

    // A new version of the schema that holds the alias may name it again.
    let next = store
        .register(aliased(&base, r#"{"type":"string"}"#, &[BASE, BASE]))
        .await
        .unwrap();
    assert_eq!(next.version.version, version(2));
    assert_eq!(resolve(&store, &space_a, BASE).await, Some(base));
    let unknown = "https://json.schemastore.org/unknown.json";
    assert_eq!(resolve(&store, &space_a, unknown).await, None);
}

pub async fn an_alias_held_by_another_schema_fails_the_register_with_conflict_and_stores_nothing(
    store: Arc<dyn SchemaStore>,
) {
    let _turn = crate::OUTBOX_DRAINERS.lock().await;
    let ns = unique_namespace("taken");
    let space = namespace(&ns);
    let (owner, existing, newcomer) = (name(&ns, "owner"), name(&ns, "existing"), name(&ns, "new"));
    let fresh = "https://example.com/fresh.json";
    store
        .register(aliased(&owner, r#"{"minimum":1}"#, &[BASE]))
        .await
        .unwrap();
    store
        .register(new_version(&existing, r#"{"minimum":2}"#))
        .await
        .unwrap();
    drain(Arc::clone(&store), "sweeper", 100).await;

    for schema in [&newcomer, &existing] {
        let err = store
            .register(aliased(schema, r#"{"minimum":3}"#, &[fresh, BASE]))
            .await
            .unwrap_err();
        let StoreError::Conflict(message) = &err else {
            panic!("expected a conflict, got {err:?}");
        };
        assert_eq!(message, &format!("alias {BASE} already names {ns}/owner"));
    }

    // Neither the versions, the new schema, the fresh alias nor an event stayed.
    let listed = store
        .list_versions(&existing, None, 10, true)
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|v| v.version).collect::<Vec<_>>(),
        [version(1)]
    );
    let schemas = store
        .list_schemas(Some(&space), None, 10, true)
        .await
        .unwrap();
    let names: Vec<_> = schemas.iter().map(|s| s.schema.name().to_owned()).collect();
    assert_eq!(names, ["existing", "owner"]);
    assert_eq!(resolve(&store, &space, fresh).await, None);
    assert_eq!(resolve(&store, &space, BASE).await, Some(owner));
    let events = drain(Arc::clone(&store), "sweeper", 100).await;
    assert!(events_in(&ns, &events).is_empty(), "{events:?}");
}

pub async fn re_registering_identical_content_with_a_new_alias_binds_it(
    store: Arc<dyn SchemaStore>,
) {
    let ns = unique_namespace("rebind");
    let space = namespace(&ns);
    let schema = name(&ns, "same");
    let (first, second) = ("https://example.com/v1.json", "https://example.com/v2.json");
    let body = r#"{"type":"integer"}"#;

    let stored = store
        .register(aliased(&schema, body, &[first]))
        .await
        .unwrap();
    let again = store
        .register(aliased(&schema, body, &[first, second]))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.version.version, version(1));
    // The version keeps the aliases of its own registration: versions never change.
    assert_eq!(again.version, stored.version);

    assert_eq!(resolve(&store, &space, first).await, Some(schema.clone()));
    assert_eq!(resolve(&store, &space, second).await, Some(schema));
}

async fn resolve(
    store: &Arc<dyn SchemaStore>,
    namespace: &Namespace,
    alias: &str,
) -> Option<ovsr_core::SchemaName> {
    store.resolve_alias(namespace, alias).await.unwrap()
}

fn namespace(raw: &str) -> Namespace {
    Namespace::parse(raw, "namespace").unwrap()
}

pub async fn concurrent_registers_claiming_one_alias_bind_it_to_exactly_one_schema(
    store: Arc<dyn SchemaStore>,
) {
    let ns = unique_namespace("claim");
    let space = namespace(&ns);

    let tasks = (0..8).map(|i| {
        let store = Arc::clone(&store);
        let schema = name(&ns, &format!("s{i}"));
        let new = aliased(&schema, "{}", &[BASE]);
        tokio::spawn(async move { store.register(new).await })
    });
    let outcomes: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|joined| joined.unwrap())
        .collect();

    let winners: Vec<_> = outcomes.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let winner = winners[0].version.schema.clone();
    let expected = format!("alias {BASE} already names {winner}");
    for outcome in &outcomes {
        match outcome {
            Ok(_) => {}
            Err(StoreError::Conflict(message)) => assert_eq!(message, &expected),
            Err(other) => panic!("expected a conflict, got {other:?}"),
        }
    }
    assert_eq!(resolve(&store, &space, BASE).await, Some(winner));
}
