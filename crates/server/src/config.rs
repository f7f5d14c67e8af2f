//! Server configuration, from flags and environment variables.

use std::path::PathBuf;
use std::time::Duration;

use ovsr_validate::Engine;

/// Default largest schema document, in bytes.
pub const DEFAULT_MAX_SCHEMA_BYTES: usize = 1 << 20;
/// Default largest document to validate, in bytes.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 4 << 20;
/// Default largest gRPC request message, in bytes.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 32 << 20;
/// Default most documents per ValidateBatch call.
pub const DEFAULT_MAX_BATCH_DOCUMENTS: usize = 1000;
/// Default memory for compiled validators, in bytes of schema source.
pub const DEFAULT_VALIDATOR_CACHE_BYTES: u64 = 256 << 20;
/// Default memory for the in-process schema cache.
pub const DEFAULT_CACHE_BYTES: u64 = 256 << 20;
/// The default memory for compressed documents: schemas compress to a fifth or less,
/// so this holds the compressed forms of several hundred MB of them.
pub const DEFAULT_COMPRESSED_CACHE_BYTES: u64 = 64 << 20;

/// Everything `ovsr serve` needs besides the socket it listens on.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Directory for the embedded store (created if missing).
    #[arg(long, env = "OVSR_DATA_DIR", default_value = "ovsr-data")]
    pub data_dir: PathBuf,

    /// PostgreSQL to store schemas in, as a `postgres://` URL or `key=value` string;
    /// without it the embedded SQLite store in the data directory is used.
    #[arg(long, env = "OVSR_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// A streaming replica that serves reads; repeat the flag (or separate URLs with
    /// commas in the variable) for several.
    #[arg(
        long = "database-replica-url",
        env = "OVSR_DATABASE_REPLICA_URLS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub database_replica_urls: Vec<String>,

    /// Connections in each PostgreSQL pool (the primary's, and each replica's).
    #[arg(long, env = "OVSR_DATABASE_POOL_SIZE", default_value_t = 16)]
    pub database_pool_size: u32,

    /// The longest a request waits for a PostgreSQL connection before answering
    /// UNAVAILABLE.
    #[arg(
        long,
        env = "OVSR_DATABASE_ACQUIRE_TIMEOUT",
        default_value = "5s",
        value_parser = humantime::parse_duration
    )]
    pub database_acquire_timeout: Duration,

    /// The longest one SQL statement may run.
    #[arg(
        long,
        env = "OVSR_DATABASE_STATEMENT_TIMEOUT",
        default_value = "30s",
        value_parser = humantime::parse_duration
    )]
    pub database_statement_timeout: Duration,

    /// How long start-up keeps retrying a PostgreSQL that does not answer yet.
    #[arg(
        long,
        env = "OVSR_DATABASE_STARTUP_TIMEOUT",
        default_value = "60s",
        value_parser = humantime::parse_duration
    )]
    pub database_startup_timeout: Duration,

    /// The URL clients reach this registry at; schema URLs and `$ref` resolution
    /// use it. Defaults to http://<listen address>.
    #[arg(long, env = "OVSR_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Largest schema document accepted, in bytes.
    #[arg(long, env = "OVSR_MAX_SCHEMA_BYTES", default_value_t = DEFAULT_MAX_SCHEMA_BYTES)]
    pub max_schema_bytes: usize,

    /// Largest document accepted for validation, in bytes.
    #[arg(long, env = "OVSR_MAX_DOCUMENT_BYTES", default_value_t = DEFAULT_MAX_DOCUMENT_BYTES)]
    pub max_document_bytes: usize,

    /// Largest gRPC request message, in bytes: bounds batch calls as a whole (each
    /// schema or document inside still obeys its own limit).
    #[arg(long, env = "OVSR_MAX_REQUEST_BYTES", default_value_t = DEFAULT_MAX_REQUEST_BYTES)]
    pub max_request_bytes: usize,

    /// Most documents one ValidateBatch call may carry; more belong on a stream.
    #[arg(long, env = "OVSR_MAX_BATCH_DOCUMENTS", default_value_t = DEFAULT_MAX_BATCH_DOCUMENTS)]
    pub max_batch_documents: usize,

    /// Documents per second each caller may validate (0: no limit).
    #[arg(long, env = "OVSR_VALIDATION_RATE_PER_CALLER", default_value_t = 0)]
    pub validation_rate_per_caller: u32,

    /// Memory for compiled validators, in bytes of schema source.
    #[arg(
        long,
        env = "OVSR_VALIDATOR_CACHE_BYTES",
        default_value_t = DEFAULT_VALIDATOR_CACHE_BYTES
    )]
    pub validator_cache_bytes: u64,

    /// The implementation that compiles schemas and validates documents: `jsonschema`
    /// (the fastest measured) or `boon`.
    #[arg(long, env = "OVSR_VALIDATION_ENGINE", default_value_t = Engine::default())]
    pub validation_engine: Engine,

    /// Memory for documents compressed with brotli or gzip, in bytes: each is
    /// compressed once per digest and served from here after; 0 compresses on every
    /// request.
    #[arg(
        long,
        env = "OVSR_COMPRESSED_CACHE_BYTES",
        default_value_t = DEFAULT_COMPRESSED_CACHE_BYTES
    )]
    pub compressed_cache_bytes: u64,

    /// Memory for the in-process cache of schemas and pointers, in bytes; 0 without
    /// `--redis-url` turns caching off, so every read reaches the store.
    #[arg(long, env = "OVSR_CACHE_BYTES", default_value_t = DEFAULT_CACHE_BYTES)]
    pub cache_bytes: u64,

    /// Redis (`redis://host:port/db`) or Redis Cluster (`redis-cluster://host:port`)
    /// shared by every server as the second cache layer and invalidation channel.
    #[arg(long, env = "OVSR_REDIS_URL")]
    pub redis_url: Option<String>,

    /// Longest a Redis call may take before the read goes to the store instead.
    #[arg(
        long,
        env = "OVSR_REDIS_TIMEOUT",
        default_value = "250ms",
        value_parser = humantime::parse_duration
    )]
    pub redis_timeout: Duration,

    /// How long a moving pointer (latest, a version's state, a list page) is kept in
    /// process while invalidations arrive: the bound when one is lost.
    #[arg(
        long,
        env = "OVSR_CACHE_POINTER_TTL",
        default_value = "30s",
        value_parser = humantime::parse_duration
    )]
    pub cache_pointer_ttl: Duration,

    /// How long a moving pointer is kept in process while Redis is unreachable and
    /// invalidations cannot arrive.
    #[arg(
        long,
        env = "OVSR_CACHE_DEGRADED_TTL",
        default_value = "2s",
        value_parser = humantime::parse_duration
    )]
    pub cache_degraded_ttl: Duration,

    /// How long a "not found" is remembered (a register forgets it at once).
    #[arg(
        long,
        env = "OVSR_CACHE_NEGATIVE_TTL",
        default_value = "5s",
        value_parser = humantime::parse_duration
    )]
    pub cache_negative_ttl: Duration,

    /// How many of the most-read schemas are loaded into the cache at start-up
    /// (read counts are kept in Redis; without Redis nothing is warmed).
    #[arg(long, env = "OVSR_CACHE_WARM_SCHEMAS", default_value_t = 100)]
    pub cache_warm_schemas: usize,

    /// Meilisearch (`http://host:7700`) as the search backend, shared by every server;
    /// without it each server keeps an embedded index in its data directory.
    #[arg(long, env = "OVSR_MEILI_URL")]
    pub meili_url: Option<String>,

    /// The Meilisearch API key (its master key, or a key allowed to search, write
    /// documents and change settings on the index).
    #[arg(long, env = "OVSR_MEILI_KEY", hide_env_values = true)]
    pub meili_key: Option<Secret>,

    /// The Meilisearch index holding the schemas; the indexer's checkpoint is kept in
    /// `<index>-state`.
    #[arg(long, env = "OVSR_MEILI_INDEX", default_value = "ovsr-schemas")]
    pub meili_index: String,

    /// Longest one Meilisearch request may take before the search answers UNAVAILABLE.
    #[arg(
        long,
        env = "OVSR_MEILI_TIMEOUT",
        default_value = "2s",
        value_parser = humantime::parse_duration
    )]
    pub meili_timeout: Duration,

    /// Search result pages kept in process (0 turns the page cache off). Pages are
    /// dropped when the index changes; over Meilisearch, which other servers change
    /// too, they also expire after a second.
    #[arg(long, env = "OVSR_SEARCH_CACHE_PAGES", default_value_t = 4096)]
    pub search_cache_pages: u64,

    /// How often the schema reads counted in this process are added to the search
    /// index, for the popularity sort.
    #[arg(
        long,
        env = "OVSR_SEARCH_READS_EVERY",
        default_value = "30s",
        value_parser = humantime::parse_duration
    )]
    pub search_reads_every: Duration,

    /// Most searches running at once; more are refused with RESOURCE_EXHAUSTED
    /// rather than queued. Defaults to twice the number of cores.
    #[arg(long, env = "OVSR_MAX_CONCURRENT_SEARCHES")]
    pub max_concurrent_searches: Option<usize>,

    /// Origins whose browser scripts may call the API over gRPC-Web (`*` for any);
    /// may be given several times. Without one, gRPC-Web serves same-origin pages only.
    #[arg(
        long = "grpc-web-allow-origin",
        env = "OVSR_GRPC_WEB_ALLOW_ORIGINS",
        value_delimiter = ','
    )]
    pub grpc_web_allowed_origins: Vec<String>,

    /// How long shutdown waits for in-flight requests before closing connections.
    #[arg(
        long,
        env = "OVSR_SHUTDOWN_GRACE",
        default_value = "10s",
        value_parser = humantime::parse_duration
    )]
    pub shutdown_grace: Duration,
}

impl ServeConfig {
    /// The bound on concurrent searches: as configured, else twice the cores.
    pub fn search_concurrency(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        self.max_concurrent_searches.unwrap_or(2 * cores).max(1)
    }

    /// The defaults, with the store in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            public_url: None,
            database_url: None,
            database_replica_urls: Vec::new(),
            database_pool_size: 16,
            database_acquire_timeout: Duration::from_secs(5),
            database_statement_timeout: Duration::from_secs(30),
            database_startup_timeout: Duration::from_secs(60),
            max_schema_bytes: DEFAULT_MAX_SCHEMA_BYTES,
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            max_batch_documents: DEFAULT_MAX_BATCH_DOCUMENTS,
            validation_rate_per_caller: 0,
            validator_cache_bytes: DEFAULT_VALIDATOR_CACHE_BYTES,
            validation_engine: Engine::default(),
            compressed_cache_bytes: DEFAULT_COMPRESSED_CACHE_BYTES,
            cache_bytes: DEFAULT_CACHE_BYTES,
            redis_url: None,
            redis_timeout: Duration::from_millis(250),
            cache_pointer_ttl: Duration::from_secs(30),
            cache_degraded_ttl: Duration::from_secs(2),
            cache_negative_ttl: Duration::from_secs(5),
            cache_warm_schemas: 100,
            meili_url: None,
            meili_key: None,
            meili_index: "ovsr-schemas".to_owned(),
            meili_timeout: Duration::from_secs(2),
            search_cache_pages: 4096,
            search_reads_every: Duration::from_secs(30),
            max_concurrent_searches: None,
            grpc_web_allowed_origins: Vec::new(),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// A value that must not reach logs: `Debug` shows only whether it is set.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(secret)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(raw))
    }
}
