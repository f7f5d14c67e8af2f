//! Running a query: hits in the requested order, the total, facets and highlights.

use std::collections::BTreeMap;

use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::query::Query;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Order, Searcher, TantivyDocument};
use tracing::debug;

use super::Inner;
use super::facets::{FacetCollector, FacetCounts};
use super::fields::{CREATED_AT_MS, READ_COUNT};
use super::matching::{build_query, word_matches};
use super::tokenizer::{index_tokens, query_words, words_analyzer};
use crate::cursor::{cursor_at, offset_of};
use crate::{
    Highlight, SearchDocument, SearchError, SearchHit, SearchPage, SearchQuery, SearchSort,
};

/// Words a query may hold; each expands to a typo-tolerant query over every field.
const MAX_QUERY_WORDS: usize = 32;

/// Hits reachable by paging. Deeper pages cost the index a full top-k each, and
/// nobody reads them; narrowing the query is the answer.
const MAX_PAGING_DEPTH: usize = 10_000;

/// Characters of context in a highlight.
const SNIPPET_CHARS: usize = 160;

impl Inner {
    pub(super) fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError> {
        let page_size = usize::try_from(query.validated_page_size()?).unwrap_or(usize::MAX);
        let offset = offset_of(query)?;
        if offset > MAX_PAGING_DEPTH {
            let reason = format!("pages past the first {MAX_PAGING_DEPTH} hits are not served");
            return Err(SearchError::invalid_query("page_token", reason));
        }
        let words = query_words(&query.text);
        if words.len() > MAX_QUERY_WORDS {
            let reason = format!("must have at most {MAX_QUERY_WORDS} words");
            return Err(SearchError::invalid_query("query", reason));
        }

        let searcher = self.reader.searcher();
        let window = Window { offset, page_size };
        let tantivy_query = build_query(&self.fields, &words, query);
        // Without text every hit scores alike; the most read schemas are the most
        // useful first page to browse.
        let sort = match query.sort {
            SearchSort::Relevance if words.is_empty() => SearchSort::Popularity,
            sort => sort,
        };
        let found = self.collect(&searcher, tantivy_query.as_ref(), sort, window)?;

        let mut hits = Vec::with_capacity(found.addresses.len());
        for address in found.addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            let document = self.fields.search_document(&doc)?;
            hits.push(hit_of(document, &words));
        }
        let next = offset + hits.len();
        let more = hits.len() == page_size && next < found.total && next <= MAX_PAGING_DEPTH;
        debug!(
            words = words.len(),
            total = found.total,
            "search.embedded.search"
        );
        Ok(SearchPage {
            hits,
            next_cursor: more.then(|| cursor_at(query, next)),
            estimated_total_hits: u64::try_from(found.total).unwrap_or(u64::MAX),
            facets: found.facets.into_facets(),
        })
    }

    fn collect(
        &self,
        searcher: &Searcher,
        tantivy_query: &dyn Query,
        sort: SearchSort,
        window: Window,
    ) -> Result<Found, SearchError> {
        let top = TopDocs::with_limit(window.page_size).and_offset(window.offset);
        match sort {
            SearchSort::Relevance => run(searcher, tantivy_query, top.order_by_score()),
            SearchSort::Recency => {
                let by = top.order_by_fast_field::<i64>(CREATED_AT_MS, Order::Desc);
                run(searcher, tantivy_query, by)
            }
            SearchSort::Popularity => {
                let by = top.order_by_fast_field::<u64>(READ_COUNT, Order::Desc);
                run(searcher, tantivy_query, by)
            }
        }
    }
}

/// The slice of hits a page covers.
#[derive(Debug, Clone, Copy)]
struct Window {
    offset: usize,
    page_size: usize,
}

/// What one pass over the index found.
struct Found {
    addresses: Vec<DocAddress>,
    total: usize,
    facets: FacetCounts,
}

fn run<K, C>(searcher: &Searcher, query: &dyn Query, top: C) -> Result<Found, SearchError>
where
    C: Collector<Fruit = Vec<(K, DocAddress)>>,
{
    let (top, total, facets) = searcher.search(query, &(top, Count, FacetCollector))?;
    Ok(Found {
        addresses: top.into_iter().map(|(_, address)| address).collect(),
        total,
        facets,
    })
}

fn hit_of(document: SearchDocument, words: &[String]) -> SearchHit {
    let properties = document.properties.join(" ");
    let highlighted = [
        ("title", document.title.as_str()),
        ("description", document.description.as_str()),
        ("properties", properties.as_str()),
    ];
    let highlights = highlighted
        .into_iter()
        .filter_map(|(field, text)| highlight(field, text, words))
        .collect();
    SearchHit::of(document, highlights)
}

/// The best fragment of `text` with the words the query matched marked, or `None`
/// when it matched none. Matches are decided as the query decides them, so typo and
/// prefix matches are marked too.
fn highlight(field: &str, text: &str, words: &[String]) -> Option<Highlight> {
    let mut matched = BTreeMap::new();
    for token in index_tokens(text) {
        let hits_word = words.iter().enumerate().any(|(at, word)| {
            let is_last = at + 1 == words.len();
            word_matches(&token.text, word, is_last)
        });
        if hits_word {
            matched.insert(token.text, 1.0);
        }
    }
    if matched.is_empty() {
        return None;
    }
    // The generator's field is only used to read documents; fragments come from `text`.
    let field_unused = tantivy::schema::Field::from_field_id(0);
    let generator = SnippetGenerator::new(matched, words_analyzer(), field_unused, SNIPPET_CHARS);
    let mut snippet = generator.snippet(text);
    if snippet.is_empty() {
        return None;
    }
    snippet.set_snippet_prefix_postfix("<em>", "</em>");
    Some(Highlight {
        field: field.to_owned(),
        snippet: snippet.to_html(),
    })
}
