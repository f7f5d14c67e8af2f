//! How one schema looks as a Meilisearch document, and back.

use ovsr_core::{Digest, SchemaName, Version, VersionState};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{SearchDocument, SearchError};

/// The indexed attributes, in the order a match in them ranks a hit (Meilisearch's
/// `attribute` rule): what a schema is named and called first, prose last.
pub(super) const SEARCHABLE: [&str; 7] = [
    "name",
    "title",
    "tags",
    "properties",
    "uri",
    "namespace",
    "description",
];

/// Attributes filters and facets use.
pub(super) const FILTERABLE: [&str; 5] = ["id", "namespace", "tags", "dialect", "state"];

/// Attributes hits are sorted by; `schema` breaks ties, so pages never overlap.
pub(super) const SORTABLE: [&str; 3] = ["created_at_ms", "read_count", "schema"];

/// One schema in Meilisearch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Record {
    /// The primary key: Meilisearch admits only `[A-Za-z0-9_-]`, so the schema's
    /// name is hashed.
    pub id: String,
    /// `namespace/name`.
    pub schema: String,
    pub namespace: String,
    pub name: String,
    pub version: u32,
    pub digest: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    /// The schema's `$id`.
    pub uri: Option<String>,
    pub dialect: Option<String>,
    pub state: String,
    pub created_at_ms: i64,
    pub read_count: u64,
    pub properties: Vec<String>,
}

/// The primary key of `schema`'s document.
pub(super) fn key_of(schema: &SchemaName) -> String {
    let digest = Sha256::digest(schema.to_string().as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl Record {
    pub(super) fn of(document: &SearchDocument) -> Self {
        Self {
            id: key_of(&document.schema),
            schema: document.schema.to_string(),
            namespace: document.schema.namespace().to_string(),
            name: document.schema.name().to_owned(),
            version: document.version.get(),
            digest: document.digest.to_string(),
            title: document.title.clone(),
            description: document.description.clone(),
            tags: document.tags.clone(),
            uri: document.id.clone(),
            dialect: document.dialect.clone(),
            state: document.state.as_str().to_owned(),
            created_at_ms: document.created_at_ms,
            read_count: document.read_count,
            properties: document.properties.clone(),
        }
    }

    /// The document this record was made of; a record that does not parse is a
    /// fault in the index, not the caller's.
    pub(super) fn into_document(self) -> Result<SearchDocument, SearchError> {
        let corrupt =
            |what: &str| SearchError::Internal(format!("indexed {} has a bad {what}", self.schema));
        let schema = SchemaName::parse(&self.schema, "schema").map_err(|_| corrupt("name"))?;
        let version = Version::new(self.version, "version").map_err(|_| corrupt("version"))?;
        let digest = Digest::parse(&self.digest, "digest").map_err(|_| corrupt("digest"))?;
        let state = VersionState::from_stored(&self.state).ok_or_else(|| corrupt("state"))?;
        Ok(SearchDocument {
            schema,
            version,
            digest,
            title: self.title,
            description: self.description,
            tags: self.tags,
            id: self.uri,
            dialect: self.dialect,
            state,
            created_at_ms: self.created_at_ms,
            read_count: self.read_count,
            properties: self.properties,
        })
    }
}

/// The checkpoint: the one document of the index's companion state index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct CheckpointRecord {
    pub id: String,
    pub position: u64,
}

/// The checkpoint document's key.
pub(super) const CHECKPOINT_KEY: &str = "checkpoint";

/// Quotes `value` for a Meilisearch filter expression.
pub(super) fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_turns_back_into_its_document() {
        let schema = SchemaName::parse("acme/order", "schema").unwrap();
        let digest = Digest::of_canonical(b"{}");
        let body = serde_json::json!({"title": "Order", "properties": {"sku": {}}});
        let mut document = SearchDocument::from_schema(schema, Version::FIRST, digest, &body);
        document.tags = vec!["commerce".into()];
        document.state = VersionState::Deprecated;
        let record = Record::of(&document);
        assert_eq!(record.id.len(), 64);
        assert!(record.id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(record.into_document().unwrap(), document);
    }

    #[test]
    fn quoting_escapes_quotes_and_backslashes() {
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
