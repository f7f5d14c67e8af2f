//! Generated cases, each stressing one dimension the real corpus covers thinly.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::{Map, Value, json};

use crate::Workload;
use crate::corpus::{Case, Document};

const BASE: &str = "https://bench.ovsr.test/generated/";

/// Writes every generated case under `dir` (as ajv reads files) and returns them.
pub fn write_cases(dir: &Path) -> Result<Vec<Case>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {dir:?}"))?;
    let row = row_schema();
    let small = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": row["properties"].clone(),
        "required": ["id", "name"],
        "additionalProperties": false
    });
    let table = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "array",
        "items": {"$ref": "#/$defs/row"},
        "$defs": {"row": row}
    });
    let rows: Vec<Value> = (0..10_000).map(valid_row).collect();
    let mut bad_rows = rows.clone();
    bad_rows.push(json!({"id": "not a number", "name": "x"}));

    let specs = [
        (
            "small-object",
            Workload::Small,
            small,
            vec![
                (valid_row(1), true),
                (valid_row(2), true),
                (json!({"id": 3, "name": "c", "extra": 1}), false),
                (json!({"id": -1, "name": ""}), false),
            ],
        ),
        (
            "large-document",
            Workload::LargeDocuments,
            table,
            vec![(Value::Array(rows), true), (Value::Array(bad_rows), false)],
        ),
        (
            "recursive-tree",
            Workload::LargeSchemas,
            tree_schema(),
            vec![(tree(4, 3, false), true), (tree(4, 3, true), false)],
        ),
        (
            "wide-schema",
            Workload::LargeSchemas,
            wide_schema(1_000),
            vec![
                (wide_document(400, false), true),
                (wide_document(400, true), false),
            ],
        ),
    ];

    let mut cases = Vec::new();
    for (name, workload, schema, documents) in specs {
        cases.push(write_case(dir, name, workload, schema, documents)?);
    }
    Ok(cases)
}

fn write_case(
    dir: &Path,
    name: &str,
    workload: Workload,
    schema: Value,
    documents: Vec<(Value, bool)>,
) -> Result<Case> {
    let schema_path = dir.join(format!("{name}.schema.json"));
    let schema_text = serde_json::to_string(&schema)?;
    std::fs::write(&schema_path, &schema_text)?;
    let mut written = Vec::new();
    for (n, (value, expected_valid)) in documents.into_iter().enumerate() {
        let path = dir.join(format!("{name}.{n}.json"));
        let text = serde_json::to_string(&value)?;
        std::fs::write(&path, &text)?;
        written.push(Document {
            path,
            bytes: text.len(),
            value,
            expected_valid,
            format_dependent: false,
        });
    }
    Ok(Case {
        name: format!("generated-{name}"),
        url: format!("{BASE}{name}.json"),
        schema_path,
        schema_bytes: schema_text.len(),
        schema,
        documents: written,
        workload: Some(workload),
    })
}

fn row_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": {"type": "integer", "minimum": 0},
            "name": {"type": "string", "minLength": 1, "maxLength": 64},
            "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
            "score": {"type": "number", "minimum": 0, "maximum": 100},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
            "status": {"enum": ["active", "suspended", "closed"]}
        },
        "required": ["id", "name"]
    })
}

fn valid_row(n: u64) -> Value {
    json!({
        "id": n,
        "name": format!("user {n}"),
        "email": format!("user{n}@example.com"),
        "score": (n % 100) as f64 / 2.0,
        "tags": ["a", "b", format!("t{}", n % 7)],
        "status": "active"
    })
}

/// A node refers to itself through `$ref`: every level of the document re-enters it.
fn tree_schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": "#/definitions/node",
        "definitions": {
            "node": {
                "type": "object",
                "properties": {
                    "value": {"type": "number"},
                    "label": {"type": "string", "maxLength": 32},
                    "children": {"type": "array", "items": {"$ref": "#/definitions/node"}}
                },
                "required": ["value"],
                "additionalProperties": false
            }
        }
    })
}

fn tree(depth: u32, fanout: u32, broken_leaf: bool) -> Value {
    if depth == 0 {
        let value = if broken_leaf {
            json!("leaf")
        } else {
            json!(0.5)
        };
        return json!({"value": value, "label": "leaf"});
    }
    let children: Vec<Value> = (0..fanout)
        .map(|n| tree(depth - 1, fanout, broken_leaf && n + 1 == fanout))
        .collect();
    json!({"value": depth, "label": format!("level {depth}"), "children": children})
}

/// `width` properties, each with its own constraints, one in twenty required. (ajv
/// overflows its stack compiling 2,000.)
fn wide_schema(width: usize) -> Value {
    let mut properties = Map::new();
    for n in 0..width {
        let constraint = match n % 4 {
            0 => json!({"type": "string", "pattern": format!("^k{n}-[a-z]+$")}),
            1 => json!({"type": "integer", "minimum": n, "maximum": n + 1000}),
            2 => json!({"enum": [format!("a{n}"), format!("b{n}"), n]}),
            _ => json!({"type": "array", "items": {"type": "string"}, "maxItems": 8}),
        };
        properties.insert(format!("field{n}"), constraint);
    }
    let required: Vec<String> = (0..width / 20).map(|n| format!("field{n}")).collect();
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

fn wide_document(fields: usize, broken: bool) -> Value {
    let mut document = Map::new();
    for n in 0..fields {
        let value = match n % 4 {
            0 => json!(format!("k{n}-abc")),
            1 => json!(n + 10),
            2 => json!(format!("a{n}")),
            _ => json!(["x", "y"]),
        };
        document.insert(format!("field{n}"), value);
    }
    if broken {
        document.insert("field1".to_owned(), json!("not a number"));
    }
    Value::Object(document)
}
