//! What the index holds per schema.

mod properties;

use ovsr_core::{Digest, SchemaName, Version, VersionState};
use serde_json::Value;

/// The indexed view of one schema: its latest live version, with what people search
/// for. Deprecated and deleted versions stay indexed with their state, so searches can
/// include them on request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDocument {
    /// `namespace/name`: the key the index holds one document under.
    pub schema: SchemaName,
    /// The version this document describes.
    pub version: Version,
    /// Its digest.
    pub digest: Digest,
    /// The schema's `title`, or a title supplied at registration; empty when none.
    pub title: String,
    /// The schema's `description`, or one supplied at registration; empty when none.
    pub description: String,
    /// Labels attached at registration, matched exactly by tag filters.
    pub tags: Vec<String>,
    /// The schema's `$id`, when it declares one.
    pub id: Option<String>,
    /// The schema's `$schema` URI (its dialect), when it declares one.
    pub dialect: Option<String>,
    /// The state of `version`.
    pub state: VersionState,
    /// When `version` was registered, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// How often the schema has been read: the popularity sort key.
    pub read_count: u64,
    /// Every property name declared anywhere in the schema, each once, in the order
    /// first met.
    pub properties: Vec<String>,
}

impl SearchDocument {
    /// Builds the document of one active version from its schema JSON: title,
    /// description, `$id`, `$schema` and the property names come from the document;
    /// tags, registration time and read count start empty for the caller to fill in.
    pub fn from_schema(
        schema: SchemaName,
        version: Version,
        digest: Digest,
        document: &Value,
    ) -> Self {
        let text_of = |key: &str| document.get(key).and_then(Value::as_str);
        Self {
            schema,
            version,
            digest,
            title: text_of("title").unwrap_or_default().to_owned(),
            description: text_of("description").unwrap_or_default().to_owned(),
            tags: Vec::new(),
            id: text_of("$id").or_else(|| text_of("id")).map(str::to_owned),
            dialect: text_of("$schema").map(str::to_owned),
            state: VersionState::Active,
            created_at_ms: 0,
            read_count: 0,
            properties: properties::property_names(document),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn from_schema_reads_what_the_document_declares() {
        let body = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://example.test/order.json",
            "title": "Order",
            "description": "A purchase",
            "properties": {"lineItems": {"items": {"properties": {"sku": {}}}}},
        });
        let schema = SchemaName::parse("acme/order", "schema").unwrap();
        let digest = Digest::of_canonical(b"{}");
        let doc = SearchDocument::from_schema(schema, Version::FIRST, digest, &body);
        assert_eq!(
            (doc.title.as_str(), doc.description.as_str()),
            ("Order", "A purchase")
        );
        assert_eq!(doc.id.as_deref(), Some("https://example.test/order.json"));
        let dialect = "https://json-schema.org/draft/2020-12/schema";
        assert_eq!(doc.dialect.as_deref(), Some(dialect));
        assert_eq!(doc.properties, ["lineItems", "sku"]);
        assert_eq!(doc.state, VersionState::Active);
    }

    #[test]
    fn from_schema_leaves_absent_fields_empty() {
        let schema = SchemaName::parse("acme/bare", "schema").unwrap();
        let digest = Digest::of_canonical(b"true");
        let doc = SearchDocument::from_schema(schema, Version::FIRST, digest, &json!(true));
        assert!(doc.title.is_empty() && doc.description.is_empty());
        assert!(doc.id.is_none() && doc.dialect.is_none() && doc.properties.is_empty());
    }
}
