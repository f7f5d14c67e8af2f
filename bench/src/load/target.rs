//! One call of a workload against the server: gRPC `GetSchema`, or an HTTP GET of a
//! raw schema document, plain or conditional.

use std::future::Future;
use std::sync::Arc;

use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::search_service_client::SearchServiceClient;
use ovsr_proto::v1::validation_service_client::ValidationServiceClient;
use ovsr_proto::v1::{GetSchemaRequest, ListSchemasRequest, SearchRequest, ValidateRequest};
use reqwest::header::{HeaderValue, IF_NONE_MATCH};
use reqwest::{StatusCode, Url};
use tokio::sync::Semaphore;
use tonic::transport::Channel;

use super::record::CallError;

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

/// One HTTP GET to prepare: its URL, and the ETag to send as `If-None-Match`.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// The document's URL.
    pub url: Url,
    /// Sent as `If-None-Match` when set.
    pub if_none_match: Option<HeaderValue>,
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
        let client = reqwest::Client::builder()
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
