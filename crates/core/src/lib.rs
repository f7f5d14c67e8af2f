//! OVSR's domain: what a schema is called, how its versions are numbered, and how its
//! content is canonicalized and addressed.
//!
//! This crate does no I/O. Every other crate builds on these types, so the rules they
//! enforce (name syntax, digest format, canonical form) hold across the whole registry.

mod canonical;
mod digest;
mod error;
mod name;
mod page_token;
mod registry_url;
mod version;

pub use canonical::{CanonicalDocument, DocumentError, canonical_json, es_number_to_string};
pub use digest::Digest;
pub use error::InvalidArgument;
pub use name::{NAME_RULES, NAMESPACE_RULES, Namespace, SchemaName};
pub use page_token::PageToken;
pub use registry_url::{RegistryLocation, RegistryUrls};
pub use version::{Version, VersionSelector, VersionState};
