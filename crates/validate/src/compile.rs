//! Compiling a schema with its references resolved through the registry.
//!
//! The engine compiles in passes and never fetches: each pass records the URLs it
//! lacked (see [`crate::engine`]). Between passes the caller looks those URLs up in the
//! registry, asynchronously and outside the compiler, and compiles again with them
//! added. Passes run only on a cache miss.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::Value;

use crate::engine::{EngineValidator, PassError, estimate_size};
use crate::references::{escape_references, escape_references_owned};
use crate::{Dialect, Engine, Outcome, OutputFormat};

/// The most documents one schema may pull in through references.
const MAX_REFERENCED_DOCUMENTS: usize = 256;

/// Why a schema cannot be compiled. Every variant is the client's to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The document is not valid against its dialect's metaschema, or uses a keyword
    /// in a way the compiler refuses (a bad regex, a duplicate `$id`).
    #[error("not a valid JSON Schema: {0}")]
    Invalid(String),
    /// A `$ref` (or `$schema`) points outside the registry.
    #[error("reference to {url} is outside the registry; the registry never fetches URLs")]
    ExternalRef { url: String },
    /// A `$ref` names `latest`, which moves, so the schema's meaning would drift.
    #[error("reference to {url} must pin a version or digest, not 'latest'")]
    UnpinnedRef { url: String },
    /// A `$ref` names a registry schema that does not exist (or is deleted).
    #[error("reference to {url} names no schema in the registry")]
    MissingRef { url: String },
    /// References pull in too many documents.
    #[error("references pull in more than {MAX_REFERENCED_DOCUMENTS} documents")]
    TooManyDocuments,
    /// The registry could not be read while resolving a reference.
    #[error("resolving {url} failed: {reason}")]
    Unavailable { url: String, reason: String },
}

/// What a resolver found at a URL a schema refers to.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// The document at that URL.
    Found(Value),
    /// The URL is the registry's, but names nothing there.
    Missing,
    /// The URL is the registry's moving `latest` pointer.
    Unpinned,
    /// The URL is neither the registry's nor an alias the registry knows.
    Outside,
}

/// Looks up the documents a schema refers to. Implemented over the store by the
/// server; it must never fetch from the network.
#[async_trait]
pub trait RegistryResolver: Send + Sync {
    /// What `url` (absolute, without fragment) names.
    async fn resolve(&self, url: &str) -> Result<Resolution, String>;
}

/// Options that change what a compiled schema accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CompileOptions {
    /// Treat `format` as an assertion rather than an annotation. (boon asserts
    /// formats in drafts 4 to 7 whatever this says.)
    pub assert_formats: bool,
    /// The dialect of documents that declare no `$schema`.
    pub default_dialect: Dialect,
    /// The implementation that compiles and validates. Part of [`crate::ValidatorKey`]
    /// through these options, so validators of different engines never mix.
    pub engine: Engine,
}

/// A schema ready to validate documents.
pub struct CompiledSchema {
    validator: EngineValidator,
    root_url: String,
    engine: Engine,
    source_bytes: usize,
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSchema")
            .field("root_url", &self.root_url)
            .field("engine", &self.engine)
            .field("source_bytes", &self.source_bytes)
            .finish_non_exhaustive()
    }
}

impl CompiledSchema {
    /// Compiles `document`, found at `root_url`, with `options.engine`, following
    /// references through `resolver`.
    pub async fn compile(
        root_url: &str,
        document: &Value,
        resolver: &dyn RegistryResolver,
        options: CompileOptions,
    ) -> Result<Self, SchemaError> {
        let document = escape_references(document);
        let document = document.as_ref();
        let mut referenced: HashMap<String, Value> = HashMap::new();
        loop {
            let pass = EngineValidator::compile_pass(root_url, document, &referenced, options);
            let missing = match pass {
                Ok(validator) => {
                    let source_bytes = estimate_size(document)
                        + referenced.values().map(estimate_size).sum::<usize>();
                    return Ok(Self {
                        validator,
                        root_url: root_url.to_owned(),
                        engine: options.engine,
                        source_bytes,
                    });
                }
                Err(PassError::Missing(urls)) => urls,
                Err(PassError::Invalid(reason)) => return Err(SchemaError::Invalid(reason)),
            };
            if referenced.len() + missing.len() > MAX_REFERENCED_DOCUMENTS {
                return Err(SchemaError::TooManyDocuments);
            }
            for url in missing {
                let value = resolve_within_registry(&url, resolver).await?;
                let value = escape_references_owned(value);
                referenced.insert(url, value);
            }
        }
    }

    /// Validates a document. With [`OutputFormat::Flag`] no error detail is built.
    pub fn validate(&self, document: &Value, format: OutputFormat) -> Outcome {
        self.validator.validate(document, format)
    }

    /// The engine that compiled this schema.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Bytes of JSON source compiled, a proxy for the memory the validator holds.
    pub fn source_bytes(&self) -> usize {
        self.source_bytes
    }
}

async fn resolve_within_registry(
    url: &str,
    resolver: &dyn RegistryResolver,
) -> Result<Value, SchemaError> {
    let url_owned = || url.to_owned();
    match resolver.resolve(url).await {
        Ok(Resolution::Found(value)) => Ok(value),
        Ok(Resolution::Missing) => Err(SchemaError::MissingRef { url: url_owned() }),
        Ok(Resolution::Unpinned) => Err(SchemaError::UnpinnedRef { url: url_owned() }),
        Ok(Resolution::Outside) => Err(SchemaError::ExternalRef { url: url_owned() }),
        Err(reason) => Err(SchemaError::Unavailable {
            url: url_owned(),
            reason,
        }),
    }
}
