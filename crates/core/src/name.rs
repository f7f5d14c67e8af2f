//! Namespaces and schema names.
//!
//! Both are lowercase so that `Acme/Order` and `acme/order` can never be two schemas, and
//! both are safe to put in a URL path segment without escaping.

use std::fmt;

use crate::InvalidArgument;

/// The rule a namespace follows, as shown to clients in error messages.
pub const NAMESPACE_RULES: &str = "1 to 64 characters of a-z, 0-9 and '-', \
     starting and ending with a letter or digit";

/// The rule a schema name follows, as shown to clients in error messages.
pub const NAME_RULES: &str = "1 to 128 characters of a-z, 0-9, '-', '_' and '.', \
     starting and ending with a letter or digit";

const NAMESPACE_MAX: usize = 64;
const NAME_MAX: usize = 128;

/// A namespace: the creator or organisation that owns a set of schemas.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Namespace(String);

impl Namespace {
    /// Parses a namespace, reporting a violation under `field`.
    pub fn parse(raw: &str, field: &str) -> Result<Self, InvalidArgument> {
        let is_allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        check_segment(raw, NAMESPACE_MAX, is_allowed, NAMESPACE_RULES)
            .map_err(|reason| InvalidArgument::new(field, reason))?;
        Ok(Self(raw.to_owned()))
    }

    /// The namespace as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A schema's full name: `namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaName {
    namespace: Namespace,
    name: String,
}

impl SchemaName {
    /// Builds a name from its two parts, reporting violations under `field.namespace`
    /// and `field.name` (plain `namespace` and `name` when `field` is empty).
    pub fn new(namespace: &str, name: &str, field: &str) -> Result<Self, InvalidArgument> {
        let field_of = |part: &str| match field {
            "" => part.to_owned(),
            prefix => format!("{prefix}.{part}"),
        };
        // Field names are built only on failure: names are checked on every request.
        let namespace = Namespace::parse(namespace, "namespace")
            .map_err(|err| InvalidArgument::new(field_of("namespace"), err.reason))?;
        let is_allowed =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.');
        check_segment(name, NAME_MAX, is_allowed, NAME_RULES)
            .map_err(|reason| InvalidArgument::new(field_of("name"), reason))?;
        Ok(Self {
            namespace,
            name: name.to_owned(),
        })
    }

    /// Parses `namespace/name`.
    pub fn parse(full: &str, field: &str) -> Result<Self, InvalidArgument> {
        let Some((namespace, name)) = full.split_once('/') else {
            let reason = format!("{full:?} is not of the form namespace/name");
            return Err(InvalidArgument::new(field, reason));
        };
        Self::new(namespace, name, field)
    }

    /// The owning namespace.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// The name within the namespace.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for SchemaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

fn check_segment(
    raw: &str,
    max_len: usize,
    is_allowed: impl Fn(char) -> bool,
    rules: &str,
) -> Result<(), String> {
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if raw.is_empty() {
        return Err(format!("must not be empty ({rules})"));
    }
    if raw.len() > max_len {
        return Err(format!("is {} characters long ({rules})", raw.len()));
    }
    if let Some(bad) = raw.chars().find(|c| !is_allowed(*c)) {
        return Err(format!("{raw:?} contains {bad:?} ({rules})"));
    }
    if !edge_ok(raw.chars().next()) || !edge_ok(raw.chars().last()) {
        return Err(format!(
            "{raw:?} must start and end with a letter or digit ({rules})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_names_within_the_rules() {
        let name = SchemaName::parse("acme-corp/order.v2_final", "schema").unwrap();
        assert_eq!(name.namespace().as_str(), "acme-corp");
        assert_eq!(name.name(), "order.v2_final");
        assert_eq!(name.to_string(), "acme-corp/order.v2_final");
    }

    #[test]
    fn rejects_bad_names_naming_the_field() {
        let cases = [
            ("Acme/order", "schema.namespace"),
            ("acme/Order", "schema.name"),
            ("-acme/order", "schema.namespace"),
            ("acme/order-", "schema.name"),
            ("acme/", "schema.name"),
            ("/order", "schema.namespace"),
            ("acme/or/der", "schema.name"),
            ("acme order", "schema"),
        ];
        for (raw, field) in cases {
            let err = SchemaName::parse(raw, "schema").unwrap_err();
            assert_eq!(err.field, field, "{raw}");
        }
    }

    #[test]
    fn an_empty_prefix_names_the_plain_fields() {
        let err = SchemaName::new("acme", "Order", "").unwrap_err();
        assert_eq!(err.field, "name");
    }

    #[test]
    fn rejects_overlong_segments() {
        let long = "a".repeat(65);
        let err = Namespace::parse(&long, "namespace").unwrap_err();
        assert!(err.reason.contains("65 characters"), "{err}");
    }
}
