//! Collecting the property names a schema declares, wherever they are declared.

use std::collections::HashSet;

use serde_json::{Map, Value};

/// Beyond this depth a document is not walked further: no real schema nests this deep,
/// and the bound keeps a hostile document from exhausting the stack.
const MAX_DEPTH: usize = 128;

/// Bounds the names kept per schema, so one generated giant cannot bloat the index.
const MAX_NAMES: usize = 4096;

/// Keywords whose values are instance data, not subschemas: a `properties` key inside
/// an example is not a declaration.
const DATA_KEYWORDS: &[&str] = &["const", "default", "enum", "examples", "example"];

/// The names declared under `properties` anywhere in `schema`: in nested objects,
/// `items`, `$defs`/`definitions`, `allOf`/`anyOf`/`oneOf`, conditionals, and unknown
/// keywords that hold subschemas. Keys of `patternProperties` are patterns, not names,
/// so only their subschemas are walked.
pub(super) fn property_names(schema: &Value) -> Vec<String> {
    let mut walk = PropertyWalk::default();
    walk.schema(schema, 0);
    walk.names
}

#[derive(Default)]
struct PropertyWalk {
    names: Vec<String>,
    seen: HashSet<String>,
}

impl PropertyWalk {
    fn schema(&mut self, node: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match node {
            Value::Object(keywords) => self.keywords(keywords, depth),
            Value::Array(items) => {
                for item in items {
                    self.schema(item, depth + 1);
                }
            }
            _ => {}
        }
    }

    fn keywords(&mut self, keywords: &Map<String, Value>, depth: usize) {
        for (keyword, value) in keywords {
            if DATA_KEYWORDS.contains(&keyword.as_str()) {
                continue;
            }
            if keyword == "properties"
                && let Value::Object(declared) = value
            {
                for (name, subschema) in declared {
                    self.record(name);
                    self.schema(subschema, depth + 1);
                }
                continue;
            }
            // Everything else (`items`, `$defs`, `allOf`, `patternProperties`, ...) is
            // walked for the subschemas it holds; its own keys are never names.
            self.schema(value, depth + 1);
        }
    }

    fn record(&mut self, name: &str) {
        if self.names.len() < MAX_NAMES && self.seen.insert(name.to_owned()) {
            self.names.push(name.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn finds_names_in_every_place_a_schema_declares_them() {
        let schema = json!({
            "properties": {
                "name": {"type": "string"},
                "spec": {"properties": {"replicas": {}}},
            },
            "patternProperties": {"^x-": {"properties": {"vendor": {}}}},
            "$defs": {"port": {"properties": {"containerPort": {}}}},
            "definitions": {"old": {"properties": {"legacy": {}}}},
            "items": {"properties": {"item": {}}},
            "allOf": [{"properties": {"all": {}}}],
            "anyOf": [{"properties": {"any": {}}}],
            "oneOf": [{"properties": {"one": {}}}],
            "if": {"properties": {"cond": {}}},
        });
        let mut names = property_names(&schema);
        names.sort();
        let expected = [
            "all",
            "any",
            "cond",
            "containerPort",
            "item",
            "legacy",
            "name",
            "one",
            "replicas",
            "spec",
            "vendor",
        ];
        assert_eq!(names, expected);
    }

    #[test]
    fn pattern_keys_definition_names_and_examples_are_not_names() {
        let schema = json!({
            "patternProperties": {"^x-": {}},
            "$defs": {"port": {"type": "integer"}},
            "examples": [{"properties": {"fake": 1}}],
            "default": {"properties": {"fake2": 1}},
        });
        assert!(property_names(&schema).is_empty());
    }

    #[test]
    fn a_name_is_kept_once() {
        let schema = json!({
            "properties": {"b": {}, "a": {"properties": {"b": {}}}},
        });
        let mut names = property_names(&schema);
        names.sort();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn a_property_called_properties_is_a_name() {
        let schema = json!({"properties": {"properties": {"properties": {"x": {}}}}});
        assert_eq!(property_names(&schema), ["properties", "x"]);
    }
}
