//! Validating a sequence of documents with shared settings: the unit of work behind
//! unary, batch and streaming validation.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use ovsr_core::Digest;
use ovsr_proto::v1 as pb;
use ovsr_validate::{CompileOptions, CompiledSchema, OutputFormat};

use super::rate::CallerRateLimiter;
use crate::error::ApiError;
use crate::grpc::convert::{item_error, result_message};
use crate::registry::{Registry, Target};

/// Validators a session keeps at hand. A session resolves each target once, so a
/// stream that names `latest` keeps the version it first resolved.
const MAX_REMEMBERED_TARGETS: usize = 256;

type Resolved = Result<(Arc<CompiledSchema>, Digest), ApiError>;

/// One document's validator as resolved, and the output asked for: what validating
/// it needs besides the registry, owned, so it can move to another task.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    resolved: Resolved,
    format: OutputFormat,
}

impl Prepared {
    /// Validates `document`. A document that does not parse fails as such before a
    /// missing validator does, whichever order they were found in.
    pub(super) fn validate(
        &self,
        registry: &Registry,
        document: &str,
        field: &str,
    ) -> Result<pb::ValidationResult, ApiError> {
        let instance = registry.parse_document(document, field)?;
        let (compiled, digest) = self.resolved.clone()?;
        let outcome = compiled.validate(&instance, self.format);
        Ok(result_message(outcome, digest))
    }
}

/// Settings and remembered validators shared by the documents of one call.
#[derive(Debug)]
pub(super) struct ValidationSession {
    registry: Registry,
    limiter: CallerRateLimiter,
    caller: Option<IpAddr>,
    default_target: Option<Target>,
    format: OutputFormat,
    options: CompileOptions,
    remembered: HashMap<Target, Resolved>,
}

impl ValidationSession {
    pub(super) fn new(
        registry: Registry,
        limiter: CallerRateLimiter,
        caller: Option<IpAddr>,
        format: OutputFormat,
        options: CompileOptions,
    ) -> Self {
        Self {
            registry,
            limiter,
            caller,
            default_target: None,
            format,
            options,
            remembered: HashMap::new(),
        }
    }

    /// Changes the output format and compile options for the documents that follow.
    pub(super) fn configure(&mut self, format: OutputFormat, options: CompileOptions) {
        self.format = format;
        self.options = options;
        self.remembered.clear();
    }

    /// Sets the target of documents that name none.
    pub(super) fn set_default_target(&mut self, target: Target) {
        self.default_target = Some(target);
    }

    /// Charges the caller for `documents` before any work is done.
    pub(super) fn admit(&self, documents: u32) -> Result<(), ApiError> {
        self.limiter.admit(self.caller, documents)
    }

    /// Validates one document; every failure is reported as that document's error.
    pub(super) async fn validate_one(
        &mut self,
        target: Option<Target>,
        document: &str,
        field: &str,
    ) -> Result<pb::ValidationResult, pb::ItemError> {
        self.try_validate(target, document, field)
            .await
            .map_err(item_error)
    }

    async fn try_validate(
        &mut self,
        target: Option<Target>,
        document: &str,
        field: &str,
    ) -> Result<pb::ValidationResult, ApiError> {
        self.prepare(target)
            .await?
            .validate(&self.registry, document, field)
    }

    /// Resolves a document's validator ahead of validating it, so the validation
    /// itself can run apart from the session (on another core). Fails only when the
    /// document has no target; a validator that cannot be had fails its validation.
    pub(super) async fn prepare(&mut self, target: Option<Target>) -> Result<Prepared, ApiError> {
        let target = match target.or_else(|| self.default_target.clone()) {
            Some(target) => target,
            None => {
                let reason = "set it, or open the stream with a default_schema";
                return Err(ApiError::invalid("schema", reason));
            }
        };
        Ok(Prepared {
            resolved: self.resolve(target).await,
            format: self.format,
        })
    }

    /// The registry documents are parsed by.
    pub(super) fn registry(&self) -> &Registry {
        &self.registry
    }

    async fn resolve(&mut self, target: Target) -> Resolved {
        if let Some(resolved) = self.remembered.get(&target) {
            return resolved.clone();
        }
        let resolved = self.registry.validator(&target, self.options).await;
        // Failures are remembered too, so a stream of documents for a missing schema
        // costs one lookup, not one per document. Transient ones are not.
        if !matches!(
            resolved,
            Err(ApiError::Unavailable(_) | ApiError::Internal(_))
        ) {
            if self.remembered.len() >= MAX_REMEMBERED_TARGETS {
                self.remembered.clear();
            }
            self.remembered.insert(target, resolved.clone());
        }
        resolved
    }
}
