//! The OVSR server: gRPC and HTTP on one port over the schema store and validators.
//!
//! [`start`] reads top to bottom: open the store, build the registry and the services,
//! assemble the stack, listen. [`RunningServer::shutdown`] undoes it in reverse.

mod compressed;
mod config;
mod error;
mod grpc;
mod grpc_web;
mod http;
pub mod import;
mod registry;
pub mod search;
mod storage;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use ovsr_cache::CacheMetrics;
use ovsr_core::RegistryUrls;
use ovsr_proto::v1::auth_service_server::AuthServiceServer;
use ovsr_proto::v1::schema_service_server::SchemaServiceServer;
use ovsr_proto::v1::search_service_server::SearchServiceServer;
use ovsr_proto::v1::validation_service_server::ValidationServiceServer;
use ovsr_validate::ValidatorCache;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::codec::CompressionEncoding;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower_http::trace::TraceLayer;
use tracing::{debug, info, warn};

pub use config::{
    DEFAULT_MAX_DOCUMENT_BYTES, DEFAULT_MAX_SCHEMA_BYTES, DEFAULT_VALIDATOR_CACHE_BYTES, Secret,
    ServeConfig,
};

use compressed::CompressedDocuments;
use grpc::{AuthApi, CallerRateLimiter, SchemaApi, SearchApi, ValidationApi};
use registry::{Limits, Registry};
use search::{Indexer, SearchMetrics, Searcher};

/// Room for a message's other fields beside its largest item.
const MESSAGE_OVERHEAD_BYTES: usize = 64 << 10;

/// A server accepting requests until [`RunningServer::shutdown`].
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    public_url: String,
    health: HealthReporter,
    cancel: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
    indexer: JoinHandle<()>,
    grace: Duration,
}

/// Opens the configured store and serves on `listener` until shut down.
pub async fn start(config: ServeConfig, listener: TcpListener) -> anyhow::Result<RunningServer> {
    let local_addr = listener
        .local_addr()
        .context("reading the listen address")?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local_addr}"));
    info!(
        data_dir = %config.data_dir.display(),
        public_url = %public_url,
        max_schema_bytes = config.max_schema_bytes,
        max_document_bytes = config.max_document_bytes,
        validator_cache_bytes = config.validator_cache_bytes,
        compressed_cache_bytes = config.compressed_cache_bytes,
        validation_engine = config.validation_engine.as_str(),
        max_concurrent_searches = config.search_concurrency(),
        search_cache_pages = config.search_cache_pages,
        grpc_web_allowed_origins = ?config.grpc_web_allowed_origins,
        shutdown_grace = ?config.shutdown_grace,
        "configuration"
    );

    let cancel = CancellationToken::new();
    let mut metrics = prometheus_client::registry::Registry::default();
    let cache_metrics = CacheMetrics::register(&mut metrics);
    let stores = storage::open_cached(&config, cache_metrics, cancel.clone()).await?;
    let store = stores.serving;
    let backend = search::open_backend(&config).await?;
    let search_metrics = SearchMetrics::register(&mut metrics);
    let concurrency = config.search_concurrency();
    let searcher = Searcher::new(
        Arc::clone(&backend.index),
        concurrency,
        config.search_cache_pages,
        backend.shared,
        search_metrics.clone(),
    );
    let limits = Limits {
        max_schema_bytes: config.max_schema_bytes,
        max_document_bytes: config.max_document_bytes,
    };
    let registry = Registry::new(
        Arc::clone(&store),
        ValidatorCache::new(config.validator_cache_bytes),
        RegistryUrls::new(&public_url),
        limits,
        config.validation_engine,
    );

    let (health, health_service) = tonic_health::server::health_reporter();
    let limiter = CallerRateLimiter::new(config.validation_rate_per_caller);
    let routes = tonic::service::Routes::new(health_service);
    let grpc = grpc_routes(routes, &registry, &limiter, &searcher, &config)?;
    health.set_serving::<SchemaServiceServer<SchemaApi>>().await;
    health
        .set_serving::<ValidationServiceServer<ValidationApi>>()
        .await;
    health.set_serving::<SearchServiceServer<SearchApi>>().await;

    let indexer = Indexer {
        store: stores.source,
        index: backend.index,
        consumer: backend.consumer,
        settings_pending: backend.settings_pending,
        searcher,
        metrics: search_metrics,
        wake: registry.writes(),
        reads: registry.reads(),
        reads_every: config.search_reads_every,
    };
    let documents = http::Documents {
        registry,
        compressed: CompressedDocuments::new(config.compressed_cache_bytes),
    };
    let app = build_stack(grpc, http::routes(documents, Arc::new(metrics)));

    let indexer = tokio::spawn(indexer.run(cancel.clone()));
    tokio::spawn(forget_idle_callers(limiter, cancel.clone()));
    let app = grpc_web::serve_grpc_web(app, &config.grpc_web_allowed_origins);
    // Connection info lets handlers see the caller's address, for per-caller limits.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    // Small answers go out at once: with Nagle's algorithm they would wait for the
    // client's delayed ACK, about 40 ms on Linux.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            debug!(error = %err, "could not set TCP_NODELAY");
        }
    });
    let serve = axum::serve(listener, app).with_graceful_shutdown(cancel.clone().cancelled_owned());
    let task = tokio::spawn(async move { serve.await });
    info!(addr = %local_addr, "listening");

    Ok(RunningServer {
        local_addr,
        public_url,
        health,
        cancel,
        task,
        indexer,
        grace: config.shutdown_grace,
    })
}

/// Rebuilds the search index in the data directory from the configured store, for
/// `ovsr reindex`. Fails when a server holds the index.
pub async fn reindex(config: &ServeConfig) -> anyhow::Result<search::ReindexSummary> {
    let store = storage::open(config).await?;
    let backend = search::open_backend(config).await?;
    if backend.settings_pending {
        anyhow::bail!("Meilisearch is not reachable; nothing was reindexed");
    }
    search::reindex(store.as_ref(), backend.index.as_ref()).await
}

impl RunningServer {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The public base URL schema URLs are built from.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Stops accepting, lets in-flight requests finish for up to the grace period,
    /// then closes what is left.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        // Health first, so balancers stop routing here before the listener closes.
        self.health
            .set_service_status("", ServingStatus::NotServing)
            .await;
        self.health
            .set_not_serving::<SchemaServiceServer<SchemaApi>>()
            .await;
        self.health
            .set_not_serving::<ValidationServiceServer<ValidationApi>>()
            .await;
        self.health
            .set_not_serving::<SearchServiceServer<SearchApi>>()
            .await;
        info!(grace = ?self.grace, "shutting down");
        self.cancel.cancel();

        match tokio::time::timeout(self.grace, &mut self.task).await {
            Ok(joined) => joined.context("server task")?.context("serving")?,
            Err(_) => {
                warn!(grace = ?self.grace, "requests still running after the grace period");
                self.task.abort();
            }
        }
        // The indexer holds the index, and with it the directory's lock, until it
        // returns; a round in flight finishes first.
        if tokio::time::timeout(self.grace, &mut self.indexer)
            .await
            .is_err()
        {
            warn!(grace = ?self.grace, "search indexer still running after the grace period");
            self.indexer.abort();
        }
        info!("stopped");
        Ok(())
    }
}

/// Adds the API, reflection and the unimplemented placeholder to `routes` (which
/// already holds health).
fn grpc_routes(
    routes: tonic::service::Routes,
    registry: &Registry,
    limiter: &CallerRateLimiter,
    searcher: &Searcher,
    config: &ServeConfig,
) -> anyhow::Result<axum::Router> {
    let reflection_v1 = reflection().build_v1()?;
    // grpcurl releases still in use speak only v1alpha reflection.
    let reflection_v1alpha = reflection().build_v1alpha()?;

    let schemas = SchemaServiceServer::new(SchemaApi::new(registry.clone()))
        .max_decoding_message_size(request_limit(config, config.max_schema_bytes))
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd)
        .send_compressed(CompressionEncoding::Gzip);
    let validation_api = ValidationApi::new(
        registry.clone(),
        limiter.clone(),
        config.max_batch_documents,
    );
    let validation = ValidationServiceServer::new(validation_api)
        .max_decoding_message_size(request_limit(config, config.max_document_bytes))
        .accept_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Zstd)
        .send_compressed(CompressionEncoding::Gzip);

    let routes = routes
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(schemas)
        .add_service(validation)
        .add_service(SearchServiceServer::new(SearchApi::new(searcher.clone())))
        .add_service(AuthServiceServer::new(AuthApi));
    let router = routes.prepare().into_axum_router();
    // A plain function of the response: no future to box on every call.
    let oversized =
        tower::util::MapResponseLayer::new(grpc::oversized_message_is_resource_exhausted);
    Ok(router.layer(oversized))
}

/// The decoding limit of a service whose single items may be `item_bytes` long:
/// room for one item and its message, or for a batch up to the request limit.
fn request_limit(config: &ServeConfig, item_bytes: usize) -> usize {
    config
        .max_request_bytes
        .max(item_bytes + MESSAGE_OVERHEAD_BYTES)
}

/// Drops the rate-limit buckets of callers gone quiet, until cancelled.
async fn forget_idle_callers(limiter: CallerRateLimiter, cancel: CancellationToken) {
    const EVERY: Duration = Duration::from_secs(60);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(EVERY) => limiter.forget_idle_callers(),
        }
    }
}

/// Reflection over every service served, so `grpcurl list` shows them all whichever
/// reflection version it speaks.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(ovsr_proto::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
}

/// gRPC and HTTP share one router and one port; layers wrap both unless noted.
fn build_stack(grpc: axum::Router, http: axum::Router) -> axum::Router {
    let app = grpc
        .merge(http)
        // Unknown paths: gRPC callers get UNIMPLEMENTED, browsers a 404.
        .fallback(http::fallback);
    // A span per request, only when its debug level is asked for at start-up: even
    // disabled, the layer costs a cached read several percent of its throughput.
    if tracing::enabled!(target: "tower_http::trace", tracing::Level::DEBUG) {
        app.layer(TraceLayer::new_for_http())
    } else {
        app
    }
}
