//! `ovsr.v1.ValidationService`.

use std::pin::Pin;

use futures::Stream;
use ovsr_core::SchemaName;
use ovsr_proto::v1 as pb;
use ovsr_proto::v1::validation_service_server::ValidationService;
use ovsr_validate::CompileOptions;
use tonic::{Request, Response, Status, Streaming};

use super::convert::{output_format, result_message, target};
use crate::error::ApiError;
use crate::registry::Registry;

/// Serves `ValidationService` over the registry.
#[derive(Debug, Clone)]
pub struct ValidationApi {
    registry: Registry,
}

impl ValidationApi {
    /// Serves the given registry.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }
}

type ResultStream = Pin<Box<dyn Stream<Item = Result<pb::ValidateStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ValidationService for ValidationApi {
    async fn validate(
        &self,
        request: Request<pb::ValidateRequest>,
    ) -> Result<Response<pb::ValidateResponse>, Status> {
        let request = request.into_inner();
        let target = target(request.schema, "schema")?;
        let format = output_format(request.output_format)?;
        let options = CompileOptions {
            assert_formats: request.assert_formats,
            ..CompileOptions::default()
        };
        let (outcome, digest) = self
            .registry
            .validate(&target, &request.document, format, options)
            .await?;
        Ok(Response::new(pb::ValidateResponse {
            result: Some(result_message(outcome, digest)),
        }))
    }

    async fn validate_batch(
        &self,
        _request: Request<pb::ValidateBatchRequest>,
    ) -> Result<Response<pb::ValidateBatchResponse>, Status> {
        Err(Status::unimplemented(
            "batch validation (ValidateBatch) is not available yet; call Validate per document",
        ))
    }

    type ValidateStreamStream = ResultStream;

    async fn validate_stream(
        &self,
        _request: Request<Streaming<pb::ValidateStreamRequest>>,
    ) -> Result<Response<Self::ValidateStreamStream>, Status> {
        Err(Status::unimplemented(
            "streaming batch validation (ValidateStream) is not available yet",
        ))
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
