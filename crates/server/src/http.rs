//! HTTP front end: raw schema documents at stable URLs, and health probes.
//!
//! Documents are served as their canonical bytes, so the body's sha256 is the digest
//! and the digest is the ETag. Pinned versions and digests never change and are cached
//! for a year; `latest` moves and is cached briefly. A client accepting brotli or
//! gzip gets the document's compressed form, made once per digest and kept
//! ([`CompressedDocuments`]); the ETag stays the digest of the decoded bytes, the
//! thing a client verifies.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRef, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use ovsr_core::{Digest, SchemaName, VersionSelector, VersionState};
use ovsr_store::StoredVersion;
use prometheus_client::registry::Registry as MetricsRegistry;
use tower_http::compression::CompressionLayer;

use crate::compressed::{self, CompressedDocuments};
use crate::error::ApiError;
use crate::registry::{Registry, Target};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const MOVING: &str = "public, max-age=30";
const SCHEMA_JSON: &str = "application/schema+json";

/// What the document routes read: the registry, and the compressed forms kept.
#[derive(Debug, Clone)]
pub struct Documents {
    /// The registry the documents come from.
    pub registry: Registry,
    /// Their compressed forms.
    pub compressed: CompressedDocuments,
}

impl FromRef<Documents> for Registry {
    fn from_ref(documents: &Documents) -> Registry {
        documents.registry.clone()
    }
}

/// The HTTP routes, over the registry, and the metrics they expose.
pub fn routes(documents: Documents, metrics: Arc<MetricsRegistry>) -> Router {
    // Documents come compressed from their own store; the metrics text is
    // compressed as it is written, when asked.
    let metrics = Router::new()
        .route("/metrics", get(metrics_text))
        .with_state(metrics)
        .layer(CompressionLayer::new());
    Router::new()
        .route("/schemas/{namespace}/{name}/{version}", get(get_version))
        .route("/digests/{digest}", get(get_digest))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(documents)
        .merge(metrics)
}

/// Every metric in Prometheus's text format.
async fn metrics_text(State(metrics): State<Arc<MetricsRegistry>>) -> Response {
    let mut text = String::new();
    if let Err(err) = prometheus_client::encoding::text::encode(&mut text, &metrics) {
        return ApiError::Internal(format!("encoding metrics: {err}")).into_response();
    }
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(CONTENT_TYPE, content_type)], text).into_response()
}

/// Answers anything no route matched: gRPC callers get UNIMPLEMENTED in gRPC's own
/// framing, everyone else a 404.
pub async fn fallback(headers: HeaderMap) -> Response {
    let is_grpc = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/grpc"));
    if is_grpc {
        return tonic::Status::unimplemented("no such service or method").into_http();
    }
    ApiError::NotFound("no such resource".to_owned()).into_response()
}

async fn get_version(
    State(documents): State<Documents>,
    Path((namespace, name, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let schema = SchemaName::new(&namespace, &name, "")?;
    let selector = VersionSelector::parse(&version, "version")?;
    // Deleted versions are fetched too, to answer 410 rather than 404 for them.
    let found = documents
        .registry
        .get(&Target::Version(schema, selector), true)
        .await?;
    if found.state == VersionState::Deleted {
        let message = format!("{} version {} was deleted", found.schema, found.version);
        return Ok(gone(message));
    }
    let cache_control = match selector {
        VersionSelector::Latest => MOVING,
        VersionSelector::Exact(_) => IMMUTABLE,
    };
    Ok(document_response(found, &headers, cache_control, &documents.compressed).await)
}

async fn get_digest(
    State(documents): State<Documents>,
    Path(digest): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let digest = Digest::parse(&digest, "digest")?;
    let found = documents
        .registry
        .get(&Target::Digest(digest), false)
        .await?;
    Ok(document_response(found, &headers, IMMUTABLE, &documents.compressed).await)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(registry): State<Registry>) -> Response {
    match registry.store().ping().await {
        Ok(()) => "ready\n".into_response(),
        Err(err) => {
            let body = format!("not ready: {err}\n");
            (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
        }
    }
}

async fn document_response(
    found: StoredVersion,
    request: &HeaderMap,
    cache_control: &str,
    compressed: &CompressedDocuments,
) -> Response {
    let etag = format!("\"{}\"", found.digest);
    let status = if etag_matches(request, &etag) {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };

    let mut response = Response::builder()
        .status(status)
        .header(ETAG, &etag)
        .header(CACHE_CONTROL, cache_control)
        .header(VARY, "accept-encoding")
        .header(
            HeaderName::from_static("ovsr-schema"),
            found.schema.to_string(),
        )
        .header(
            HeaderName::from_static("ovsr-version"),
            found.version.to_string(),
        )
        .header(HeaderName::from_static("ovsr-state"), found.state.as_str());
    if found.state == VersionState::Deprecated {
        response = response.header(HeaderName::from_static("deprecation"), "true");
    }
    let body = match (status, found.content) {
        (StatusCode::OK, Some(text)) => {
            response = response.header(CONTENT_TYPE, SCHEMA_JSON);
            let encoding = compressed::negotiate(request)
                .filter(|_| text.len() >= compressed::MIN_COMPRESSED_BYTES);
            let encoded = match encoding {
                Some(encoding) => compressed
                    .get(found.digest, encoding, Arc::clone(&text))
                    .await
                    .map(|bytes| (encoding, bytes)),
                None => None,
            };
            match encoded {
                Some((encoding, bytes)) => {
                    response = response.header(CONTENT_ENCODING, encoding.as_str());
                    Body::from(bytes)
                }
                None => Body::from(Bytes::from_owner(SharedText(text))),
            }
        }
        _ => Body::empty(),
    };
    response
        .body(body)
        .unwrap_or_else(|err| ApiError::Internal(err.to_string()).into_response())
}

/// True when `If-None-Match` lists `etag` (or `*`). Weak and strong forms compare
/// equal, as RFC 9110 asks for this header.
fn etag_matches(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|candidate| candidate.trim())
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

fn gone(message: String) -> Response {
    let body = serde_json::json!({"code": "NOT_FOUND", "message": message});
    let mut response = (StatusCode::GONE, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(MOVING));
    response
}

/// Lets a body borrow the stored text without copying it.
struct SharedText(Arc<str>);

impl AsRef<[u8]> for SharedText {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}
