//! One call of a workload against the server: gRPC `GetSchema`, `ListSchemas`,
//! `Search`, `Validate`, `RegisterSchema`, a batch over `ValidateStream`, an HTTP GET
//! of a raw schema document (plain or conditional), or a weighted mix of them.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::search_service_client::SearchServiceClient;
use ovsr_proto::v1::validation_service_client::ValidationServiceClient;
use ovsr_proto::v1::{
    GetSchemaRequest, ListSchemasRequest, RegisterSchemaRequest, SearchRequest, ValidateRequest,
};
use reqwest::header::{ACCEPT_ENCODING, HeaderValue, IF_NONE_MATCH};
use reqwest::{StatusCode, Url};
use tokio::sync::Semaphore;
use tonic::transport::Channel;

use super::record::CallError;
use crate::store::dataset::written_document;
use crate::validation::{self, Item};

/// Something that performs one call. `index` numbers the calls of a run, so a target
/// can cycle through prepared requests without shared state.
pub trait Target: Send + Sync + 'static {
    /// Performs call number `index`; Ok when the answer is the one expected.
    fn call(&self, index: u64) -> impl Future<Output = Result<(), CallError>> + Send;
}

/// gRPC `GetSchema` over prepared requests, spread over a few HTTP/2 connections.
#[derive(Debug, Clone)]
pub struct GrpcGetSchema {
    clients: Arc<[SchemaServiceClient<Channel>]>,
    requests: Arc<[GetSchemaRequest]>,
}

impl GrpcGetSchema {
    /// A target sending `requests` in turn over `channels` in turn.
    pub fn new(channels: &[Channel], requests: Vec<GetSchemaRequest>) -> Self {
        let clients = channels
            .iter()
            .map(|channel| SchemaServiceClient::new(channel.clone()))
            .collect();
        Self {
            clients,
            requests: requests.into(),
        }
    }
}

impl Target for GrpcGetSchema {
    async fn call(&self, index: u64) -> Result<(), CallError> {
        let index = index as usize;
        // tonic's calls take the client mutably and the request by value: a clone
        // of each is the least one call needs.
        let mut client = self.clients[index % self.clients.len()].clone();
        let request = self.requests[index % self.requests.len()].clone();
        let answer = client
            .get_schema(request)
            .await
            .map_err(|status| CallError::Grpc(status.code()))?;
        if answer.get_ref().schema_version.is_none() {
            return Err(CallError::Unexpected("GetSchema answered no version"));
        }
        Ok(())
    }
}

/// A prepared unary call other than `GetSchema`.
#[derive(Debug, Clone)]
pub enum UnaryCall {
    List(ListSchemasRequest),
    Search(SearchRequest),
    Validate(ValidateRequest),
}

/// gRPC unary calls over prepared requests, spread over a few HTTP/2 connections.
#[derive(Debug, Clone)]
pub struct GrpcUnary {
    channels: Arc<[Channel]>,
    calls: Arc<[UnaryCall]>,
}

impl GrpcUnary {
    /// A target sending `calls` in turn over `channels` in turn.
    pub fn new(channels: &[Channel], calls: Vec<UnaryCall>) -> Self {
        Self {
            channels: channels.into(),
            calls: calls.into(),
        }
    }
}

impl Target for GrpcUnary {
    async fn call(&self, index: u64) -> Result<(), CallError> {
        let index = index as usize;
        let channel = self.channels[index % self.channels.len()].clone();
        let failed = |status: tonic::Status| CallError::Grpc(status.code());
        match self.calls[index % self.calls.len()].clone() {
            UnaryCall::List(request) => {
                let answer = SchemaServiceClient::new(channel)
                    .list_schemas(request)
                    .await
                    .map_err(failed)?;
                if answer.get_ref().schemas.is_empty() {
                    return Err(CallError::Unexpected("ListSchemas answered an empty page"));
                }
            }
            UnaryCall::Search(request) => {
                let answer = SearchServiceClient::new(channel)
                    .search(request)
                    .await
                    .map_err(failed)?;
                if answer.get_ref().hits.is_empty() {
                    return Err(CallError::Unexpected("Search found nothing"));
                }
            }
            UnaryCall::Validate(request) => {
                let answer = ValidationServiceClient::new(channel)
                    .validate(request)
                    .await
                    .map_err(failed)?;
                if answer.get_ref().result.is_none() {
                    return Err(CallError::Unexpected("Validate answered no result"));
                }
            }
        }
        Ok(())
    }
}

/// `RegisterSchema` of new content on every call: each call adds a version to one
/// of a fixed set of schemas, taken in turn so concurrent writers rarely meet on one.
#[derive(Debug)]
pub struct GrpcRegister {
    clients: Arc<[SchemaServiceClient<Channel>]>,
    namespace: String,
    names: Arc<[String]>,
    /// Counts calls across every phase, so no two calls send the same content.
    sent: AtomicU64,
}

impl GrpcRegister {
    /// A target writing into `schemas` schemas of `namespace` over `channels`, named
    /// `{prefix}-0000` and on; targets of one run need prefixes of their own.
    pub fn new(channels: &[Channel], namespace: &str, prefix: &str, schemas: usize) -> Self {
        let clients = channels
            .iter()
            .map(|channel| SchemaServiceClient::new(channel.clone()))
            .collect();
        let names = (0..schemas.max(1))
            .map(|index| format!("{prefix}-{index:04}"))
            .collect();
        Self {
            clients,
            namespace: namespace.to_owned(),
            names,
            sent: AtomicU64::new(0),
        }
    }
}

impl Target for GrpcRegister {
    async fn call(&self, index: u64) -> Result<(), CallError> {
        let sequence = self.sent.fetch_add(1, Ordering::Relaxed);
        let name = &self.names[sequence as usize % self.names.len()];
        let request = RegisterSchemaRequest {
            namespace: self.namespace.clone(),
            name: name.clone(),
            content: written_document(name, &sequence.to_string()),
            ..RegisterSchemaRequest::default()
        };
        let mut client = self.clients[index as usize % self.clients.len()].clone();
        let answer = client
            .register_schema(request)
            .await
            .map_err(|status| CallError::Grpc(status.code()))?;
        if !answer.get_ref().created {
            return Err(CallError::Unexpected(
                "RegisterSchema found the content there",
            ));
        }
        Ok(())
    }
}

/// One `ValidateStream` per call carrying a batch of documents, sent at once; the
/// call succeeds when every document has its result.
#[derive(Debug, Clone)]
pub struct GrpcValidateStream {
    clients: Arc<[ValidationServiceClient<Channel>]>,
    items: Arc<[Item]>,
    batch: usize,
}

impl GrpcValidateStream {
    /// A target streaming `batch` of `items` per call, starting where the last left.
    pub fn new(channels: &[Channel], items: Vec<Item>, batch: usize) -> Self {
        let clients = channels
            .iter()
            .map(|channel| ValidationServiceClient::new(channel.clone()))
            .collect();
        Self {
            clients,
            items: items.into(),
            batch: batch.max(1),
        }
    }

    /// Documents per call.
    pub fn batch(&self) -> usize {
        self.batch
    }
}

impl Target for GrpcValidateStream {
    async fn call(&self, index: u64) -> Result<(), CallError> {
        let first = index as usize * self.batch;
        let mut messages = Vec::with_capacity(self.batch + 1);
        messages.push(validation::stream_open());
        for offset in 0..self.batch {
            let item = &self.items[(first + offset) % self.items.len()];
            messages.push(validation::stream_document(
                offset as u64,
                &item.digest,
                &item.text,
            ));
        }
        let mut client = self.clients[index as usize % self.clients.len()].clone();
        let failed = |status: tonic::Status| CallError::Grpc(status.code());
        let mut answers = client
            .validate_stream(futures::stream::iter(messages))
            .await
            .map_err(failed)?
            .into_inner();
        let mut received = 0;
        while let Some(answer) = answers.message().await.map_err(failed)? {
            if answer.outcome.is_none() {
                return Err(CallError::Unexpected("a stream answer carried no outcome"));
            }
            received += 1;
        }
        if received != self.batch {
            return Err(CallError::Unexpected(
                "the stream answered too few documents",
            ));
        }
        Ok(())
    }
}

/// The realistic mix: reads dominate, as they do for a registry, with some search,
/// validation and the odd write. Out of every [`MIX_SLOTS`] calls, in this order.
pub const MIX: [(MixPart, u32); 7] = [
    (MixPart::GetSchema, 50),
    (MixPart::HttpConditional, 15),
    (MixPart::HttpDocument, 10),
    (MixPart::Validate, 10),
    (MixPart::Search, 8),
    (MixPart::List, 5),
    (MixPart::Register, 2),
];
/// The calls one round of [`MIX`] spans.
pub const MIX_SLOTS: u32 = 100;

/// One kind of call in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MixPart {
    GetSchema,
    HttpConditional,
    HttpDocument,
    Validate,
    Search,
    List,
    Register,
}

/// Which part of [`MIX`] call `index` is. Slots are spread by a multiplicative hash
/// so the kinds interleave instead of arriving in runs.
pub fn mix_part(index: u64) -> MixPart {
    let slot = (index.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % u64::from(MIX_SLOTS);
    let mut bound = 0;
    for (part, weight) in MIX {
        bound += u64::from(weight);
        if slot < bound {
            return part;
        }
    }
    MixPart::GetSchema
}

/// Every target the mix sends to.
#[derive(Debug)]
pub struct Mixed {
    /// Cached `GetSchema`.
    pub get: GrpcGetSchema,
    /// HTTP GETs answered 304.
    pub http_conditional: HttpGet,
    /// HTTP GETs answered 200.
    pub http_document: HttpGet,
    /// `Validate` calls.
    pub validate: GrpcUnary,
    /// `Search` calls.
    pub search: GrpcUnary,
    /// `ListSchemas` calls.
    pub list: GrpcUnary,
    /// `RegisterSchema` calls.
    pub register: GrpcRegister,
}

impl Target for Mixed {
    async fn call(&self, index: u64) -> Result<(), CallError> {
        match mix_part(index) {
            MixPart::GetSchema => self.get.call(index).await,
            MixPart::HttpConditional => self.http_conditional.call(index).await,
            MixPart::HttpDocument => self.http_document.call(index).await,
            MixPart::Validate => self.validate.call(index).await,
            MixPart::Search => self.search.call(index).await,
            MixPart::List => self.list.call(index).await,
            MixPart::Register => self.register.call(index).await,
        }
    }
}

/// One HTTP GET to prepare: its URL, and the ETag to send as `If-None-Match`.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// The document's URL.
    pub url: Url,
    /// Sent as `If-None-Match` when set.
    pub if_none_match: Option<HeaderValue>,
    /// Sent as `Accept-Encoding` when set; no encoding is asked for otherwise.
    pub accept_encoding: Option<HeaderValue>,
}

/// HTTP GETs of raw schema documents over at most a fixed number of connections,
/// as a fleet of HTTP/1.1 clients with connection pools would send them.
#[derive(Debug, Clone)]
pub struct HttpGet {
    client: reqwest::Client,
    requests: Arc<[HttpRequest]>,
    expected: StatusCode,
    connections: Arc<Semaphore>,
}

impl HttpGet {
    /// A target sending `requests` in turn and expecting `expected` for each, with
    /// at most `connections` requests on the wire at once.
    pub fn new(
        requests: Vec<HttpRequest>,
        expected: StatusCode,
        connections: usize,
    ) -> reqwest::Result<Self> {
        // Bodies are taken as sent: the client asks for an encoding only when a
        // request says so, and never spends the generator's time decoding it.
        let client = reqwest::Client::builder()
            .no_gzip()
            .no_brotli()
            .pool_max_idle_per_host(connections)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            client,
            requests: requests.into(),
            expected,
            connections: Arc::new(Semaphore::new(connections)),
        })
    }
}

impl Target for HttpGet {
    async fn call(&self, index: u64) -> Result<(), CallError> {
        let prepared = &self.requests[index as usize % self.requests.len()];
        // Waiting for a connection is part of the call's latency, as for a real
        // client whose pool is busy.
        let _connection = self
            .connections
            .acquire()
            .await
            .map_err(|_| CallError::Transport)?;
        let mut request = self.client.get(prepared.url.clone());
        if let Some(etag) = &prepared.if_none_match {
            request = request.header(IF_NONE_MATCH, etag.clone());
        }
        if let Some(encodings) = &prepared.accept_encoding {
            request = request.header(ACCEPT_ENCODING, encodings.clone());
        }
        let response = request.send().await.map_err(classify)?;
        let status = response.status();
        // The whole body is read: a document is only served once it has arrived.
        let body = response.bytes().await.map_err(classify)?;
        if status != self.expected {
            return Err(CallError::Http(status.as_u16()));
        }
        if status == StatusCode::OK && body.is_empty() {
            return Err(CallError::Unexpected("200 with an empty body"));
        }
        Ok(())
    }
}

/// The kind of a failed HTTP call.
pub fn classify(error: reqwest::Error) -> CallError {
    if error.is_timeout() {
        CallError::Timeout
    } else if error.is_connect() {
        CallError::Connect
    } else {
        CallError::Transport
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_sends_each_part_close_to_its_weight() {
        let calls = 100_000u64;
        for (part, weight) in MIX {
            let sent = (0..calls).filter(|&index| mix_part(index) == part).count() as f64;
            let expected = calls as f64 * f64::from(weight) / f64::from(MIX_SLOTS);
            let off = (sent - expected).abs() / expected;
            assert!(off < 0.1, "{part:?}: {sent} sent, {expected} expected");
        }
        let weights: u32 = MIX.iter().map(|(_, weight)| weight).sum();
        assert_eq!(weights, MIX_SLOTS);
    }
}
