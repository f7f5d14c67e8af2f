//! Search in `ovsr serve`: the index the configuration names (Meilisearch, or the
//! embedded index in the data directory), the indexer that feeds it from the store's
//! outbox, and the [`Searcher`] the gRPC service asks.
//!
//! Meilisearch is shared: every server's indexer claims outbox changes under one
//! consumer name, so each change is applied once, by whichever server claimed it. The
//! embedded index is private to one process, so several servers over one PostgreSQL
//! would each index only part of the changes; such deployments need Meilisearch.

mod indexer;
mod reindex;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use moka::future::Cache;
use ovsr_core::{SchemaName, Version, VersionSelector};
use ovsr_search::{
    EmbeddedIndex, MeiliConfig, MeiliIndex, SearchDocument, SearchError, SearchIndex, SearchPage,
    SearchQuery,
};
use ovsr_store::{SchemaStore, StoreError, StoredVersion};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry as MetricsRegistry;
use tokio::sync::Semaphore;
use tracing::{info, warn};

use crate::config::ServeConfig;

pub use indexer::Indexer;
pub use reindex::{ReindexSummary, reindex};

/// The index's directory inside the data directory.
const INDEX_DIR: &str = "search";

/// How long a cached page lives when other servers write the index too, and so
/// cannot drop this server's pages when they change it.
const SHARED_PAGE_TTL: Duration = Duration::from_secs(1);

/// The index the configuration names, and how the server treats it.
#[derive(Debug, Clone)]
pub struct SearchBackend {
    pub index: Arc<dyn SearchIndex>,
    /// The outbox consumer its indexer claims changes under.
    pub consumer: &'static str,
    /// Whether other servers write the same index.
    pub shared: bool,
    /// Whether its settings still have to be applied, before indexing starts.
    pub settings_pending: bool,
}

/// Opens the configured index: Meilisearch when a URL is given, else the embedded
/// index in the data directory. A Meilisearch that is down does not stop start-up:
/// searches answer UNAVAILABLE and the indexer applies the settings once it is back.
pub async fn open_backend(config: &ServeConfig) -> anyhow::Result<SearchBackend> {
    let Some(url) = &config.meili_url else {
        let index = open_index(&config.data_dir).await?;
        return Ok(SearchBackend {
            index: Arc::new(index),
            consumer: "search.embedded",
            shared: false,
            settings_pending: false,
        });
    };
    let meili = MeiliConfig {
        api_key: config.meili_key.as_ref().map(|key| key.expose().to_owned()),
        index: config.meili_index.clone(),
        request_timeout: config.meili_timeout,
        ..MeiliConfig::new(url.clone())
    };
    info!(
        url = %meili.url,
        index = %meili.index,
        key = meili.api_key.is_some(),
        timeout = ?meili.request_timeout,
        "search: Meilisearch"
    );
    let index = MeiliIndex::new(meili).context("configuring Meilisearch")?;
    let settings_pending = match index.apply_settings().await {
        Ok(()) => false,
        Err(SearchError::Unavailable(reason)) => {
            warn!(%reason, "Meilisearch not reachable; its settings are applied when it is");
            true
        }
        Err(err) => return Err(err).context("applying the Meilisearch settings"),
    };
    Ok(SearchBackend {
        index: Arc::new(index),
        consumer: "search.meili",
        shared: true,
        settings_pending,
    })
}

/// Opens (creating when absent) the embedded index in `data_dir`.
pub async fn open_index(data_dir: &Path) -> anyhow::Result<EmbeddedIndex> {
    let path = index_path(data_dir);
    let index = EmbeddedIndex::open(&path).map_err(|err| match err {
        SearchError::Unavailable(reason) => anyhow::anyhow!(
            "the search index in {} is unavailable ({reason}); \
             is another ovsr process using this data directory?",
            path.display()
        ),
        other => anyhow::Error::new(other),
    })?;
    index
        .apply_settings()
        .await
        .context("applying the search index settings")?;
    let stats = index.stats().await.context("reading the search index")?;
    info!(
        path = %path.display(),
        documents = stats.documents,
        checkpoint = stats.checkpoint,
        "search: embedded index"
    );
    Ok(index)
}

fn index_path(data_dir: &Path) -> PathBuf {
    data_dir.join(INDEX_DIR)
}

/// What search reports on `/metrics`.
#[derive(Debug, Clone)]
pub struct SearchMetrics {
    /// Seconds the oldest change not yet indexed has waited; 0 when caught up.
    pub indexing_lag: Gauge<f64, AtomicU64>,
    /// Documents written to the index.
    pub documents_indexed: Counter,
    /// Seconds per search request, cache hits included.
    pub latency: Histogram,
}

impl SearchMetrics {
    /// Metrics registered in `registry` under the `ovsr_search_` prefix.
    pub fn register(registry: &mut MetricsRegistry) -> Self {
        // 100 µs to about 1.6 s: cached pages through cold, broad queries.
        let metrics = Self {
            indexing_lag: Gauge::default(),
            documents_indexed: Counter::default(),
            latency: Histogram::new(exponential_buckets(100e-6, 2.0, 15)),
        };
        let registry = registry.sub_registry_with_prefix("ovsr_search");
        registry.register(
            "indexing_lag_seconds",
            "Age of the oldest change not yet indexed",
            metrics.indexing_lag.clone(),
        );
        registry.register(
            "documents_indexed",
            "Documents written to the search index",
            metrics.documents_indexed.clone(),
        );
        registry.register(
            "latency_seconds",
            "Seconds per search request",
            metrics.latency.clone(),
        );
        metrics
    }
}

/// Runs searches over the index: bounded in flight, answered from a cache of pages
/// that is dropped whenever the index changes.
#[derive(Debug, Clone)]
pub struct Searcher {
    index: Arc<dyn SearchIndex>,
    permits: Arc<Semaphore>,
    pages: Cache<String, Arc<SearchPage>>,
    /// Whether pages are cached at all; without, no key is built either.
    caching: bool,
    /// Bumped after every index write; cache keys carry it, so a page computed
    /// before a write is never served after it.
    generation: Arc<AtomicU64>,
    metrics: SearchMetrics,
}

impl Searcher {
    /// A searcher that runs at most `max_in_flight` index searches at once and keeps
    /// up to `cached_pages` result pages (none when 0). Over a `shared` index, which
    /// other servers change without telling this one, pages expire after
    /// [`SHARED_PAGE_TTL`].
    pub fn new(
        index: Arc<dyn SearchIndex>,
        max_in_flight: usize,
        cached_pages: u64,
        shared: bool,
        metrics: SearchMetrics,
    ) -> Self {
        // TODO: bound cached pages by bytes, as the schema cache is; a count lets
        // pages of many large highlights take more memory than intended.
        let pages = Cache::builder().max_capacity(cached_pages);
        let pages = if shared {
            pages.time_to_live(SHARED_PAGE_TTL)
        } else {
            pages
        };
        Self {
            index,
            permits: Arc::new(Semaphore::new(max_in_flight.max(1))),
            pages: pages.build(),
            caching: cached_pages > 0,
            generation: Arc::new(AtomicU64::new(0)),
            metrics,
        }
    }

    /// One page of hits. Refuses with `Overloaded` at once, without queueing, when
    /// the in-flight bound is reached.
    pub async fn search(&self, query: &SearchQuery) -> Result<Arc<SearchPage>, SearchError> {
        let started = Instant::now();
        let result = self.search_uncounted(query).await;
        self.metrics
            .latency
            .observe(started.elapsed().as_secs_f64());
        result
    }

    async fn search_uncounted(&self, query: &SearchQuery) -> Result<Arc<SearchPage>, SearchError> {
        let key = self.caching.then(|| self.cache_key(query));
        if let Some(key) = &key
            && let Some(page) = self.pages.get(key).await
        {
            return Ok(page);
        }
        let Ok(_permit) = self.permits.try_acquire() else {
            let reason = "too many searches in flight; retry shortly";
            return Err(SearchError::Overloaded(reason.to_owned()));
        };
        let page = Arc::new(self.index.search(query).await?);
        if let Some(key) = key {
            self.pages.insert(key, Arc::clone(&page)).await;
        }
        Ok(page)
    }

    /// Forgets every cached page; the indexer calls it after each write.
    pub fn index_changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.pages.invalidate_all();
    }

    fn cache_key(&self, query: &SearchQuery) -> String {
        let generation = self.generation.load(Ordering::Acquire);
        let page = (query.page_size, query.cursor.as_deref());
        format!("{generation}\n{}\n{page:?}", query.fingerprint())
    }
}

/// The document a schema should be indexed as: its latest live version (active or
/// deprecated), or, when every version is deleted, `deleted` (the highest version a
/// change named) in the deleted state. `None` when the store holds neither.
pub async fn document_of(
    store: &dyn SchemaStore,
    schema: &SchemaName,
    deleted: Version,
) -> Result<Option<SearchDocument>, StoreError> {
    let latest = store
        .get_version(schema, VersionSelector::Latest, false)
        .await?;
    let found = match latest {
        Some(version) => Some(version),
        None => {
            let exact = VersionSelector::Exact(deleted);
            store.get_version(schema, exact, true).await?
        }
    };
    found.map(|version| document_from(&version)).transpose()
}

/// Builds the search document of a stored version read with its content.
fn document_from(version: &StoredVersion) -> Result<SearchDocument, StoreError> {
    let content = version.content.as_deref().ok_or_else(|| {
        StoreError::Internal(format!("{} was read without content", version.schema))
    })?;
    let value = serde_json::from_str(content).map_err(|err| {
        let reason = format!("stored content of {} is not JSON: {err}", version.schema);
        StoreError::Internal(reason)
    })?;
    let mut document = SearchDocument::from_schema(
        version.schema.clone(),
        version.version,
        version.digest,
        &value,
    );
    document.tags = version.tags.clone();
    // The read count starts at 0: the index keeps the count it has, and the indexer
    // adds the reads this process counts.
    document.created_at_ms = version.created_at_ms;
    document.state = version.state;
    // The stored title and description are the document's own; a schema whose JSON
    // is not an object has neither.
    if document.title.is_empty() {
        document.title = version.title.clone().unwrap_or_default();
    }
    if document.description.is_empty() {
        document.description = version.description.clone().unwrap_or_default();
    }
    Ok(document)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use async_trait::async_trait;
    use ovsr_search::IndexStats;
    use tokio::sync::Notify;

    use super::*;

    /// An index whose searches count themselves and, when gated, wait to be let go.
    #[derive(Debug, Default)]
    struct GatedIndex {
        searches: AtomicUsize,
        gated: bool,
        entered: Notify,
        release: Notify,
    }

    #[async_trait]
    impl SearchIndex for GatedIndex {
        async fn upsert(&self, _: Vec<SearchDocument>) -> Result<(), SearchError> {
            Ok(())
        }
        async fn remove(&self, _: &SchemaName) -> Result<(), SearchError> {
            Ok(())
        }
        async fn add_reads(&self, _: Vec<(SchemaName, u64)>) -> Result<(), SearchError> {
            Ok(())
        }
        async fn search(&self, _: &SearchQuery) -> Result<SearchPage, SearchError> {
            self.searches.fetch_add(1, Ordering::SeqCst);
            if self.gated {
                self.entered.notify_one();
                self.release.notified().await;
            }
            Ok(SearchPage {
                hits: Vec::new(),
                next_cursor: None,
                estimated_total_hits: 0,
                facets: Vec::new(),
            })
        }
        async fn apply_settings(&self) -> Result<(), SearchError> {
            Ok(())
        }
        async fn checkpoint(&self) -> Result<u64, SearchError> {
            Ok(0)
        }
        async fn set_checkpoint(&self, _: u64) -> Result<(), SearchError> {
            Ok(())
        }
        async fn clear(&self) -> Result<(), SearchError> {
            Ok(())
        }
        async fn stats(&self) -> Result<IndexStats, SearchError> {
            Ok(IndexStats {
                documents: 0,
                checkpoint: 0,
            })
        }
    }

    fn searcher_over(index: &Arc<GatedIndex>, max_in_flight: usize) -> Searcher {
        let metrics = SearchMetrics::register(&mut MetricsRegistry::default());
        let index: Arc<dyn SearchIndex> = index.clone();
        Searcher::new(index, max_in_flight, 64, false, metrics)
    }

    #[tokio::test]
    async fn a_search_over_the_bound_is_refused_at_once() {
        let index = Arc::new(GatedIndex {
            gated: true,
            ..GatedIndex::default()
        });
        let searcher = searcher_over(&index, 1);
        let running = tokio::spawn({
            let searcher = searcher.clone();
            async move { searcher.search(&SearchQuery::for_text("first")).await }
        });
        index.entered.notified().await;

        let refused = searcher.search(&SearchQuery::for_text("second")).await;
        assert!(
            matches!(refused, Err(SearchError::Overloaded(_))),
            "{refused:?}"
        );

        index.release.notify_one();
        assert!(running.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn pages_are_cached_until_the_index_changes() {
        let index = Arc::new(GatedIndex::default());
        let searcher = searcher_over(&index, 4);
        let query = SearchQuery::for_text("order");

        searcher.search(&query).await.unwrap();
        searcher.search(&query).await.unwrap();
        assert_eq!(index.searches.load(Ordering::SeqCst), 1);

        let next_page = SearchQuery {
            page_size: Some(5),
            ..query.clone()
        };
        searcher.search(&next_page).await.unwrap();
        assert_eq!(index.searches.load(Ordering::SeqCst), 2);

        searcher.index_changed();
        searcher.search(&query).await.unwrap();
        assert_eq!(index.searches.load(Ordering::SeqCst), 3);
    }
}
