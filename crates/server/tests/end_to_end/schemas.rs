//! Registering a schema and fetching it back by name, version or digest, including the
//! not-modified answer to a digest the client already holds.

use anyhow::Context as _;
use ovsr_proto::v1::{GetSchemaRequest, VersionState};
use ovsr_server::ServeConfig;
use tonic::Code;

use crate::harness::{
    CUSTOMER, CUSTOMER_V2, TestServer, assert_names_field, by_digest, canonical, expect_status,
    get_request,
};

/// [`CUSTOMER`] again, with other whitespace and its keys in another order.
const CUSTOMER_REFORMATTED: &str = r#"{"required":["id"],"properties":{
    "email":{"type":"string"},"id":{"type":"integer"}},"title":"Customer","type":"object"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_creates_version_one_addressed_by_its_canonical_digest() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let expected = canonical(CUSTOMER);

    let response = server.register("customer", CUSTOMER).await?;

    assert!(response.created);
    let version = response.schema_version.context("no schema_version")?;
    assert_eq!(version.namespace, server.namespace);
    assert_eq!(version.name, "customer");
    assert_eq!(version.version, 1);
    assert_is_sha256_digest(&version.digest);
    assert_eq!(version.digest, expected.digest().to_string());
    assert_eq!(version.content, expected.canonical());
    assert_eq!(version.size_bytes, expected.canonical().len() as u64);
    assert_eq!(version.state, VersionState::Active as i32);
    assert_eq!(version.title, "Customer");
    let dialect = &version.dialect;
    assert!(dialect.contains("2020-12"), "{dialect:?}");
    let path = server.schema_path("customer", "1");
    let url = format!("{}{path}", server.public_url());
    assert_eq!(version.url, url);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_by_name_and_version_serves_the_canonical_content() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let expected = canonical(CUSTOMER);
    server.publish("customer", CUSTOMER).await?;

    let version = server.fetch("customer", 1).await?;

    assert_eq!(version.version, 1);
    assert_eq!(version.content, expected.canonical());
    assert_eq!(version.digest, expected.digest().to_string());
    assert_eq!(version.state, VersionState::Active as i32);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_by_digest_serves_the_canonical_content() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let published = server.publish("customer", CUSTOMER).await?;

    let request = get_request(by_digest(&published.digest));
    let response = server.get(request).await?;

    let version = response.schema_version.context("no schema_version")?;
    assert_eq!(version.digest, published.digest);
    assert_eq!(version.content, canonical(CUSTOMER).canonical());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_reformatted_identical_content_returns_the_existing_version()
-> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let first = server.publish("customer", CUSTOMER).await?;

    let again = server.register("customer", CUSTOMER_REFORMATTED).await?;

    assert!(!again.created);
    let version = again.schema_version.context("no schema_version")?;
    assert_eq!(version.version, first.version);
    assert_eq!(version.digest, first.digest);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_different_content_creates_the_next_version() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;

    let response = server.register("customer", CUSTOMER_V2).await?;

    assert!(response.created);
    let version = response.schema_version.context("no schema_version")?;
    assert_eq!(version.version, 2);
    assert_eq!(version.digest, canonical(CUSTOMER_V2).digest().to_string());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_with_version_zero_serves_the_latest_version() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    let second = server.publish("customer", CUSTOMER_V2).await?;

    let latest = server.fetch("customer", 0).await?;

    assert_eq!(latest.version, 2);
    assert_eq!(latest.digest, second.digest);
    assert_eq!(latest.content, canonical(CUSTOMER_V2).canonical());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_with_the_current_digest_answers_not_modified_without_content() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let published = server.publish("customer", CUSTOMER).await?;

    let request = GetSchemaRequest {
        if_none_match: published.digest.clone(),
        ..get_request(server.selector("customer", 0))
    };
    let response = server.get(request).await?;

    assert!(response.not_modified);
    let version = response.schema_version.context("no schema_version")?;
    assert_eq!(version.content, "");
    assert_eq!(version.digest, published.digest);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_with_a_stale_digest_serves_the_full_content() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let first = server.publish("customer", CUSTOMER).await?;
    server.publish("customer", CUSTOMER_V2).await?;

    let request = GetSchemaRequest {
        if_none_match: first.digest,
        ..get_request(server.selector("customer", 0))
    };
    let response = server.get(request).await?;

    assert!(!response.not_modified);
    let version = response.schema_version.context("no schema_version")?;
    assert_eq!(version.version, 2);
    assert_eq!(version.content, canonical(CUSTOMER_V2).canonical());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_of_an_unknown_schema_or_digest_is_not_found() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let unknown_digest = format!("sha256:{}", "0".repeat(64));

    let by_name = server.get(get_request(server.selector("ghost", 1))).await;
    let by_content = server.get(get_request(by_digest(&unknown_digest))).await;

    expect_status(by_name, &[Code::NotFound]);
    expect_status(by_content, &[Code::NotFound]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_without_a_target_or_with_a_malformed_digest_is_invalid_argument() -> anyhow::Result<()>
{
    let server = TestServer::start().await?;

    let no_target = server.get(GetSchemaRequest::default()).await;
    let bad_digest = server.get(get_request(by_digest("sha256:xyz"))).await;

    expect_status(no_target, &[Code::InvalidArgument]);
    let status = expect_status(bad_digest, &[Code::InvalidArgument]);
    assert_names_field(&status, "digest");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_urls_use_the_configured_public_url() -> anyhow::Result<()> {
    let public_url = "https://schemas.example.test";
    let configure = |config: &mut ServeConfig| config.public_url = Some(public_url.into());
    let server = TestServer::start_with(configure).await?;

    let version = server.publish("customer", CUSTOMER).await?;

    assert_eq!(server.public_url(), public_url);
    let path = server.schema_path("customer", "1");
    assert_eq!(version.url, format!("{public_url}{path}"));
    Ok(())
}

#[track_caller]
fn assert_is_sha256_digest(digest: &str) {
    let is_hex = |hex: &str| hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let hex = digest.strip_prefix("sha256:");
    let well_formed = hex.is_some_and(|hex| hex.len() == 64 && is_hex(hex));
    assert!(well_formed, "{digest:?} is not sha256:<64 hex digits>");
}
