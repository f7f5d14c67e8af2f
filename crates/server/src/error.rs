//! The one table from failures to gRPC and HTTP status codes.
//!
//! Client errors carry a message that names the field at fault. Internal errors are
//! logged here, once, and reach the client masked.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use ovsr_core::InvalidArgument;
use ovsr_search::SearchError;
use ovsr_store::StoreError;
use ovsr_validate::SchemaError;
use tonic::{Code, Status};
use tracing::error;

/// A failure as the API reports it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// A request field is malformed; the message names it.
    #[error("{0}")]
    InvalidArgument(String),
    /// What the request would create is already taken (an alias held by another schema).
    #[error("{0}")]
    AlreadyExists(String),
    /// What the request names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but the registry is not in a state to honour it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// The caller is over a rate or size budget; retry later or send less.
    #[error("{0}")]
    ResourceExhausted(String),
    /// A backend cannot be reached; retry later.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or corrupt data; details stay in the log.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// An invalid field with a reason.
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::InvalidArgument(format!("{field}: {reason}"))
    }

    /// The same failure, located in one item of a batch (`requests[3]`).
    pub fn in_item(self, item: &str) -> Self {
        match self {
            Self::InvalidArgument(message) => Self::InvalidArgument(format!("{item}.{message}")),
            Self::AlreadyExists(message) => Self::AlreadyExists(format!("{item}: {message}")),
            Self::NotFound(message) => Self::NotFound(format!("{item}: {message}")),
            Self::FailedPrecondition(message) => {
                Self::FailedPrecondition(format!("{item}: {message}"))
            }
            other => other,
        }
    }

    /// The gRPC code for this failure.
    pub fn code(&self) -> Code {
        match self {
            Self::InvalidArgument(_) => Code::InvalidArgument,
            Self::AlreadyExists(_) => Code::AlreadyExists,
            Self::NotFound(_) => Code::NotFound,
            Self::FailedPrecondition(_) => Code::FailedPrecondition,
            Self::ResourceExhausted(_) => Code::ResourceExhausted,
            Self::Unavailable(_) => Code::Unavailable,
            Self::Internal(_) => Code::Internal,
        }
    }

    /// The gRPC code's canonical name, used in HTTP error bodies.
    pub fn code_name(&self) -> &'static str {
        match self {
            Self::InvalidArgument(_) => "INVALID_ARGUMENT",
            Self::AlreadyExists(_) => "ALREADY_EXISTS",
            Self::NotFound(_) => "NOT_FOUND",
            Self::FailedPrecondition(_) => "FAILED_PRECONDITION",
            Self::ResourceExhausted(_) => "RESOURCE_EXHAUSTED",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status for this failure.
    pub fn http_status(&self) -> StatusCode {
        match self {
            Self::InvalidArgument(_) => StatusCode::BAD_REQUEST,
            Self::AlreadyExists(_) => StatusCode::CONFLICT,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::FailedPrecondition(_) => StatusCode::CONFLICT,
            Self::ResourceExhausted(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a client sees. Logs internal details first, so the caller need not.
    fn public_message(&self) -> String {
        if let Self::Internal(detail) = self {
            error!(error = %detail, "internal error");
        }
        self.to_string()
    }

    /// Converts `content`-field schema failures, so register and meta-validation
    /// report them alike.
    pub fn from_schema_error(field: &str, err: SchemaError) -> Self {
        match err {
            SchemaError::MissingRef { .. } => Self::FailedPrecondition(format!("{field}: {err}")),
            SchemaError::Unavailable { .. } => Self::Unavailable(err.to_string()),
            other => Self::invalid(field, other),
        }
    }
}

impl From<InvalidArgument> for ApiError {
    fn from(err: InvalidArgument) -> Self {
        Self::InvalidArgument(err.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            StoreError::Conflict(message) => Self::AlreadyExists(message),
            StoreError::Unavailable(reason) => {
                Self::Unavailable(format!("the schema store is unavailable: {reason}"))
            }
            StoreError::Internal(detail) => Self::Internal(detail),
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(err: SearchError) -> Self {
        match err {
            SearchError::InvalidQuery { field, reason } => Self::invalid(&field, reason),
            SearchError::Overloaded(reason) => Self::ResourceExhausted(reason),
            SearchError::Unavailable(reason) => {
                Self::Unavailable(format!("the search index is unavailable: {reason}"))
            }
            SearchError::Internal(detail) => Self::Internal(detail),
        }
    }
}

impl From<ApiError> for Status {
    fn from(err: ApiError) -> Self {
        Status::new(err.code(), err.public_message())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.http_status();
        let body = serde_json::json!({
            "code": self.code_name(),
            "message": self.public_message(),
        });
        (status, Json(body)).into_response()
    }
}
