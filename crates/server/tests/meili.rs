//! The server on Meilisearch: search through it, UNAVAILABLE while it is down with
//! registering and reading untouched, and an index that converges on every change
//! made meanwhile once it is back. Each test runs its own Meilisearch; without a
//! binary the tests say they were skipped.

#![allow(clippy::unwrap_used)]

#[path = "end_to_end/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "../../search/tests/support/meili.rs"]
mod meili;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use harness::TestServer;
use meili::{MASTER_KEY, MeiliServer};
use ovsr_proto::v1::{SearchRequest, SearchResponse};
use ovsr_server::Secret;
use tonic::{Code, Status};

/// How long a change may take to become searchable.
const CONVERGENCE_LIMIT: Duration = Duration::from_secs(30);

const ORDER: &str = r#"{
    "type": "object",
    "title": "Purchase order",
    "description": "What a customer bought",
    "properties": { "shippingAddress": { "type": "string" } }
}"#;

/// A private Meilisearch, or `None` (having said so) without a binary.
fn private_meili(test: &str) -> Option<MeiliServer> {
    let Some(binary) = meili::binary() else {
        meili::say_skipped(test);
        return None;
    };
    Some(MeiliServer::start(binary))
}

async fn server_on(meili: &MeiliServer) -> TestServer {
    let url = meili.url();
    TestServer::start_with(|config| {
        config.meili_url = Some(url);
        config.meili_key = Some(Secret::new(MASTER_KEY));
        config.meili_timeout = Duration::from_millis(500);
    })
    .await
    .unwrap()
}

fn request_in(server: &TestServer, query: &str) -> SearchRequest {
    SearchRequest {
        query: query.to_owned(),
        namespaces: vec![server.namespace.clone()],
        page_size: 100,
        ..Default::default()
    }
}

async fn try_search(
    server: &TestServer,
    request: &SearchRequest,
) -> Result<SearchResponse, Status> {
    let response = server.search().search(request.clone()).await;
    response.map(tonic::Response::into_inner)
}

/// Searches until `done` holds, failing past the limit.
async fn search_until(
    server: &TestServer,
    request: &SearchRequest,
    done: impl Fn(&SearchResponse) -> bool,
) -> SearchResponse {
    let deadline = Instant::now() + CONVERGENCE_LIMIT;
    loop {
        if let Ok(response) = try_search(server, request).await
            && done(&response)
        {
            return response;
        }
        assert!(Instant::now() < deadline, "search did not converge");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn names(response: &SearchResponse) -> BTreeSet<String> {
    response.hits.iter().map(|hit| hit.name.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_on_meilisearch_finds_by_typo_and_hides_deprecated() {
    let Some(meili) = private_meili("search_on_meilisearch_finds_by_typo_and_hides_deprecated")
    else {
        return;
    };
    let server = server_on(&meili).await;
    server.publish("purchase-order", ORDER).await.unwrap();

    let request = request_in(&server, "purchse shippingaddress");
    let found = search_until(&server, &request, |r| r.hits.len() == 1).await;
    let hit = &found.hits[0];
    assert_eq!(hit.name, "purchase-order");
    assert_eq!(hit.title, "Purchase order");
    assert!(
        hit.highlights.iter().any(|h| h.snippet.contains("<em>")),
        "no highlight in {:?}",
        hit.highlights
    );

    server.deprecate("purchase-order", 1).await.unwrap();
    search_until(&server, &request, |r| r.hits.is_empty()).await;
    let with_deprecated = SearchRequest {
        include_deprecated: true,
        ..request.clone()
    };
    search_until(&server, &with_deprecated, |r| r.hits.len() == 1).await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meilisearch_down_fails_search_only_and_the_index_converges_after() {
    const OFFLINE: usize = 1000;
    let Some(mut meili) =
        private_meili("meilisearch_down_fails_search_only_and_the_index_converges_after")
    else {
        return;
    };
    let server = server_on(&meili).await;
    server.publish("before", ORDER).await.unwrap();
    let request = request_in(&server, "purchase");
    search_until(&server, &request, |r| r.hits.len() == 1).await;

    meili.stop();
    let status = try_search(&server, &request_in(&server, "anything"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status.message().contains("Meilisearch"),
        "unclear message: {}",
        status.message()
    );
    // Registering and reading go on while search is down.
    for i in 0..OFFLINE {
        server
            .publish(&format!("offline-{i}"), ORDER)
            .await
            .unwrap();
    }
    let read = server.fetch("offline-7", 1).await.unwrap();
    assert_eq!(read.version, 1);

    meili.resume();
    let converged = search_until(&server, &request, |r| {
        r.estimated_total_hits == OFFLINE as u64 + 1
    })
    .await;
    assert!(names(&converged).contains("offline-0"));
    // Every schema once, over all pages.
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = try_search(
            &server,
            &SearchRequest {
                page_token,
                ..request.clone()
            },
        )
        .await
        .unwrap();
        seen.extend(page.hits.iter().map(|hit| hit.name.clone()));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let distinct: BTreeSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), distinct.len()), (OFFLINE + 1, OFFLINE + 1));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_started_while_meilisearch_is_down_serves_once_it_is_up() {
    let Some(mut meili) =
        private_meili("a_server_started_while_meilisearch_is_down_serves_once_it_is_up")
    else {
        return;
    };
    meili.stop();
    let server = server_on(&meili).await;
    server.publish("early", ORDER).await.unwrap();
    let status = try_search(&server, &request_in(&server, "purchase"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");

    meili.resume();
    let request = request_in(&server, "purchase");
    let found = search_until(&server, &request, |r| r.hits.len() == 1).await;
    assert_eq!(names(&found), BTreeSet::from(["early".to_owned()]));
    server.shutdown().await.unwrap();
}
