//! The Meilisearch backend: one Meilisearch index of schemas, and a companion index
//! holding the indexer's checkpoint.
//!
//! Meilisearch applies writes as asynchronous tasks; every write here waits for its
//! task, so a write is searchable when it returns, as the trait promises. Each call is
//! bounded by a request timeout: a Meilisearch that hangs answers
//! [`SearchError::Unavailable`] instead of holding the caller.
//!
//! Versions only move forward: an upsert reads the indexed versions of its schemas
//! first and skips stale ones. Writes from one `MeiliIndex` are serialized so that read
//! and write do not interleave; servers sharing the index take outbox changes under one
//! consumer name, so one change is applied by one of them at a time.

mod errors;
mod highlight;
mod record;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use meilisearch_sdk::client::Client;
use meilisearch_sdk::documents::DocumentsQuery;
use meilisearch_sdk::errors::Error;
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::search::{MatchingStrategies, Selectors};
use meilisearch_sdk::settings::{PaginationSetting, Settings};
use meilisearch_sdk::task_info::TaskInfo;
use ovsr_core::{SchemaName, VersionState};
use tokio::sync::Mutex;
use tracing::{debug, info};

use crate::cursor::{cursor_at, offset_of};
use crate::{
    Facet, FacetValue, IndexStats, SearchDocument, SearchError, SearchHit, SearchIndex, SearchPage,
    SearchQuery, SearchSort,
};
use errors::Failure;
use record::{CHECKPOINT_KEY, CheckpointRecord, FILTERABLE, Record, SEARCHABLE, SORTABLE, quoted};

/// Hits reachable by paging, as on the embedded index. Meilisearch stops counting at
/// its `maxTotalHits`, set to the same.
const MAX_PAGING_DEPTH: usize = 10_000;

/// Words of description kept around the matches in a highlight.
const DESCRIPTION_CROP_WORDS: usize = 30;

/// How often a write polls its task.
const TASK_POLL: Duration = Duration::from_millis(5);

/// Primary key of both indexes.
const PRIMARY_KEY: &str = "id";

/// Where the Meilisearch backend finds its server.
#[derive(Clone)]
pub struct MeiliConfig {
    /// Base URL, such as `http://127.0.0.1:7700`.
    pub url: String,
    /// The API key, when the server has a master key; never logged.
    pub api_key: Option<String>,
    /// The uid of the schema index; the checkpoint lives in `<uid>-state`.
    pub index: String,
    /// The longest one request may take.
    pub request_timeout: Duration,
    /// The longest a write waits for Meilisearch to apply it.
    pub task_timeout: Duration,
}

impl MeiliConfig {
    /// A config for the server at `url`, without a key, with default index and timeouts.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            api_key: None,
            index: "ovsr-schemas".to_owned(),
            request_timeout: Duration::from_secs(2),
            task_timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for MeiliConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeiliConfig")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "(set)"))
            .field("index", &self.index)
            .field("request_timeout", &self.request_timeout)
            .field("task_timeout", &self.task_timeout)
            .finish()
    }
}

/// A [`SearchIndex`] on a Meilisearch server.
pub struct MeiliIndex {
    client: Client,
    schemas: Index,
    state: Index,
    config: MeiliConfig,
    /// Serializes upserts, whose read-compare-write must not interleave.
    writes: Mutex<()>,
}

impl fmt::Debug for MeiliIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MeiliIndex")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl MeiliIndex {
    /// A backend on the configured server. Nothing is sent until the first call, so a
    /// server that is down does not stop start-up.
    pub fn new(config: MeiliConfig) -> Result<Self, SearchError> {
        let client = Client::new(config.url.trim_end_matches('/'), config.api_key.as_deref())
            .map_err(|err| Failure::Meili(err).classify("connecting"))?;
        let schemas = client.index(&config.index);
        let state = client.index(format!("{}-state", config.index));
        Ok(Self {
            client,
            schemas,
            state,
            config,
            writes: Mutex::new(()),
        })
    }

    /// Whether the server answers its health check.
    pub async fn healthy(&self) -> bool {
        self.timed("health", self.client.health()).await.is_ok()
    }

    /// Runs one request within the request timeout.
    async fn within<T>(&self, call: impl Future<Output = Result<T, Error>>) -> Result<T, Failure> {
        let limit = self.config.request_timeout;
        match tokio::time::timeout(limit, call).await {
            Ok(result) => result.map_err(Failure::Meili),
            Err(_) => Err(Failure::Silent(limit)),
        }
    }

    /// [`MeiliIndex::within`], its failure classified; `what` names the call.
    async fn timed<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, SearchError> {
        self.within(call)
            .await
            .map_err(|failure| failure.classify(what))
    }

    /// Sends a write and waits until Meilisearch has applied it.
    async fn apply(
        &self,
        call: impl Future<Output = Result<TaskInfo, Error>>,
    ) -> Result<(), Failure> {
        let task = self.within(call).await?;
        let waiting = task.wait_for_completion(
            &self.client,
            Some(TASK_POLL),
            Some(self.config.task_timeout),
        );
        // Each poll is a request of its own: the task timeout bounds the whole wait.
        let budget = self.config.task_timeout + self.config.request_timeout;
        let done = match tokio::time::timeout(budget, waiting).await {
            Ok(done) => done.map_err(Failure::Meili)?,
            Err(_) => return Err(Failure::Unfinished(budget)),
        };
        if done.is_failure() {
            return Err(Failure::Meili(Error::Meilisearch(done.unwrap_failure())));
        }
        Ok(())
    }

    /// [`MeiliIndex::apply`], its failure classified; `what` names the write.
    async fn applied(
        &self,
        what: &str,
        call: impl Future<Output = Result<TaskInfo, Error>>,
    ) -> Result<(), SearchError> {
        self.apply(call)
            .await
            .map_err(|failure| failure.classify(what))
    }

    /// Creates `index` unless it exists.
    async fn ensure_index(&self, index: &Index) -> Result<(), SearchError> {
        let creating = self.client.create_index(&index.uid, Some(PRIMARY_KEY));
        match self.apply(creating).await {
            Err(failure) if failure.already_exists() => Ok(()),
            other => other.map_err(|failure| failure.classify("creating the index")),
        }
    }

    /// The indexed records of `keys`, by key.
    async fn indexed(&self, keys: &[String]) -> Result<HashMap<String, Record>, SearchError> {
        let mut query = DocumentsQuery::new(&self.schemas);
        query
            .with_ids(keys.iter().map(String::as_str))
            .with_limit(keys.len());
        match self
            .within(self.schemas.get_documents_with::<Record>(&query))
            .await
        {
            Ok(found) => Ok(found
                .results
                .into_iter()
                .map(|r| (r.id.clone(), r))
                .collect()),
            Err(failure) if failure.is_absent() => Ok(HashMap::new()),
            Err(failure) => Err(failure.classify("reading indexed versions")),
        }
    }
}

/// Whether `new` should replace `old`: a higher version always, the same version when
/// anything else changed, a lower one never.
fn supersedes(new: &Record, old: &Record) -> bool {
    new.version > old.version || (new.version == old.version && new != old)
}

/// The filter expression of a query's namespaces, tags, dialects and states.
fn filter_of(query: &SearchQuery) -> String {
    let any_of = |field: &str, values: Vec<String>| {
        let quoted: Vec<String> = values.iter().map(|v| quoted(v)).collect();
        format!("{field} IN [{}]", quoted.join(", "))
    };
    let mut clauses = Vec::new();
    if !query.namespaces.is_empty() {
        let namespaces = query.namespaces.iter().map(|ns| ns.to_string()).collect();
        clauses.push(any_of("namespace", namespaces));
    }
    for tag in &query.tags {
        clauses.push(format!("tags = {}", quoted(tag)));
    }
    if !query.dialects.is_empty() {
        clauses.push(any_of("dialect", query.dialects.clone()));
    }
    let mut states = vec![VersionState::Active.as_str().to_owned()];
    if query.include_deprecated {
        states.push(VersionState::Deprecated.as_str().to_owned());
    }
    if query.include_deleted {
        states.push(VersionState::Deleted.as_str().to_owned());
    }
    clauses.push(any_of("state", states));
    clauses.join(" AND ")
}

/// The sort of a query; `None` ranks by relevance alone.
fn sort_of(query: &SearchQuery) -> Option<&'static [&'static str]> {
    let sort = match query.sort {
        // Without text every hit is alike; the most read are the best page to browse.
        SearchSort::Relevance if query.text.trim().is_empty() => SearchSort::Popularity,
        sort => sort,
    };
    match sort {
        SearchSort::Relevance => None,
        SearchSort::Recency => Some(&["created_at_ms:desc", "schema:asc"]),
        SearchSort::Popularity => Some(&["read_count:desc", "schema:asc"]),
    }
}

/// Facet counts, most frequent first, ties in value order.
fn facets_of(distribution: Option<HashMap<String, HashMap<String, usize>>>) -> Vec<Facet> {
    let mut distribution = distribution.unwrap_or_default();
    ["namespace", "tags"]
        .into_iter()
        .map(|field| {
            let mut values: Vec<FacetValue> = distribution
                .remove(field)
                .unwrap_or_default()
                .into_iter()
                .map(|(value, count)| FacetValue {
                    value,
                    count: count as u64,
                })
                .collect();
            values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            Facet {
                field: field.to_owned(),
                values,
            }
        })
        .collect()
}

#[async_trait]
impl SearchIndex for MeiliIndex {
    async fn upsert(&self, documents: Vec<SearchDocument>) -> Result<(), SearchError> {
        if documents.is_empty() {
            return Ok(());
        }
        // Within the batch, the last word on a schema wins unless it is older.
        let mut batch: HashMap<String, Record> = HashMap::new();
        for document in &documents {
            let record = Record::of(document);
            match batch.get(&record.id) {
                Some(held) if held.version > record.version => {}
                _ => {
                    batch.insert(record.id.clone(), record);
                }
            }
        }
        let _writing = self.writes.lock().await;
        let keys: Vec<String> = batch.keys().cloned().collect();
        let indexed = self.indexed(&keys).await?;
        let changed: Vec<Record> = batch
            .into_values()
            .filter_map(|mut record| {
                let Some(old) = indexed.get(&record.id) else {
                    return Some(record);
                };
                // Reads are counted by `add_reads`; a new version keeps the count.
                record.read_count = record.read_count.max(old.read_count);
                supersedes(&record, old).then_some(record)
            })
            .collect();
        debug!(
            offered = documents.len(),
            changed = changed.len(),
            "search.meili.upsert"
        );
        if changed.is_empty() {
            return Ok(());
        }
        let adding = self.schemas.add_or_replace(&changed, Some(PRIMARY_KEY));
        self.applied("indexing documents", adding).await
    }

    async fn add_reads(&self, reads: Vec<(SchemaName, u64)>) -> Result<(), SearchError> {
        if reads.is_empty() {
            return Ok(());
        }
        let _writing = self.writes.lock().await;
        let mut added: HashMap<String, u64> = HashMap::new();
        for (schema, count) in &reads {
            *added.entry(record::key_of(schema)).or_default() += count;
        }
        let keys: Vec<String> = added.keys().cloned().collect();
        let mut indexed = self.indexed(&keys).await?;
        let changed: Vec<Record> = added
            .into_iter()
            .filter_map(|(key, count)| {
                let mut record = indexed.remove(&key)?;
                record.read_count = record.read_count.saturating_add(count);
                Some(record)
            })
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let adding = self.schemas.add_or_replace(&changed, Some(PRIMARY_KEY));
        self.applied("adding read counts", adding).await
    }

    async fn remove(&self, schema: &SchemaName) -> Result<(), SearchError> {
        let key = record::key_of(schema);
        let _writing = self.writes.lock().await;
        let removing = self.schemas.delete_document(&key);
        match self.apply(removing).await {
            // Removing from an index never created removes nothing.
            Err(failure) if failure.is_absent() => Ok(()),
            other => other.map_err(|failure| failure.classify("removing a document")),
        }
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError> {
        let page_size = usize::try_from(query.validated_page_size()?).unwrap_or(usize::MAX);
        let offset = offset_of(query)?;
        if offset > MAX_PAGING_DEPTH {
            let reason = format!("pages past the first {MAX_PAGING_DEPTH} hits are not served");
            return Err(SearchError::invalid_query("page_token", reason));
        }
        let filter = filter_of(query);
        let text = query.text.trim();
        let crop = [("description", Some(DESCRIPTION_CROP_WORDS))];
        let mut request = self.schemas.search();
        request
            .with_query(text)
            .with_offset(offset)
            .with_limit(page_size)
            .with_filter(&filter)
            .with_facets(Selectors::Some(&["namespace", "tags"]))
            .with_matching_strategy(MatchingStrategies::LAST);
        if let Some(sort) = sort_of(query) {
            request.with_sort(sort);
        }
        if !text.is_empty() {
            request
                .with_attributes_to_highlight(Selectors::Some(&highlight::FIELDS))
                .with_highlight_pre_tag(highlight::PRE)
                .with_highlight_post_tag(highlight::POST)
                .with_attributes_to_crop(Selectors::Some(&crop))
                .with_crop_marker("…");
        }
        let found = self.timed("searching", request.execute::<Record>()).await?;

        let total = found.estimated_total_hits.unwrap_or(found.hits.len());
        let mut hits = Vec::with_capacity(found.hits.len());
        for hit in found.hits {
            let highlights = highlight::highlights(hit.formatted_result.as_ref());
            hits.push(SearchHit::of(hit.result.into_document()?, highlights));
        }
        let next = offset + hits.len();
        let more = hits.len() == page_size && next < total && next <= MAX_PAGING_DEPTH;
        debug!(
            total,
            took_ms = found.processing_time_ms,
            "search.meili.search"
        );
        Ok(SearchPage {
            hits,
            next_cursor: more.then(|| cursor_at(query, next)),
            estimated_total_hits: total as u64,
            facets: facets_of(found.facet_distribution),
        })
    }

    async fn apply_settings(&self) -> Result<(), SearchError> {
        self.ensure_index(&self.schemas).await?;
        self.ensure_index(&self.state).await?;
        let settings = Settings::new()
            .with_searchable_attributes(SEARCHABLE)
            .with_filterable_attributes(FILTERABLE)
            .with_sortable_attributes(SORTABLE)
            // `sort` first: a requested order is the order, relevance breaks its ties.
            // Without one the rule does nothing and relevance decides.
            .with_ranking_rules([
                "sort",
                "words",
                "typo",
                "proximity",
                "attribute",
                "exactness",
            ])
            // Descriptions name placeholders as `<name>`; Meilisearch would otherwise
            // keep the brackets in the word and never match `name`.
            .with_separation_tokens(["<", ">"])
            .with_pagination(PaginationSetting {
                max_total_hits: MAX_PAGING_DEPTH,
            });
        let setting = self.schemas.set_settings(&settings);
        self.applied("applying index settings", setting).await?;
        info!(index = %self.config.index, url = %self.config.url, "search: Meilisearch settings applied");
        Ok(())
    }

    async fn checkpoint(&self) -> Result<u64, SearchError> {
        let reading = self.state.get_document::<CheckpointRecord>(CHECKPOINT_KEY);
        match self.within(reading).await {
            Ok(record) => Ok(record.position),
            Err(failure) if failure.is_absent() => Ok(0),
            Err(failure) => Err(failure.classify("reading the checkpoint")),
        }
    }

    async fn set_checkpoint(&self, position: u64) -> Result<(), SearchError> {
        let record = [CheckpointRecord {
            id: CHECKPOINT_KEY.to_owned(),
            position,
        }];
        let writing = self.state.add_or_replace(&record, Some(PRIMARY_KEY));
        self.applied("storing the checkpoint", writing).await
    }

    async fn clear(&self) -> Result<(), SearchError> {
        let _writing = self.writes.lock().await;
        let clearing = self.schemas.delete_all_documents();
        self.applied("clearing the index", clearing).await?;
        let resetting = self.state.delete_all_documents();
        self.applied("resetting the checkpoint", resetting).await
    }

    async fn stats(&self) -> Result<IndexStats, SearchError> {
        let documents = match self.within(self.schemas.get_stats()).await {
            Ok(stats) => stats.number_of_documents as u64,
            Err(failure) if failure.is_absent() => 0,
            Err(failure) => return Err(failure.classify("reading index stats")),
        };
        Ok(IndexStats {
            documents,
            checkpoint: self.checkpoint().await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use ovsr_core::Namespace;

    use super::*;

    #[test]
    fn the_filter_hides_retired_states_unless_asked() {
        let query = SearchQuery::for_text("order");
        assert_eq!(filter_of(&query), r#"state IN ["active"]"#);
        let query = SearchQuery {
            namespaces: vec![Namespace::parse("acme", "namespace").unwrap()],
            tags: vec!["a".into(), "b\"c".into()],
            include_deleted: true,
            ..query
        };
        assert_eq!(
            filter_of(&query),
            r#"namespace IN ["acme"] AND tags = "a" AND tags = "b\"c" AND state IN ["active", "deleted"]"#
        );
    }

    #[test]
    fn an_empty_query_sorts_by_reads() {
        let mut query = SearchQuery::default();
        assert_eq!(
            sort_of(&query),
            Some(&["read_count:desc", "schema:asc"][..])
        );
        query.text = "order".into();
        assert_eq!(sort_of(&query), None);
    }

    #[test]
    fn facets_list_the_most_frequent_first() {
        let counts = HashMap::from([
            ("b".to_owned(), 2),
            ("a".to_owned(), 2),
            ("c".to_owned(), 5),
        ]);
        let facets = facets_of(Some(HashMap::from([("tags".to_owned(), counts)])));
        let tags: Vec<&str> = facets[1].values.iter().map(|v| v.value.as_str()).collect();
        assert_eq!(tags, ["c", "a", "b"]);
        assert!(facets[0].values.is_empty());
    }
}
