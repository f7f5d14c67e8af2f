//! The embedded index: tantivy in a directory of the data dir, or in memory.
//!
//! One writer sits behind a mutex; every write commits, stores the checkpoint in the
//! commit, and reloads the reader before it returns, so the next search sees it.
//! Searches take a searcher from the reader without locking. tantivy's calls block, so
//! each operation runs on tokio's blocking pool.

mod facets;
mod fields;
mod matching;
mod search;
mod tokenizer;
mod write;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use ovsr_core::SchemaName;
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, ReloadPolicy};

use self::fields::Fields;
use self::write::Writer;
use crate::{IndexStats, SearchDocument, SearchError, SearchIndex, SearchPage, SearchQuery};

/// Memory the writer buffers before it flushes a segment.
const WRITER_MEMORY_BYTES: usize = 32 * 1024 * 1024;

/// A tantivy index of schemas, for a registry on one machine.
#[derive(Clone)]
pub struct EmbeddedIndex {
    inner: Arc<Inner>,
}

struct Inner {
    /// Where the index lives; `None` in memory.
    path: Option<PathBuf>,
    reader: IndexReader,
    fields: Fields,
    writer: std::sync::Mutex<Writer>,
    /// The committed checkpoint, readable without the writer's lock.
    checkpoint: AtomicU64,
}

impl EmbeddedIndex {
    /// Opens the index in `directory`, creating the directory and an empty index when
    /// there is none. Fails with `Unavailable` when another process has it open.
    pub fn open(directory: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(directory).map_err(|err| {
            let reason = format!("creating {}: {err}", directory.display());
            SearchError::Unavailable(reason)
        })?;
        let mmap = MmapDirectory::open(directory).map_err(|err| {
            let reason = format!("opening {}: {err}", directory.display());
            SearchError::Unavailable(reason)
        })?;
        let index = Index::open_or_create(mmap, Fields::schema())?;
        Self::from_index(index, Some(directory.to_owned()))
    }

    /// An empty index in memory, gone when dropped: for tests and throwaway registries.
    pub fn in_memory() -> Result<Self, SearchError> {
        Self::from_index(Index::create_in_ram(Fields::schema()), None)
    }

    fn from_index(index: Index, path: Option<PathBuf>) -> Result<Self, SearchError> {
        index
            .tokenizers()
            .register(tokenizer::WORDS, tokenizer::words_analyzer());
        let fields = Fields::resolve(&index.schema())?;
        let checkpoint = write::stored_checkpoint(&index)?;
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let inner = Inner {
            path,
            reader,
            fields,
            writer: std::sync::Mutex::new(Writer::new(writer)),
            checkpoint: AtomicU64::new(checkpoint),
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Runs blocking index work off the async runtime's threads.
    async fn blocking<T, F>(&self, work: F) -> Result<T, SearchError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, SearchError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|err| SearchError::Internal(format!("index task failed: {err}")))?
    }
}

impl fmt::Debug for EmbeddedIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = match &self.inner.path {
            Some(path) => path.display().to_string(),
            None => "memory".to_owned(),
        };
        f.debug_struct("EmbeddedIndex")
            .field("location", &location)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SearchIndex for EmbeddedIndex {
    async fn upsert(&self, documents: Vec<SearchDocument>) -> Result<(), SearchError> {
        self.blocking(move |inner| inner.upsert(documents)).await
    }

    async fn add_reads(&self, reads: Vec<(SchemaName, u64)>) -> Result<(), SearchError> {
        self.blocking(move |inner| inner.add_reads(reads)).await
    }

    async fn remove(&self, schema: &SchemaName) -> Result<(), SearchError> {
        let schema = schema.clone();
        self.blocking(move |inner| inner.remove(&schema)).await
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError> {
        let query = query.clone();
        self.blocking(move |inner| inner.search(&query)).await
    }

    async fn apply_settings(&self) -> Result<(), SearchError> {
        // The schema, analyzers and boosts are set in code when the index opens.
        Ok(())
    }

    async fn checkpoint(&self) -> Result<u64, SearchError> {
        Ok(self.inner.checkpoint.load(Ordering::Acquire))
    }

    async fn set_checkpoint(&self, position: u64) -> Result<(), SearchError> {
        self.blocking(move |inner| inner.set_checkpoint(position))
            .await
    }

    async fn clear(&self) -> Result<(), SearchError> {
        self.blocking(Inner::clear).await
    }

    async fn stats(&self) -> Result<IndexStats, SearchError> {
        Ok(IndexStats {
            documents: self.inner.reader.searcher().num_docs(),
            checkpoint: self.inner.checkpoint.load(Ordering::Acquire),
        })
    }
}
