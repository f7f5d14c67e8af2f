//! Validating documents against a registered schema, by version or by digest.

use anyhow::Context as _;
use ovsr_proto::v1::OutputFormat;
use ovsr_server::ServeConfig;
use ovsr_validate::Engine;
use serde_json::json;
use tonic::Code;

use crate::harness::{
    CUSTOMER, CUSTOMER_V2, TestServer, assert_names_field, by_digest, expect_status,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_accepts_a_valid_document_without_errors() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let schema = server.publish("customer", CUSTOMER).await?;

    let document = r#"{"id": 7, "email": "a@example.com"}"#;
    let selector = server.selector("customer", 1);
    let format = OutputFormat::Basic;
    let result = server.validate(selector, document, format).await?;

    assert!(result.valid);
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    assert_eq!(result.schema_digest, schema.digest);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_reports_where_an_invalid_document_fails() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;

    let document = r#"{"id": "seven"}"#;
    let selector = server.selector("customer", 1);
    let format = OutputFormat::Basic;
    let result = server.validate(selector, document, format).await?;

    assert!(!result.valid);
    let errors = &result.errors;
    let described = errors.iter().all(|error| !error.message.is_empty());
    assert!(described, "{errors:?}");
    let at_id = errors.iter().find(|error| error.instance_location == "/id");
    let at_id = at_id.with_context(|| format!("no error at /id: {errors:?}"))?;
    assert!(at_id.keyword_location.ends_with("/type"), "{at_id:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_with_the_flag_format_answers_only_valid() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;

    let document = r#"{"id": "seven"}"#;
    let selector = server.selector("customer", 1);
    let format = OutputFormat::Flag;
    let result = server.validate(selector, document, format).await?;

    assert!(!result.valid);
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_by_digest_uses_the_content_with_that_digest() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let integer_id = server.publish("customer", CUSTOMER).await?;
    let string_id = server.publish("customer", CUSTOMER_V2).await?;
    let document = r#"{"id": "c-1"}"#;

    let format = OutputFormat::Basic;
    let v1 = by_digest(&integer_id.digest);
    let v1_result = server.validate(v1, document, format).await?;
    let v2 = by_digest(&string_id.digest);
    let v2_result = server.validate(v2, document, format).await?;

    assert!(!v1_result.valid);
    assert_eq!(v1_result.schema_digest, integer_id.digest);
    assert!(v2_result.valid);
    assert_eq!(v2_result.schema_digest, string_id.digest);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_against_an_unknown_schema_is_not_found() -> anyhow::Result<()> {
    let server = TestServer::start().await?;

    let selector = server.selector("ghost", 1);
    let result = server.validate(selector, "{}", OutputFormat::Basic).await;

    expect_status(result, &[Code::NotFound]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_refuses_a_document_that_is_not_json() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;

    let selector = server.selector("customer", 1);
    let format = OutputFormat::Basic;
    let result = server.validate(selector, "{\"id\": ", format).await;

    let status = expect_status(result, &[Code::InvalidArgument]);
    assert_names_field(&status, "document");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_refuses_a_document_over_the_configured_limit() -> anyhow::Result<()> {
    let configure = |config: &mut ServeConfig| config.max_document_bytes = 1024;
    let server = TestServer::start_with(configure).await?;
    server.publish("customer", CUSTOMER).await?;
    let document = json!({ "id": 1, "email": "x".repeat(2048) }).to_string();

    let selector = server.selector("customer", 1);
    let format = OutputFormat::Basic;
    let result = server.validate(selector, &document, format).await;

    let codes = [Code::InvalidArgument, Code::ResourceExhausted];
    let status = expect_status(result, &codes);
    assert_names_field(&status, "document");
    Ok(())
}

/// Look-around is beyond boon's regex engine and within jsonschema's, so where such a
/// pattern is accepted shows which engine the server runs.
const LOOKAHEAD: &str = r#"{"type": "string", "pattern": "^(?!draft-)"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_engine_accepts_look_around_patterns() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("slug", LOOKAHEAD).await?;

    let selector = server.selector("slug", 1);
    let format = OutputFormat::Flag;
    let kept = server
        .validate(selector.clone(), r#""release-1""#, format)
        .await?;
    let refused = server.validate(selector, r#""draft-1""#, format).await?;

    assert!(kept.valid);
    assert!(!refused.valid);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_engine_compiles_schemas() -> anyhow::Result<()> {
    let server = TestServer::start_with(|config| config.validation_engine = Engine::Boon).await?;

    let status = server.register("slug", LOOKAHEAD).await.unwrap_err();

    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("pattern"), "{status:?}");
    Ok(())
}
