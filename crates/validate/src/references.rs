//! Reference strings as URI references.
//!
//! Schemas generated from code often point at definitions named after types, such as
//! `#/definitions/Option<String>`. Characters like `<`, `>` or a space are not allowed
//! in a URI reference, so engines refuse the `$ref` although the intent is clear. The
//! JSON Pointer in a fragment is percent-decoded before it is followed (RFC 6901,
//! section 6), so escaping those characters names the same location in a form every
//! engine accepts.

use std::borrow::Cow;

use serde_json::Value;

/// Keywords whose string value is a URI reference.
const REFERENCE_KEYWORDS: [&str; 3] = ["$ref", "$dynamicRef", "$recursiveRef"];

/// Keywords whose value is instance data, never a schema: references inside them are
/// not references.
const DATA_KEYWORDS: [&str; 4] = ["const", "enum", "default", "examples"];

/// Keywords whose value maps names to schemas.
const NAMED_SCHEMA_KEYWORDS: [&str; 5] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];

/// `document` with every reference made a valid URI reference; borrowed unchanged
/// when every reference already is one, which is the common case.
pub(crate) fn escape_references(document: &Value) -> Cow<'_, Value> {
    if needs_escaping(document) {
        let mut owned = document.clone();
        escape_in_place(&mut owned);
        Cow::Owned(owned)
    } else {
        Cow::Borrowed(document)
    }
}

/// How a member of a schema object is treated, by its key.
enum Member {
    /// A URI reference.
    Reference,
    /// Instance data: left alone.
    Data,
    /// A map from names to schemas: its keys are names, not keywords.
    NamedSchemas,
    /// Anything else, walked as schema.
    Other,
}

fn member(key: &str) -> Member {
    if REFERENCE_KEYWORDS.contains(&key) {
        Member::Reference
    } else if DATA_KEYWORDS.contains(&key) {
        Member::Data
    } else if NAMED_SCHEMA_KEYWORDS.contains(&key) {
        Member::NamedSchemas
    } else {
        Member::Other
    }
}

/// [`escape_references`] for a document the caller owns: changed in place, no copy.
pub(crate) fn escape_references_owned(mut document: Value) -> Value {
    if needs_escaping(&document) {
        escape_in_place(&mut document);
    }
    document
}

fn needs_escaping(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(key, value)| match (member(key), value) {
            (Member::Reference, Value::String(text)) => escaped(text).is_some(),
            (Member::Data, _) => false,
            (Member::NamedSchemas, Value::Object(named)) => named.values().any(needs_escaping),
            _ => needs_escaping(value),
        }),
        Value::Array(items) => items.iter().any(needs_escaping),
        _ => false,
    }
}

fn escape_in_place(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match (member(key), value) {
                    (Member::Reference, Value::String(text)) => {
                        if let Some(fixed) = escaped(text) {
                            *text = fixed;
                        }
                    }
                    (Member::Data, _) => {}
                    (Member::NamedSchemas, Value::Object(named)) => {
                        named.values_mut().for_each(escape_in_place);
                    }
                    (_, value) => escape_in_place(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(escape_in_place),
        _ => {}
    }
}

/// The reference with disallowed ASCII characters percent-encoded, or `None` when it
/// needs no change.
fn escaped(reference: &str) -> Option<String> {
    if !reference.bytes().any(disallowed) {
        return None;
    }
    let mut out = String::with_capacity(reference.len() + 8);
    for ch in reference.chars() {
        if ch.is_ascii() && disallowed(ch as u8) {
            out.push_str(&format!("%{:02X}", ch as u8));
        } else {
            out.push(ch);
        }
    }
    Some(out)
}

/// ASCII bytes RFC 3986 allows nowhere in a URI reference.
fn disallowed(byte: u8) -> bool {
    byte.is_ascii_control() || b" \"<>\\^`{|}".contains(&byte)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn valid_references_are_borrowed() {
        let schema = json!({"$ref": "#/$defs/a", "properties": {"b": {"$ref": "other.json#/x"}}});
        assert!(matches!(escape_references(&schema), Cow::Borrowed(_)));
    }

    #[test]
    fn type_names_in_pointers_are_escaped() {
        let schema = json!({
            "properties": {"a": {"$ref": "#/definitions/Inputs<alloc::String>"}},
            "items": [{"$dynamicRef": "#/$defs/a b"}]
        });
        let fixed = escape_references(&schema);
        assert_eq!(
            fixed["properties"]["a"]["$ref"],
            "#/definitions/Inputs%3Calloc::String%3E"
        );
        assert_eq!(fixed["items"][0]["$dynamicRef"], "#/$defs/a%20b");
    }

    #[test]
    fn instance_data_is_left_alone() {
        let schema = json!({"const": {"$ref": "a<b"}, "enum": [{"$ref": "c d"}]});
        assert!(matches!(escape_references(&schema), Cow::Borrowed(_)));
    }

    #[test]
    fn properties_named_like_keywords_are_still_schemas() {
        let schema = json!({"properties": {
            "$ref": {"$ref": "#/$defs/x y"},
            "default": {"$ref": "#/$defs/<d>"}
        }});
        let fixed = escape_references(&schema);
        assert_eq!(fixed["properties"]["$ref"]["$ref"], "#/$defs/x%20y");
        assert_eq!(fixed["properties"]["default"]["$ref"], "#/$defs/%3Cd%3E");
    }
}
