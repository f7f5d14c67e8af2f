//! Results in JSON Schema's standard output formats ("flag" and "basic").

use boon::{ErrorKind, OutputError, ValidationError};

/// How much a result says about an invalid document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OutputFormat {
    /// Valid or not, nothing else: the cheapest answer.
    Flag,
    /// Valid or not, and a flat list of the failing keywords.
    #[default]
    Basic,
}

/// One failing keyword, as the "basic" output format lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationFailure {
    /// JSON Pointer into the document (empty for the root).
    pub instance_location: String,
    /// JSON Pointer to the keyword, through the references followed.
    pub keyword_location: String,
    /// Absolute URI of the keyword once references are resolved.
    pub absolute_keyword_location: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// The result of validating one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// True when the document is valid.
    pub valid: bool,
    /// The failures (always empty for valid documents and for [`OutputFormat::Flag`]).
    pub errors: Vec<ValidationFailure>,
}

impl Outcome {
    /// The outcome of a valid document.
    pub fn valid() -> Self {
        Self {
            valid: true,
            errors: Vec::new(),
        }
    }

    pub(crate) fn from_error(error: &ValidationError<'_, '_>, root_url: &str) -> Self {
        let basic = error.basic_output();
        let units = match basic.error {
            OutputError::Branch(units) => units,
            OutputError::Leaf(_) => vec![basic],
        };
        let errors = units
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
            .collect();
        Self {
            valid: false,
            errors,
        }
    }
}
