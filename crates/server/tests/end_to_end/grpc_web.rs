//! gRPC-Web on the same port, as a browser speaks it: over HTTP/1.1, messages and
//! trailers framed in the body, and CORS preflights answered for allowed origins only.

use prost::Message as _;
use reqwest::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_TYPE, ORIGIN};

use ovsr_proto::v1::GetSchemaResponse;

use crate::harness::{CUSTOMER, TestServer, get_request};

const GRPC_WEB: &str = "application/grpc-web+proto";

/// One gRPC-Web frame: a flag byte (0x80 for trailers), the length, the payload.
fn frame(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![flags];
    out.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The frames of a gRPC-Web body, as (flags, payload).
fn frames(mut body: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while body.len() >= 5 {
        let len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
        out.push((body[0], body[5..5 + len].to_vec()));
        body = &body[5 + len..];
    }
    assert!(body.is_empty(), "a truncated frame");
    out
}

async fn post_web(server: &TestServer, path: &str, message: &[u8]) -> reqwest::Response {
    server
        .http
        .post(server.url(path))
        .header(CONTENT_TYPE, GRPC_WEB)
        .header("x-grpc-web", "1")
        .body(frame(0, message))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_schema_answers_over_grpc_web_with_status_in_trailers() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let published = server.publish("customer", CUSTOMER).await?;
    let request = get_request(server.selector("customer", 1)).encode_to_vec();

    let response = post_web(&server, "/ovsr.v1.SchemaService/GetSchema", &request).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()[CONTENT_TYPE].to_str()?.to_owned();
    assert!(
        content_type.starts_with("application/grpc-web"),
        "{content_type}"
    );
    let body = response.bytes().await?;
    let parts = frames(&body);
    assert_eq!(parts.len(), 2, "one message, then the trailers");
    let answer = GetSchemaResponse::decode(parts[0].1.as_slice())?;
    assert_eq!(answer.schema_version.unwrap().digest, published.digest);
    assert_eq!(parts[1].0, 0x80);
    let trailers = String::from_utf8(parts[1].1.clone())?;
    assert!(trailers.contains("grpc-status:0"), "{trailers}");

    // A failing call carries its status in the trailers too.
    let missing = get_request(server.selector("absent", 1)).encode_to_vec();
    let response = post_web(&server, "/ovsr.v1.SchemaService/GetSchema", &missing).await;
    let status = response
        .headers()
        .get("grpc-status")
        .map(|value| value.to_str().unwrap().to_owned());
    let body = response.bytes().await?;
    let trailers = frames(&body)
        .into_iter()
        .find(|(flags, _)| *flags == 0x80)
        .map(|(_, payload)| String::from_utf8(payload).unwrap());
    let not_found = status.as_deref() == Some("5")
        || trailers.is_some_and(|trailers| trailers.contains("grpc-status:5"));
    assert!(not_found, "NOT_FOUND expected");
    server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_are_answered_for_allowed_origins_only() -> anyhow::Result<()> {
    let allowed = "https://app.example";
    let server = TestServer::start_with(|config| {
        config.grpc_web_allowed_origins = vec![allowed.to_owned()];
    })
    .await?;
    let preflight = |origin: &'static str| {
        server
            .http
            .request(
                reqwest::Method::OPTIONS,
                server.url("/ovsr.v1.SchemaService/GetSchema"),
            )
            .header(ORIGIN, origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,x-grpc-web")
            .send()
    };
    let response = preflight(allowed).await?;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], allowed);
    let response = preflight("https://elsewhere.example").await?;
    assert!(
        !response.headers().contains_key(ACCESS_CONTROL_ALLOW_ORIGIN),
        "an origin not listed was allowed"
    );

    let published = server.publish("customer", CUSTOMER).await?;
    let request = get_request(server.selector("customer", 1)).encode_to_vec();
    let response = server
        .http
        .post(server.url("/ovsr.v1.SchemaService/GetSchema"))
        .header(CONTENT_TYPE, GRPC_WEB)
        .header(ORIGIN, allowed)
        .body(frame(0, &request))
        .send()
        .await?;
    assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], allowed);
    let body = response.bytes().await?;
    let answer = GetSchemaResponse::decode(frames(&body)[0].1.as_slice())?;
    assert_eq!(answer.schema_version.unwrap().digest, published.digest);
    server.shutdown().await
}
