//! The local cache: immutable versions by digest and by pinned number, kept until
//! memory runs short, optionally on disk; `latest` pointers that expire after a TTL and
//! are then revalidated with `if_none_match`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::future::Cache;
use tracing::warn;

use crate::Schema;
use crate::verify::verify;

/// What the cache keeps, and where.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Bytes of content kept in memory.
    pub max_bytes: u64,
    /// How long `latest` is trusted before it is revalidated.
    pub latest_ttl: Duration,
    /// Where immutable versions are also written, one file per digest; `None` keeps
    /// them in memory only.
    pub directory: Option<PathBuf>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_bytes: 64 << 20,
            latest_ttl: Duration::from_secs(30),
            directory: None,
        }
    }
}

/// Counts of what the cache answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Answers given without asking the server.
    pub hits: u64,
    /// Lookups the cache could not answer.
    pub misses: u64,
    /// `latest` lookups past their TTL, sent with `if_none_match`.
    pub revalidations: u64,
    /// Revalidations the server answered "not modified".
    pub not_modified: u64,
    /// Files on disk that failed verification and were dropped.
    pub rejected_files: u64,
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    revalidations: AtomicU64,
    not_modified: AtomicU64,
    rejected_files: AtomicU64,
}

/// Where a `latest` pointer stands.
pub(crate) enum Latest {
    /// Within its TTL: the answer.
    Fresh(Arc<Schema>),
    /// Past its TTL: revalidate against this digest.
    Stale(Arc<Schema>),
    Unknown,
}

/// A pinned lookup: by number or by digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Pinned {
    Version(String, String, u32),
    Digest(String),
}

#[derive(Debug)]
pub(crate) struct LocalCache {
    pinned: Cache<Pinned, Arc<Schema>>,
    latest: Cache<(String, String), (Arc<Schema>, Instant)>,
    ttl: Duration,
    directory: Option<PathBuf>,
    counters: Counters,
}

impl LocalCache {
    pub(crate) fn new(config: &CacheConfig) -> std::io::Result<Self> {
        if let Some(directory) = &config.directory {
            std::fs::create_dir_all(directory)?;
        }
        let weigh = |_: &Pinned, schema: &Arc<Schema>| -> u32 {
            u32::try_from(schema.content.len() + 256).unwrap_or(u32::MAX)
        };
        Ok(Self {
            pinned: Cache::builder()
                .max_capacity(config.max_bytes)
                .weigher(weigh)
                .build(),
            latest: Cache::new(10_000),
            ttl: config.latest_ttl,
            directory: config.directory.clone(),
            counters: Counters::default(),
        })
    }

    /// A pinned version from memory, else from disk.
    pub(crate) async fn pinned(&self, key: &Pinned) -> Option<Arc<Schema>> {
        if let Some(found) = self.pinned.get(key).await {
            self.counters.hits.fetch_add(1, Ordering::Relaxed);
            return Some(found);
        }
        if let Some(found) = self.load(key) {
            self.counters.hits.fetch_add(1, Ordering::Relaxed);
            let found = Arc::new(found);
            self.remember(&found).await;
            return Some(found);
        }
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        None
    }

    pub(crate) async fn latest(&self, namespace: &str, name: &str) -> Latest {
        let key = (namespace.to_owned(), name.to_owned());
        match self.latest.get(&key).await {
            Some((schema, checked)) if checked.elapsed() < self.ttl => {
                self.counters.hits.fetch_add(1, Ordering::Relaxed);
                Latest::Fresh(schema)
            }
            Some((schema, _)) => {
                self.counters.revalidations.fetch_add(1, Ordering::Relaxed);
                Latest::Stale(schema)
            }
            None => {
                self.counters.misses.fetch_add(1, Ordering::Relaxed);
                Latest::Unknown
            }
        }
    }

    /// Keeps a verified version under its digest and number, on disk too.
    pub(crate) async fn remember(&self, schema: &Arc<Schema>) {
        let by_version = Pinned::Version(
            schema.namespace.clone(),
            schema.name.clone(),
            schema.version,
        );
        self.pinned.insert(by_version, Arc::clone(schema)).await;
        self.pinned
            .insert(Pinned::Digest(schema.digest.clone()), Arc::clone(schema))
            .await;
        if let Err(err) = self.store(schema) {
            warn!(error = %err, digest = %schema.digest, "could not write the cache file");
        }
    }

    /// Marks `schema` as the latest of its name, checked now.
    pub(crate) async fn set_latest(&self, schema: &Arc<Schema>, not_modified: bool) {
        if not_modified {
            self.counters.not_modified.fetch_add(1, Ordering::Relaxed);
        }
        let key = (schema.namespace.clone(), schema.name.clone());
        self.latest
            .insert(key, (Arc::clone(schema), Instant::now()))
            .await;
    }

    pub(crate) fn stats(&self) -> CacheStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        CacheStats {
            hits: read(&self.counters.hits),
            misses: read(&self.counters.misses),
            revalidations: read(&self.counters.revalidations),
            not_modified: read(&self.counters.not_modified),
            rejected_files: read(&self.counters.rejected_files),
        }
    }

    fn file_of(directory: &Path, key: &Pinned) -> PathBuf {
        match key {
            Pinned::Digest(digest) => directory.join(format!("{}.json", file_safe(digest))),
            Pinned::Version(namespace, name, version) => directory.join(format!(
                "{}@{version}.ref",
                file_safe(&format!("{namespace}/{name}"))
            )),
        }
    }

    /// Reads a file written by [`LocalCache::store`], verifying its content; a file
    /// that fails is removed and counted.
    fn load(&self, key: &Pinned) -> Option<Schema> {
        let directory = self.directory.as_deref()?;
        let digest_key = match key {
            Pinned::Digest(_) => key.clone(),
            Pinned::Version(..) => {
                let pointer = std::fs::read_to_string(Self::file_of(directory, key)).ok()?;
                Pinned::Digest(pointer.trim().to_owned())
            }
        };
        let path = Self::file_of(directory, &digest_key);
        let text = std::fs::read_to_string(&path).ok()?;
        let parsed = Schema::from_file(&text);
        match parsed.and_then(|schema| {
            verify(&schema.label(), &schema.content, &schema.digest)?;
            Ok(schema)
        }) {
            Ok(schema) => Some(schema),
            Err(err) => {
                warn!(path = %path.display(), error = %err, "dropping a cache file that fails verification");
                self.counters.rejected_files.fetch_add(1, Ordering::Relaxed);
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    fn store(&self, schema: &Schema) -> std::io::Result<()> {
        let Some(directory) = self.directory.as_deref() else {
            return Ok(());
        };
        let by_digest = Self::file_of(directory, &Pinned::Digest(schema.digest.clone()));
        write_atomically(&by_digest, schema.to_file().as_bytes())?;
        let pointer = Pinned::Version(
            schema.namespace.clone(),
            schema.name.clone(),
            schema.version,
        );
        write_atomically(
            &Self::file_of(directory, &pointer),
            schema.digest.as_bytes(),
        )
    }
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

/// A name usable as a file name: `/` and `:` become `_`.
fn file_safe(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if matches!(c, '/' | ':' | '\\') {
                '_'
            } else {
                c
            }
        })
        .collect()
}
