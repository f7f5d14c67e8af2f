//! Registration: checking a candidate schema, compiling it with its references
//! resolved and pinned, and storing it alone or in a batch.

use ovsr_core::{CanonicalDocument, SchemaName};
use ovsr_store::{NewVersion, Registered};
use ovsr_validate::{CompileOptions, CompiledSchema, Dialect};
use serde_json::Value;
use tracing::debug;

use super::Registry;
use super::resolver::{PendingDocument, StoreResolver};
use crate::error::ApiError;

/// The most schemas one batch registration may carry.
const MAX_BATCH_REGISTRATIONS: usize = 1000;

const MAX_TAGS: usize = 32;
const MAX_TAG_CHARS: usize = 64;
const MAX_ALIASES: usize = 16;
const MAX_ALIAS_CHARS: usize = 2048;
const MAX_TEXT_CHARS: usize = 4096;

/// A schema version a client asks to register.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Where it goes.
    pub schema: SchemaName,
    /// The document, as JSON text.
    pub content: String,
    /// Tags for discovery.
    pub tags: Vec<String>,
    /// Other URLs the schema is known by in its namespace.
    pub aliases: Vec<String>,
    /// The dialect of a document without `$schema` (a metaschema URI; empty: 2020-12).
    pub dialect: String,
}

/// A registration checked and compiled, ready to store.
struct Prepared {
    new: NewVersion,
    value: Value,
}

impl Registry {
    /// Checks, canonicalizes, compiles and stores a new version.
    pub async fn register(&self, registration: Registration) -> Result<Registered, ApiError> {
        let prepared = self.prepare(registration, &[]).await?;
        let registered = self.store.register(prepared.new).await?;
        self.wrote();
        debug!(
            schema = %registered.version.schema,
            version = %registered.version.version,
            created = registered.created,
            "registered"
        );
        Ok(registered)
    }

    /// Registers many schemas in one store transaction. Each item succeeds or fails
    /// on its own; an item may refer to aliases of items before it in the batch.
    pub async fn register_batch(
        &self,
        registrations: Vec<Registration>,
    ) -> Result<Vec<Result<Registered, ApiError>>, ApiError> {
        if registrations.len() > MAX_BATCH_REGISTRATIONS {
            let reason = format!(
                "{} items, over the limit of {MAX_BATCH_REGISTRATIONS} per call",
                registrations.len()
            );
            return Err(ApiError::invalid("requests", reason));
        }

        let mut pending: Vec<PendingDocument> = Vec::new();
        let mut to_store = Vec::new();
        let mut slots = Vec::with_capacity(registrations.len());
        for (i, registration) in registrations.into_iter().enumerate() {
            match self.prepare(registration, &pending).await {
                Ok(prepared) => {
                    pending.push(PendingDocument {
                        namespace: prepared.new.schema.namespace().clone(),
                        aliases: prepared.new.aliases.clone(),
                        digest: prepared.new.digest,
                        value: prepared.value,
                    });
                    slots.push(Ok(to_store.len()));
                    to_store.push(prepared.new);
                }
                Err(err) => slots.push(Err(err.in_item(&format!("requests[{i}]")))),
            }
        }

        let mut stored: Vec<Option<Result<Registered, ApiError>>> = self
            .store
            .register_batch(to_store)
            .await?
            .into_iter()
            .map(|result| Some(result.map_err(ApiError::from)))
            .collect();
        self.wrote();
        let results = slots
            .into_iter()
            .map(|slot| match slot {
                Ok(index) => stored[index]
                    .take()
                    .unwrap_or_else(|| Err(ApiError::Internal("batch result missing".to_owned()))),
                Err(err) => Err(err),
            })
            .collect();
        Ok(results)
    }

    /// Checks a candidate schema as registration would: size, JSON, metaschema, and
    /// every reference resolvable inside the registry. `schema` gives relative
    /// references their base.
    pub async fn check_schema(
        &self,
        schema: Option<&SchemaName>,
        content: &str,
    ) -> Result<CanonicalDocument, ApiError> {
        let document = self.canonical_content(content)?;
        let base = self.base_uri(schema, &[]);
        let namespace = schema.map(SchemaName::namespace);
        let resolver = StoreResolver::for_registration(self, namespace, &[]);
        let options = self.compile_options();
        CompiledSchema::compile(&base, document.value(), &resolver, options)
            .await
            .map_err(|err| ApiError::from_schema_error("content", err))?;
        Ok(document)
    }

    async fn prepare(
        &self,
        registration: Registration,
        pending: &[PendingDocument],
    ) -> Result<Prepared, ApiError> {
        check_tags(&registration.tags)?;
        check_aliases(&registration.aliases, self)?;
        let fallback = parse_dialect(&registration.dialect)?;
        let document = self.canonical_content(&registration.content)?;
        let schema = registration.schema;

        let base = self.base_uri(Some(&schema), &registration.aliases);
        let dialect = Dialect::of_document(document.value(), fallback);
        let options = CompileOptions {
            default_dialect: fallback,
            ..self.compile_options()
        };
        let resolver = StoreResolver::for_registration(self, Some(schema.namespace()), pending);
        CompiledSchema::compile(&base, document.value(), &resolver, options)
            .await
            .map_err(|err| ApiError::from_schema_error("content", err))?;
        let references = resolver.into_resolved();

        let (value, content, digest) = document.into_parts();
        let new = NewVersion {
            schema,
            content,
            digest,
            title: top_level_text(&value, "title"),
            description: top_level_text(&value, "description"),
            dialect: dialect.uri().to_owned(),
            tags: registration.tags,
            aliases: registration.aliases,
            references,
        };
        Ok(Prepared { new, value })
    }

    fn canonical_content(&self, content: &str) -> Result<CanonicalDocument, ApiError> {
        let limit = self.limits.max_schema_bytes;
        CanonicalDocument::from_slice(content.as_bytes(), limit)
            .map_err(|err| ApiError::invalid("content", err))
    }

    /// Where a candidate's relative references resolve from: its first alias, else a
    /// URL in its schema's directory (the version is not known yet, and any version
    /// segment gives the same directory).
    fn base_uri(&self, schema: Option<&SchemaName>, aliases: &[String]) -> String {
        match (aliases.first(), schema) {
            (Some(alias), _) => alias.clone(),
            (None, Some(schema)) => format!("{}/schemas/{schema}/0", self.urls.base()),
            (None, None) => format!("{}/candidate", self.urls.base()),
        }
    }
}

fn parse_dialect(raw: &str) -> Result<Dialect, ApiError> {
    if raw.is_empty() {
        return Ok(Dialect::default());
    }
    Dialect::from_uri(raw).ok_or_else(|| {
        let known: Vec<&str> = Dialect::ALL.iter().map(|d| d.uri()).collect();
        ApiError::invalid(
            "dialect",
            format!("{raw:?} is not one of {}", known.join(", ")),
        )
    })
}

fn check_aliases(aliases: &[String], registry: &Registry) -> Result<(), ApiError> {
    if aliases.len() > MAX_ALIASES {
        return Err(ApiError::invalid(
            "aliases",
            format!("at most {MAX_ALIASES} aliases"),
        ));
    }
    for (i, alias) in aliases.iter().enumerate() {
        let field = format!("aliases[{i}]");
        if alias.len() > MAX_ALIAS_CHARS {
            let reason = format!("is over {MAX_ALIAS_CHARS} characters");
            return Err(ApiError::invalid(&field, reason));
        }
        let parsed = url::Url::parse(alias)
            .map_err(|err| ApiError::invalid(&field, format!("{alias:?} is not a URL: {err}")))?;
        if parsed.fragment().is_some() || parsed.cannot_be_a_base() {
            let reason = format!("{alias:?} must be an absolute URL without a fragment");
            return Err(ApiError::invalid(&field, reason));
        }
        if parsed.as_str() != alias {
            let reason = format!("{alias:?} must be written as {:?}", parsed.as_str());
            return Err(ApiError::invalid(&field, reason));
        }
        if registry.urls.locate(alias).is_some() {
            let reason = format!("{alias:?} is a registry URL already");
            return Err(ApiError::invalid(&field, reason));
        }
    }
    Ok(())
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

fn top_level_text(document: &Value, key: &str) -> Option<String> {
    let text = document.get(key)?.as_str()?;
    Some(text.chars().take(MAX_TEXT_CHARS).collect())
}
