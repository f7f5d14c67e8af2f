//! Compiled validators, cached by what makes them immutable.
//!
//! A version's URL and digest never change meaning, so a compiled validator for them is
//! valid forever: entries leave only to make room. Concurrent misses for one key compile
//! once and share the result.

use std::sync::Arc;

use moka::future::Cache;
use ovsr_core::Digest;

use crate::{CompileOptions, CompiledSchema, SchemaError};

/// Identifies a compiled validator. The URL matters beside the digest because relative
/// references resolve against it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ValidatorKey {
    /// Digest of the root document.
    pub digest: Digest,
    /// The URL the root document was compiled at.
    pub root_url: String,
    /// Options it was compiled with.
    pub options: CompileOptions,
}

/// A memory-bounded cache of compiled validators.
#[derive(Debug, Clone)]
pub struct ValidatorCache {
    compiled: Cache<ValidatorKey, Arc<CompiledSchema>>,
}

impl ValidatorCache {
    /// A cache holding validators up to about `max_bytes`, weighed by the JSON source
    /// they were compiled from.
    // TODO: weigh entries by the compiled size; source size understates it several fold.
    pub fn new(max_bytes: u64) -> Self {
        let compiled = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_key, value: &Arc<CompiledSchema>| {
                u32::try_from(value.source_bytes()).unwrap_or(u32::MAX)
            })
            .build();
        Self { compiled }
    }

    /// The validator for `key`, compiling it with `compile` on a miss. Callers that
    /// miss on the same key at once share one compilation.
    pub async fn get_or_compile<F>(
        &self,
        key: ValidatorKey,
        compile: F,
    ) -> Result<Arc<CompiledSchema>, SchemaError>
    where
        F: Future<Output = Result<CompiledSchema, SchemaError>>,
    {
        let init = async { compile.await.map(Arc::new) };
        self.compiled
            .try_get_with(key, init)
            .await
            .map_err(|shared: Arc<SchemaError>| (*shared).clone())
    }

    /// Validators held now (approximate, for metrics).
    pub fn entry_count(&self) -> u64 {
        self.compiled.entry_count()
    }
}
