//! Benchmarks for OVSR. The `engines` binary compares the validation engines with each
//! other and with ajv; the `store` binary measures the PostgreSQL store against
//! pgbench; the `cache` binary measures the cache layers against a no-op server and
//! redis-benchmark; the `search` binary measures search against direct Meilisearch;
//! the `load` binary runs open-loop scenarios (baseline, peak, stress, spike) against
//! measured capacity. This library holds their parts.

pub mod ajv;
pub mod cache;
pub mod check;
pub mod corpus;
pub mod generated;
pub mod load;
pub mod measure;
pub mod report;
pub mod search;
pub mod store;
pub mod validation;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::corpus::{Case, Document};

// The allocator `ovsr` runs with, so the servers these benchmarks start in process
// are measured as they ship.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Logs as `ovsr serve` does by default: warnings and errors to stderr, and every
/// span and event below `info` disabled where it is declared. Without a subscriber
/// tracing falls back to the `log` facade on every span, which the shipped binary
/// never pays for.
pub fn log_like_the_server() {
    let filter = tracing_subscriber::EnvFilter::new("warn");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Accepted connections with TCP_NODELAY, as `ovsr serve` sets it, so a baseline
/// server is not held back by Nagle's algorithm where the server under test is not.
pub fn accept_without_nagle(
    listener: tokio::net::TcpListener,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use futures::StreamExt as _;
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
}

/// The name of the threads of the runtime that runs the servers under test.
pub const SERVER_THREADS: &str = "bench-servers";

/// A runtime of two worker threads named `name`. The benchmarks give the servers
/// under test one and their callers another, so neither takes the other's threads,
/// and a profile tells them apart.
pub fn runtime(name: &str) -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()?)
}

/// Starts `ovsr serve` with `config` in this process, on a free loopback port.
pub async fn start_server(
    config: ovsr_server::ServeConfig,
) -> anyhow::Result<ovsr_server::RunningServer> {
    use anyhow::Context as _;
    let listener = cache::listen_on_loopback()?;
    ovsr_server::start(config, listener)
        .await
        .context("starting the server")
}

/// The first file called `name` in a folder of `PATH`.
pub fn find_on_path(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|folder| folder.join(name))
        .find(|candidate| candidate.is_file())
}

/// `connections` HTTP/2 connections to the server at `addr`, for calls to spread over.
pub async fn connect_all(
    addr: std::net::SocketAddr,
    connections: usize,
) -> anyhow::Result<Vec<tonic::transport::Channel>> {
    let mut channels = Vec::with_capacity(connections);
    for _ in 0..connections {
        let endpoint = tonic::transport::Channel::from_shared(format!("http://{addr}"))?;
        channels.push(endpoint.connect().await?);
    }
    Ok(channels)
}

/// Schemas at most this large count as small.
const SMALL_SCHEMA_BYTES: usize = 32 * 1024;
/// Documents at most this large count as small.
const SMALL_DOCUMENT_BYTES: usize = 4 * 1024;
/// Documents at least this large count as large.
const LARGE_DOCUMENT_BYTES: usize = 16 * 1024;
/// Schemas at least this large count as large.
const LARGE_SCHEMA_BYTES: usize = 128 * 1024;

/// What a group of (schema, document) pairs stresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// Small documents against small schemas: the per-call overhead.
    Small,
    /// Large documents: the walk itself.
    LargeDocuments,
    /// Large or recursive schemas: compile time, and validation through many keywords
    /// and references.
    LargeSchemas,
}

impl Workload {
    /// Every workload, in report order.
    pub const ALL: [Workload; 3] = [
        Workload::Small,
        Workload::LargeDocuments,
        Workload::LargeSchemas,
    ];

    /// Its name in reports and in ajv's output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::LargeDocuments => "large-documents",
            Self::LargeSchemas => "large-schemas",
        }
    }

    /// The workload a document of `case` belongs to, if any.
    pub fn of(case: &Case, document: &Document) -> Option<Workload> {
        if let Some(workload) = case.workload {
            return Some(workload);
        }
        if document.bytes >= LARGE_DOCUMENT_BYTES {
            Some(Self::LargeDocuments)
        } else if case.schema_bytes >= LARGE_SCHEMA_BYTES {
            Some(Self::LargeSchemas)
        } else if case.schema_bytes <= SMALL_SCHEMA_BYTES && document.bytes <= SMALL_DOCUMENT_BYTES
        {
            Some(Self::Small)
        } else {
            None
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
