//! Services whose API is published but whose capability is still to come. Each RPC
//! answers UNIMPLEMENTED naming what is missing, so clients see the whole API today
//! and get a clear answer instead of a transport error.

use ovsr_proto::v1 as pb;
use ovsr_proto::v1::auth_service_server::AuthService;
use tonic::{Request, Response, Status};

/// `AuthService`, until API keys land.
#[derive(Debug, Clone, Default)]
pub struct AuthApi;

fn api_keys_unavailable<T>() -> Result<Response<T>, Status> {
    Err(Status::unimplemented(
        "API keys (AuthService) are not available yet; the server runs without authentication",
    ))
}

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn create_api_key(
        &self,
        _request: Request<pb::CreateApiKeyRequest>,
    ) -> Result<Response<pb::CreateApiKeyResponse>, Status> {
        api_keys_unavailable()
    }

    async fn list_api_keys(
        &self,
        _request: Request<pb::ListApiKeysRequest>,
    ) -> Result<Response<pb::ListApiKeysResponse>, Status> {
        api_keys_unavailable()
    }

    async fn revoke_api_key(
        &self,
        _request: Request<pb::RevokeApiKeyRequest>,
    ) -> Result<Response<pb::RevokeApiKeyResponse>, Status> {
        api_keys_unavailable()
    }

    async fn get_caller(
        &self,
        _request: Request<pb::GetCallerRequest>,
    ) -> Result<Response<pb::GetCallerResponse>, Status> {
        api_keys_unavailable()
    }
}
