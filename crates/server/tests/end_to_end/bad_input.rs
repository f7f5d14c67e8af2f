//! Registrations refused for bad input: content that is not JSON or not a schema,
//! content over the size limits, malformed namespaces and names. Nothing refused is
//! stored.

use ovsr_proto::v1::ListSchemasRequest;
use serde_json::json;
use tonic::Code;

use crate::harness::{
    CUSTOMER, MIB, TestServer, assert_names_field, expect_status, list_request, random_namespace,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuses_content_that_is_not_json() -> anyhow::Result<()> {
    let server = TestServer::start().await?;

    let result = server.register("broken", "{\"type\": ").await;

    let status = expect_status(result, &[Code::InvalidArgument]);
    assert_names_field(&status, "content");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuses_json_that_is_not_a_valid_schema() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let cases = [
        (r#"{"type": 12}"#, "type"),
        (r#"{"minLength": "x"}"#, "minLength"),
    ];

    for (content, keyword) in cases {
        let result = server.register("not-a-schema", content).await;

        let status = expect_status(result, &[Code::InvalidArgument]);
        assert_names_field(&status, "content");
        let message = status.message();
        assert!(message.contains(keyword), "{message:?} lacks {keyword:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuses_content_over_the_size_limit() -> anyhow::Result<()> {
    let server = TestServer::start().await?;

    let oversized = schema_of_exact_size(MIB + 1);
    let result = server.register("huge", &oversized).await;

    let codes = [Code::InvalidArgument, Code::ResourceExhausted];
    let status = expect_status(result, &codes);
    let message = status.message().to_lowercase();
    let size_words = ["limit", "1048576", "bytes", "size"];
    let mentions_size = size_words.iter().any(|word| message.contains(word));
    assert!(mentions_size, "{message:?} does not mention the limit");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_accepts_content_exactly_at_the_size_limit() -> anyhow::Result<()> {
    let server = TestServer::start().await?;

    let largest = schema_of_exact_size(MIB);
    let version = server.publish("largest", &largest).await?;

    assert_eq!(version.size_bytes, MIB as u64);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuses_a_message_over_the_transport_limit_as_resource_exhausted()
-> anyhow::Result<()> {
    let server = TestServer::start_with(|config| config.max_request_bytes = 0).await?;

    // Past the gRPC decoding limit (here the schema limit plus 64 KiB), so the
    // transport refuses the message before the registry sees the content.
    let oversized = schema_of_exact_size(2_000_000);
    let result = server.register("huge", &oversized).await;

    let status = expect_status(result, &[Code::ResourceExhausted]);
    let message = status.message();
    assert!(message.contains("too large"), "{message:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuses_an_uppercase_namespace() -> anyhow::Result<()> {
    let server = TestServer::start().await?;

    let result = server.register_in("Acme", "customer", CUSTOMER).await;

    let status = expect_status(result, &[Code::InvalidArgument]);
    assert_names_field(&status, "namespace");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuses_a_name_containing_a_slash() -> anyhow::Result<()> {
    let server = TestServer::start().await?;

    let result = server.register("bad/name", CUSTOMER).await;

    let status = expect_status(result, &[Code::InvalidArgument]);
    assert_names_field(&status, "name");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_registrations_store_nothing() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    // The pinned-version rule needs a real target, kept out of the test's namespace.
    let targets = random_namespace("targets");
    server.register_in(&targets, "customer", CUSTOMER).await?;
    let public_url = server.public_url();
    let latest = format!("{public_url}/schemas/{targets}/customer/latest");

    let external = json!({ "$ref": "https://example.com/x.json" });
    let floating = json!({ "$ref": latest });
    let dangling = json!({ "$ref": "../ghost/1" });

    let refused = [
        ("broken", "{\"type\": ".to_owned()),
        ("not-a-schema", r#"{"type": 12}"#.to_owned()),
        ("huge", schema_of_exact_size(MIB + 1)),
        ("external", external.to_string()),
        ("floating", floating.to_string()),
        ("dangling", dangling.to_string()),
    ];
    for (name, content) in &refused {
        let result = server.register(name, content).await;
        assert!(result.is_err(), "{name} was accepted");
    }
    let listing = ListSchemasRequest {
        include_deleted: true,
        ..list_request(&server.namespace, 0, "")
    };
    let listed = server.list_schemas(listing).await?;

    assert!(listed.schemas.is_empty(), "stored: {:?}", listed.schemas);
    Ok(())
}

/// A valid schema whose JSON text is exactly `size` bytes long, already canonical.
fn schema_of_exact_size(size: usize) -> String {
    let frame = r#"{"description":""}"#.len();
    let filler = "a".repeat(size - frame);
    let schema = format!(r#"{{"description":"{filler}"}}"#);
    assert_eq!(schema.len(), size);
    schema
}
