//! Compiling a schema with its references resolved through the registry.
//!
//! boon asks a loader for every document it does not hold. Our loader never fetches:
//! it records the URL and fails the pass. The caller then looks the recorded URLs up in
//! the registry (asynchronously, outside the compiler) and compiles again with them
//! added. A schema set of N documents takes at most N + 1 passes, all at cache-miss
//! time only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use boon::{Compiler, Draft, SchemaIndex, Schemas, UrlLoader};
use serde_json::Value;

use crate::{Dialect, Outcome, OutputFormat};

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
    /// Treat `format` as an assertion rather than an annotation.
    pub assert_formats: bool,
    /// The dialect of documents that declare no `$schema`.
    pub default_dialect: Dialect,
}

/// A schema ready to validate documents.
pub struct CompiledSchema {
    schemas: Schemas,
    root: SchemaIndex,
    root_url: String,
    source_bytes: usize,
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSchema")
            .field("root_url", &self.root_url)
            .field("source_bytes", &self.source_bytes)
            .finish_non_exhaustive()
    }
}

impl CompiledSchema {
    /// Compiles `document`, found at `root_url`, following references through
    /// `resolver`.
    pub async fn compile(
        root_url: &str,
        document: &Value,
        resolver: &dyn RegistryResolver,
        options: CompileOptions,
    ) -> Result<Self, SchemaError> {
        let mut referenced: HashMap<String, Value> = HashMap::new();
        loop {
            let missing = match compile_pass(root_url, document, &referenced, options) {
                Ok(compiled) => return Ok(compiled),
                Err(PassError::Missing(urls)) => urls,
                Err(PassError::Invalid(reason)) => return Err(SchemaError::Invalid(reason)),
            };
            for url in missing {
                let value = resolve_within_registry(&url, resolver).await?;
                referenced.insert(url, value);
            }
            if referenced.len() > MAX_REFERENCED_DOCUMENTS {
                return Err(SchemaError::TooManyDocuments);
            }
        }
    }

    /// Validates a document. With [`OutputFormat::Flag`] no error detail is built.
    pub fn validate(&self, document: &Value, format: OutputFormat) -> Outcome {
        match self.schemas.validate(document, self.root) {
            Ok(()) => Outcome::valid(),
            Err(_) if format == OutputFormat::Flag => Outcome {
                valid: false,
                errors: Vec::new(),
            },
            Err(error) => Outcome::from_error(&error, &self.root_url),
        }
    }

    /// Bytes of JSON source compiled, a proxy for the memory the validator holds.
    pub fn source_bytes(&self) -> usize {
        self.source_bytes
    }
}

enum PassError {
    Missing(Vec<String>),
    Invalid(String),
}

/// Records the URLs boon asks for and fetches none of them.
struct RecordingLoader {
    asked: Arc<Mutex<Vec<String>>>,
}

impl UrlLoader for RecordingLoader {
    fn load(&self, url: &str) -> Result<Value, Box<dyn std::error::Error>> {
        if let Ok(mut asked) = self.asked.lock() {
            asked.push(url.to_owned());
        }
        Err(format!("{url} is not loaded yet").into())
    }
}

fn compile_pass(
    root_url: &str,
    document: &Value,
    referenced: &HashMap<String, Value>,
    options: CompileOptions,
) -> Result<CompiledSchema, PassError> {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let mut compiler = Compiler::new();
    compiler.set_default_draft(boon_draft(options.default_dialect));
    if options.assert_formats {
        compiler.enable_format_assertions();
    }
    compiler.use_loader(Box::new(RecordingLoader {
        asked: Arc::clone(&asked),
    }));

    let mut source_bytes = estimate_size(document);
    let invalid = |err: boon::CompileError| PassError::Invalid(describe_compile_error(&err));
    compiler
        .add_resource(root_url, document.clone())
        .map_err(invalid)?;
    for (url, value) in referenced {
        source_bytes += estimate_size(value);
        compiler.add_resource(url, value.clone()).map_err(invalid)?;
    }

    let mut schemas = Schemas::new();
    match compiler.compile(root_url, &mut schemas) {
        Ok(root) => Ok(CompiledSchema {
            schemas,
            root,
            root_url: root_url.to_owned(),
            source_bytes,
        }),
        Err(err) => {
            let asked = asked
                .lock()
                .map(|mut a| std::mem::take(&mut *a))
                .unwrap_or_default();
            let missing: Vec<String> = asked
                .into_iter()
                .filter(|url| !referenced.contains_key(url))
                .collect();
            if missing.is_empty() {
                Err(PassError::Invalid(describe_compile_error(&err)))
            } else {
                Err(PassError::Missing(missing))
            }
        }
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

fn boon_draft(dialect: Dialect) -> Draft {
    match dialect {
        Dialect::Draft4 => Draft::V4,
        Dialect::Draft6 => Draft::V6,
        Dialect::Draft7 => Draft::V7,
        Dialect::Draft2019_09 => Draft::V2019_09,
        Dialect::Draft2020_12 => Draft::V2020_12,
    }
}

/// Turns boon's error into one line that says where the problem is.
fn describe_compile_error(err: &boon::CompileError) -> String {
    match err {
        boon::CompileError::ValidationError { src, .. } => {
            let outcome = Outcome::from_error(src, "");
            let reasons: Vec<String> = outcome
                .errors
                .iter()
                .filter(|e| !e.message.starts_with("validation failed"))
                .take(5)
                .map(|e| format!("at '{}': {}", e.instance_location, e.message))
                .collect();
            if reasons.is_empty() {
                src.to_string()
            } else {
                reasons.join("; ")
            }
        }
        other => other.to_string(),
    }
}

fn estimate_size(value: &Value) -> usize {
    match value {
        Value::Array(items) => 16 + items.iter().map(estimate_size).sum::<usize>(),
        Value::Object(members) => {
            let own: usize = members
                .iter()
                .map(|(k, v)| k.len() + 16 + estimate_size(v))
                .sum();
            16 + own
        }
        Value::String(text) => 16 + text.len(),
        _ => 16,
    }
}
