//! Listing schemas in a namespace and versions of a schema, page by page.

use ovsr_proto::v1::ListVersionsRequest;
use serde_json::json;
use tonic::Code;

use crate::harness::{
    CUSTOMER, TestServer, assert_names_field, expect_status, list_request, random_namespace,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_schemas_pages_through_a_namespace_in_name_order() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let names = [
        "item-4", "item-0", "item-6", "item-2", "item-5", "item-1", "item-3",
    ];
    for name in names {
        server.publish(name, CUSTOMER).await?;
    }

    let mut page_sizes = Vec::new();
    let mut listed = Vec::new();
    let mut token = String::new();
    for _ in 0..10 {
        let request = list_request(&server.namespace, 3, &token);
        let page = server.list_schemas(request).await?;
        page_sizes.push(page.schemas.len());
        for summary in page.schemas {
            assert_eq!(summary.namespace, server.namespace);
            assert_eq!(summary.latest_version, 1);
            listed.push(summary.name);
        }
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }

    assert_eq!(page_sizes, [3, 3, 1]);
    let mut expected = names.map(str::to_owned).to_vec();
    expected.sort();
    assert_eq!(listed, expected, "each name once, ascending");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_schemas_refuses_a_page_token_reused_with_another_namespace() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    for name in ["a", "b", "c"] {
        server.publish(name, CUSTOMER).await?;
    }
    let first_request = list_request(&server.namespace, 2, "");
    let first_page = server.list_schemas(first_request).await?;
    let token = first_page.next_page_token;
    assert!(!token.is_empty(), "two of three must leave a next page");

    let other_namespace = random_namespace("other");
    let reused = list_request(&other_namespace, 2, &token);
    let result = server.list_schemas(reused).await;

    let status = expect_status(result, &[Code::InvalidArgument]);
    assert_names_field(&status, "page_token");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_schemas_refuses_a_garbage_page_token() -> anyhow::Result<()> {
    let server = TestServer::start().await?;

    let request = list_request(&server.namespace, 2, "not-a-token!");
    let result = server.list_schemas(request).await;

    let status = expect_status(result, &[Code::InvalidArgument]);
    assert_names_field(&status, "page_token");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_schemas_refuses_or_clamps_a_page_size_over_1000() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;

    let result = server.list_schemas(list_request("", 1001, "")).await;

    match result {
        Ok(page) => assert!(page.schemas.len() <= 1000),
        Err(status) => assert_eq!(status.code(), Code::InvalidArgument, "{status:?}"),
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_versions_pages_through_every_version_in_ascending_order() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut digests = Vec::new();
    for i in 1..=5 {
        let content = json!({ "title": format!("revision {i}") }).to_string();
        digests.push(server.publish("doc", &content).await?.digest);
    }

    let mut pages = Vec::new();
    let mut token = String::new();
    for _ in 0..10 {
        let request = ListVersionsRequest {
            namespace: server.namespace.clone(),
            name: "doc".to_owned(),
            page_size: 2,
            page_token: token,
            include_deleted: false,
        };
        let page = server.schemas().list_versions(request).await?.into_inner();
        token = page.next_page_token;
        pages.push(page.versions);
        if token.is_empty() {
            break;
        }
    }

    let numbers: Vec<Vec<u32>> = pages
        .iter()
        .map(|page| page.iter().map(|version| version.version).collect())
        .collect();
    assert_eq!(numbers, [vec![1, 2], vec![3, 4], vec![5]]);
    for (version, digest) in pages.iter().flatten().zip(&digests) {
        assert_eq!(&version.digest, digest);
        assert_eq!(version.content, "", "listings carry no content");
    }
    Ok(())
}
