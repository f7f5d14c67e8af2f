//! `ovsr.v1.ValidationService`: one document, a batch, or a stream of them.

mod rate;
mod session;
mod stream;

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use ovsr_core::SchemaName;
use ovsr_proto::v1 as pb;
use ovsr_proto::v1::validation_service_server::ValidationService;
use ovsr_validate::{CompileOptions, OutputFormat};
use tonic::{Request, Response, Status, Streaming};

pub use rate::CallerRateLimiter;
use session::ValidationSession;
use stream::{ResultStream, serve_stream};

use super::convert::{output_format, target};
use crate::error::ApiError;
use crate::registry::Registry;

/// Serves `ValidationService` over the registry.
#[derive(Debug, Clone)]
pub struct ValidationApi {
    registry: Registry,
    limiter: CallerRateLimiter,
    max_batch_documents: usize,
}

impl ValidationApi {
    /// Serves the given registry, charging callers against `limiter` and refusing
    /// batches over `max_batch_documents`.
    pub fn new(registry: Registry, limiter: CallerRateLimiter, max_batch_documents: usize) -> Self {
        Self {
            registry,
            limiter,
            max_batch_documents,
        }
    }

    fn session<T>(
        &self,
        request: &Request<T>,
        format: OutputFormat,
        assert_formats: bool,
    ) -> ValidationSession {
        let options = CompileOptions {
            assert_formats,
            ..CompileOptions::default()
        };
        let caller = caller_address(request);
        ValidationSession::new(
            self.registry.clone(),
            self.limiter.clone(),
            caller,
            format,
            options,
        )
    }
}

#[tonic::async_trait]
impl ValidationService for ValidationApi {
    async fn validate(
        &self,
        request: Request<pb::ValidateRequest>,
    ) -> Result<Response<pb::ValidateResponse>, Status> {
        let format = output_format(request.get_ref().output_format)?;
        let mut session = self.session(&request, format, request.get_ref().assert_formats);
        let request = request.into_inner();
        let target = target(request.schema, "schema")?;
        session.admit(1)?;

        let result = session
            .validate_one(Some(target), &request.document, "document")
            .await
            .map_err(|error| Status::new(error.code.into(), error.message))?;
        Ok(Response::new(pb::ValidateResponse {
            result: Some(result),
        }))
    }

    async fn validate_batch(
        &self,
        request: Request<pb::ValidateBatchRequest>,
    ) -> Result<Response<pb::ValidateBatchResponse>, Status> {
        use pb::batch_validation_outcome::Outcome;
        let format = output_format(request.get_ref().output_format)?;
        let mut session = self.session(&request, format, request.get_ref().assert_formats);
        let request = request.into_inner();
        let count = request.documents.len();
        if count > self.max_batch_documents {
            let reason = format!(
                "{count} documents, over the limit of {} per call; use ValidateStream",
                self.max_batch_documents
            );
            return Err(ApiError::invalid("documents", reason).into());
        }
        session.set_default_target(target(request.schema, "schema")?);
        session.admit(u32::try_from(count).unwrap_or(u32::MAX))?;

        let mut outcomes = Vec::with_capacity(count);
        for (i, document) in request.documents.iter().enumerate() {
            let field = format!("documents[{i}]");
            let outcome = match session.validate_one(None, document, &field).await {
                Ok(result) => Outcome::Result(result),
                Err(error) => Outcome::Error(error),
            };
            outcomes.push(pb::BatchValidationOutcome {
                outcome: Some(outcome),
            });
        }
        Ok(Response::new(pb::ValidateBatchResponse { outcomes }))
    }

    type ValidateStreamStream = ResultStream;

    async fn validate_stream(
        &self,
        request: Request<Streaming<pb::ValidateStreamRequest>>,
    ) -> Result<Response<Self::ValidateStreamStream>, Status> {
        let session = self.session(&request, OutputFormat::default(), false);
        Ok(Response::new(serve_stream(session, request.into_inner())))
    }

    async fn validate_schema(
        &self,
        request: Request<pb::ValidateSchemaRequest>,
    ) -> Result<Response<pb::ValidateSchemaResponse>, Status> {
        let request = request.into_inner();
        let schema = match (request.namespace.is_empty(), request.name.is_empty()) {
            (true, true) => None,
            _ => Some(
                SchemaName::new(&request.namespace, &request.name, "").map_err(ApiError::from)?,
            ),
        };
        let response = match self
            .registry
            .check_schema(schema.as_ref(), &request.content)
            .await
        {
            Ok(document) => pb::ValidateSchemaResponse {
                valid: true,
                errors: Vec::new(),
                digest: document.digest().to_string(),
            },
            Err(ApiError::InvalidArgument(message) | ApiError::FailedPrecondition(message)) => {
                pb::ValidateSchemaResponse {
                    valid: false,
                    errors: vec![pb::ValidationError {
                        message,
                        ..Default::default()
                    }],
                    digest: String::new(),
                }
            }
            Err(other) => return Err(other.into()),
        };
        Ok(Response::new(response))
    }

    async fn check_compatibility(
        &self,
        _request: Request<pb::CheckCompatibilityRequest>,
    ) -> Result<Response<pb::CheckCompatibilityResponse>, Status> {
        Err(Status::unimplemented(
            "compatibility checks (CheckCompatibility) are not available yet",
        ))
    }
}

/// The caller's address, as the listener saw it.
fn caller_address<T>(request: &Request<T>) -> Option<IpAddr> {
    let info = request.extensions().get::<ConnectInfo<SocketAddr>>()?;
    Some(info.0.ip())
}
