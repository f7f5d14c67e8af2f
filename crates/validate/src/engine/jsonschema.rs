//! The `jsonschema` engine.
//!
//! References: the documents resolved so far go into a `referencing` registry that
//! the build starts from; the retriever behind it records every other URL the build
//! asks for and answers with an empty schema, as boon's loader does.
//!
//! Regexes: `fancy-regex`, with a backtracking budget. A pattern without lookaround or
//! backreferences is handed whole to the `regex` crate and matched in linear time. A
//! pattern with them (common in real schemas, and refused outright by boon) runs on
//! fancy-regex's backtracking machine, which gives up after `REGEX_BACKTRACK_LIMIT`
//! steps; the string then counts as not matching and the document is invalid, so a
//! hostile pattern costs a bounded amount of work per string rather than exponential
//! time. The pure `regex` setting would be linear throughout but would refuse those
//! schemas.

use std::collections::HashMap;

use ::jsonschema::error::ValidationErrorKind;
use ::jsonschema::{
    Draft, PatternOptions, Registry, Retrieve, Uri, ValidationError, ValidationOptions, Validator,
};
use serde_json::Value;

use super::{MissingDocuments, PassError, declared_dialect};
use crate::{CompileOptions, Dialect, Outcome, OutputFormat, ValidationFailure};

/// Backtracking steps one regex match may take before it gives up: about 1 to 2 ms
/// of work per string here. Patterns in real schemas need a few hundred at most; the
/// crate's default is a million.
const REGEX_BACKTRACK_LIMIT: usize = 20_000;

/// Instance values up to this length are quoted in messages; longer ones and every
/// object or array are named "value", so a message stays small whatever the document.
const MAX_QUOTED_INSTANCE_BYTES: usize = 64;

/// A validator compiled by jsonschema.
pub(crate) struct JsonSchemaValidator {
    validator: Validator,
    root_url: String,
}

impl JsonSchemaValidator {
    /// One pass: compiles `document` at `root_url` with `referenced` loaded.
    pub(crate) fn compile_pass(
        root_url: &str,
        document: &Value,
        referenced: &HashMap<String, Value>,
        options: CompileOptions,
    ) -> Result<Self, PassError> {
        let missing = MissingDocuments::default();
        // jsonschema reads the dialect of a custom metaschema before it crawls for
        // references, so that metaschema must be in the registry from the start.
        if let Some(metaschema) = undeclared_metaschema(document, referenced) {
            return Err(PassError::Missing(vec![metaschema]));
        }

        // Each document keeps the draft it declares: the builder's `draft` would
        // override them all.
        let resources = referenced.iter().map(|(url, value)| {
            let draft = document_draft(value, options.default_dialect);
            (url.as_str(), draft.create_resource_ref(value))
        });
        let registry = Registry::new()
            .retriever(RecordingRetriever {
                missing: missing.clone(),
            })
            .extend(resources)
            .and_then(|builder| builder.prepare());
        let registry = match registry {
            Ok(registry) => registry,
            Err(err) => return Err(missing_or(&missing, referenced, err.to_string())),
        };

        let built = build_options(root_url, document, options, &missing)
            .with_registry(&registry)
            .build(document);
        let unresolved = missing.take_unresolved(referenced);
        if !unresolved.is_empty() {
            return Err(PassError::Missing(unresolved));
        }
        match built {
            Ok(validator) => Ok(Self {
                validator,
                root_url: root_url.to_owned(),
            }),
            Err(err) => Err(PassError::Invalid(describe_compile_error(&err))),
        }
    }

    /// Validates `document`. Valid documents take the engine's yes/no path whatever
    /// the format; only invalid ones under "basic" are walked again for detail.
    pub(crate) fn validate(&self, document: &Value, format: OutputFormat) -> Outcome {
        if self.validator.is_valid(document) {
            return Outcome::valid();
        }
        if format == OutputFormat::Flag {
            return Outcome::invalid(Vec::new());
        }
        let failures = self
            .validator
            .iter_errors(document)
            .map(|error| basic_failure(&error, &self.root_url))
            .collect();
        Outcome::invalid(failures)
    }
}

/// Records the URLs jsonschema asks for and fetches none of them.
struct RecordingRetriever {
    missing: MissingDocuments,
}

impl Retrieve for RecordingRetriever {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.missing.record(uri.as_str()))
    }
}

fn build_options<'i>(
    root_url: &str,
    document: &Value,
    options: CompileOptions,
    missing: &MissingDocuments,
) -> ValidationOptions<'i> {
    let patterns = PatternOptions::fancy_regex().backtrack_limit(REGEX_BACKTRACK_LIMIT);
    let built = ::jsonschema::options()
        .with_base_uri(root_url)
        .with_retriever(RecordingRetriever {
            missing: missing.clone(),
        })
        .with_pattern_options(patterns);
    // jsonschema only knows the exact metaschema URLs; name the draft whenever the
    // registry recognises one, so both engines read `$schema` alike.
    let dialect = match document.get("$schema") {
        None => Some(options.default_dialect),
        Some(_) => declared_dialect(document),
    };
    match dialect {
        // Drafts 4 to 7 assert formats by default in jsonschema; ours is the option.
        Some(dialect) => built
            .with_draft(jsonschema_draft(dialect))
            .should_validate_formats(options.assert_formats),
        // A custom metaschema may demand format assertion through its vocabularies;
        // left unset, jsonschema honours that and otherwise only annotates.
        None if !options.assert_formats => built,
        None => built.should_validate_formats(true),
    }
}

/// The custom metaschema `document` names in `$schema`, when it is not loaded yet.
fn undeclared_metaschema(document: &Value, referenced: &HashMap<String, Value>) -> Option<String> {
    let declared = document.get("$schema")?.as_str()?;
    if declared_dialect(document).is_some() {
        return None;
    }
    let url = declared.trim_end_matches('#');
    (!referenced.contains_key(url)).then(|| url.to_owned())
}

/// Missing documents if the pass recorded any, else `reason` as an invalid schema.
fn missing_or(
    missing: &MissingDocuments,
    referenced: &HashMap<String, Value>,
    reason: String,
) -> PassError {
    let unresolved = missing.take_unresolved(referenced);
    if unresolved.is_empty() {
        PassError::Invalid(reason)
    } else {
        PassError::Missing(unresolved)
    }
}

/// The draft a referenced document is compiled with: the one it declares, else
/// `fallback`; a custom metaschema leaves jsonschema to read it from the registry.
fn document_draft(document: &Value, fallback: Dialect) -> Draft {
    match declared_dialect(document) {
        Some(dialect) => jsonschema_draft(dialect),
        None => jsonschema_draft(fallback).detect(document),
    }
}

fn jsonschema_draft(dialect: Dialect) -> Draft {
    match dialect {
        Dialect::Draft4 => Draft::Draft4,
        Dialect::Draft6 => Draft::Draft6,
        Dialect::Draft7 => Draft::Draft7,
        Dialect::Draft2019_09 => Draft::Draft201909,
        Dialect::Draft2020_12 => Draft::Draft202012,
    }
}

fn basic_failure(error: &ValidationError<'_>, root_url: &str) -> ValidationFailure {
    let absolute = match error.absolute_keyword_location() {
        Some(location) => location.to_string(),
        None => format!("{root_url}#{}", error.schema_path().as_str()),
    };
    ValidationFailure {
        instance_location: error.instance_path().as_str().to_owned(),
        keyword_location: error.evaluation_path().as_str().to_owned(),
        absolute_keyword_location: absolute,
        message: bounded_message(error),
    }
}

/// The error's message, quoting the failing value only when it is a short scalar.
fn bounded_message(error: &ValidationError<'_>) -> String {
    let short_scalar = match &**error.instance() {
        Value::String(text) => text.len() <= MAX_QUOTED_INSTANCE_BYTES,
        Value::Array(_) | Value::Object(_) => false,
        _ => true,
    };
    if short_scalar {
        error.to_string()
    } else {
        error.masked().to_string()
    }
}

/// One line that says where in the schema the problem is.
fn describe_compile_error(error: &ValidationError<'_>) -> String {
    if let ValidationErrorKind::Referencing(err) = error.kind() {
        return err.to_string();
    }
    format!(
        "at '{}': {}",
        error.instance_path().as_str(),
        bounded_message(error)
    )
}
