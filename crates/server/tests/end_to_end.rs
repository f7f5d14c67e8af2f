//! End-to-end tests: each test starts the real server on `127.0.0.1:0` over its own data
//! directory and talks to it as a client does, over gRPC and plain HTTP on the one port.
//!
//! Every test also works in its own random namespace, so the suite keeps holding when it
//! is later pointed at a shared backend instead of a fresh directory.

// Test helpers unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use ovsr_core::{CanonicalDocument, Digest};
use ovsr_proto::v1::schema_selector::Target;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::search_service_client::SearchServiceClient;
use ovsr_proto::v1::validate_stream_request::Message as StreamMessage;
use ovsr_proto::v1::validation_service_client::ValidationServiceClient;
use ovsr_proto::v1::{
    BatchRegisterSchemasRequest, CheckCompatibilityRequest, DeleteSchemaRequest,
    DeprecateVersionRequest, GetSchemaRequest, GetSchemaResponse, ListSchemasRequest,
    ListSchemasResponse, ListVersionsRequest, OutputFormat, RegisterSchemaRequest,
    RegisterSchemaResponse, SchemaSelector, SchemaVersion, SearchRequest, ValidateBatchRequest,
    ValidateRequest, ValidateStreamOpen, ValidateStreamRequest, ValidationResult, VersionRef,
    VersionState, WatchSchemasRequest,
};
use ovsr_server::{RunningServer, ServeConfig};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, AsHeaderName, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH,
};
use serde_json::json;
use tempfile::TempDir;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const MIB: usize = 1024 * 1024;

/// What immutable responses must carry: one year, never revalidated.
const IMMUTABLE_MAX_AGE: &str = "max-age=31536000";

/// The schema most tests publish: an object with a required integer `id`.
const CUSTOMER: &str = r#"{
    "type": "object",
    "title": "Customer",
    "properties": { "id": { "type": "integer" }, "email": { "type": "string" } },
    "required": ["id"]
}"#;

/// [`CUSTOMER`] again, with other whitespace and its keys in another order.
const CUSTOMER_REFORMATTED: &str = r#"{"required":["id"],"properties":{
    "email":{"type":"string"},"id":{"type":"integer"}},"title":"Customer","type":"object"}"#;

/// A different customer schema, in which `id` is a string.
const CUSTOMER_V2: &str = r#"{
    "type": "object",
    "title": "Customer",
    "properties": { "id": { "type": "string" } },
    "required": ["id"]
}"#;

// ---------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------

/// One server started for one test, the test's namespace, and clients to reach it.
struct TestServer {
    server: RunningServer,
    addr: SocketAddr,
    channel: Channel,
    /// Sends no `Accept-Encoding` and decodes nothing, so tests see the bytes served.
    http: reqwest::Client,
    /// A random namespace that only this test writes to.
    namespace: String,
    // Declared last so it is dropped last: the server stops before its files go.
    _data_dir: TempDir,
}

impl TestServer {
    async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after `configure` has adjusted the default configuration.
    async fn start_with(configure: impl FnOnce(&mut ServeConfig)) -> anyhow::Result<Self> {
        let data_dir = tempfile::tempdir()?;
        let mut config = ServeConfig::new(data_dir.path());
        configure(&mut config);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let server = ovsr_server::start(config, listener).await?;
        let addr = server.local_addr();

        let endpoint = Endpoint::from_shared(format!("http://{addr}"))?;
        let channel = endpoint.connect().await?;
        let http = raw_http_client()?;
        Ok(Self {
            server,
            addr,
            channel,
            http,
            namespace: random_namespace("e2e"),
            _data_dir: data_dir,
        })
    }

    async fn shutdown(self) -> anyhow::Result<()> {
        let Self {
            server, _data_dir, ..
        } = self;
        server.shutdown().await
    }

    fn schemas(&self) -> SchemaServiceClient<Channel> {
        SchemaServiceClient::new(self.channel.clone())
    }

    fn validation(&self) -> ValidationServiceClient<Channel> {
        ValidationServiceClient::new(self.channel.clone())
    }

    fn public_url(&self) -> &str {
        self.server.public_url()
    }

    /// Selects a version (0 for latest) of `name` in the test's namespace.
    fn selector(&self, name: &str, version: u32) -> SchemaSelector {
        by_version(&self.namespace, name, version)
    }

    /// Registers into the test's namespace.
    async fn register(&self, name: &str, content: &str) -> Result<RegisterSchemaResponse, Status> {
        self.register_in(&self.namespace, name, content).await
    }

    async fn register_in(
        &self,
        namespace: &str,
        name: &str,
        content: &str,
    ) -> Result<RegisterSchemaResponse, Status> {
        let request = RegisterSchemaRequest {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            content: content.to_owned(),
            tags: Vec::new(),
        };
        let response = self.schemas().register_schema(request).await?;
        Ok(response.into_inner())
    }

    /// Registers into the test's namespace and returns the version answered.
    async fn publish(&self, name: &str, content: &str) -> anyhow::Result<SchemaVersion> {
        let response = self.register(name, content).await?;
        let version = response.schema_version;
        version.context("RegisterSchema answered without a version")
    }

    async fn get(&self, request: GetSchemaRequest) -> Result<GetSchemaResponse, Status> {
        Ok(self.schemas().get_schema(request).await?.into_inner())
    }

    /// Fetches a version (0 for latest) of `name` in the test's namespace.
    async fn fetch(&self, name: &str, version: u32) -> anyhow::Result<SchemaVersion> {
        let request = get_request(self.selector(name, version));
        let version = self.get(request).await?.schema_version;
        version.context("GetSchema answered without a version")
    }

    async fn list_schemas(
        &self,
        request: ListSchemasRequest,
    ) -> Result<ListSchemasResponse, Status> {
        Ok(self.schemas().list_schemas(request).await?.into_inner())
    }

    /// Deletes a version (0 for all) of `name` in the test's namespace.
    async fn delete(&self, name: &str, version: u32) -> anyhow::Result<Vec<u32>> {
        let request = DeleteSchemaRequest {
            namespace: self.namespace.clone(),
            name: name.to_owned(),
            version,
        };
        let response = self.schemas().delete_schema(request).await?;
        Ok(response.into_inner().deleted_versions)
    }

    /// Deprecates a version of `name` in the test's namespace.
    async fn deprecate(&self, name: &str, version: u32) -> Result<SchemaVersion, Status> {
        let version_ref = VersionRef {
            namespace: self.namespace.clone(),
            name: name.to_owned(),
            version,
        };
        let request = DeprecateVersionRequest {
            version_ref: Some(version_ref),
        };
        let response = self.schemas().deprecate_version(request).await?;
        let version = response.into_inner().schema_version;
        version.ok_or_else(|| Status::internal("test: answered without a version"))
    }

    async fn validate(
        &self,
        selector: SchemaSelector,
        document: &str,
        format: OutputFormat,
    ) -> Result<ValidationResult, Status> {
        let request = ValidateRequest {
            schema: Some(selector),
            document: document.to_owned(),
            output_format: format as i32,
            assert_formats: false,
        };
        let response = self.validation().validate(request).await?;
        let result = response.into_inner().result;
        result.ok_or_else(|| Status::internal("test: answered without a result"))
    }

    /// The path of a version (a number or `latest`) of `name` in the test's namespace.
    fn schema_path(&self, name: &str, version: &str) -> String {
        format!("/schemas/{}/{name}/{version}", self.namespace)
    }

    /// The URL of `path` on the bound address, whatever the public URL says.
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn http_get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self.http.get(self.url(path)).send().await?)
    }
}

/// An HTTP client that neither asks for nor decodes compression.
fn raw_http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder().gzip(false).brotli(false).build()
}

/// A namespace no other test uses: a prefix, the clock in nanoseconds, and a counter.
fn random_namespace(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{nanos:x}-{count}")
}

fn canonical(content: &str) -> CanonicalDocument {
    let document = CanonicalDocument::from_slice(content.as_bytes(), 16 * MIB);
    document.expect("test documents are JSON")
}

fn by_version(namespace: &str, name: &str, version: u32) -> SchemaSelector {
    let version_ref = VersionRef {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        version,
    };
    SchemaSelector {
        target: Some(Target::VersionRef(version_ref)),
    }
}

fn by_digest(digest: &str) -> SchemaSelector {
    SchemaSelector {
        target: Some(Target::Digest(digest.to_owned())),
    }
}

fn get_request(selector: SchemaSelector) -> GetSchemaRequest {
    GetSchemaRequest {
        schema: Some(selector),
        ..Default::default()
    }
}

fn list_request(namespace: &str, page_size: i32, page_token: &str) -> ListSchemasRequest {
    ListSchemasRequest {
        namespace: namespace.to_owned(),
        page_size,
        page_token: page_token.to_owned(),
        include_deleted: false,
    }
}

/// The error of a call that must fail with one of `codes`.
#[track_caller]
fn expect_status<T: std::fmt::Debug>(result: Result<T, Status>, codes: &[Code]) -> Status {
    let status = match result {
        Ok(value) => panic!("wanted one of {codes:?}, got a success: {value:?}"),
        Err(status) => status,
    };
    let expected = codes.contains(&status.code());
    assert!(expected, "wanted one of {codes:?}, got {status:?}");
    status
}

/// Asserts the message names `field` as a word of its own: `name` inside `namespace`
/// does not count.
#[track_caller]
fn assert_names_field(status: &Status, field: &str) {
    let message = status.message();
    let named = mentions_word(message, field);
    assert!(named, "{message:?} does not name {field:?}");
}

fn mentions_word(text: &str, word: &str) -> bool {
    let is_word_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

#[track_caller]
fn assert_is_sha256_digest(digest: &str) {
    let is_hex = |hex: &str| hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let hex = digest.strip_prefix("sha256:");
    let well_formed = hex.is_some_and(|hex| hex.len() == 64 && is_hex(hex));
    assert!(well_formed, "{digest:?} is not sha256:<64 hex digits>");
}

/// The error a stream-shaped call must end with, whether the server refuses the call
/// itself or fails the stream's first message.
async fn first_stream_error<T>(
    result: Result<tonic::Response<tonic::Streaming<T>>, Status>,
) -> anyhow::Result<Status> {
    let mut stream = match result {
        Err(status) => return Ok(status),
        Ok(response) => response.into_inner(),
    };
    match stream.message().await {
        Err(status) => Ok(status),
        Ok(Some(_)) => anyhow::bail!("the stream yielded a message instead of failing"),
        Ok(None) => anyhow::bail!("the stream ended cleanly instead of failing"),
    }
}

/// A response header as text; empty when absent or not visible ASCII.
fn header(response: &reqwest::Response, name: impl AsHeaderName) -> &str {
    let value = response.headers().get(name);
    let text = value.and_then(|value| value.to_str().ok());
    text.unwrap_or_default()
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

/// A valid schema whose JSON text is exactly `size` bytes long, already canonical.
fn schema_of_exact_size(size: usize) -> String {
    let frame = r#"{"description":""}"#.len();
    let filler = "a".repeat(size - frame);
    let schema = format!(r#"{{"description":"{filler}"}}"#);
    assert_eq!(schema.len(), size);
    schema
}

// ---------------------------------------------------------------------------------------
// Registering and fetching
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Deprecating and deleting
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Validating documents
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// `$ref` within the registry
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Refused registrations
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// RPCs that are not available yet
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_unary_rpcs_answer_unimplemented_with_a_message() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut search = SearchServiceClient::new(server.channel.clone());
    let mut schemas = server.schemas();
    let mut validation = server.validation();

    let results = [
        search.search(SearchRequest::default()).await.map(drop),
        schemas
            .batch_register_schemas(BatchRegisterSchemasRequest::default())
            .await
            .map(drop),
        validation
            .validate_batch(ValidateBatchRequest::default())
            .await
            .map(drop),
        validation
            .check_compatibility(CheckCompatibilityRequest::default())
            .await
            .map(drop),
    ];

    for result in results {
        let status = expect_status(result, &[Code::Unimplemented]);
        assert!(!status.message().is_empty(), "{status:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_streaming_rpcs_answer_unimplemented_with_a_message() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let open = ValidateStreamRequest {
        message: Some(StreamMessage::Open(ValidateStreamOpen::default())),
    };
    let requests = tokio_stream::iter(vec![open]);
    let mut validation = server.validation();
    let mut schemas = server.schemas();

    let validate_stream = validation.validate_stream(requests).await;
    let validate_stream = first_stream_error(validate_stream).await?;
    let watch = schemas.watch_schemas(WatchSchemasRequest::default()).await;
    let watch = first_stream_error(watch).await?;

    for status in [validate_stream, watch] {
        assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
        assert!(!status.message().is_empty(), "{status:?}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------

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
    let raw_body = raw.bytes().await?;
    let compressed = raw_body.len() < expected.canonical().len();
    assert!(compressed, "{} bytes, not compressed", raw_body.len());

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
async fn http_health_and_readiness_answer_ok() -> anyhow::Result<()> {
    let server = TestServer::start().await?;

    let health = server.http_get("/healthz").await?;
    let readiness = server.http_get("/readyz").await?;

    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(readiness.status(), StatusCode::OK);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Health and lifecycle
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_health_reports_the_server_and_its_services_serving() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut health = HealthClient::new(server.channel.clone());
    let services = ["", "ovsr.v1.SchemaService", "ovsr.v1.ValidationService"];

    for service in services {
        let request = HealthCheckRequest {
            service: service.to_owned(),
        };
        let status = health.check(request).await?.into_inner().status;
        let serving = ServingStatus::Serving as i32;
        assert_eq!(status, serving, "service {service:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_returns_ok_and_the_port_stops_accepting() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let addr = server.addr;
    // A client stays connected across the shutdown, as real clients do.
    let mut schemas = server.schemas();
    schemas.list_schemas(ListSchemasRequest::default()).await?;

    let grace = Duration::from_secs(30);
    let stopped = tokio::time::timeout(grace, server.shutdown()).await;
    stopped.context("shutdown took over 30 seconds")??;

    let connect = tokio::net::TcpStream::connect(addr).await;
    assert!(connect.is_err(), "{addr} still accepts connections");
    let call = schemas.list_schemas(ListSchemasRequest::default());
    let call = tokio::time::timeout(Duration::from_secs(10), call).await;
    let answered = matches!(call, Ok(Ok(_)));
    assert!(!answered, "a call succeeded after shutdown");
    Ok(())
}
