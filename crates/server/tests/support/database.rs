//! The PostgreSQL database the server tests share. It is not the store tests'
//! database: servers run an indexer that claims outbox changes, and the claims of a
//! server a test has stopped outlive it by their lease, which the store's own outbox
//! tests must not see.

use crate::postgres_support::create_database_if_missing;

const TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/ovsr_server_test";

/// `OVSR_TEST_SERVER_DATABASE_URL`, else the local server's `ovsr_server_test`,
/// created first if it is missing.
pub async fn server_test_database_url() -> String {
    let url = std::env::var("OVSR_TEST_SERVER_DATABASE_URL")
        .unwrap_or_else(|_| TEST_DATABASE_URL.to_owned());
    create_database_if_missing(&url).await;
    url
}
