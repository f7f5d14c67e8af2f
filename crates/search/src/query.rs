//! What a search asks for and what it answers.

use ovsr_core::{Digest, Namespace, SchemaName, Version, VersionState};

use crate::{SearchDocument, SearchError};

/// Hits per page when the query does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 20;

/// The most hits one page may hold.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Bounds the query text, so one request cannot expand into an unbounded query.
const MAX_QUERY_CHARS: usize = 512;

/// The order of hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SearchSort {
    /// Best match first; without query text, most read first.
    #[default]
    Relevance,
    /// Most recently registered first.
    Recency,
    /// Most read first.
    Popularity,
}

impl SearchSort {
    /// A stable spelling, used in cursors.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Relevance => "relevance",
            Self::Recency => "recency",
            Self::Popularity => "popularity",
        }
    }
}

/// A search request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Free text; typos and a prefix of the last word are tolerated. Empty matches all.
    pub text: String,
    /// Only these namespaces; empty means all.
    pub namespaces: Vec<Namespace>,
    /// Only schemas carrying every one of these tags.
    pub tags: Vec<String>,
    /// Only these dialects (`$schema` URIs); empty means all.
    pub dialects: Vec<String>,
    /// Also match schemas whose latest version is deprecated.
    pub include_deprecated: bool,
    /// Also match schemas whose latest version is deleted.
    pub include_deleted: bool,
    /// Hit order.
    pub sort: SearchSort,
    /// Hits per page, 1 to [`MAX_PAGE_SIZE`]; `None` means [`DEFAULT_PAGE_SIZE`].
    pub page_size: Option<u32>,
    /// The `next_cursor` of the previous page; `None` for the first page.
    pub cursor: Option<String>,
}

impl SearchQuery {
    /// A first-page query for `text` with default filters and order.
    pub fn for_text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    /// Checks the query and returns the page size to use; refusals name the field
    /// (`query`, `page_size`).
    pub fn validated_page_size(&self) -> Result<u32, SearchError> {
        if self.text.chars().count() > MAX_QUERY_CHARS {
            let reason = format!("must be at most {MAX_QUERY_CHARS} characters");
            return Err(SearchError::invalid_query("query", reason));
        }
        match self.page_size {
            None => Ok(DEFAULT_PAGE_SIZE),
            Some(size) if (1..=MAX_PAGE_SIZE).contains(&size) => Ok(size),
            Some(size) => Err(SearchError::invalid_query(
                "page_size",
                format!("{size} is outside 1-{MAX_PAGE_SIZE}"),
            )),
        }
    }

    /// Identifies what the query matches and in which order, but not which page: two
    /// queries with the same fingerprint page through the same hits. Cursors carry it.
    pub fn fingerprint(&self) -> String {
        let mut namespaces: Vec<&str> = self.namespaces.iter().map(Namespace::as_str).collect();
        let mut tags: Vec<&str> = self.tags.iter().map(String::as_str).collect();
        let mut dialects: Vec<&str> = self.dialects.iter().map(String::as_str).collect();
        namespaces.sort_unstable();
        tags.sort_unstable();
        dialects.sort_unstable();
        let parts = serde_json::json!([
            self.text.trim(),
            namespaces,
            tags,
            dialects,
            self.include_deprecated,
            self.include_deleted,
            self.sort.as_str(),
        ]);
        parts.to_string()
    }
}

/// A matched fragment of one searchable field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    /// The field matched: `title`, `description` or `properties`.
    pub field: String,
    /// The fragment, HTML-escaped, with matches wrapped in `<em>` and `</em>`.
    pub snippet: String,
}

/// One hit: the indexed version of a matching schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// The schema.
    pub schema: SchemaName,
    /// The version indexed.
    pub version: Version,
    /// Its digest.
    pub digest: Digest,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its state.
    pub state: VersionState,
    /// When it was registered, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// Matched fragments, for the fields that matched.
    pub highlights: Vec<Highlight>,
}

impl SearchHit {
    /// The hit for an indexed document, with the fragments its match highlights.
    pub fn of(document: SearchDocument, highlights: Vec<Highlight>) -> Self {
        Self {
            schema: document.schema,
            version: document.version,
            digest: document.digest,
            title: document.title,
            description: document.description,
            tags: document.tags,
            state: document.state,
            created_at_ms: document.created_at_ms,
            highlights,
        }
    }
}

/// The count of hits carrying one value of a facet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetValue {
    /// The value: a namespace or a tag.
    pub value: String,
    /// Hits carrying it, over all pages.
    pub count: u64,
}

/// Counts per value of one field over all hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    /// `namespace` or `tags`.
    pub field: String,
    /// The most frequent values first; ties in value order.
    pub values: Vec<FacetValue>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// The hits of this page, in the requested order.
    pub hits: Vec<SearchHit>,
    /// Resumes after this page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// Hits over all pages; backends may estimate.
    pub estimated_total_hits: u64,
    /// Counts for `namespace` and `tags` over all hits.
    pub facets: Vec<Facet>,
}

impl SearchPage {
    /// The facet named `field`, if the backend returned it.
    pub fn facet(&self, field: &str) -> Option<&Facet> {
        self.facets.iter().find(|facet| facet.field == field)
    }
}

/// What an index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexStats {
    /// Schemas indexed, in every state.
    pub documents: u64,
    /// The stored outbox position.
    pub checkpoint: u64,
}
