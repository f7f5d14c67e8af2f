//! Reaching the test PostgreSQL: `OVSR_TEST_DATABASE_URL`, or a local default. The
//! database is created when missing and never dropped; tests isolate themselves with
//! random namespaces. An unreachable server fails the test: CI starts PostgreSQL.

#![allow(dead_code)]

use std::time::Duration;

use ovsr_store::{PgSchemaStore, PgStoreConfig};
use tokio::sync::OnceCell;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/ovsr_test";

/// The URL PostgreSQL tests connect to.
pub fn test_database_url() -> String {
    std::env::var("OVSR_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// The test database's URL, after creating the database if it is missing.
pub async fn ensure_test_database() -> String {
    static READY: OnceCell<()> = OnceCell::const_new();
    let url = test_database_url();
    READY.get_or_init(|| create_database_if_missing(&url)).await;
    url
}

/// A store on the test database with test-sized pools.
pub async fn open_test_store() -> PgSchemaStore {
    let url = ensure_test_database().await;
    PgSchemaStore::open(test_config(url))
        .await
        .expect("opening the PostgreSQL test store")
}

/// Test-sized settings for `url`.
pub fn test_config(url: String) -> PgStoreConfig {
    PgStoreConfig {
        pool_size: 8,
        acquire_timeout: Duration::from_secs(10),
        statement_timeout: Duration::from_secs(30),
        ..PgStoreConfig::new(url)
    }
}

/// A plain connection for arranging what the store cannot (locks, replication).
pub async fn connect_raw(config: &Config) -> Client {
    let (client, connection) = config.connect(NoTls).await.unwrap_or_else(|err| {
        let cause = std::error::Error::source(&err).map_or(String::new(), |c| c.to_string());
        let (hosts, ports) = (config.get_hosts(), config.get_ports());
        panic!(
            "PostgreSQL is unreachable at {hosts:?} port {ports:?}: {err}: {cause}; \
             CI starts it, start it locally or set OVSR_TEST_DATABASE_URL"
        )
    });
    tokio::spawn(connection);
    client
}

/// The test URL parsed.
pub fn parse(url: &str) -> Config {
    url.parse()
        .unwrap_or_else(|err| panic!("OVSR_TEST_DATABASE_URL does not parse: {err}"))
}

/// Creates the database `url` names, unless it exists already.
pub async fn create_database_if_missing(url: &str) {
    let config = parse(url);
    let dbname = config
        .get_dbname()
        .expect("a test database URL must name a database")
        .to_owned();
    let mut admin = config.clone();
    admin.dbname("postgres");
    let client = connect_raw(&admin).await;

    let found = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&dbname])
        .await
        .expect("looking up the test database");
    if found.is_some() {
        return;
    }
    let create = format!("CREATE DATABASE \"{}\"", dbname.replace('"', "\"\""));
    match client.batch_execute(&create).await {
        Ok(()) => {}
        // Another test process created it first.
        Err(err) if err.code() == Some(&SqlState::DUPLICATE_DATABASE) => {}
        Err(err) => panic!("cannot create the test database {dbname}: {err}"),
    }
}
