//! The PostgreSQL database the server tests share. It is not the store tests'
//! database: servers run an indexer that claims outbox changes, and the claims of a
//! server a test has stopped outlive it by their lease, which the store's own outbox
//! tests must not see.

const TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/ovsr_server_test";

/// `OVSR_TEST_SERVER_DATABASE_URL`, else the local server's `ovsr_server_test`,
/// created first if it is missing.
pub async fn server_test_database_url() -> String {
    let url = std::env::var("OVSR_TEST_SERVER_DATABASE_URL")
        .unwrap_or_else(|_| TEST_DATABASE_URL.to_owned());
    let (base, database) = url.rsplit_once('/').expect("a database URL ends in /name");
    create_database(&format!("{base}/postgres"), database).await;
    url
}

/// Creates `database` on the server `admin_url` points at, if it is missing.
pub async fn create_database(admin_url: &str, database: &str) {
    let (client, connection) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|err| panic!("PostgreSQL unreachable at {admin_url}: {err}"));
    tokio::spawn(connection);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database])
        .await
        .expect("listing databases")
        .is_some();
    if !exists {
        // Two tests may race to create it; the loser's error is harmless.
        let _ = client
            .batch_execute(&format!("CREATE DATABASE \"{database}\""))
            .await;
    }
}
