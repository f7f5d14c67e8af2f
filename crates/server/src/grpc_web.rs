//! gRPC-Web on the same port, for browsers: requests that say so by content type (and,
//! when cross-origin callers are allowed, their CORS preflights) go through
//! tonic-web's translation; every other request takes the router as it is, after a
//! look at its content type.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use http::header::{ACCESS_CONTROL_REQUEST_METHOD, CONTENT_TYPE, HeaderName};
use http::{HeaderValue, Method, Request};
use tower::Service;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Headers a gRPC-Web caller sends beyond the simple ones.
const REQUEST_HEADERS: [&str; 6] = [
    "content-type",
    "x-grpc-web",
    "x-user-agent",
    "grpc-timeout",
    "authorization",
    "grpc-accept-encoding",
];

/// Trailers-as-headers a browser script must be allowed to read.
const EXPOSED_HEADERS: [&str; 3] = ["grpc-status", "grpc-message", "grpc-status-details-bin"];

/// How long a browser may reuse a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE_SECS: u64 = 24 * 60 * 60;

/// `app`, with gRPC-Web requests translated. `allowed_origins` lists the origins
/// whose scripts may call it cross-origin (`*` for any); empty allows none, which
/// still serves same-origin pages.
pub fn serve_grpc_web(app: Router, allowed_origins: &[String]) -> Router {
    let web = app.clone().layer(tonic_web::GrpcWebLayer::new());
    let web = match cors(allowed_origins) {
        Some(cors) => web.layer(cors),
        None => web,
    };
    Router::new().fallback_service(Split {
        plain: app,
        web,
        preflights: !allowed_origins.is_empty(),
    })
}

fn cors(allowed_origins: &[String]) -> Option<CorsLayer> {
    if allowed_origins.is_empty() {
        return None;
    }
    let origins = if allowed_origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        let values = allowed_origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok());
        AllowOrigin::list(values)
    };
    let names = |list: &[&'static str]| -> Vec<HeaderName> {
        list.iter()
            .map(|name| HeaderName::from_static(name))
            .collect()
    };
    Some(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::POST, Method::OPTIONS])
            .allow_headers(names(&REQUEST_HEADERS))
            .expose_headers(names(&EXPOSED_HEADERS))
            .max_age(std::time::Duration::from_secs(PREFLIGHT_MAX_AGE_SECS)),
    )
}

/// Sends gRPC-Web requests to `web`, the rest to `plain`.
#[derive(Clone)]
struct Split {
    plain: Router,
    web: Router,
    /// Whether CORS preflights go to `web` too.
    preflights: bool,
}

impl Split {
    fn is_web(&self, request: &Request<Body>) -> bool {
        let web_content = request
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/grpc-web"));
        web_content
            || (self.preflights
                && request.method() == Method::OPTIONS
                && request
                    .headers()
                    .contains_key(ACCESS_CONTROL_REQUEST_METHOD))
    }
}

impl Service<Request<Body>> for Split {
    type Response = Response;
    type Error = Infallible;
    type Future = <Router as Service<Request<Body>>>::Future;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Routers are always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if self.is_web(&request) {
            self.web.call(request)
        } else {
            self.plain.call(request)
        }
    }
}
