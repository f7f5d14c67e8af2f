//! The `boon` engine.
//!
//! Regexes: boon translates ECMA-262 patterns to the `regex` crate's syntax and
//! matches them with `regex`, whose finite automata run in time linear in the input.
//! Lookaround and backreferences have no linear-time match, so boon refuses patterns
//! that use them: such a schema is `SchemaError::Invalid`, never a slow validation.

use std::collections::HashMap;

use ::boon::{
    CompileError, Compiler, Draft, ErrorKind, OutputError, SchemaIndex, Schemas, UrlLoader,
    ValidationError,
};
use serde_json::Value;

use super::{MissingDocuments, PassError};
use crate::{CompileOptions, Dialect, Outcome, OutputFormat, ValidationFailure};

/// A schema set compiled by boon, and the root to validate against.
pub(crate) struct BoonValidator {
    schemas: Schemas,
    root: SchemaIndex,
    root_url: String,
}

impl BoonValidator {
    /// One pass: compiles `document` at `root_url` with `referenced` loaded.
    pub(crate) fn compile_pass(
        root_url: &str,
        document: &Value,
        referenced: &HashMap<String, Value>,
        options: CompileOptions,
    ) -> Result<Self, PassError> {
        let missing = MissingDocuments::default();
        let mut compiler = Compiler::new();
        compiler.set_default_draft(boon_draft(options.default_dialect));
        if options.assert_formats {
            compiler.enable_format_assertions();
        }
        compiler.use_loader(Box::new(RecordingLoader {
            missing: missing.clone(),
        }));

        // boon's errors are not Send: each is turned into text before anything else.
        let invalid = |err: CompileError| PassError::Invalid(describe_compile_error(&err));
        compiler
            .add_resource(root_url, document.clone())
            .map_err(invalid)?;
        for (url, value) in referenced {
            compiler.add_resource(url, value.clone()).map_err(invalid)?;
        }

        let mut schemas = Schemas::new();
        let compiled = compiler.compile(root_url, &mut schemas);
        let unresolved = missing.take_unresolved(referenced);
        if !unresolved.is_empty() {
            return Err(PassError::Missing(unresolved));
        }
        let root = compiled.map_err(invalid)?;
        Ok(Self {
            schemas,
            root,
            root_url: root_url.to_owned(),
        })
    }

    /// Validates `document`. boon has no cheaper yes/no path, so "flag" only skips
    /// turning the error tree into failures.
    pub(crate) fn validate(&self, document: &Value, format: OutputFormat) -> Outcome {
        match self.schemas.validate(document, self.root) {
            Ok(()) => Outcome::valid(),
            Err(_) if format == OutputFormat::Flag => Outcome::invalid(Vec::new()),
            Err(error) => Outcome::invalid(basic_failures(&error, &self.root_url)),
        }
    }
}

/// Records the URLs boon asks for and fetches none of them.
struct RecordingLoader {
    missing: MissingDocuments,
}

impl UrlLoader for RecordingLoader {
    fn load(&self, url: &str) -> Result<Value, Box<dyn std::error::Error>> {
        Ok(self.missing.record(url))
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

/// Flattens boon's error tree into the "basic" output format's list.
fn basic_failures(error: &ValidationError<'_, '_>, root_url: &str) -> Vec<ValidationFailure> {
    let basic = error.basic_output();
    let units = match basic.error {
        OutputError::Branch(units) => units,
        OutputError::Leaf(_) => vec![basic],
    };
    units
        .into_iter()
        .filter_map(|unit| {
            let OutputError::Leaf(kind) = unit.error else {
                return None;
            };
            // Groups only say "validation failed"; their members say why.
            if matches!(kind, ErrorKind::Group) {
                return None;
            }
            let absolute = match &unit.absolute_keyword_location {
                Some(location) => location.to_string(),
                None => format!("{root_url}#{}", unit.keyword_location),
            };
            Some(ValidationFailure {
                instance_location: unit.instance_location.to_string(),
                keyword_location: unit.keyword_location,
                absolute_keyword_location: absolute,
                message: kind.to_string(),
            })
        })
        .collect()
}

/// Turns boon's error into one line that says where the problem is.
fn describe_compile_error(err: &CompileError) -> String {
    let CompileError::ValidationError { src, .. } = err else {
        return err.to_string();
    };
    let reasons: Vec<String> = basic_failures(src, "")
        .iter()
        .take(5)
        .map(|e| format!("at '{}': {}", e.instance_location, e.message))
        .collect();
    if reasons.is_empty() {
        src.to_string()
    } else {
        reasons.join("; ")
    }
}
