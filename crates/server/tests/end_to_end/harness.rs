//! The harness every end-to-end test starts from: a real server on `127.0.0.1:0` over its
//! own data directory, clients to reach it, the schemas tests publish, and the request
//! builders and assertions that more than one topic shares.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use ovsr_core::CanonicalDocument;
use ovsr_proto::v1::schema_selector::Target;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::search_service_client::SearchServiceClient;
use ovsr_proto::v1::validation_service_client::ValidationServiceClient;
use ovsr_proto::v1::{
    DeleteSchemaRequest, DeprecateVersionRequest, GetSchemaRequest, GetSchemaResponse,
    ListSchemasRequest, ListSchemasResponse, OutputFormat, RegisterSchemaRequest,
    RegisterSchemaResponse, SchemaSelector, SchemaVersion, ValidateRequest, ValidationResult,
    VersionRef,
};
use ovsr_server::{RunningServer, ServeConfig};
use reqwest::header::AsHeaderName;
use tempfile::TempDir;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

pub const MIB: usize = 1024 * 1024;

/// The schema most tests publish: an object with a required integer `id`.
pub const CUSTOMER: &str = r#"{
    "type": "object",
    "title": "Customer",
    "properties": { "id": { "type": "integer" }, "email": { "type": "string" } },
    "required": ["id"]
}"#;

/// A different customer schema, in which `id` is a string.
pub const CUSTOMER_V2: &str = r#"{
    "type": "object",
    "title": "Customer",
    "properties": { "id": { "type": "string" } },
    "required": ["id"]
}"#;

/// One server started for one test, the test's namespace, and clients to reach it.
pub struct TestServer {
    server: RunningServer,
    pub addr: SocketAddr,
    pub channel: Channel,
    /// Sends no `Accept-Encoding` and decodes nothing, so tests see the bytes served.
    pub http: reqwest::Client,
    /// A random namespace that only this test writes to.
    pub namespace: String,
    // Declared last so it is dropped last: the server stops before its files go.
    _data_dir: TempDir,
}

impl TestServer {
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after `configure` has adjusted the default configuration.
    pub async fn start_with(configure: impl FnOnce(&mut ServeConfig)) -> anyhow::Result<Self> {
        Self::start_over(tempfile::tempdir()?, configure).await
    }

    /// Starts a server over an existing data directory, such as one a stopped server
    /// handed back from [`TestServer::stop_keeping_data`].
    pub async fn start_over(
        data_dir: TempDir,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> anyhow::Result<Self> {
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

    pub async fn shutdown(self) -> anyhow::Result<()> {
        let Self {
            server, _data_dir, ..
        } = self;
        server.shutdown().await
    }

    /// Stops the server and hands back its data directory, to start another over it.
    pub async fn stop_keeping_data(self) -> anyhow::Result<TempDir> {
        let Self {
            server, _data_dir, ..
        } = self;
        server.shutdown().await?;
        Ok(_data_dir)
    }

    pub fn schemas(&self) -> SchemaServiceClient<Channel> {
        SchemaServiceClient::new(self.channel.clone())
    }

    /// The directory the server keeps its store and index in.
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    pub fn search(&self) -> SearchServiceClient<Channel> {
        SearchServiceClient::new(self.channel.clone())
    }

    pub fn validation(&self) -> ValidationServiceClient<Channel> {
        ValidationServiceClient::new(self.channel.clone())
    }

    pub fn public_url(&self) -> &str {
        self.server.public_url()
    }

    /// Selects a version (0 for latest) of `name` in the test's namespace.
    pub fn selector(&self, name: &str, version: u32) -> SchemaSelector {
        by_version(&self.namespace, name, version)
    }

    /// Registers into the test's namespace.
    pub async fn register(
        &self,
        name: &str,
        content: &str,
    ) -> Result<RegisterSchemaResponse, Status> {
        self.register_in(&self.namespace, name, content).await
    }

    pub async fn register_in(
        &self,
        namespace: &str,
        name: &str,
        content: &str,
    ) -> Result<RegisterSchemaResponse, Status> {
        let request = RegisterSchemaRequest {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            content: content.to_owned(),
            ..Default::default()
        };
        let response = self.schemas().register_schema(request).await?;
        Ok(response.into_inner())
    }

    /// Registers into the test's namespace and returns the version answered.
    pub async fn publish(&self, name: &str, content: &str) -> anyhow::Result<SchemaVersion> {
        let response = self.register(name, content).await?;
        let version = response.schema_version;
        version.context("RegisterSchema answered without a version")
    }

    pub async fn get(&self, request: GetSchemaRequest) -> Result<GetSchemaResponse, Status> {
        Ok(self.schemas().get_schema(request).await?.into_inner())
    }

    /// Fetches a version (0 for latest) of `name` in the test's namespace.
    pub async fn fetch(&self, name: &str, version: u32) -> anyhow::Result<SchemaVersion> {
        let request = get_request(self.selector(name, version));
        let version = self.get(request).await?.schema_version;
        version.context("GetSchema answered without a version")
    }

    pub async fn list_schemas(
        &self,
        request: ListSchemasRequest,
    ) -> Result<ListSchemasResponse, Status> {
        Ok(self.schemas().list_schemas(request).await?.into_inner())
    }

    /// Deletes a version (0 for all) of `name` in the test's namespace.
    pub async fn delete(&self, name: &str, version: u32) -> anyhow::Result<Vec<u32>> {
        let request = DeleteSchemaRequest {
            namespace: self.namespace.clone(),
            name: name.to_owned(),
            version,
        };
        let response = self.schemas().delete_schema(request).await?;
        Ok(response.into_inner().deleted_versions)
    }

    /// Deprecates a version of `name` in the test's namespace.
    pub async fn deprecate(&self, name: &str, version: u32) -> Result<SchemaVersion, Status> {
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

    pub async fn validate(
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
    pub fn schema_path(&self, name: &str, version: &str) -> String {
        format!("/schemas/{}/{name}/{version}", self.namespace)
    }

    /// The URL of `path` on the bound address, whatever the public URL says.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn http_get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self.http.get(self.url(path)).send().await?)
    }
}

/// An HTTP client that neither asks for nor decodes compression.
fn raw_http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder().gzip(false).brotli(false).build()
}

/// A namespace no other test uses: a prefix, the clock in nanoseconds, and a counter.
pub fn random_namespace(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{nanos:x}-{count}")
}

pub fn canonical(content: &str) -> CanonicalDocument {
    let document = CanonicalDocument::from_slice(content.as_bytes(), 16 * MIB);
    document.expect("test documents are JSON")
}

pub fn by_version(namespace: &str, name: &str, version: u32) -> SchemaSelector {
    let version_ref = VersionRef {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        version,
    };
    SchemaSelector {
        target: Some(Target::VersionRef(version_ref)),
    }
}

pub fn by_digest(digest: &str) -> SchemaSelector {
    SchemaSelector {
        target: Some(Target::Digest(digest.to_owned())),
    }
}

pub fn get_request(selector: SchemaSelector) -> GetSchemaRequest {
    GetSchemaRequest {
        schema: Some(selector),
        ..Default::default()
    }
}

pub fn list_request(namespace: &str, page_size: i32, page_token: &str) -> ListSchemasRequest {
    ListSchemasRequest {
        namespace: namespace.to_owned(),
        page_size,
        page_token: page_token.to_owned(),
        include_deleted: false,
    }
}

/// The error of a call that must fail with one of `codes`.
#[track_caller]
pub fn expect_status<T: std::fmt::Debug>(result: Result<T, Status>, codes: &[Code]) -> Status {
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
pub fn assert_names_field(status: &Status, field: &str) {
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

/// A response header as text; empty when absent or not visible ASCII.
pub fn header(response: &reqwest::Response, name: impl AsHeaderName) -> &str {
    let value = response.headers().get(name);
    let text = value.and_then(|value| value.to_str().ok());
    text.unwrap_or_default()
}
