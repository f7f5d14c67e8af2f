//! The registry's behaviour, shared by the gRPC and HTTP front ends: names are checked,
//! documents canonicalized and compiled, versions stored and read, documents validated.

mod registration;
mod resolver;

use std::sync::Arc;

use ovsr_cache::Popularity;
use ovsr_core::{Digest, DocumentError, RegistryUrls, SchemaName, Version, VersionSelector};
use ovsr_store::{SchemaStore, StoredVersion};
use ovsr_validate::{
    CompileOptions, CompiledSchema, Dialect, Engine, ValidatorCache, ValidatorKey,
};
use serde_json::Value;
use tokio::sync::Notify;

use crate::error::ApiError;
use resolver::StoreResolver;

pub use registration::Registration;

/// The deepest nesting a document may have; it is serde_json's fixed parser limit.
pub const MAX_DOCUMENT_DEPTH: usize = 128;

/// What a reader asks for: a named version or content by digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A version (or latest) of a named schema.
    Version(SchemaName, VersionSelector),
    /// Content by digest.
    Digest(Digest),
}

/// Limits that protect the server from oversized input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest schema document accepted, in bytes.
    pub max_schema_bytes: usize,
    /// Largest document accepted for validation, in bytes.
    pub max_document_bytes: usize,
}

/// The registry: a store, the validators compiled from it, and its public URLs.
#[derive(Debug, Clone)]
pub struct Registry {
    store: Arc<dyn SchemaStore>,
    validators: ValidatorCache,
    urls: RegistryUrls,
    limits: Limits,
    engine: Engine,
    /// Pinged after every write, so the search indexer picks changes up at once.
    writes: Arc<Notify>,
    /// Schema reads, for the popularity the indexer hands to the search index.
    reads: Arc<Popularity>,
}

impl Registry {
    /// Builds the registry over a store.
    pub fn new(
        store: Arc<dyn SchemaStore>,
        validators: ValidatorCache,
        urls: RegistryUrls,
        limits: Limits,
        engine: Engine,
    ) -> Self {
        Self {
            store,
            validators,
            urls,
            limits,
            engine,
            writes: Arc::new(Notify::new()),
            reads: Arc::new(Popularity::default()),
        }
    }

    /// The reads counted so far, shared with the indexer.
    pub fn reads(&self) -> Arc<Popularity> {
        Arc::clone(&self.reads)
    }

    /// Compile options with this registry's engine and everything else default.
    fn compile_options(&self) -> CompileOptions {
        CompileOptions {
            engine: self.engine,
            ..CompileOptions::default()
        }
    }

    /// The store, for operations that need nothing more.
    pub fn store(&self) -> &dyn SchemaStore {
        self.store.as_ref()
    }

    /// Pinged after every write the registry makes.
    pub fn writes(&self) -> Arc<Notify> {
        Arc::clone(&self.writes)
    }

    /// Records that a write happened; wakes whoever waits on [`Registry::writes`].
    pub fn wrote(&self) {
        self.writes.notify_one();
    }

    /// The registry's public URLs.
    pub fn urls(&self) -> &RegistryUrls {
        &self.urls
    }

    /// Finds what `target` names, with content. Deleted versions count as absent
    /// unless `include_deleted`.
    pub async fn get(
        &self,
        target: &Target,
        include_deleted: bool,
    ) -> Result<StoredVersion, ApiError> {
        let found = match target {
            Target::Version(schema, selector) => {
                self.store
                    .get_version(schema, *selector, include_deleted)
                    .await?
            }
            Target::Digest(digest) => self.store.get_by_digest(digest, include_deleted).await?,
        };
        let found = found.ok_or_else(|| ApiError::NotFound(describe_missing(target)))?;
        self.reads.record(&found.schema);
        Ok(found)
    }

    /// Parses a document to validate, within the size limit and the parser's depth
    /// limit, naming `field` in errors.
    pub fn parse_document(&self, document: &str, field: &str) -> Result<Value, ApiError> {
        let limit = self.limits.max_document_bytes;
        if document.len() > limit {
            let err = DocumentError::TooLarge {
                size: document.len(),
                limit,
            };
            return Err(ApiError::invalid(field, err));
        }
        serde_json::from_str(document).map_err(|err| {
            // serde_json stops at 128 levels of nesting rather than overflow the stack.
            if err.to_string().contains("recursion limit exceeded") {
                let reason = format!("nests deeper than {MAX_DOCUMENT_DEPTH} levels");
                ApiError::invalid(field, reason)
            } else {
                ApiError::invalid(field, format!("not valid JSON: {err}"))
            }
        })
    }

    /// The compiled validator for what `target` names, and that version's digest.
    pub async fn validator(
        &self,
        target: &Target,
        options: CompileOptions,
    ) -> Result<(Arc<CompiledSchema>, Digest), ApiError> {
        let version = self.get(target, false).await?;
        // The dialect was settled at registration and the engine is the server's;
        // a request chooses neither.
        let options = CompileOptions {
            default_dialect: Dialect::from_uri(&version.dialect).unwrap_or_default(),
            engine: self.engine,
            ..options
        };
        let root_url = self.root_url(&version);
        let key = ValidatorKey {
            digest: version.digest,
            root_url: root_url.clone(),
            options,
        };
        let compile = async {
            let content = version.content.as_deref().unwrap_or("null");
            let value: Value = serde_json::from_str(content)
                .map_err(|err| ovsr_validate::SchemaError::Invalid(err.to_string()))?;
            let resolver = StoreResolver::for_version(self, &version);
            CompiledSchema::compile(&root_url, &value, &resolver, options).await
        };
        let compiled = self
            .validators
            .get_or_compile(key, compile)
            .await
            .map_err(|err| ApiError::from_schema_error("schema", err))?;
        Ok((compiled, version.digest))
    }

    /// The URL a version's relative references resolve against: its first alias
    /// (what its authors wrote references relative to), else its registry URL.
    fn root_url(&self, version: &StoredVersion) -> String {
        match version.aliases.first() {
            Some(alias) => alias.clone(),
            None => self.urls.version_url(&version.schema, version.version),
        }
    }
}

fn describe_missing(target: &Target) -> String {
    match target {
        Target::Version(schema, VersionSelector::Latest) => {
            format!("schema {schema} has no live version")
        }
        Target::Version(schema, VersionSelector::Exact(version)) => {
            format!("schema {schema} version {version} not found")
        }
        Target::Digest(digest) => format!("no schema has digest {digest}"),
    }
}

/// Parses a version number given in a request: 0 means latest.
pub fn selector_from_number(number: u32) -> VersionSelector {
    match number {
        0 => VersionSelector::Latest,
        n => Version::new(n, "version").map_or(VersionSelector::Latest, VersionSelector::Exact),
    }
}
