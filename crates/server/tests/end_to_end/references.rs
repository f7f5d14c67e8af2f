//! `$ref` within the registry: refs to pinned registry versions are followed when
//! validating, and refs outside the registry, to `latest` or to nothing are refused.

use ovsr_proto::v1::OutputFormat;
use serde_json::json;
use tonic::Code;

use crate::harness::{CUSTOMER, TestServer, expect_status};

/// Publishes `customer` v1 and an `order` whose `customer` property is `$ref:
/// customer_ref`, then validates a good and a bad order through it. In `customer_ref`,
/// `{base}` stands for `{public_url}/schemas/{namespace}`.
async fn assert_order_checks_customer_through(customer_ref: &str) -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    let base = format!("{}/schemas/{}", server.public_url(), server.namespace);
    let customer_ref = customer_ref.replace("{base}", &base);
    let customer_property = json!({ "$ref": customer_ref });
    let order = json!({ "type": "object", "properties": { "customer": customer_property } });

    let good = r#"{"customer": {"id": 7}}"#;
    let bad = r#"{"customer": {"id": "seven"}}"#;

    let order = server.publish("order", &order.to_string()).await?;
    let format = OutputFormat::Basic;
    let selector = server.selector("order", order.version);
    let good_result = server.validate(selector.clone(), good, format).await?;
    let bad_result = server.validate(selector, bad, format).await?;

    assert!(good_result.valid, "{:?}", good_result.errors);
    assert!(!bad_result.valid);
    let errors = &bad_result.errors;
    let mut locations = errors.iter().map(|error| &error.instance_location);
    let located = locations.any(|location| location == "/customer/id");
    assert!(located, "no error at /customer/id: {errors:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relative_ref_to_a_pinned_registry_version_is_followed() -> anyhow::Result<()> {
    assert_order_checks_customer_through("../customer/1").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absolute_ref_to_a_pinned_registry_version_is_followed() -> anyhow::Result<()> {
    assert_order_checks_customer_through("{base}/customer/1").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuses_a_ref_outside_the_registry() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let external = "https://example.com/x.json";

    let content = json!({ "$ref": external }).to_string();
    let result = server.register("external", &content).await;

    let status = expect_status(result, &[Code::InvalidArgument]);
    let message = status.message();
    assert!(message.contains(external), "{message:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuses_a_ref_to_the_moving_latest_version() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;

    let content = json!({ "$ref": "../customer/latest" }).to_string();
    let result = server.register("order", &content).await;

    let status = expect_status(result, &[Code::InvalidArgument]);
    let message = status.message();
    assert!(message.contains("latest"), "{message:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuses_a_ref_to_a_schema_that_does_not_exist() -> anyhow::Result<()> {
    let server = TestServer::start().await?;

    let content = json!({ "$ref": "../ghost/1" }).to_string();
    let result = server.register("order", &content).await;

    let codes = [Code::InvalidArgument, Code::FailedPrecondition];
    let status = expect_status(result, &codes);
    let message = status.message();
    assert!(message.contains("ghost"), "{message:?}");
    Ok(())
}
