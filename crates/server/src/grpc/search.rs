//! `ovsr.v1.SearchService`, over the [`Searcher`].

use ovsr_core::Namespace;
use ovsr_proto::v1 as pb;
use ovsr_proto::v1::search_service_server::SearchService;
use ovsr_search::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SearchPage, SearchQuery, SearchSort};
use tonic::{Request, Response, Status};

use super::convert::{state_message, timestamp};
use crate::error::ApiError;
use crate::search::Searcher;

/// Serves `SearchService` from the search index.
#[derive(Debug, Clone)]
pub struct SearchApi {
    searcher: Searcher,
}

impl SearchApi {
    /// Serves searches through `searcher`.
    pub fn new(searcher: Searcher) -> Self {
        Self { searcher }
    }
}

#[tonic::async_trait]
impl SearchService for SearchApi {
    async fn search(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        let query = search_query(request.into_inner())?;
        let page = self.searcher.search(&query).await.map_err(ApiError::from)?;
        Ok(Response::new(response_message(&page)))
    }
}

/// Reads a request into a query, naming the field at fault.
fn search_query(request: pb::SearchRequest) -> Result<SearchQuery, ApiError> {
    let page_size = match u32::try_from(request.page_size) {
        Ok(0) => DEFAULT_PAGE_SIZE,
        Ok(size) if size <= MAX_PAGE_SIZE => size,
        _ => {
            let reason = format!("{} is outside 0-{MAX_PAGE_SIZE}", request.page_size);
            return Err(ApiError::invalid("page_size", reason));
        }
    };
    let namespaces = request
        .namespaces
        .iter()
        .enumerate()
        .map(|(i, raw)| Namespace::parse(raw, &format!("namespaces[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let sort = match pb::SearchSort::try_from(request.sort) {
        Ok(pb::SearchSort::Unspecified | pb::SearchSort::Relevance) => SearchSort::Relevance,
        Ok(pb::SearchSort::Recency) => SearchSort::Recency,
        Ok(pb::SearchSort::Popularity) => SearchSort::Popularity,
        Err(_) => return Err(ApiError::invalid("sort", "is not a known order")),
    };
    let cursor = Some(request.page_token).filter(|token| !token.is_empty());
    Ok(SearchQuery {
        text: request.query,
        namespaces,
        tags: request.tags,
        dialects: request.dialects,
        include_deprecated: request.include_deprecated,
        include_deleted: request.include_deleted,
        sort,
        page_size: Some(page_size),
        cursor,
    })
}

fn response_message(page: &SearchPage) -> pb::SearchResponse {
    let hits = page.hits.iter().map(|hit| pb::SearchHit {
        namespace: hit.schema.namespace().as_str().to_owned(),
        name: hit.schema.name().to_owned(),
        version: hit.version.get(),
        digest: hit.digest.to_string(),
        title: hit.title.clone(),
        description: hit.description.clone(),
        tags: hit.tags.clone(),
        state: state_message(hit.state) as i32,
        created_at: Some(timestamp(hit.created_at_ms)),
        highlights: hit
            .highlights
            .iter()
            .map(|highlight| pb::Highlight {
                field: highlight.field.clone(),
                snippet: highlight.snippet.clone(),
            })
            .collect(),
    });
    let facets = page.facets.iter().map(|facet| pb::Facet {
        field: facet.field.clone(),
        values: facet
            .values
            .iter()
            .map(|value| pb::FacetValue {
                value: value.value.clone(),
                count: value.count,
            })
            .collect(),
    });
    pb::SearchResponse {
        hits: hits.collect(),
        next_page_token: page.next_cursor.clone().unwrap_or_default(),
        estimated_total_hits: page.estimated_total_hits,
        facets: facets.collect(),
    }
}
