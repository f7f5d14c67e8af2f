//! A `SchemaService` whose `GetSchema` answers from a map built beforehand: the least
//! work a server can do for the same answer, and so the ceiling the cached server is
//! measured against.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Result;
use ovsr_proto::v1::schema_selector::Target;
use ovsr_proto::v1::schema_service_server::{SchemaService, SchemaServiceServer};
use ovsr_proto::v1::{
    BatchGetSchemasRequest, BatchGetSchemasResponse, BatchRegisterSchemasRequest,
    BatchRegisterSchemasResponse, DeleteSchemaRequest, DeleteSchemaResponse,
    DeprecateVersionRequest, DeprecateVersionResponse, GetSchemaRequest, GetSchemaResponse,
    ListSchemasRequest, ListSchemasResponse, ListVersionsRequest, ListVersionsResponse,
    RegisterSchemaRequest, RegisterSchemaResponse, WatchSchemasRequest, WatchSchemasResponse,
};
use tonic::{Request, Response, Status};

use super::listen_on_loopback;

/// Namespace, name and version number (0: latest), as a request names them.
pub type AnswerKey = (String, String, u32);

/// Answers `GetSchema` from `answers`; every other call is UNIMPLEMENTED.
#[derive(Debug, Clone)]
pub struct NoopSchemaService {
    answers: Arc<HashMap<AnswerKey, GetSchemaResponse>>,
}

impl NoopSchemaService {
    /// A service answering from `answers`.
    pub fn new(answers: HashMap<AnswerKey, GetSchemaResponse>) -> Self {
        Self {
            answers: Arc::new(answers),
        }
    }
}

/// Serves `service` on a free loopback port, in the current runtime, for as long as
/// the runtime lives.
pub async fn start(service: NoopSchemaService) -> Result<SocketAddr> {
    let listener = listen_on_loopback()?;
    let addr = listener.local_addr()?;
    let incoming = crate::accept_without_nagle(listener);
    let server = tonic::transport::Server::builder()
        .add_service(SchemaServiceServer::new(service))
        .serve_with_incoming(incoming);
    tokio::spawn(server);
    Ok(addr)
}

fn unimplemented<T>() -> Result<Response<T>, Status> {
    Err(Status::unimplemented("no-op"))
}

#[tonic::async_trait]
impl SchemaService for NoopSchemaService {
    async fn get_schema(
        &self,
        request: Request<GetSchemaRequest>,
    ) -> Result<Response<GetSchemaResponse>, Status> {
        let target = request.into_inner().schema.and_then(|s| s.target);
        let Some(Target::VersionRef(reference)) = target else {
            return Err(Status::invalid_argument("no-op answers version references"));
        };
        // The request's own strings become the key: no allocation before the lookup.
        let key = (reference.namespace, reference.name, reference.version);
        match self.answers.get(&key) {
            Some(answer) => Ok(Response::new(answer.clone())),
            None => Err(Status::not_found("no-op has no answer for this key")),
        }
    }

    async fn register_schema(
        &self,
        _: Request<RegisterSchemaRequest>,
    ) -> Result<Response<RegisterSchemaResponse>, Status> {
        unimplemented()
    }

    async fn batch_register_schemas(
        &self,
        _: Request<BatchRegisterSchemasRequest>,
    ) -> Result<Response<BatchRegisterSchemasResponse>, Status> {
        unimplemented()
    }

    async fn batch_get_schemas(
        &self,
        _: Request<BatchGetSchemasRequest>,
    ) -> Result<Response<BatchGetSchemasResponse>, Status> {
        unimplemented()
    }

    async fn list_schemas(
        &self,
        _: Request<ListSchemasRequest>,
    ) -> Result<Response<ListSchemasResponse>, Status> {
        unimplemented()
    }

    async fn list_versions(
        &self,
        _: Request<ListVersionsRequest>,
    ) -> Result<Response<ListVersionsResponse>, Status> {
        unimplemented()
    }

    async fn deprecate_version(
        &self,
        _: Request<DeprecateVersionRequest>,
    ) -> Result<Response<DeprecateVersionResponse>, Status> {
        unimplemented()
    }

    async fn delete_schema(
        &self,
        _: Request<DeleteSchemaRequest>,
    ) -> Result<Response<DeleteSchemaResponse>, Status> {
        unimplemented()
    }

    type WatchSchemasStream =
        futures::stream::BoxStream<'static, Result<WatchSchemasResponse, Status>>;

    async fn watch_schemas(
        &self,
        _: Request<WatchSchemasRequest>,
    ) -> Result<Response<Self::WatchSchemasStream>, Status> {
        unimplemented()
    }
}
