//! Reads through a real streaming replica of the test PostgreSQL.
//!
//! The test clones the primary with `pg_basebackup -R`, starts the clone as a hot
//! standby on a free port (as the `postgres` user: PostgreSQL refuses to run as root),
//! and stops it again at the end, also when an assertion fails. The primary's
//! `pg_hba.conf` must let `postgres` open replication connections from 127.0.0.1.

#![allow(clippy::unwrap_used)]

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/postgres.rs"]
mod postgres_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cluster::{PrivateCluster, as_postgres, assert_ran, bin_dir, path_str, words};
use ovsr_core::{CanonicalDocument, SchemaName, Version, VersionSelector, VersionState};
use ovsr_store::{NewVersion, PgSchemaStore, PgStoreConfig, SchemaStore};
use postgres_support::{connect_raw, ensure_test_database, parse, test_config};
use tokio_postgres::Client;

const CATCH_UP_LIMIT: Duration = Duration::from_secs(30);
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_use_the_replica_fall_back_to_the_primary_and_survive_its_loss() {
    let url = ensure_test_database().await;
    let primary_config = parse(&url);
    let primary = connect_raw(&primary_config).await;
    assert_replication_allowed(&primary).await;

    let replica = start_replica(&primary, &primary_config).await;
    let dbname = primary_config.get_dbname().unwrap();
    let replica_url = format!("postgres://postgres@127.0.0.1:{}/{dbname}", replica.port());
    let replica_sql = connect_raw(&parse(&replica_url)).await;
    let store = PgSchemaStore::open(PgStoreConfig {
        replica_urls: vec![replica_url.clone()],
        acquire_timeout: ACQUIRE_TIMEOUT,
        ..test_config(url)
    })
    .await
    .unwrap();

    let ns = unique_namespace();
    let settled = SchemaName::new(&ns, "settled", "schema").unwrap();
    store.register(new_version(&settled, "{}")).await.unwrap();
    wait_for_replay(&primary, &replica_sql).await;
    let exact = VersionSelector::Exact(Version::FIRST);
    let read = store.get_version(&settled, exact, false).await.unwrap();
    assert_eq!(read.unwrap().state, VersionState::Active);

    // With replay paused the replica answers from the past: a change made on the
    // primary stays invisible to reads, which shows they are served there.
    set_replay(&replica_sql, Replay::Paused).await;
    store.deprecate(&settled, Version::FIRST).await.unwrap();
    for _ in 0..3 {
        let stale = store.get_version(&settled, exact, false).await.unwrap();
        let state = stale.unwrap().state;
        assert_eq!(state, VersionState::Active, "read not from the replica");
    }
    // The primary-only view sees the change at once.
    let primary_only = store.primary_only();
    let current = primary_only.get_version(&settled, exact, false).await;
    assert_eq!(current.unwrap().unwrap().state, VersionState::Deprecated);

    // Something the replica has not received is found through the primary.
    let fresh = SchemaName::new(&ns, "fresh", "schema").unwrap();
    let body = r#"{"type":"null"}"#;
    let digest = store
        .register(new_version(&fresh, body))
        .await
        .unwrap()
        .version
        .digest;
    let latest = VersionSelector::Latest;
    let read = store.get_version(&fresh, latest, false).await.unwrap();
    assert_eq!(read.unwrap().version, Version::FIRST);
    assert!(store.get_by_digest(&digest, false).await.unwrap().is_some());
    let versions = store.list_versions(&fresh, None, 10, false).await.unwrap();
    assert_eq!(versions.len(), 1);

    set_replay(&replica_sql, Replay::Running).await;
    wait_for_replay(&primary, &replica_sql).await;
    let caught_up = store.get_version(&settled, exact, false).await.unwrap();
    assert_eq!(caught_up.unwrap().state, VersionState::Deprecated);

    // A stopped replica is skipped: reads still succeed, from the primary.
    replica.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let read = store.get_version(&fresh, latest, false).await.unwrap();
        assert_eq!(read.unwrap().version, Version::FIRST);
        assert!(started.elapsed() < ACQUIRE_TIMEOUT + Duration::from_secs(1));
    }

    // Once back, and after the back-off, the replica serves reads again: a stale
    // answer can only come from it.
    replica.start();
    let replica_sql = connect_raw(&parse(&replica_url)).await;
    wait_for_replay(&primary, &replica_sql).await;
    set_replay(&replica_sql, Replay::Paused).await;
    store.delete(&fresh, None).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stale = store.get_version(&fresh, latest, false).await.unwrap();
    assert!(stale.is_some(), "the replica did not rejoin the rotation");
    set_replay(&replica_sql, Replay::Running).await;
}

/// Clones the primary with `pg_basebackup -R` and starts the clone as a hot standby.
async fn start_replica(
    primary: &Client,
    primary_config: &tokio_postgres::Config,
) -> PrivateCluster {
    let bin = postgres_bin_dir(primary).await;
    let (dir, data) = PrivateCluster::directory("ovsr-replica-");

    let host = match primary_config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = primary_config.get_ports().first().copied().unwrap_or(5432);
    let user = primary_config.get_user().unwrap_or("postgres");
    let backup = format!(
        "-h {host} -p {port} -U {user} -D {} -R -X stream --checkpoint=fast",
        path_str(&data)
    );
    let backup = as_postgres(&bin.join("pg_basebackup"), &words(&backup));
    assert_ran("pg_basebackup", &backup);

    // Debian keeps postgresql.conf and pg_hba.conf outside the data directory, so
    // the copy may lack them; the standby needs them to start.
    for file in ["postgresql.conf", "pg_ident.conf"] {
        if !data.join(file).exists() {
            std::fs::write(data.join(file), "").unwrap();
        }
    }
    if !data.join("pg_hba.conf").exists() {
        let hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n";
        std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
    }
    let settings = format!("-c hot_standby=on {}", standby_settings(primary).await);
    PrivateCluster::with_data(bin, dir, data, &settings)
}

/// Fails clearly when the primary's pg_hba.conf has no rule for replication
/// connections: `all` in the database column does not cover them.
async fn assert_replication_allowed(primary: &Client) {
    let hba_file: String = primary
        .query_one("SHOW hba_file", &[])
        .await
        .unwrap()
        .get(0);
    let rules = primary
        .query(
            "SELECT type, array_to_string(user_name, ','), coalesce(address, ''), \
             auth_method FROM pg_hba_file_rules WHERE 'replication' = ANY(database)",
            &[],
        )
        .await
        .unwrap();
    assert!(
        !rules.is_empty(),
        "the primary's {hba_file} allows no replication connections, so the replica test \
         cannot clone it; add `host replication postgres 127.0.0.1/32 trust` and reload \
         (SELECT pg_reload_conf()), or point OVSR_TEST_DATABASE_URL at a server that allows it"
    );
}

/// The bin directory of the primary's major version.
async fn postgres_bin_dir(primary: &Client) -> PathBuf {
    let version: String = primary
        .query_one("SHOW server_version_num", &[])
        .await
        .unwrap()
        .get(0);
    bin_dir(version.parse::<u32>().unwrap() / 10_000)
}

/// Settings a hot standby must hold at least as high as its primary.
async fn standby_settings(primary: &Client) -> String {
    let rows = primary
        .query(
            "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', \
             'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', \
             'max_locks_per_transaction')",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|row| format!("-c {}={}", row.get::<_, String>(0), row.get::<_, String>(1)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone, Copy)]
enum Replay {
    Paused,
    Running,
}

/// Pauses or resumes WAL replay on the replica, making its lag deterministic. Once a
/// pause is requested no further record is replayed.
async fn set_replay(replica: &Client, replay: Replay) {
    let sql = match replay {
        Replay::Paused => "SELECT pg_wal_replay_pause()",
        Replay::Running => "SELECT pg_wal_replay_resume()",
    };
    replica.execute(sql, &[]).await.unwrap();
}

/// Waits until the replica has replayed everything the primary has written so far.
async fn wait_for_replay(primary: &Client, replica: &Client) {
    let lsn: String = primary
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .unwrap()
        .get(0);
    let deadline = Instant::now() + CATCH_UP_LIMIT;
    loop {
        let caught_up: bool = replica
            .query_one(
                "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn",
                &[&lsn],
            )
            .await
            .unwrap()
            .get(0);
        if caught_up {
            return;
        }
        assert!(Instant::now() < deadline, "the replica did not reach {lsn}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn unique_namespace() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("replica-{}-{nanos}", std::process::id())
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
