//! Search: what registering, deprecating and deleting do to results, filters, facets,
//! pages, refusals, an index that survives restarts and rebuilds, and an indexer that
//! catches up on every change made while it was down.

use std::path::Path;
use std::time::{Duration, Instant};

use ovsr_core::{CanonicalDocument, SchemaName};
use ovsr_proto::v1::{
    RegisterSchemaRequest, SearchHit, SearchRequest, SearchResponse, VersionState,
};
use ovsr_store::{NewVersion, SchemaStore as _, SqliteSchemaStore};
use tonic::Code;

use crate::harness::{TestServer, assert_names_field, expect_status};

/// How long a write may take to reach search before a test gives up.
const INDEXING_DEADLINE: Duration = Duration::from_secs(5);

const ORDER: &str = r#"{
    "type": "object",
    "title": "Purchase order",
    "description": "What a customer bought",
    "properties": { "shippingAddress": { "type": "string" }, "total": { "type": "number" } }
}"#;

/// A search confined to the test's namespace.
fn request_in(server: &TestServer, query: &str) -> SearchRequest {
    SearchRequest {
        query: query.to_owned(),
        namespaces: vec![server.namespace.clone()],
        ..Default::default()
    }
}

async fn search(server: &TestServer, request: SearchRequest) -> SearchResponse {
    let response = server.search().search(request).await;
    response.expect("search succeeds").into_inner()
}

/// Searches until `done` holds of the answer or the deadline passes; returns the
/// last answer either way, for the caller to assert on.
async fn search_until(
    server: &TestServer,
    request: &SearchRequest,
    done: impl Fn(&SearchResponse) -> bool,
) -> SearchResponse {
    let deadline = Instant::now() + INDEXING_DEADLINE;
    loop {
        let response = search(server, request.clone()).await;
        if done(&response) || Instant::now() >= deadline {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn names(response: &SearchResponse) -> Vec<&str> {
    response.hits.iter().map(|hit| hit.name.as_str()).collect()
}

fn hit_named<'a>(response: &'a SearchResponse, name: &str) -> Option<&'a SearchHit> {
    response.hits.iter().find(|hit| hit.name == name)
}

async fn found(server: &TestServer, request: &SearchRequest, name: &str) -> SearchResponse {
    search_until(server, request, |r| hit_named(r, name).is_some()).await
}

async fn register_tagged(server: &TestServer, name: &str, tags: &[&str]) {
    let request = RegisterSchemaRequest {
        namespace: server.namespace.clone(),
        name: name.to_owned(),
        content: ORDER.to_owned(),
        tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
        ..Default::default()
    };
    server.schemas().register_schema(request).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_a_schema_by_name_title_property_and_typo() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let published = server.publish("invoice-ledger", ORDER).await?;

    for query in ["ledger", "purchase", "shippingAddress", "purchse"] {
        let request = request_in(&server, query);
        let response = found(&server, &request, "invoice-ledger").await;
        assert_eq!(names(&response), ["invoice-ledger"], "query {query:?}");
    }

    let response = search(&server, request_in(&server, "purchase")).await;
    let hit = &response.hits[0];
    assert_eq!(hit.namespace, server.namespace);
    assert_eq!(
        (hit.version, hit.digest.as_str()),
        (1, published.digest.as_str())
    );
    assert_eq!(hit.title, "Purchase order");
    assert_eq!(hit.state, VersionState::Active as i32);
    assert_eq!(hit.created_at, published.created_at);
    let highlighted = hit.highlights.iter().any(|h| h.snippet.contains("<em>"));
    assert!(highlighted, "no highlight in {:?}", hit.highlights);
    assert_eq!(response.estimated_total_hits, 1);
    server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprecating_hides_a_schema_unless_deprecated_are_included() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("old-order", ORDER).await?;
    let request = request_in(&server, "purchase");
    found(&server, &request, "old-order").await;

    server.deprecate("old-order", 1).await?;
    let hidden = search_until(&server, &request, |r| r.hits.is_empty()).await;
    assert!(hidden.hits.is_empty(), "still found: {:?}", names(&hidden));

    let with_deprecated = SearchRequest {
        include_deprecated: true,
        ..request
    };
    let response = search(&server, with_deprecated).await;
    let hit = hit_named(&response, "old-order").expect("found when asked for");
    assert_eq!(hit.state, VersionState::Deprecated as i32);
    server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_removes_a_schema_from_search() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("gone-order", ORDER).await?;
    server.publish("kept-order", ORDER).await?;
    let request = request_in(&server, "purchase");
    search_until(&server, &request, |r| r.hits.len() == 2).await;

    server.delete("gone-order", 0).await?;
    let response = search_until(&server, &request, |r| r.hits.len() == 1).await;
    assert_eq!(names(&response), ["kept-order"]);

    let with_deleted = SearchRequest {
        include_deleted: true,
        ..request
    };
    let response = search(&server, with_deleted).await;
    let hit = hit_named(&response, "gone-order").expect("found when asked for");
    assert_eq!(hit.state, VersionState::Deleted as i32);
    server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_latest_version_indexes_the_one_before() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("order", ORDER).await?;
    let second = ORDER.replace("Purchase order", "Purchase order, revised");
    server.publish("order", &second).await?;
    let request = request_in(&server, "revised");
    found(&server, &request, "order").await;

    server.delete("order", 2).await?;
    let gone = search_until(&server, &request, |r| r.hits.is_empty()).await;
    assert!(gone.hits.is_empty(), "version 2 still found");
    let response = search(&server, request_in(&server, "purchase")).await;
    let hit = hit_named(&response, "order").expect("version 1 is found");
    assert_eq!(hit.version, 1);
    server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facets_count_hits_per_namespace_and_tag() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    register_tagged(&server, "a", &["billing", "core"]).await;
    register_tagged(&server, "b", &["billing"]).await;
    register_tagged(&server, "c", &[]).await;
    let request = request_in(&server, "");
    let response = search_until(&server, &request, |r| r.hits.len() == 3).await;

    let count_of = |field: &str, value: &str| {
        let facet = response.facets.iter().find(|facet| facet.field == field);
        let values = facet
            .map(|facet| facet.values.as_slice())
            .unwrap_or_default();
        values.iter().find(|v| v.value == value).map(|v| v.count)
    };
    assert_eq!(count_of("namespace", &server.namespace), Some(3));
    assert_eq!(count_of("tags", "billing"), Some(2));
    assert_eq!(count_of("tags", "core"), Some(1));

    let filtered = SearchRequest {
        tags: vec!["core".to_owned()],
        ..request
    };
    assert_eq!(names(&search(&server, filtered).await), ["a"]);
    server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_page_follows_next_page_token() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    for name in ["one", "two", "three"] {
        server.publish(name, ORDER).await?;
    }
    let first_request = SearchRequest {
        page_size: 2,
        ..request_in(&server, "purchase")
    };
    let first = search_until(&server, &first_request, |r| r.estimated_total_hits == 3).await;
    assert_eq!(first.hits.len(), 2);
    assert!(!first.next_page_token.is_empty(), "no token after page 1");

    let second_request = SearchRequest {
        page_token: first.next_page_token.clone(),
        ..first_request
    };
    let second = search(&server, second_request).await;
    assert_eq!(second.hits.len(), 1);
    assert!(
        second.next_page_token.is_empty(),
        "a token after the last page"
    );
    let mut all: Vec<&str> = names(&first).into_iter().chain(names(&second)).collect();
    all.sort_unstable();
    assert_eq!(all, ["one", "three", "two"]);
    server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_search_requests_are_invalid_arguments_naming_the_field() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let cases = [
        (
            "page_size",
            SearchRequest {
                page_size: 101,
                ..Default::default()
            },
        ),
        (
            "page_size",
            SearchRequest {
                page_size: -1,
                ..Default::default()
            },
        ),
        (
            "page_token",
            SearchRequest {
                page_token: "garbage!".into(),
                ..Default::default()
            },
        ),
        (
            "namespaces[1]",
            SearchRequest {
                namespaces: vec!["fine".into(), "Not A Namespace".into()],
                ..Default::default()
            },
        ),
    ];
    for (field, request) in cases {
        let result = server.search().search(request).await;
        let status = expect_status(result, &[Code::InvalidArgument]);
        assert_names_field(&status, field);
    }
    server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_finds_what_was_indexed_before() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let namespace = server.namespace.clone();
    server.publish("durable-order", ORDER).await?;
    found(&server, &request_in(&server, "purchase"), "durable-order").await;
    let data_dir = server.stop_keeping_data().await?;

    let mut restarted = TestServer::start_over(data_dir, |_| {}).await?;
    restarted.namespace = namespace;
    // One search, no waiting: the outbox was drained, so only the persisted index
    // can answer.
    let response = search(&restarted, request_in(&restarted, "purchase")).await;
    assert_eq!(names(&response), ["durable-order"]);
    restarted.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_rebuilds_the_index_of_a_stopped_server() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let namespace = server.namespace.clone();
    server.publish("rebuilt-order", ORDER).await?;
    server.publish("retired-order", ORDER).await?;
    server.deprecate("retired-order", 1).await?;
    let request = SearchRequest {
        include_deprecated: true,
        ..request_in(&server, "purchase")
    };
    search_until(&server, &request, |r| r.hits.len() == 2).await;

    let refused = run_reindex(server_data_dir(&server))?;
    assert!(
        !refused.status.success(),
        "reindex ran beside a live server"
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("another ovsr process"), "{stderr}");

    let data_dir = server.stop_keeping_data().await?;
    // Without the old index, only the rebuild can answer: the outbox is drained.
    std::fs::remove_dir_all(data_dir.path().join("search"))?;
    let rebuilt = run_reindex(data_dir.path())?;
    let stdout = String::from_utf8_lossy(&rebuilt.stdout);
    assert!(
        rebuilt.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    assert!(stdout.contains("reindexed 2 documents"), "{stdout}");

    let mut restarted = TestServer::start_over(data_dir, |_| {}).await?;
    restarted.namespace = namespace;
    let response = search(&restarted, request.clone()).await;
    let mut found = names(&response);
    found.sort_unstable();
    assert_eq!(found, ["rebuilt-order", "retired-order"]);
    let retired = hit_named(&response, "retired-order").expect("deprecated kept");
    assert_eq!(retired.state, VersionState::Deprecated as i32);
    restarted.shutdown().await
}

fn server_data_dir(server: &TestServer) -> &Path {
    server.data_dir()
}

fn run_reindex(data_dir: &Path) -> std::io::Result<std::process::Output> {
    std::process::Command::new(env!("CARGO_BIN_EXE_ovsr"))
        .arg("reindex")
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("OVSR_DATABASE_URL")
        .env_remove("RUST_LOG")
        .output()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_report_indexing_and_search() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("counted-order", ORDER).await?;
    found(&server, &request_in(&server, "purchase"), "counted-order").await;

    let text = server.http_get("/metrics").await?.text().await?;
    let value_of = |name: &str| {
        let line = text
            .lines()
            .find(|line| line.starts_with(&format!("{name} ")));
        line.and_then(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
    };
    let indexed = value_of("ovsr_search_documents_indexed_total");
    assert!(indexed.is_some_and(|n| n >= 1.0), "{indexed:?} in\n{text}");
    let searches = value_of("ovsr_search_latency_seconds_count");
    assert!(searches.is_some_and(|n| n >= 1.0), "{searches:?}");
    assert!(
        value_of("ovsr_search_indexing_lag_seconds").is_some(),
        "no lag gauge"
    );
    server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_while_no_indexer_runs_all_become_searchable_once() -> anyhow::Result<()> {
    const SCHEMAS: usize = 1000;
    let server = TestServer::start().await?;
    let namespace = server.namespace.clone();
    server.publish("before", ORDER).await?;
    let data_dir = server.stop_keeping_data().await?;

    // With the server and its indexer stopped, the changes reach the store and its
    // outbox only; the restarted indexer must drain them all.
    let store = SqliteSchemaStore::open(data_dir.path().join("ovsr.db")).await?;
    let batch = (0..SCHEMAS)
        .map(|i| offline_version(&namespace, i))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for result in store.register_batch(batch).await? {
        assert!(result?.created);
    }
    drop(store);

    let mut restarted = TestServer::start_over(data_dir, |_| {}).await?;
    restarted.namespace = namespace;
    let request = SearchRequest {
        page_size: 100,
        ..request_in(&restarted, "convergencefield")
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while search(&restarted, request.clone())
        .await
        .estimated_total_hits
        < SCHEMAS as u64
    {
        assert!(
            Instant::now() < deadline,
            "the outbox did not drain into the index"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = search(
            &restarted,
            SearchRequest {
                page_token,
                ..request.clone()
            },
        )
        .await;
        seen.extend(page.hits.iter().map(|hit| hit.name.clone()));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let distinct: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), SCHEMAS, "hits over all pages");
    assert_eq!(distinct.len(), SCHEMAS, "a schema was indexed twice");
    restarted.shutdown().await
}

/// A version written straight to the store, as another process would have.
fn offline_version(namespace: &str, i: usize) -> anyhow::Result<NewVersion> {
    let content = format!(
        r#"{{"title": "Offline {i}", "type": "object", "properties": {{"convergencefield": {{}}}}}}"#
    );
    let document = CanonicalDocument::from_slice(content.as_bytes(), 1 << 20)?;
    Ok(NewVersion {
        schema: SchemaName::new(namespace, &format!("offline-{i}"), "schema")?,
        content: document.canonical().to_owned(),
        digest: document.digest(),
        title: Some(format!("Offline {i}")),
        description: None,
        dialect: "https://json-schema.org/draft/2020-12/schema".to_owned(),
        tags: Vec::new(),
        aliases: Vec::new(),
        references: std::collections::BTreeMap::new(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_make_a_schema_popular_and_a_new_version_keeps_its_reads() -> anyhow::Result<()> {
    let server = TestServer::start_with(|config| {
        config.search_reads_every = Duration::from_millis(100);
    })
    .await?;
    // Registered first, so it is the older: recency alone would not put it first.
    server.publish("often-read", ORDER).await?;
    server.publish("rarely-read", ORDER).await?;
    for _ in 0..320 {
        server.fetch("often-read", 1).await?;
    }
    for _ in 0..32 {
        server.fetch("rarely-read", 1).await?;
    }
    let request = SearchRequest {
        sort: ovsr_proto::v1::SearchSort::Popularity as i32,
        ..request_in(&server, "purchase")
    };
    let popular_first = |r: &SearchResponse| names(r) == ["often-read", "rarely-read"];
    let response = search_until(&server, &request, popular_first).await;
    assert_eq!(names(&response), ["often-read", "rarely-read"]);

    // A new version of the often read one: were its reads forgotten, it would fall
    // behind the other.
    let v2 = ORDER.replace("What a customer bought", "What a customer ordered");
    server.publish("often-read", &v2).await?;
    let request_v2 = SearchRequest {
        query: "ordered".to_owned(),
        ..request.clone()
    };
    search_until(&server, &request_v2, |r| r.hits.len() == 1).await;
    let response = search(&server, request).await;
    assert_eq!(names(&response), ["often-read", "rarely-read"]);
    server.shutdown().await
}
