//! The tantivy schema of the embedded index and the mapping of documents onto it.

use ovsr_core::{Digest, SchemaName, Version, VersionState};
use serde::{Deserialize, Serialize};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value as _,
};
use tantivy::{TantivyDocument, Term};

use super::tokenizer::WORDS;
use crate::{SearchDocument, SearchError};

/// The fields of the index, resolved once.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fields {
    /// `namespace/name`, untokenized: the key documents are replaced under.
    pub key: Field,
    /// The namespace, untokenized: filters and facets.
    pub namespace: Field,
    /// Each tag, untokenized: filters and facets.
    pub tag: Field,
    /// The `$schema` URI, untokenized: filters.
    pub dialect: Field,
    /// The state's stored spelling: filters.
    pub state: Field,
    /// Registration time: the recency sort.
    pub created_at_ms: Field,
    /// Reads: the popularity sort.
    pub read_count: Field,
    /// The searchable text fields.
    pub text: TextFields,
    /// The whole document as JSON, to rebuild hits without a second lookup.
    pub source: Field,
}

/// The fields free text is matched against.
#[derive(Debug, Clone, Copy)]
pub(super) struct TextFields {
    pub name: Field,
    pub namespace: Field,
    pub title: Field,
    pub description: Field,
    pub tags: Field,
    pub properties: Field,
    pub id: Field,
}

/// Names of the fast fields the sorts and facets read.
pub(super) const NAMESPACE: &str = "namespace";
pub(super) const TAG: &str = "tag";
pub(super) const CREATED_AT_MS: &str = "created_at_ms";
pub(super) const READ_COUNT: &str = "read_count";

impl Fields {
    /// The index schema. Changing it requires a reindex, which `ovsr reindex` does.
    pub fn schema() -> Schema {
        let mut builder = Schema::builder();
        let words = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(WORDS)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        builder.add_text_field("key", STRING);
        builder.add_text_field(NAMESPACE, STRING | FAST);
        builder.add_text_field(TAG, STRING | FAST);
        builder.add_text_field("dialect", STRING);
        builder.add_text_field("state", STRING);
        builder.add_i64_field(CREATED_AT_MS, INDEXED | FAST);
        builder.add_u64_field(READ_COUNT, FAST);
        for name in [
            "name_text",
            "namespace_text",
            "title",
            "description",
            "tags_text",
            "properties",
            "id_text",
        ] {
            builder.add_text_field(name, words.clone());
        }
        builder.add_text_field("source", STORED);
        builder.build()
    }

    /// Resolves the fields of `schema`, refusing an index built with another layout.
    pub fn resolve(schema: &Schema) -> Result<Self, SearchError> {
        let field = |name: &str| {
            schema.get_field(name).map_err(|_| {
                let reason = format!("index has no field {name:?}; reindex it");
                SearchError::Internal(reason)
            })
        };
        Ok(Self {
            key: field("key")?,
            namespace: field(NAMESPACE)?,
            tag: field(TAG)?,
            dialect: field("dialect")?,
            state: field("state")?,
            created_at_ms: field(CREATED_AT_MS)?,
            read_count: field(READ_COUNT)?,
            text: TextFields {
                name: field("name_text")?,
                namespace: field("namespace_text")?,
                title: field("title")?,
                description: field("description")?,
                tags: field("tags_text")?,
                properties: field("properties")?,
                id: field("id_text")?,
            },
            source: field("source")?,
        })
    }

    /// The term a schema's document is stored under.
    pub fn key_term(&self, schema: &SchemaName) -> Term {
        Term::from_field_text(self.key, &schema.to_string())
    }

    /// The tantivy document for `document`.
    pub fn tantivy_document(
        &self,
        document: &SearchDocument,
    ) -> Result<TantivyDocument, SearchError> {
        let mut doc = TantivyDocument::default();
        let schema = &document.schema;
        doc.add_text(self.key, schema.to_string());
        doc.add_text(self.namespace, schema.namespace().as_str());
        doc.add_text(self.state, document.state.as_str());
        doc.add_i64(self.created_at_ms, document.created_at_ms);
        doc.add_u64(self.read_count, document.read_count);
        doc.add_text(self.text.name, schema.name());
        doc.add_text(self.text.namespace, schema.namespace().as_str());
        doc.add_text(self.text.title, &document.title);
        doc.add_text(self.text.description, &document.description);
        for tag in &document.tags {
            doc.add_text(self.tag, tag);
            doc.add_text(self.text.tags, tag);
        }
        if let Some(dialect) = &document.dialect {
            doc.add_text(self.dialect, dialect);
        }
        if let Some(id) = &document.id {
            doc.add_text(self.text.id, id);
        }
        // One value, so snippets over property names read as a list.
        doc.add_text(self.text.properties, document.properties.join(" "));
        let source = serde_json::to_string(&StoredDocument::from(document))
            .map_err(|err| SearchError::Internal(format!("encoding a document: {err}")))?;
        doc.add_text(self.source, source);
        Ok(doc)
    }

    /// Rebuilds the indexed document from its stored source.
    pub fn search_document(&self, doc: &TantivyDocument) -> Result<SearchDocument, SearchError> {
        let corrupt = |what: String| SearchError::Internal(format!("stored document {what}"));
        let source = doc
            .get_first(self.source)
            .and_then(|value| value.as_str())
            .ok_or_else(|| corrupt("has no source".to_owned()))?;
        let stored: StoredDocument =
            serde_json::from_str(source).map_err(|err| corrupt(err.to_string()))?;
        stored.into_document().map_err(corrupt)
    }
}

/// The stored form of a [`SearchDocument`]: plain values, read back with the same
/// checks the registry applies to input.
#[derive(Debug, Serialize, Deserialize)]
struct StoredDocument {
    namespace: String,
    name: String,
    version: u32,
    digest: String,
    title: String,
    description: String,
    tags: Vec<String>,
    id: Option<String>,
    dialect: Option<String>,
    state: String,
    created_at_ms: i64,
    read_count: u64,
    properties: Vec<String>,
}

impl From<&SearchDocument> for StoredDocument {
    fn from(document: &SearchDocument) -> Self {
        Self {
            namespace: document.schema.namespace().as_str().to_owned(),
            name: document.schema.name().to_owned(),
            version: document.version.get(),
            digest: document.digest.to_string(),
            title: document.title.clone(),
            description: document.description.clone(),
            tags: document.tags.clone(),
            id: document.id.clone(),
            dialect: document.dialect.clone(),
            state: document.state.as_str().to_owned(),
            created_at_ms: document.created_at_ms,
            read_count: document.read_count,
            properties: document.properties.clone(),
        }
    }
}

impl StoredDocument {
    fn into_document(self) -> Result<SearchDocument, String> {
        let invalid = |err: ovsr_core::InvalidArgument| err.to_string();
        let state = VersionState::from_stored(&self.state)
            .ok_or_else(|| format!("has unknown state {:?}", self.state))?;
        Ok(SearchDocument {
            schema: SchemaName::new(&self.namespace, &self.name, "").map_err(invalid)?,
            version: Version::new(self.version, "version").map_err(invalid)?,
            digest: Digest::parse(&self.digest, "digest").map_err(invalid)?,
            title: self.title,
            description: self.description,
            tags: self.tags,
            id: self.id,
            dialect: self.dialect,
            state,
            created_at_ms: self.created_at_ms,
            read_count: self.read_count,
            properties: self.properties,
        })
    }
}
