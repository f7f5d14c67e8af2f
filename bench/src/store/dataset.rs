//! The data set the store benchmark loads: its shape, how a key names a version, and
//! the schema documents, all derived from the key and a seed so every run with the
//! same options loads the same content.
//!
//! Key `k` (0 ≤ k < versions) is version `k % 5 + 1` of schema `k / 5`; schema `s` is
//! `schema-{s % 2000}` in namespace `team-{s / 2000}`, both zero-padded to four digits
//! so key order is listing order. pgbench scripts rebuild the same names from a random
//! key with the same arithmetic.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// Versions of each schema (the last schema may have fewer).
pub const VERSIONS_PER_SCHEMA: u64 = 5;
/// Schemas in each namespace (the last namespace may have fewer).
pub const SCHEMAS_PER_NAMESPACE: u64 = 2000;
/// What every loaded namespace starts with; nothing else does.
pub const NAMESPACE_PREFIX: &str = "team-";
/// What every loaded schema name starts with.
pub const NAME_PREFIX: &str = "schema-";
/// Digits after each prefix.
pub const INDEX_DIGITS: usize = 4;
/// Where the register workloads write. It sorts after the loaded namespaces, so
/// listing pages before its schemas never see them.
pub const WRITES_NAMESPACE: &str = "writes";
/// The most versions the naming can address: four-digit namespace indices.
pub const MAX_VERSIONS: u64 = 10_000 * SCHEMAS_PER_NAMESPACE * VERSIONS_PER_SCHEMA;

const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// How many namespaces, schemas and versions the data set has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shape {
    /// Versions in all.
    pub versions: u64,
    /// Schemas in all.
    pub schemas: u64,
    /// Namespaces in all.
    pub namespaces: u64,
    /// Versions of each schema but perhaps the last.
    pub versions_per_schema: u64,
    /// Schemas of each namespace but perhaps the last.
    pub schemas_per_namespace: u64,
}

/// One version of the data set, named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionKey {
    /// Which schema (0-based, in listing order).
    pub schema: u64,
    /// Its version number, from 1.
    pub version: u32,
}

impl Shape {
    /// The shape of a data set of `versions` versions.
    pub fn new(versions: u64) -> Self {
        let schemas = versions.div_ceil(VERSIONS_PER_SCHEMA);
        Self {
            versions,
            schemas,
            namespaces: schemas.div_ceil(SCHEMAS_PER_NAMESPACE),
            versions_per_schema: VERSIONS_PER_SCHEMA,
            schemas_per_namespace: SCHEMAS_PER_NAMESPACE,
        }
    }

    /// The version key `key` names.
    pub fn version_key(&self, key: u64) -> VersionKey {
        let version = key % VERSIONS_PER_SCHEMA + 1;
        VersionKey {
            schema: key / VERSIONS_PER_SCHEMA,
            version: u32::try_from(version).unwrap_or(u32::MAX),
        }
    }

    /// How many versions schema `schema` has.
    pub fn versions_of(&self, schema: u64) -> u64 {
        let first_key = schema * VERSIONS_PER_SCHEMA;
        self.versions
            .saturating_sub(first_key)
            .min(VERSIONS_PER_SCHEMA)
    }
}

/// The namespace schema `schema` lives in.
pub fn namespace_of(schema: u64) -> String {
    let index = schema / SCHEMAS_PER_NAMESPACE;
    format!("{NAMESPACE_PREFIX}{index:0INDEX_DIGITS$}")
}

/// The name of schema `schema` within its namespace.
pub fn name_of(schema: u64) -> String {
    let index = schema % SCHEMAS_PER_NAMESPACE;
    format!("{NAME_PREFIX}{index:0INDEX_DIGITS$}")
}

/// A small seeded generator (SplitMix64): the same seed gives the same data set and
/// the same random keys on every machine, with no dependency.
#[derive(Debug, Clone)]
pub struct SeededRng {
    state: u64,
}

impl SeededRng {
    /// A generator whose sequence `seed` fixes.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A generator for one item of a stream, independent of the others.
    pub fn for_item(seed: u64, item: u64) -> Self {
        let mut mixer = Self::new(seed ^ item.wrapping_mul(0xA076_1D64_78BD_642F));
        Self::new(mixer.next_u64())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(bound);
        u64::try_from(wide >> 64).unwrap_or(0)
    }
}

/// Builds a field's subschema from a random number.
type FieldSchema = fn(u64) -> Value;

/// The fields a schema may have, each a property name and a small subschema built
/// from a random number, so that numbers and limits differ between documents.
const FIELDS: [(&str, FieldSchema); 14] = [
    ("id", |_| json!({"type": "string", "format": "uuid"})),
    (
        "created_at",
        |_| json!({"type": "string", "format": "date-time"}),
    ),
    (
        "amount",
        |n| json!({"type": "number", "minimum": 0, "maximum": 1000 + n % 100_000}),
    ),
    (
        "currency",
        |_| json!({"type": "string", "enum": ["EUR", "USD", "GBP", "JPY"]}),
    ),
    (
        "email",
        |_| json!({"type": "string", "format": "email", "maxLength": 254}),
    ),
    (
        "quantity",
        |n| json!({"type": "integer", "minimum": 1, "maximum": 10 + n % 990}),
    ),
    (
        "labels",
        |n| json!({"type": "array", "items": {"type": "string"}, "maxItems": 1 + n % 50}),
    ),
    ("active", |_| json!({"type": "boolean"})),
    ("address", |_| {
        json!({
            "type": "object",
            "properties": {
                "street": {"type": "string"},
                "city": {"type": "string"},
                "postcode": {"type": "string", "pattern": "^[0-9]{4,6}$"}
            },
            "required": ["city"]
        })
    }),
    (
        "status",
        |_| json!({"type": "string", "enum": ["new", "paid", "shipped", "cancelled"]}),
    ),
    (
        "note",
        |n| json!({"type": "string", "maxLength": 16 + n % 2000}),
    ),
    (
        "score",
        |n| json!({"type": "number", "minimum": 0, "maximum": 1 + n % 100}),
    ),
    (
        "reference",
        |n| json!({"type": "string", "pattern": format!("^[A-Z]{{{}}}-[0-9]+$", 2 + n % 4)}),
    ),
    ("updated_by", |_| json!({"type": "string", "minLength": 1})),
];

/// The document of version `version` of schema `schema`: an object schema whose
/// fields the seed and schema pick, one more field in each version. Title and
/// description name the version, so no two documents share a digest.
pub fn schema_document(seed: u64, schema: u64, version: u32) -> String {
    let mut rng = SeededRng::for_item(seed, schema);
    let first = rng.below(FIELDS.len() as u64) as usize;
    let base_fields = 2 + rng.below(4) as usize;
    let fields = (base_fields + version as usize).min(FIELDS.len());

    let mut properties = Map::new();
    let mut required = Vec::new();
    for offset in 0..fields {
        let (name, subschema) = FIELDS[(first + offset) % FIELDS.len()];
        properties.insert(name.to_owned(), subschema(rng.next_u64()));
        if rng.below(2) == 0 {
            required.push(Value::from(name));
        }
    }
    let document = json!({
        "$schema": DIALECT,
        "title": format!("{} {}", namespace_of(schema), name_of(schema)),
        "description": format!("Version {version} of {}.", name_of(schema)),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": rng.below(2) == 0,
    });
    document.to_string()
}

/// A document for the register workload: small like the loaded ones, and unique by
/// `unique` (a run nonce and a call number).
pub fn written_document(writer: &str, unique: &str) -> String {
    format!(
        "{{\"$schema\":\"{DIALECT}\",\"title\":\"{writer} {unique}\",\"type\":\"object\",\
         \"properties\":{{\"id\":{{\"type\":\"string\",\"format\":\"uuid\"}},\
         \"amount\":{{\"type\":\"number\",\"minimum\":0}},\
         \"status\":{{\"type\":\"string\",\"enum\":[\"new\",\"paid\",\"shipped\"]}}}},\
         \"required\":[\"id\"]}}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_walk_versions_then_schemas_then_namespaces() {
        let shape = Shape::new(1_000_000);
        assert_eq!((shape.schemas, shape.namespaces), (200_000, 100));
        let key = shape.version_key(5 * 2001 + 3);
        assert_eq!(
            key,
            VersionKey {
                schema: 2001,
                version: 4
            }
        );
        assert_eq!(namespace_of(key.schema), "team-0001");
        assert_eq!(name_of(key.schema), "schema-0001");
    }

    #[test]
    fn the_last_schema_holds_the_remainder() {
        let shape = Shape::new(12);
        assert_eq!(shape.schemas, 3);
        assert_eq!(shape.versions_of(1), 5);
        assert_eq!(shape.versions_of(2), 2);
    }

    #[test]
    fn documents_are_json_and_differ_between_versions_and_seeds() {
        let first = schema_document(7, 42, 1);
        let value: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(value["type"], "object");
        assert_eq!(first, schema_document(7, 42, 1));
        assert_ne!(first, schema_document(7, 42, 2));
        assert_ne!(first, schema_document(8, 42, 1));
        let written: Value = serde_json::from_str(&written_document("w", "1")).unwrap();
        assert_eq!(written["title"], "w 1");
    }

    #[test]
    fn bounded_draws_stay_below_their_bound() {
        let mut rng = SeededRng::new(3);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert_eq!(rng.below(0), 0);
    }
}
