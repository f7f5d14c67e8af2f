//! Deprecating and deleting versions: what stays served, what is hidden, and how
//! `latest` and version numbers move.

use anyhow::Context as _;
use ovsr_proto::v1::{GetSchemaRequest, ListSchemasRequest, VersionState};
use reqwest::StatusCode;
use tonic::Code;

use crate::harness::{
    CUSTOMER, CUSTOMER_V2, TestServer, canonical, expect_status, get_request, header, list_request,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprecated_version_is_still_served_in_the_deprecated_state() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;

    let deprecated = server.deprecate("customer", 1).await?;
    let served = server.fetch("customer", 1).await?;

    assert_eq!(deprecated.state, VersionState::Deprecated as i32);
    assert_eq!(served.state, VersionState::Deprecated as i32);
    assert_eq!(served.content, canonical(CUSTOMER).canonical());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_marks_a_deprecated_version_with_a_deprecation_header() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    server.deprecate("customer", 1).await?;

    let path = server.schema_path("customer", "1");
    let response = server.http_get(&path).await?;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(!header(&response, "deprecation").is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprecate_refuses_version_zero_and_unknown_versions() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;

    let version_zero = server.deprecate("customer", 0).await;
    let unknown = server.deprecate("customer", 9).await;

    expect_status(version_zero, &[Code::InvalidArgument]);
    expect_status(unknown, &[Code::NotFound]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_version_is_not_found_unless_deleted_versions_are_included() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    server.publish("customer", CUSTOMER_V2).await?;

    let deleted = server.delete("customer", 2).await?;
    let request = get_request(server.selector("customer", 2));
    let hidden = server.get(request.clone()).await;
    let audit = GetSchemaRequest {
        include_deleted: true,
        ..request
    };
    let shown = server.get(audit).await?.schema_version;

    assert_eq!(deleted, [2]);
    expect_status(hidden, &[Code::NotFound]);
    let shown = shown.context("no schema_version")?;
    assert_eq!(shown.version, 2);
    assert_eq!(shown.state, VersionState::Deleted as i32);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_latest_version_moves_latest_back_to_the_previous_one() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let first = server.publish("customer", CUSTOMER).await?;
    server.publish("customer", CUSTOMER_V2).await?;

    server.delete("customer", 2).await?;
    let latest = server.fetch("customer", 0).await?;

    assert_eq!(latest.version, 1);
    assert_eq!(latest.digest, first.digest);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_numbers_are_never_reused_after_a_delete() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    server.publish("customer", CUSTOMER_V2).await?;
    server.delete("customer", 2).await?;

    // The deleted version's own content: deleted versions never deduplicate.
    let again = server.register("customer", CUSTOMER_V2).await?;

    assert!(again.created);
    let version = again.schema_version.context("no schema_version")?;
    assert_eq!(version.version, 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_with_version_zero_deletes_every_remaining_version() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    for content in [CUSTOMER, CUSTOMER_V2, r#"{"type":"object"}"#] {
        server.publish("customer", content).await?;
    }
    server.delete("customer", 2).await?;

    let mut deleted = server.delete("customer", 0).await?;
    deleted.sort_unstable();
    let listing = list_request(&server.namespace, 0, "");
    let listed = server.list_schemas(listing.clone()).await?;
    let audit_listing = ListSchemasRequest {
        include_deleted: true,
        ..listing
    };
    let audit = server.list_schemas(audit_listing).await?;

    assert_eq!(deleted, [1, 3], "already deleted versions are not repeated");
    assert!(listed.schemas.is_empty(), "{:?}", listed.schemas);
    assert_eq!(audit.schemas.len(), 1);
    assert_eq!(audit.schemas[0].name, "customer");
    assert_eq!(audit.schemas[0].latest_version, 0);
    Ok(())
}
