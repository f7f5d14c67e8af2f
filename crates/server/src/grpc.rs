//! gRPC front end: one module per service, all over the shared [`crate::registry`].

mod convert;
mod schema;
mod search;
mod unimplemented;
mod validation;

pub use schema::SchemaApi;
pub use search::SearchApi;
pub use unimplemented::AuthApi;
pub use validation::{CallerRateLimiter, ValidationApi};

use axum::response::Response;
use http::HeaderValue;

/// tonic refuses a request message over the decoding limit with OUT_OF_RANGE; gRPC's
/// own convention, and what clients retry logic expects, is RESOURCE_EXHAUSTED. The
/// refusal comes before any handler runs, so it is a trailers-only response whose
/// status sits in the headers.
pub fn oversized_message_is_resource_exhausted(mut response: Response) -> Response {
    const OUT_OF_RANGE: &str = "11";
    const RESOURCE_EXHAUSTED: HeaderValue = HeaderValue::from_static("8");
    let headers = response.headers_mut();
    let is_oversized = headers
        .get("grpc-status")
        .is_some_and(|s| s == OUT_OF_RANGE)
        && headers
            .get("grpc-message")
            .and_then(|m| m.to_str().ok())
            // grpc-message is percent-encoded on the wire.
            .is_some_and(|m| m.contains("message%20length%20too%20large"));
    if is_oversized {
        headers.insert("grpc-status", RESOURCE_EXHAUSTED);
    }
    response
}
