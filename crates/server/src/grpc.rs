//! gRPC front end: one module per service, all over the shared [`crate::registry`].

mod convert;
mod schema;
mod unimplemented;
mod validation;

pub use schema::SchemaApi;
pub use unimplemented::{AuthApi, SearchApi};
pub use validation::ValidationApi;
