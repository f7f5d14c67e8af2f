//! Results in JSON Schema's standard output formats ("flag" and "basic").

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

    /// The outcome of an invalid document with these failures.
    pub(crate) fn invalid(errors: Vec<ValidationFailure>) -> Self {
        Self {
            valid: false,
            errors,
        }
    }
}
