//! End-to-end tests: each test starts the real server on `127.0.0.1:0` over its own data
//! directory and talks to it as a client does, over gRPC and plain HTTP on the one port.
//!
//! Every test also works in its own random namespace, so the suite keeps holding when it
//! is later pointed at a shared backend instead of a fresh directory.

// Test helpers unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

// From a crate root, `mod foo;` would load `tests/foo.rs`, which Cargo also builds as a
// test crate of its own; so each module names its file under `end_to_end/`.
#[path = "end_to_end/harness.rs"]
mod harness;

#[path = "end_to_end/aliases.rs"]
mod aliases;
#[path = "end_to_end/bad_input.rs"]
mod bad_input;
#[path = "end_to_end/grpc_web.rs"]
mod grpc_web;
#[path = "end_to_end/http.rs"]
mod http;
#[path = "end_to_end/lifecycle.rs"]
mod lifecycle;
#[path = "end_to_end/listing.rs"]
mod listing;
#[path = "end_to_end/references.rs"]
mod references;
#[path = "end_to_end/schemas.rs"]
mod schemas;
#[path = "end_to_end/search.rs"]
mod search;
#[path = "end_to_end/service.rs"]
mod service;
#[path = "end_to_end/streaming.rs"]
mod streaming;
#[path = "end_to_end/validation.rs"]
mod validation;
