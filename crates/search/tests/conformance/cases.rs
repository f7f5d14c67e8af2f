//! The conformance cases. Each takes a fresh index and a way to reopen a durable one;
//! most use only the first.

use std::collections::HashSet;
use std::sync::Arc;

use ovsr_core::VersionState;
use ovsr_search::{SearchError, SearchIndex, SearchQuery, SearchSort};

use super::support::{Reopen, at_version, document, names, search, unique_namespace, within};

type Index = Arc<dyn SearchIndex>;

pub async fn finds_a_schema_by_each_searchable_field(index: Index, _: Reopen) {
    let ns = unique_namespace("fields");
    let mut order = document(
        &ns,
        "purchase-order",
        "Purchase order",
        "An order placed by a buyer",
    );
    order.tags = vec!["commerce".into()];
    order.properties = vec!["lineItems".into(), "buyerReference".into()];
    order.id = Some("https://example.test/schemas/procurement.json".into());
    let other = document(
        &ns,
        "weather-report",
        "Weather report",
        "Observed temperatures",
    );
    index.upsert(vec![order, other]).await.unwrap();

    for text in [
        "purchase-order",
        "purchase",
        "placed buyer",
        "commerce",
        "buyerReference",
        "lineitems",
        "procurement",
    ] {
        let page = search(&index, &within(text, &[&ns])).await;
        assert_eq!(names(&page), ["purchase-order"], "query {text:?}");
    }
}

pub async fn tolerates_a_typo_in_a_long_word(index: Index, _: Reopen) {
    let ns = unique_namespace("typo");
    let kube = document(
        &ns,
        "kubernetes-deployment",
        "Kubernetes Deployment",
        "Pods",
    );
    let other = document(&ns, "helm-values", "Helm values", "Chart settings");
    index.upsert(vec![kube, other]).await.unwrap();

    for text in ["kubernets", "kuberntes deploymnet"] {
        let page = search(&index, &within(text, &[&ns])).await;
        assert_eq!(names(&page), ["kubernetes-deployment"], "query {text:?}");
    }
    // Short words tolerate no typo: `helk` is not `helm`.
    let page = search(&index, &within("helk", &[&ns])).await;
    assert!(page.hits.is_empty(), "{:?}", names(&page));
}

pub async fn matches_a_prefix_of_the_last_word(index: Index, _: Reopen) {
    let ns = unique_namespace("prefix");
    let compose = document(
        &ns,
        "docker-compose",
        "Compose file",
        "Services and volumes",
    );
    let bake = document(&ns, "docker-bake", "Bake file", "Build targets");
    index.upsert(vec![compose, bake]).await.unwrap();

    // Both match `docker`; the one also matching the prefix comes first.
    let page = search(&index, &within("docker-comp", &[&ns])).await;
    assert_eq!(names(&page), ["docker-compose", "docker-bake"]);
    let page = search(&index, &within("docker-bak", &[&ns])).await;
    assert_eq!(names(&page), ["docker-bake", "docker-compose"]);
    let page = search(&index, &within("comp", &[&ns])).await;
    assert_eq!(names(&page), ["docker-compose"]);
}

pub async fn reupserting_the_same_document_changes_nothing(index: Index, _: Reopen) {
    let ns = unique_namespace("idem");
    let doc = document(&ns, "invoice", "Invoice", "A bill");
    index.upsert(vec![doc.clone()]).await.unwrap();
    let before = index.stats().await.unwrap();
    let first = search(&index, &within("invoice", &[&ns])).await;

    index.upsert(vec![doc.clone(), doc.clone()]).await.unwrap();
    index.upsert(vec![doc]).await.unwrap();

    let after = index.stats().await.unwrap();
    assert_eq!(after.documents, before.documents);
    assert_eq!(search(&index, &within("invoice", &[&ns])).await, first);
    assert_eq!(first.hits.len(), 1);
}

pub async fn a_newer_version_replaces_the_older_and_a_stale_one_is_ignored(
    index: Index,
    _: Reopen,
) {
    let ns = unique_namespace("newer");
    let v1 = document(&ns, "invoice", "Invoice", "A bill");
    let mut v2 = at_version(v1.clone(), 2, VersionState::Active);
    v2.title = "Invoice with taxes".into();
    index.upsert(vec![v1.clone()]).await.unwrap();
    index.upsert(vec![v2]).await.unwrap();
    index.upsert(vec![v1]).await.unwrap();

    let page = search(&index, &within("invoice", &[&ns])).await;
    assert_eq!(page.hits.len(), 1);
    assert_eq!(page.hits[0].version.get(), 2);
    assert_eq!(page.hits[0].title, "Invoice with taxes");
    let page = search(&index, &within("taxes", &[&ns])).await;
    assert_eq!(names(&page), ["invoice"]);
}

pub async fn remove_takes_a_schema_out(index: Index, _: Reopen) {
    let ns = unique_namespace("remove");
    let keep = document(&ns, "invoice-keep", "Invoice kept", "");
    let gone = document(&ns, "invoice-gone", "Invoice removed", "");
    let gone_name = gone.schema.clone();
    index.upsert(vec![keep, gone]).await.unwrap();

    index.remove(&gone_name).await.unwrap();
    index.remove(&gone_name).await.unwrap();

    let page = search(&index, &within("invoice", &[&ns])).await;
    assert_eq!(names(&page), ["invoice-keep"]);
}

pub async fn filters_by_namespace(index: Index, _: Reopen) {
    let ours = unique_namespace("ours");
    let theirs = unique_namespace("theirs");
    let elsewhere = unique_namespace("elsewhere");
    let a = document(&ours, "invoice", "Invoice", "");
    let b = document(&theirs, "invoice", "Invoice", "");
    let c = document(&elsewhere, "invoice", "Invoice", "");
    index.upsert(vec![a, b, c]).await.unwrap();

    let page = search(&index, &within("invoice", &[&ours])).await;
    assert_eq!(page.hits.len(), 1);
    assert_eq!(page.hits[0].schema.namespace(), &ours);
    let page = search(&index, &within("invoice", &[&ours, &theirs])).await;
    let found: HashSet<_> = page
        .hits
        .iter()
        .map(|h| h.schema.namespace().clone())
        .collect();
    assert_eq!(found, HashSet::from([ours, theirs]));
}

pub async fn filters_by_tags_requiring_all_of_them(index: Index, _: Reopen) {
    let ns = unique_namespace("tags");
    let mut both = document(&ns, "both", "Order", "");
    both.tags = vec!["commerce".into(), "stable".into()];
    let mut one = document(&ns, "one", "Order", "");
    one.tags = vec!["commerce".into()];
    index.upsert(vec![both, one]).await.unwrap();

    let mut query = within("order", &[&ns]);
    query.tags = vec!["commerce".into()];
    assert_eq!(search(&index, &query).await.hits.len(), 2);
    query.tags = vec!["commerce".into(), "stable".into()];
    assert_eq!(names(&search(&index, &query).await), ["both"]);
    query.tags = vec!["commerce".into(), "absent".into()];
    assert!(search(&index, &query).await.hits.is_empty());
}

pub async fn filters_by_dialect(index: Index, _: Reopen) {
    let ns = unique_namespace("dialect");
    let modern = document(&ns, "modern", "Order", "");
    let mut old = document(&ns, "old", "Order", "");
    old.dialect = Some("http://json-schema.org/draft-07/schema#".into());
    let mut none = document(&ns, "undeclared", "Order", "");
    none.dialect = None;
    index.upsert(vec![modern, old, none]).await.unwrap();

    let mut query = within("order", &[&ns]);
    query.dialects = vec!["http://json-schema.org/draft-07/schema#".into()];
    assert_eq!(names(&search(&index, &query).await), ["old"]);
    query
        .dialects
        .push("https://json-schema.org/draft/2020-12/schema".into());
    assert_eq!(search(&index, &query).await.hits.len(), 2);
    query.dialects.clear();
    assert_eq!(search(&index, &query).await.hits.len(), 3);
}

pub async fn deprecated_schemas_are_hidden_unless_asked_for(index: Index, _: Reopen) {
    hidden_unless_asked(index, VersionState::Deprecated).await;
}

pub async fn deleted_schemas_are_hidden_unless_asked_for(index: Index, _: Reopen) {
    hidden_unless_asked(index, VersionState::Deleted).await;
}

async fn hidden_unless_asked(index: Index, state: VersionState) {
    let ns = unique_namespace(state.as_str());
    let live = document(&ns, "live", "Order", "");
    let retired = at_version(document(&ns, "retired", "Order", ""), 1, state);
    index.upsert(vec![live, retired]).await.unwrap();

    let mut query = within("order", &[&ns]);
    assert_eq!(names(&search(&index, &query).await), ["live"]);
    // Asking for the other state does not reveal this one.
    query.include_deprecated = state == VersionState::Deleted;
    query.include_deleted = state == VersionState::Deprecated;
    assert_eq!(names(&search(&index, &query).await), ["live"]);
    query.include_deprecated = true;
    query.include_deleted = true;
    let page = search(&index, &query).await;
    assert_eq!(page.hits.len(), 2);
    let retired = page
        .hits
        .iter()
        .find(|h| h.schema.name() == "retired")
        .unwrap();
    assert_eq!(retired.state, state);
}

pub async fn facets_count_namespaces_and_tags_most_frequent_first(index: Index, _: Reopen) {
    let big = unique_namespace("big");
    let small = unique_namespace("small");
    let mut docs = Vec::new();
    for (ns, name, tags) in [
        (&big, "a", vec!["common", "rare"]),
        (&big, "b", vec!["common"]),
        (&big, "c", vec!["common", "middle"]),
        (&small, "d", vec!["middle"]),
    ] {
        let mut doc = document(ns, name, "Order", "");
        doc.tags = tags.into_iter().map(str::to_owned).collect();
        docs.push(doc);
    }
    // Not a hit: its counts must not show.
    let mut other = document(&small, "e", "Weather", "");
    other.tags = vec!["rare".into()];
    docs.push(other);
    index.upsert(docs).await.unwrap();

    let page = search(&index, &within("order", &[&big, &small])).await;
    assert_eq!(page.estimated_total_hits, 4);
    let counts = |field: &str| -> Vec<(String, u64)> {
        let facet = page
            .facet(field)
            .unwrap_or_else(|| panic!("no {field} facet"));
        facet
            .values
            .iter()
            .map(|v| (v.value.clone(), v.count))
            .collect()
    };
    let expected_namespaces = vec![(big.to_string(), 3), (small.to_string(), 1)];
    assert_eq!(counts("namespace"), expected_namespaces);
    let expected_tags = vec![
        ("common".to_owned(), 3),
        ("middle".to_owned(), 2),
        ("rare".to_owned(), 1),
    ];
    assert_eq!(counts("tags"), expected_tags);
}

pub async fn sorts_by_relevance_recency_and_popularity(index: Index, _: Reopen) {
    let ns = unique_namespace("sort");
    let mut titled = document(&ns, "titled", "Invoice", "Old and unread");
    titled.created_at_ms = 1_000;
    titled.read_count = 1;
    let mut recent = document(&ns, "recent", "Bill", "Mentions an invoice in passing");
    recent.created_at_ms = 3_000;
    recent.read_count = 5;
    let mut popular = document(&ns, "popular", "Receipt", "Sometimes called an invoice");
    popular.created_at_ms = 2_000;
    popular.read_count = 900;
    index.upsert(vec![titled, recent, popular]).await.unwrap();

    let mut query = within("invoice", &[&ns]);
    let relevance = names(&search(&index, &query).await);
    assert_eq!(relevance.first().map(String::as_str), Some("titled"));
    query.sort = SearchSort::Recency;
    assert_eq!(
        names(&search(&index, &query).await),
        ["recent", "popular", "titled"]
    );
    query.sort = SearchSort::Popularity;
    assert_eq!(
        names(&search(&index, &query).await),
        ["popular", "recent", "titled"]
    );
}

pub async fn paging_returns_every_hit_exactly_once(index: Index, _: Reopen) {
    let ns = unique_namespace("paging");
    let docs = (0..23)
        .map(|i| {
            let mut doc = document(&ns, &format!("order-{i:02}"), "Order", "An order");
            doc.read_count = i % 4;
            doc
        })
        .collect();
    index.upsert(docs).await.unwrap();

    for sort in [
        SearchSort::Relevance,
        SearchSort::Recency,
        SearchSort::Popularity,
    ] {
        let mut query = within("order", &[&ns]);
        query.sort = sort;
        query.page_size = Some(5);
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = search(&index, &query).await;
            assert!(page.hits.len() <= 5);
            assert_eq!(page.estimated_total_hits, 23);
            seen.extend(names(&page));
            pages += 1;
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
            assert!(pages < 10, "paging does not end");
        }
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(seen.len(), 23, "{sort:?}: {seen:?}");
        assert_eq!(unique.len(), 23, "{sort:?}: {seen:?}");
        assert_eq!(pages, 5);
    }
}

pub async fn a_cursor_reused_with_another_query_is_refused(index: Index, _: Reopen) {
    let ns = unique_namespace("cursor");
    let docs = (0..3)
        .map(|i| document(&ns, &format!("order-{i}"), "Order", ""))
        .collect();
    index.upsert(docs).await.unwrap();
    let mut query = within("order", &[&ns]);
    query.page_size = Some(1);
    let cursor = search(&index, &query).await.next_cursor.unwrap();

    let mut other = within("orders", &[&ns]);
    other.cursor = Some(cursor.clone());
    let err = index.search(&other).await.unwrap_err();
    assert!(
        matches!(&err, SearchError::InvalidQuery { field, .. } if field == "page_token"),
        "{err:?}"
    );
    query.cursor = Some(cursor);
    assert_eq!(search(&index, &query).await.hits.len(), 1);
}

pub async fn a_page_size_out_of_range_is_refused_naming_the_field(index: Index, _: Reopen) {
    for size in [0, 101] {
        let query = SearchQuery {
            page_size: Some(size),
            ..SearchQuery::for_text("order")
        };
        let err = index.search(&query).await.unwrap_err();
        assert!(
            matches!(&err, SearchError::InvalidQuery { field, .. } if field == "page_size"),
            "{size}: {err:?}"
        );
    }
    let query = SearchQuery {
        page_size: Some(100),
        ..SearchQuery::for_text("order")
    };
    assert!(index.search(&query).await.is_ok());
}

pub async fn highlights_mark_the_matched_words(index: Index, _: Reopen) {
    let ns = unique_namespace("highlight");
    let mut doc = document(
        &ns,
        "deployment",
        "Kubernetes Deployment",
        "Runs <pods> at scale",
    );
    doc.properties = vec!["replicas".into(), "containerPort".into()];
    index.upsert(vec![doc]).await.unwrap();

    let page = search(&index, &within("kubernets pods container", &[&ns])).await;
    let hit = page.hits.first().expect("a hit");
    let snippet = |field: &str| {
        hit.highlights
            .iter()
            .find(|h| h.field == field)
            .map(|h| h.snippet.clone())
            .unwrap_or_else(|| panic!("no {field} highlight in {:?}", hit.highlights))
    };
    assert_eq!(snippet("title"), "<em>Kubernetes</em> Deployment");
    assert_eq!(
        snippet("description"),
        "Runs &lt;<em>pods</em>&gt; at scale"
    );
    // A prefix of the last word marks the whole word it begins.
    assert_eq!(snippet("properties"), "replicas <em>containerPort</em>");
}

pub async fn checkpoint_persists_across_reopening(_: Index, reopen: Reopen) {
    let index = reopen();
    assert_eq!(index.checkpoint().await.unwrap(), 0);
    let ns = unique_namespace("durable");
    index
        .upsert(vec![document(&ns, "invoice", "Invoice", "")])
        .await
        .unwrap();
    index.set_checkpoint(42).await.unwrap();
    index
        .upsert(vec![document(&ns, "receipt", "Receipt", "")])
        .await
        .unwrap();
    drop(index);

    let index = reopen();
    assert_eq!(index.checkpoint().await.unwrap(), 42);
    assert_eq!(index.stats().await.unwrap().checkpoint, 42);
    let page = search(&index, &within("", &[&ns])).await;
    assert_eq!(page.hits.len(), 2);
}

pub async fn clear_removes_everything_and_resets_the_checkpoint(index: Index, _: Reopen) {
    let ns = unique_namespace("clear");
    index
        .upsert(vec![document(&ns, "invoice", "Invoice", "")])
        .await
        .unwrap();
    index.set_checkpoint(7).await.unwrap();
    index.apply_settings().await.unwrap();

    index.clear().await.unwrap();

    let stats = index.stats().await.unwrap();
    assert_eq!((stats.documents, stats.checkpoint), (0, 0));
    assert!(
        search(&index, &within("invoice", &[&ns]))
            .await
            .hits
            .is_empty()
    );
}

pub async fn an_empty_query_lists_every_schema_most_read_first(index: Index, _: Reopen) {
    let ns = unique_namespace("browse");
    let mut docs = Vec::new();
    for (name, reads) in [("rarely", 2), ("often", 70), ("never", 0)] {
        let mut doc = document(&ns, name, "Anything", "");
        doc.read_count = reads;
        docs.push(doc);
    }
    index.upsert(docs).await.unwrap();

    let page = search(&index, &within("", &[&ns])).await;
    assert_eq!(names(&page), ["often", "rarely", "never"]);
    assert!(page.hits.iter().all(|hit| hit.highlights.is_empty()));
}

pub async fn concurrent_writes_and_searches_lose_nothing(index: Index, _: Reopen) {
    let ns = unique_namespace("concurrent");
    let mut tasks = Vec::new();
    for writer in 0..6 {
        let index = Arc::clone(&index);
        let ns = ns.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..5 {
                let doc = document(&ns, &format!("order-{writer}-{i}"), "Order", "");
                index.upsert(vec![doc]).await.unwrap();
                let page = index.search(&within("order", &[&ns])).await.unwrap();
                assert!(!page.hits.is_empty());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let page = search(&index, &within("order", &[&ns])).await;
    assert_eq!(page.estimated_total_hits, 30);
}
