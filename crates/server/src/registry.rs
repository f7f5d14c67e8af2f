//! The registry's behaviour, shared by the gRPC and HTTP front ends: names are checked,
//! documents canonicalized and compiled, versions stored and read, documents validated.

use std::sync::Arc;

use async_trait::async_trait;
use ovsr_core::{
    CanonicalDocument, Digest, DocumentError, RegistryLocation, RegistryUrls, SchemaName, Version,
    VersionSelector,
};
use ovsr_store::{NewVersion, Registered, SchemaStore, StoredVersion};
use ovsr_validate::{
    CompileOptions, CompiledSchema, Dialect, RegistryResolver, Resolution, ValidatorCache,
    ValidatorKey,
};
use serde_json::Value;
use tracing::debug;

use crate::error::ApiError;

const MAX_TAGS: usize = 32;
const MAX_TAG_CHARS: usize = 64;
const MAX_TEXT_CHARS: usize = 4096;

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
}

impl Registry {
    /// Builds the registry over a store.
    pub fn new(
        store: Arc<dyn SchemaStore>,
        validators: ValidatorCache,
        urls: RegistryUrls,
        limits: Limits,
    ) -> Self {
        Self {
            store,
            validators,
            urls,
            limits,
        }
    }

    /// The store, for operations that need nothing more.
    pub fn store(&self) -> &dyn SchemaStore {
        self.store.as_ref()
    }

    /// The registry's public URLs.
    pub fn urls(&self) -> &RegistryUrls {
        &self.urls
    }

    /// Checks, canonicalizes, compiles and stores a new version.
    pub async fn register(
        &self,
        schema: SchemaName,
        content: &str,
        tags: Vec<String>,
    ) -> Result<Registered, ApiError> {
        check_tags(&tags)?;
        let checked = self.check_schema(Some(&schema), content).await?;
        let (value, canonical, digest) = checked.into_parts();
        let new = NewVersion {
            schema,
            content: canonical,
            digest,
            title: top_level_text(&value, "title"),
            description: top_level_text(&value, "description"),
            dialect: Dialect::of_document(&value, Dialect::default())
                .uri()
                .to_owned(),
            tags,
        };
        let registered = self.store.register(new).await?;
        debug!(
            schema = %registered.version.schema,
            version = %registered.version.version,
            created = registered.created,
            "registered"
        );
        Ok(registered)
    }

    /// Checks a candidate schema as registration would: size, JSON, metaschema, and
    /// every reference resolvable inside the registry. `schema` gives relative
    /// references their base.
    pub async fn check_schema(
        &self,
        schema: Option<&SchemaName>,
        content: &str,
    ) -> Result<CanonicalDocument, ApiError> {
        let limit = self.limits.max_schema_bytes;
        let document = CanonicalDocument::from_slice(content.as_bytes(), limit)
            .map_err(|err| ApiError::invalid("content", err))?;
        // The candidate has no version yet; any version segment gives relative
        // references the same base directory.
        let base = match schema {
            Some(schema) => format!("{}/schemas/{schema}/0", self.urls.base()),
            None => format!("{}/candidate", self.urls.base()),
        };
        let resolver = self.resolver();
        CompiledSchema::compile(
            &base,
            document.value(),
            &resolver,
            CompileOptions::default(),
        )
        .await
        .map_err(|err| ApiError::from_schema_error("content", err))?;
        Ok(document)
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
        found.ok_or_else(|| ApiError::NotFound(describe_missing(target)))
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

    fn resolver(&self) -> StoreResolver<'_> {
        StoreResolver {
            store: &self.store,
            urls: &self.urls,
        }
    }

    /// The compiled validator for what `target` names, and that version's digest.
    pub async fn validator(
        &self,
        target: &Target,
        options: CompileOptions,
    ) -> Result<(Arc<CompiledSchema>, Digest), ApiError> {
        let version = self.get(target, false).await?;
        // The dialect was settled at registration; a request cannot change it.
        let options = CompileOptions {
            default_dialect: Dialect::from_uri(&version.dialect).unwrap_or_default(),
            ..options
        };
        let root_url = self.urls.version_url(&version.schema, version.version);
        let key = ValidatorKey {
            digest: version.digest,
            root_url: root_url.clone(),
            options,
        };
        let compile = async {
            let content = version.content.as_deref().unwrap_or("null");
            let value: Value = serde_json::from_str(content)
                .map_err(|err| ovsr_validate::SchemaError::Invalid(err.to_string()))?;
            let resolver = self.resolver();
            CompiledSchema::compile(&root_url, &value, &resolver, options).await
        };
        let compiled = self
            .validators
            .get_or_compile(key, compile)
            .await
            .map_err(|err| ApiError::from_schema_error("schema", err))?;
        Ok((compiled, version.digest))
    }
}

/// Resolves registry URLs through the store, for the compiler.
struct StoreResolver<'a> {
    store: &'a Arc<dyn SchemaStore>,
    urls: &'a RegistryUrls,
}

#[async_trait]
impl RegistryResolver for StoreResolver<'_> {
    async fn resolve(&self, url: &str) -> Result<Resolution, String> {
        let found = match self.urls.locate(url) {
            None => return Ok(Resolution::Outside),
            Some(RegistryLocation::Version {
                selector: VersionSelector::Latest,
                ..
            }) => return Ok(Resolution::Unpinned),
            Some(RegistryLocation::Version { schema, selector }) => {
                self.store.get_version(&schema, selector, false).await
            }
            Some(RegistryLocation::Digest(digest)) => {
                self.store.get_by_digest(&digest, false).await
            }
        };
        let Some(version) = found.map_err(|err| err.to_string())? else {
            return Ok(Resolution::Missing);
        };
        let content = version.content.as_deref().unwrap_or("null");
        let value = serde_json::from_str(content).map_err(|err| err.to_string())?;
        Ok(Resolution::Found(value))
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

fn top_level_text(document: &Value, key: &str) -> Option<String> {
    let text = document.get(key)?.as_str()?;
    Some(text.chars().take(MAX_TEXT_CHARS).collect())
}

fn check_tags(tags: &[String]) -> Result<(), ApiError> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::invalid(
            "tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    for (i, tag) in tags.iter().enumerate() {
        let count = tag.chars().count();
        if count == 0 || count > MAX_TAG_CHARS || tag.chars().any(char::is_control) {
            let reason = format!("{tag:?} must be 1 to {MAX_TAG_CHARS} printable characters");
            return Err(ApiError::invalid(&format!("tags[{i}]"), reason));
        }
    }
    Ok(())
}

/// Parses a version number given in a request: 0 means latest.
pub fn selector_from_number(number: u32) -> VersionSelector {
    match number {
        0 => VersionSelector::Latest,
        n => Version::new(n, "version").map_or(VersionSelector::Latest, VersionSelector::Exact),
    }
}
