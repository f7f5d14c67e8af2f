//! The JSON Schema implementations a schema can be compiled with, behind one contract.
//!
//! Each engine compiles in passes. A pass never fetches: asked for a document it does
//! not hold, the engine's loader records the URL and hands back an empty schema so the
//! pass goes on and finds every other missing document too. A pass that recorded any
//! URL is thrown away; the caller resolves those URLs through the registry and runs
//! another pass with them added. So a schema set takes as many passes as its reference
//! chains are deep, plus one.

mod boon;
mod jsonschema;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::{CompileOptions, Dialect, Outcome, OutputFormat};

use self::boon::BoonValidator;
use self::jsonschema::JsonSchemaValidator;

/// Which JSON Schema implementation compiles and validates.
///
/// The default is [`Engine::JsonSchema`]: it is as conformant as boon where both must
/// be, more so where the suite is optional, accepts more real schemas, and is faster.
///
/// - JSON Schema Test Suite, drafts 4 to 2020-12, both engines in-process
///   (`cargo test -p ovsr-validate --test suite -- --nocapture`): required cases
///   4,942/4,942 on both; optional 644/644 for jsonschema against 633/644 for boon;
///   format with assertion on 2,741/2,741 against 2,560/2,741.
/// - SchemaStore (360 schemas with test documents, plus 4 generated): jsonschema
///   compiles all 364 and boon 354, which refuses lookahead patterns; both answer
///   every document of the schemas they compile as the corpus expects.
/// - Speed on one core, release build, boon and jsonschema interleaved over 5 rounds
///   (`cargo run --release -p ovsr-bench --bin engines`; tables in
///   `bench/results/engines-baseline.md`): jsonschema validates 3.0x as many documents
///   per second as boon on small documents, 3.5x on large documents and 4.5x on large
///   schemas ("flag" output; 2.2x to 5.1x over four runs), compiles in a quarter to
///   three fifths of boon's time, and runs 1.8x to 6.2x ajv 8's documents per second.
///
/// boon stays selectable (`"boon"`) as a second implementation to compare against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Engine {
    /// The `boon` crate.
    Boon,
    /// The `jsonschema` crate.
    #[default]
    JsonSchema,
}

/// A configured engine name that names no engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown validation engine '{0}'; expected 'boon' or 'jsonschema'")]
pub struct UnknownEngine(pub String);

impl Engine {
    /// Every engine, in a stable order.
    pub const ALL: [Engine; 2] = [Engine::Boon, Engine::JsonSchema];

    /// The name used in configuration: `"boon"` or `"jsonschema"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Boon => "boon",
            Self::JsonSchema => "jsonschema",
        }
    }
}

impl FromStr for Engine {
    type Err = UnknownEngine;

    /// Parses a configured name, as [`Engine::as_str`] spells it.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Engine::ALL
            .into_iter()
            .find(|engine| engine.as_str() == name)
            .ok_or_else(|| UnknownEngine(name.to_owned()))
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one compilation pass produced no validator.
pub(crate) enum PassError {
    /// Documents the pass asked for and did not have.
    Missing(Vec<String>),
    /// The schema is wrong, whatever else is loaded.
    Invalid(String),
}

/// A validator compiled by one of the engines.
pub(crate) enum EngineValidator {
    Boon(BoonValidator),
    JsonSchema(JsonSchemaValidator),
}

impl EngineValidator {
    /// Runs one compilation pass with `options.engine`. `referenced` holds the documents
    /// resolved so far, by URL.
    pub(crate) fn compile_pass(
        root_url: &str,
        document: &Value,
        referenced: &HashMap<String, Value>,
        options: CompileOptions,
    ) -> Result<Self, PassError> {
        match options.engine {
            Engine::Boon => {
                BoonValidator::compile_pass(root_url, document, referenced, options).map(Self::Boon)
            }
            Engine::JsonSchema => {
                JsonSchemaValidator::compile_pass(root_url, document, referenced, options)
                    .map(Self::JsonSchema)
            }
        }
    }

    /// Validates `document`; with [`OutputFormat::Flag`] no error detail is built.
    pub(crate) fn validate(&self, document: &Value, format: OutputFormat) -> Outcome {
        match self {
            Self::Boon(validator) => validator.validate(document, format),
            Self::JsonSchema(validator) => validator.validate(document, format),
        }
    }
}

/// The URLs a pass asked for and did not have, shared with the engine's loader.
#[derive(Debug, Clone, Default)]
pub(crate) struct MissingDocuments {
    asked: Arc<Mutex<Vec<String>>>,
}

impl MissingDocuments {
    /// Notes that `url` was asked for, and returns the stand-in to hand the engine:
    /// an empty schema, which every draft accepts, so the pass carries on.
    pub(crate) fn record(&self, url: &str) -> Value {
        let mut asked = self.asked.lock().unwrap_or_else(PoisonError::into_inner);
        if !asked.iter().any(|seen| seen == url) {
            asked.push(url.to_owned());
        }
        Value::Object(serde_json::Map::new())
    }

    /// The URLs recorded so far that `referenced` does not hold, in the order asked.
    pub(crate) fn take_unresolved(&self, referenced: &HashMap<String, Value>) -> Vec<String> {
        let mut asked = self.asked.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *asked)
            .into_iter()
            .filter(|url| !referenced.contains_key(url))
            .collect()
    }
}

/// The dialect `document` declares, tolerating the spellings boon accepts, or `None`
/// when it declares none or one the registry does not know.
pub(crate) fn declared_dialect(document: &Value) -> Option<Dialect> {
    let declared = document.get("$schema")?.as_str()?;
    Dialect::from_uri(declared).or_else(|| {
        // The unversioned metaschema URL means "the latest draft" to boon.
        let path = declared.trim_end_matches('#');
        let path = path
            .strip_prefix("https://")
            .or_else(|| path.strip_prefix("http://"))?;
        (path == "json-schema.org/schema").then_some(Dialect::Draft2020_12)
    })
}

/// Bytes of JSON source, a proxy for the memory a compiled validator holds.
pub(crate) fn estimate_size(value: &Value) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_names_round_trip() {
        for engine in Engine::ALL {
            assert_eq!(engine.as_str().parse::<Engine>(), Ok(engine));
        }
        let err = "ajv".parse::<Engine>().unwrap_err();
        assert_eq!(err, UnknownEngine("ajv".to_owned()));
    }

    #[test]
    fn missing_documents_are_recorded_once_and_filtered() {
        let missing = MissingDocuments::default();
        assert_eq!(missing.record("http://a/x"), serde_json::json!({}));
        missing.record("http://a/y");
        missing.record("http://a/x");
        let mut referenced = HashMap::new();
        referenced.insert("http://a/y".to_owned(), Value::Bool(true));
        assert_eq!(missing.take_unresolved(&referenced), ["http://a/x"]);
        assert!(missing.take_unresolved(&referenced).is_empty());
    }
}
