//! The one error every parser in this crate returns: which field was wrong, and why.

/// A request field that failed validation.
///
/// `field` names the field as the client wrote it (`schema.namespace`, `page_token`), so the
/// message can be shown to a person unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidArgument {
    /// The request field at fault, in the client's spelling.
    pub field: String,
    /// What is wrong with it, in plain words.
    pub reason: String,
}

impl InvalidArgument {
    /// Builds an error for `field` with a reason.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error reported under another field name, for parsers reused in
    /// several request shapes.
    pub fn in_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}
