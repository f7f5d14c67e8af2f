//! The Rust client of OVSR.
//!
//! [`Client`] wraps the generated gRPC stubs with what a caller of a schema registry
//! wants: every schema received is checked against its digest, versions by number or
//! digest are cached without expiry (they never change), `latest` is revalidated with
//! `if_none_match` after a TTL, calls answered `UNAVAILABLE` are retried with backoff,
//! and streaming validation is a [`Stream`].
//!
//! ```no_run
//! # async fn example() -> Result<(), ovsr_client::Error> {
//! use ovsr_client::{Client, ClientConfig};
//!
//! let client = Client::connect(ClientConfig::new("http://127.0.0.1:8080")).await?;
//! client.register("acme", "order", r#"{"type": "object"}"#).await?;
//! let schema = client.get("acme", "order", None).await?;
//! let result = client.validate("acme", "order", None, r#"{"id": 7}"#).await?;
//! println!("{} valid: {}", schema.label(), result.valid);
//! # Ok(())
//! # }
//! ```

mod cache;
mod verify;

use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt as _};
use ovsr_proto::v1::schema_selector::Target;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::search_service_client::SearchServiceClient;
use ovsr_proto::v1::validation_service_client::ValidationServiceClient;
use ovsr_proto::v1::{
    GetSchemaRequest, ListSchemasRequest, ListSchemasResponse, RegisterSchemaRequest,
    SchemaSelector, SchemaVersion, SearchRequest, SearchResponse, StreamDocument, ValidateRequest,
    ValidateStreamOpen, ValidateStreamRequest, ValidateStreamResponse, ValidationResult,
    VersionRef, validate_stream_request,
};
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};

pub use cache::{CacheConfig, CacheStats};
pub use verify::verify;

use cache::{Latest, LocalCache, Pinned};

/// What can go wrong in a call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server's answer, after retries where they apply.
    #[error("{}: {}", .0.code(), .0.message())]
    Status(#[from] Status),
    /// The endpoint could not be reached or configured.
    #[error("connecting: {0}")]
    Connect(#[from] tonic::transport::Error),
    /// Content did not hash to the digest it came with.
    #[error("{schema}: content does not match its digest: expected {expected}, got {actual}")]
    DigestMismatch {
        schema: String,
        expected: String,
        actual: String,
    },
    /// The cache directory could not be used.
    #[error("cache directory: {0}")]
    Cache(#[from] std::io::Error),
    /// The answer lacked what it must hold.
    #[error("malformed answer: {0}")]
    Malformed(&'static str),
}

/// Retries of calls answered `UNAVAILABLE`; other codes are never retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The pause after the first failure; each next one doubles, up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            first_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
        }
    }
}

/// How to reach the registry.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `http://host:port`.
    pub endpoint: String,
    /// The deadline of each attempt.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Sent as `authorization: Bearer <token>`.
    pub token: Option<String>,
    pub cache: CacheConfig,
}

impl ClientConfig {
    /// Defaults for the registry at `endpoint`.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            token: None,
            cache: CacheConfig::default(),
        }
    }
}

/// A version of a schema, verified against its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    pub namespace: String,
    pub name: String,
    pub version: u32,
    /// `sha256:<hex>` of the canonical content.
    pub digest: String,
    /// The canonical JSON text.
    pub content: String,
    pub title: String,
    pub description: String,
}

impl Schema {
    /// `namespace/name@version`, for messages.
    pub fn label(&self) -> String {
        format!("{}/{}@{}", self.namespace, self.name, self.version)
    }

    fn from_message(message: SchemaVersion) -> Self {
        Self {
            namespace: message.namespace,
            name: message.name,
            version: message.version,
            digest: message.digest,
            content: message.content,
            title: message.title,
            description: message.description,
        }
    }

    /// One line per field; content last, as it may hold anything.
    fn to_file(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.namespace,
            self.name,
            self.version,
            self.digest,
            self.title.replace('\n', " "),
            self.description.replace('\n', " "),
            self.content
        )
    }

    fn from_file(text: &str) -> Result<Self, Error> {
        let mut lines = text.splitn(7, '\n');
        let mut next = || lines.next().ok_or(Error::Malformed("truncated cache file"));
        let (namespace, name, version) = (next()?, next()?, next()?);
        let (digest, title, description, content) = (next()?, next()?, next()?, next()?);
        Ok(Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            version: version
                .parse()
                .map_err(|_| Error::Malformed("bad version in cache file"))?,
            digest: digest.to_owned(),
            content: content.to_owned(),
            title: title.to_owned(),
            description: description.to_owned(),
        })
    }
}

/// A client of one registry. Cloning shares the connection and the cache.
#[derive(Debug, Clone)]
pub struct Client {
    channel: Channel,
    config: Arc<ClientConfig>,
    cache: Arc<LocalCache>,
}

impl Client {
    /// Connects to the registry.
    pub async fn connect(config: ClientConfig) -> Result<Self, Error> {
        let channel = Endpoint::from_shared(config.endpoint.clone())?
            .tcp_nodelay(true)
            .connect_lazy();
        let cache = LocalCache::new(&config.cache)?;
        Ok(Self {
            channel,
            config: Arc::new(config),
            cache: Arc::new(cache),
        })
    }

    /// What the cache has answered so far.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// A version by number, or the latest with `None`.
    pub async fn get(
        &self,
        namespace: &str,
        name: &str,
        version: Option<u32>,
    ) -> Result<Arc<Schema>, Error> {
        let selector = by_version(namespace, name, version.unwrap_or(0));
        let Some(number) = version else {
            return self.get_latest(namespace, name, selector).await;
        };
        let key = Pinned::Version(namespace.to_owned(), name.to_owned(), number);
        if let Some(found) = self.cache.pinned(&key).await {
            return Ok(found);
        }
        let (schema, _) = self.fetch(selector, None).await?;
        self.cache.remember(&schema).await;
        Ok(schema)
    }

    /// The version with this digest (`sha256:<hex>`).
    pub async fn get_by_digest(&self, digest: &str) -> Result<Arc<Schema>, Error> {
        let key = Pinned::Digest(digest.to_owned());
        if let Some(found) = self.cache.pinned(&key).await {
            return Ok(found);
        }
        let selector = SchemaSelector {
            target: Some(Target::Digest(digest.to_owned())),
        };
        let (schema, _) = self.fetch(selector, None).await?;
        self.cache.remember(&schema).await;
        Ok(schema)
    }

    async fn get_latest(
        &self,
        namespace: &str,
        name: &str,
        selector: SchemaSelector,
    ) -> Result<Arc<Schema>, Error> {
        let held = match self.cache.latest(namespace, name).await {
            Latest::Fresh(schema) => return Ok(schema),
            Latest::Stale(schema) => Some(schema),
            Latest::Unknown => None,
        };
        let (schema, not_modified) = self.fetch(selector, held.as_deref()).await?;
        let schema = match (not_modified, held) {
            (true, Some(held)) => held,
            _ => {
                self.cache.remember(&schema).await;
                schema
            }
        };
        self.cache.set_latest(&schema, not_modified).await;
        Ok(schema)
    }

    /// Asks the server; a not-modified answer to `held` is `(held, true)`.
    async fn fetch(
        &self,
        selector: SchemaSelector,
        held: Option<&Schema>,
    ) -> Result<(Arc<Schema>, bool), Error> {
        let request = GetSchemaRequest {
            schema: Some(selector),
            if_none_match: held.map(|schema| schema.digest.clone()).unwrap_or_default(),
            include_deleted: false,
        };
        let answer = self
            .with_retries(|| {
                let mut client = SchemaServiceClient::new(self.channel.clone());
                let request = self.request(request.clone());
                async move { client.get_schema(request).await }
            })
            .await?;
        let message = answer
            .schema_version
            .ok_or(Error::Malformed("GetSchema answered without a version"))?;
        if answer.not_modified
            && let Some(held) = held
        {
            return Ok((Arc::new(held.clone()), true));
        }
        let schema = Schema::from_message(message);
        verify(&schema.label(), &schema.content, &schema.digest)?;
        Ok((Arc::new(schema), false))
    }

    /// Registers `content` as the next version of `namespace/name` (or finds the
    /// identical version already there).
    pub async fn register(
        &self,
        namespace: &str,
        name: &str,
        content: &str,
    ) -> Result<Arc<Schema>, Error> {
        let request = RegisterSchemaRequest {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            content: content.to_owned(),
            ..Default::default()
        };
        // Registering twice is harmless: identical content returns the same version.
        let answer = self
            .with_retries(|| {
                let mut client = SchemaServiceClient::new(self.channel.clone());
                let request = self.request(request.clone());
                async move { client.register_schema(request).await }
            })
            .await?;
        let message = answer.schema_version.ok_or(Error::Malformed(
            "RegisterSchema answered without a version",
        ))?;
        let schema = Schema::from_message(message);
        verify(&schema.label(), &schema.content, &schema.digest)?;
        let schema = Arc::new(schema);
        self.cache.remember(&schema).await;
        Ok(schema)
    }

    /// A page of schemas.
    pub async fn list_schemas(
        &self,
        request: ListSchemasRequest,
    ) -> Result<ListSchemasResponse, Error> {
        self.with_retries(|| {
            let mut client = SchemaServiceClient::new(self.channel.clone());
            let request = self.request(request.clone());
            async move { client.list_schemas(request).await }
        })
        .await
    }

    /// A page of search hits.
    pub async fn search(&self, request: SearchRequest) -> Result<SearchResponse, Error> {
        self.with_retries(|| {
            let mut client = SearchServiceClient::new(self.channel.clone());
            let request = self.request(request.clone());
            async move { client.search(request).await }
        })
        .await
    }

    /// Validates one JSON document against a version (the latest with `None`).
    pub async fn validate(
        &self,
        namespace: &str,
        name: &str,
        version: Option<u32>,
        document: &str,
    ) -> Result<ValidationResult, Error> {
        let request = ValidateRequest {
            schema: Some(by_version(namespace, name, version.unwrap_or(0))),
            document: document.to_owned(),
            ..Default::default()
        };
        let answer = self
            .with_retries(|| {
                let mut client = ValidationServiceClient::new(self.channel.clone());
                let request = self.request(request.clone());
                async move { client.validate(request).await }
            })
            .await?;
        answer
            .result
            .ok_or(Error::Malformed("Validate answered without a result"))
    }

    /// Validates every document of `documents` against one version, over one stream:
    /// one answer per document, in order, numbered from 0. The stream is not retried,
    /// as its input cannot be replayed.
    pub async fn validate_stream(
        &self,
        namespace: &str,
        name: &str,
        version: Option<u32>,
        documents: impl Stream<Item = String> + Send + 'static,
    ) -> Result<impl Stream<Item = Result<ValidateStreamResponse, Error>>, Error> {
        let open = ValidateStreamRequest {
            message: Some(validate_stream_request::Message::Open(ValidateStreamOpen {
                default_schema: Some(by_version(namespace, name, version.unwrap_or(0))),
                ..Default::default()
            })),
        };
        let numbered = documents.enumerate().map(|(sequence, document)| {
            let document = StreamDocument {
                sequence: sequence as u64,
                schema: None,
                document,
            };
            ValidateStreamRequest {
                message: Some(validate_stream_request::Message::Document(document)),
            }
        });
        let outbound = futures::stream::iter([open]).chain(numbered);
        let mut client = ValidationServiceClient::new(self.channel.clone());
        let mut request = Request::new(outbound);
        self.decorate(&mut request, false);
        let answers = client.validate_stream(request).await?.into_inner();
        Ok(answers.map(|answer| answer.map_err(Error::from)))
    }

    fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        self.decorate(&mut request, true);
        request
    }

    fn decorate<T>(&self, request: &mut Request<T>, deadline: bool) {
        if deadline {
            request.set_timeout(self.config.timeout);
        }
        if let Some(token) = &self.config.token
            && let Ok(value) = MetadataValue::try_from(format!("Bearer {token}"))
        {
            request.metadata_mut().insert("authorization", value);
        }
    }

    /// Runs `call` until it succeeds, fails with a code other than `UNAVAILABLE`, or
    /// runs out of attempts.
    async fn with_retries<T, F, Fut>(&self, mut call: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let policy = self.config.retry;
        let mut backoff = policy.first_backoff;
        let mut attempt = 1;
        loop {
            match call().await {
                Ok(answer) => return Ok(answer.into_inner()),
                Err(status) if status.code() == Code::Unavailable && attempt < policy.attempts => {
                    tracing::debug!(attempt, ?backoff, message = status.message(), "retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(policy.max_backoff);
                    attempt += 1;
                }
                Err(status) => return Err(status.into()),
            }
        }
    }
}

fn by_version(namespace: &str, name: &str, version: u32) -> SchemaSelector {
    SchemaSelector {
        target: Some(Target::VersionRef(VersionRef {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            version,
        })),
    }
}
