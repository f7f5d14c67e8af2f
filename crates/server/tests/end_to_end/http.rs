//! The plain-HTTP API on the gRPC port: schema JSON by name and version or by digest,
//! with entity tags, cache lifetimes, status codes and compression.

use ovsr_core::Digest;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use serde_json::json;

use crate::harness::{CUSTOMER, CUSTOMER_V2, TestServer, canonical, header};

/// What immutable responses must carry: one year, never revalidated.
const IMMUTABLE_MAX_AGE: &str = "max-age=31536000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_serves_a_version_as_immutable_schema_json() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let version = server.publish("customer", CUSTOMER).await?;

    let path = server.schema_path("customer", "1");
    let response = server.http_get(&path).await?;

    assert_eq!(response.status(), StatusCode::OK);
    let content_type = header(&response, CONTENT_TYPE);
    let is_schema_json = content_type.starts_with("application/schema+json");
    assert!(is_schema_json, "{content_type}");
    assert_eq!(header(&response, ETAG), etag_of(&version.digest));
    let cache_control = header(&response, CACHE_CONTROL).to_owned();
    assert!(cache_control.contains("immutable"), "{cache_control}");
    assert!(cache_control.contains(IMMUTABLE_MAX_AGE), "{cache_control}");
    let body = response.bytes().await?;
    assert_eq!(Digest::of_canonical(&body).to_string(), version.digest);
    assert_eq!(body, canonical(CUSTOMER).canonical().as_bytes());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_if_none_match_with_the_etag_answers_not_modified() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let version = server.publish("customer", CUSTOMER).await?;
    let etag = etag_of(&version.digest);

    let url = server.url(&server.schema_path("customer", "1"));
    let request = server.http.get(url).header(IF_NONE_MATCH, &etag);
    let response = request.send().await?;

    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&response, ETAG), etag);
    assert!(response.bytes().await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_latest_is_served_with_a_short_max_age() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    let second = server.publish("customer", CUSTOMER_V2).await?;

    let path = server.schema_path("customer", "latest");
    let response = server.http_get(&path).await?;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, ETAG), etag_of(&second.digest));
    let cache_control = header(&response, CACHE_CONTROL).to_owned();
    assert!(!cache_control.contains("immutable"), "{cache_control}");
    let max_age = max_age_seconds(&cache_control);
    let short = max_age.is_some_and(|seconds| seconds <= 3600);
    assert!(short, "{cache_control:?} has no max-age of an hour or less");
    let body = response.bytes().await?;
    assert_eq!(body, canonical(CUSTOMER_V2).canonical().as_bytes());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_serves_content_by_digest_as_immutable() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let version = server.publish("customer", CUSTOMER).await?;

    let path = format!("/digests/{}", version.digest);
    let response = server.http_get(&path).await?;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, ETAG), etag_of(&version.digest));
    let cache_control = header(&response, CACHE_CONTROL).to_owned();
    assert!(cache_control.contains("immutable"), "{cache_control}");
    assert!(cache_control.contains(IMMUTABLE_MAX_AGE), "{cache_control}");
    let body = response.bytes().await?;
    assert_eq!(Digest::of_canonical(&body).to_string(), version.digest);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_unknown_schema_or_digest_is_not_found() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    let unknown_digest = format!("sha256:{}", "0".repeat(64));

    let paths = [
        server.schema_path("ghost", "1"),
        server.schema_path("ghost", "latest"),
        server.schema_path("customer", "2"),
        format!("/digests/{unknown_digest}"),
    ];
    for path in paths {
        let response = server.http_get(&path).await?;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_deleted_version_is_gone_or_not_found() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    server.delete("customer", 1).await?;

    let path = server.schema_path("customer", "1");
    let response = server.http_get(&path).await?;

    let status = response.status();
    let absent = [StatusCode::GONE, StatusCode::NOT_FOUND];
    assert!(absent.contains(&status), "{status}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_malformed_digest_name_or_version_is_bad_request() -> anyhow::Result<()> {
    let server = TestServer::start().await?;

    let paths = [
        "/digests/sha256:xyz".to_owned(),
        "/digests/md5:d41d8cd98f00b204e9800998ecf8427e".to_owned(),
        "/schemas/Acme/customer/1".to_owned(),
        server.schema_path("Customer", "1"),
        server.schema_path("customer", "one"),
        server.schema_path("customer", "0"),
    ];
    for path in paths {
        let response = server.http_get(&path).await?;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    Ok(())
}

/// Fetches a large schema asking for `encoding`: the raw answer must be compressed with
/// it, and a client that decodes it must get the canonical bytes back.
async fn assert_large_schema_is_compressed_with(encoding: &str) -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let schema = large_schema();
    let expected = canonical(&schema);
    server.publish("large", &schema).await?;
    let url = server.url(&server.schema_path("large", "1"));

    let request = server.http.get(&url).header(ACCEPT_ENCODING, encoding);
    let raw = request.send().await?;
    assert_eq!(raw.status(), StatusCode::OK);
    assert_eq!(header(&raw, CONTENT_ENCODING), encoding);
    assert_eq!(header(&raw, VARY), "accept-encoding");
    // The tag names the decoded bytes, whatever the coding.
    let digest = Digest::of_canonical(expected.canonical().as_bytes()).to_string();
    assert_eq!(header(&raw, ETAG), etag_of(&digest));
    let raw_body = raw.bytes().await?;
    let compressed = raw_body.len() < expected.canonical().len();
    assert!(compressed, "{} bytes, not compressed", raw_body.len());

    // The compressed form is made once and served again as it was.
    let again = server.http.get(&url).header(ACCEPT_ENCODING, encoding);
    assert_eq!(again.send().await?.bytes().await?, raw_body);

    let decoding = reqwest::Client::builder()
        .gzip(encoding == "gzip")
        .brotli(encoding == "br")
        .build()?;
    let decoded = decoding.get(&url).send().await?.bytes().await?;
    assert_eq!(decoded, expected.canonical().as_bytes());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_compresses_a_large_schema_with_gzip_when_asked() -> anyhow::Result<()> {
    assert_large_schema_is_compressed_with("gzip").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_compresses_a_large_schema_with_brotli_when_asked() -> anyhow::Result<()> {
    assert_large_schema_is_compressed_with("br").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_picks_the_coding_by_weight_and_serves_small_or_refused_ones_as_they_are()
-> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("large", &large_schema()).await?;
    server.publish("customer", CUSTOMER).await?;
    let large = server.url(&server.schema_path("large", "1"));
    let small = server.url(&server.schema_path("customer", "1"));

    let cases = [
        (&large, "gzip, br", Some("br")),
        (&large, "br;q=0.4, gzip;q=0.8", Some("gzip")),
        (&large, "br;q=0, gzip;q=0, identity", None),
        (&large, "deflate", None),
        // A few hundred bytes are sent as they are: compressing saves too little.
        (&small, "br, gzip", None),
    ];
    for (url, accept, expected) in cases {
        let response = server
            .http
            .get(url.as_str())
            .header(ACCEPT_ENCODING, accept)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::OK, "{accept}");
        let encoding = response.headers().get(CONTENT_ENCODING);
        let encoding = encoding.map(|value| value.to_str()).transpose()?;
        assert_eq!(encoding, expected, "{url} with {accept}");
    }

    // A conditional request asking for a coding still answers 304 with no body.
    let version = server.http.get(large.as_str()).send().await?;
    let etag = header(&version, ETAG).to_owned();
    let conditional = server
        .http
        .get(large.as_str())
        .header(ACCEPT_ENCODING, "br")
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await?;
    assert_eq!(conditional.status(), StatusCode::NOT_MODIFIED);
    assert!(conditional.headers().get(CONTENT_ENCODING).is_none());
    assert!(conditional.bytes().await?.is_empty());
    Ok(())
}

fn max_age_seconds(cache_control: &str) -> Option<u64> {
    let mut directives = cache_control.split(',').map(str::trim);
    let max_age = directives.find_map(|d| d.strip_prefix("max-age="))?;
    max_age.parse().ok()
}

/// A quoted entity tag, as the HTTP API writes a digest.
fn etag_of(digest: &str) -> String {
    format!("\"{digest}\"")
}

/// A schema of several kilobytes that compresses well, for the compression tests.
fn large_schema() -> String {
    let property = json!({ "type": "string", "description": "a field of a large schema" });
    let properties: serde_json::Map<String, serde_json::Value> = (0..80)
        .map(|i| (format!("field_{i:03}"), property.clone()))
        .collect();
    json!({ "type": "object", "properties": properties }).to_string()
}
