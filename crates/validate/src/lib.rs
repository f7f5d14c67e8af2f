//! Validation: JSON Schema documents compiled into validators, with every `$ref`
//! resolved inside the registry.
//!
//! A schema is compiled once per version and kept in a cache bounded by memory, so the
//! hot path is a cache lookup and a tree walk. References are followed only to registry
//! URLs that pin a version or a digest; anything else is refused before a byte leaves
//! the process.

mod cache;
mod compile;
mod dialect;
mod engine;
mod output;
mod references;

pub use cache::{ValidatorCache, ValidatorKey};
pub use compile::{CompileOptions, CompiledSchema, RegistryResolver, Resolution, SchemaError};
pub use dialect::Dialect;
pub use engine::{Engine, UnknownEngine};
pub use output::{Outcome, OutputFormat, ValidationFailure};
