//! Behaviour only the PostgreSQL store has: migrating under a lock, classifying
//! timeouts and unreachable servers as unavailable within the acquire timeout, and
//! falling back from a dead replica. Tests that need a live server fail when
//! PostgreSQL is unreachable (CI starts it).

#![allow(clippy::unwrap_used)]

#[path = "support/postgres.rs"]
mod postgres_support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ovsr_core::{CanonicalDocument, SchemaName, Version, VersionSelector};
use ovsr_store::{NewVersion, PgSchemaStore, PgStoreConfig, SchemaStore, StoreError};
use postgres_support::{connect_raw, ensure_test_database, parse, test_config};
use tokio::net::TcpListener;

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
/// Slack for scheduling on a loaded two-core machine.
const MARGIN: Duration = Duration::from_millis(750);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

fn new_version(schema: &SchemaName, body: &str) -> NewVersion {
    let doc = CanonicalDocument::from_slice(body.as_bytes(), 1 << 20).unwrap();
    NewVersion {
        schema: schema.clone(),
        content: doc.canonical().to_owned(),
        digest: doc.digest(),
        title: None,
        description: None,
        dialect: "https://json-schema.org/draft/2020-12/schema".to_owned(),
        tags: Vec::new(),
        aliases: Vec::new(),
        references: Default::default(),
    }
}

/// A store whose primary and replica both point at `addr`.
fn config_for(addr: SocketAddr) -> PgStoreConfig {
    let url = format!("postgres://postgres@{addr}/ovsr_test");
    PgStoreConfig {
        replica_urls: vec![url.clone()],
        pool_size: 2,
        acquire_timeout: ACQUIRE_TIMEOUT,
        statement_timeout: Duration::from_secs(5),
        ..PgStoreConfig::new(url)
    }
}

/// An address where nothing listens: bound, then released.
async fn refusing_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// An address that accepts connections and never says a word, like a hung server.
async fn silent_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

/// Runs `call` and checks it answered unavailable within the acquire timeout.
async fn assert_unavailable_in_time<T: std::fmt::Debug>(
    what: &str,
    call: impl Future<Output = Result<T, StoreError>>,
) {
    let started = Instant::now();
    let outcome = call.await;
    let elapsed = started.elapsed();
    assert!(
        matches!(outcome, Err(StoreError::Unavailable(_))),
        "{what}: {outcome:?}"
    );
    assert!(
        elapsed < ACQUIRE_TIMEOUT + MARGIN,
        "{what} took {elapsed:?}"
    );
}

async fn assert_calls_unavailable(store: &PgSchemaStore) {
    let schema = SchemaName::new("nowhere", "thing", "schema").unwrap();
    assert_unavailable_in_time("ping", store.ping()).await;
    let latest = store.get_version(&schema, VersionSelector::Latest, false);
    assert_unavailable_in_time("get_version", latest).await;
    let listing = store.list_schemas(None, None, 10, false);
    assert_unavailable_in_time("list_schemas", listing).await;
    let register = store.register(new_version(&schema, "{}"));
    assert_unavailable_in_time("register", register).await;
}

#[tokio::test]
async fn ping_and_reads_are_unavailable_within_the_acquire_timeout_when_nothing_listens() {
    let store = PgSchemaStore::connect(config_for(refusing_address().await))
        .await
        .unwrap();
    assert_calls_unavailable(&store).await;
}

#[tokio::test]
async fn calls_to_a_server_that_never_answers_are_unavailable_within_the_acquire_timeout() {
    let store = PgSchemaStore::connect(config_for(silent_address().await))
        .await
        .unwrap();
    assert_calls_unavailable(&store).await;
}

#[tokio::test]
async fn opening_where_nothing_answers_is_unavailable_within_the_acquire_timeout() {
    for addr in [refusing_address().await, silent_address().await] {
        let opening = PgSchemaStore::open(config_for(addr));
        assert_unavailable_in_time("open", opening).await;
    }
}

#[tokio::test]
async fn a_write_blocked_past_the_statement_timeout_is_unavailable() {
    let url = ensure_test_database().await;
    let store = PgSchemaStore::open(PgStoreConfig {
        statement_timeout: Duration::from_millis(300),
        ..test_config(url.clone())
    })
    .await
    .unwrap();
    let schema = SchemaName::new(&unique("blocked"), "row", "schema").unwrap();
    store.register(new_version(&schema, "{}")).await.unwrap();

    // Another session holds the schema's row, as a stuck writer would.
    let mut holder = connect_raw(&parse(&url)).await;
    let lock = holder.transaction().await.unwrap();
    lock.execute(
        "SELECT 1 FROM schemas WHERE namespace = $1 AND name = $2 FOR UPDATE",
        &[&schema.namespace().as_str(), &schema.name()],
    )
    .await
    .unwrap();

    let started = Instant::now();
    let err = store.deprecate(&schema, Version::FIRST).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));

    lock.rollback().await.unwrap();
    let deprecated = store.deprecate(&schema, Version::FIRST).await.unwrap();
    assert_eq!(deprecated.version, Version::FIRST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn servers_starting_together_on_an_empty_database_migrate_once() {
    let url = ensure_test_database().await;
    let admin = connect_raw(&parse(&url)).await;
    // A fresh schema stands in for an empty database, without creating databases.
    let schema = unique("mig").replace('-', "_");
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let mut scoped = parse(&url);
    scoped.options(format!("-c search_path={schema}"));
    let scoped_url = key_value_url(&scoped);

    let opens = (0..4).map(|_| {
        let config = test_config(scoped_url.clone());
        tokio::spawn(PgSchemaStore::open(config))
    });
    let stores: Vec<PgSchemaStore> = futures::future::join_all(opens)
        .await
        .into_iter()
        .map(|opened| opened.unwrap().unwrap())
        .collect();

    let history = format!("SELECT count(*) FROM {schema}.refinery_schema_history");
    let applied: i64 = admin.query_one(&history, &[]).await.unwrap().get(0);
    // Each migration once, however many servers raced to apply it.
    let migrations = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres");
    let shipped = std::fs::read_dir(migrations).unwrap().count();
    assert_eq!(applied, i64::try_from(shipped).unwrap());
    let thing = SchemaName::new("fresh", "thing", "schema").unwrap();
    let registered = stores[3].register(new_version(&thing, "{}")).await.unwrap();
    assert_eq!(registered.version.version, Version::FIRST);

    drop(stores);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

#[tokio::test]
async fn reads_skip_a_replica_that_is_down_and_answer_from_the_primary() {
    let url = ensure_test_database().await;
    let dead = refusing_address().await;
    let store = PgSchemaStore::open(PgStoreConfig {
        replica_urls: vec![format!("postgres://postgres@{dead}/ovsr_test")],
        acquire_timeout: ACQUIRE_TIMEOUT,
        ..test_config(url)
    })
    .await
    .unwrap();
    let store: Arc<dyn SchemaStore> = Arc::new(store);
    let schema = SchemaName::new(&unique("fallback"), "read", "schema").unwrap();
    store.register(new_version(&schema, "{}")).await.unwrap();

    // The first read discovers the replica is down; later ones skip it at once.
    for _ in 0..3 {
        let started = Instant::now();
        let found = store
            .get_version(&schema, VersionSelector::Latest, false)
            .await
            .unwrap();
        assert_eq!(found.unwrap().version, Version::FIRST);
        assert!(started.elapsed() < ACQUIRE_TIMEOUT + MARGIN);
    }
    let started = Instant::now();
    store.list_versions(&schema, None, 10, false).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "the replica was not skipped"
    );
}

/// A key=value connection string for a parsed config (tokio-postgres cannot print one).
fn key_value_url(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let mut parts = vec![format!("host={host}"), format!("port={port}")];
    if let Some(user) = config.get_user() {
        parts.push(format!("user={user}"));
    }
    if let Some(password) = config.get_password() {
        parts.push(format!("password='{}'", String::from_utf8_lossy(password)));
    }
    if let Some(dbname) = config.get_dbname() {
        parts.push(format!("dbname={dbname}"));
    }
    if let Some(options) = config.get_options() {
        parts.push(format!("options='{options}'"));
    }
    parts.join(" ")
}
