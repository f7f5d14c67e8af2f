//! The server on PostgreSQL: two servers share one database, and a server whose
//! database crashes answers UNAVAILABLE in time, reports not ready, loses no answered
//! write, and recovers on its own when the database returns.

#![allow(clippy::unwrap_used)]

#[path = "../../store/tests/support/cluster.rs"]
mod cluster;
#[path = "support/database.rs"]
mod database;
#[path = "end_to_end/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "../../store/tests/support/postgres.rs"]
mod postgres_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use harness::{CUSTOMER, TestServer, random_namespace};
use ovsr_proto::v1::RegisterSchemaRequest;
use tokio::sync::Mutex;
use tonic::Code;

use cluster::{PrivateCluster, newest_bin_dir};
use database::server_test_database_url;
use postgres_support::create_database_if_missing;

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
/// Slack for scheduling on a loaded two-core machine.
const SLACK: Duration = Duration::from_secs(2);

async fn start_on(url: &str) -> TestServer {
    let url = url.to_owned();
    TestServer::start_with(move |config| {
        config.database_url = Some(url);
        config.database_acquire_timeout = ACQUIRE_TIMEOUT;
    })
    .await
    .unwrap()
}

fn request(namespace: &str, name: &str, content: String) -> RegisterSchemaRequest {
    RegisterSchemaRequest {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        content,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_serve_the_same_registry() {
    let url = server_test_database_url().await;
    let first = start_on(&url).await;
    let mut second = start_on(&url).await;
    second.namespace = first.namespace.clone();

    let published = first.publish("customer", CUSTOMER).await.unwrap();
    let seen = second.fetch("customer", 0).await.unwrap();

    assert_eq!(seen.digest, published.digest);
    assert_eq!(seen.version, 1);
    let ready = second.http.get(second.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_crash_loses_no_answered_write_and_the_server_recovers_alone() {
    let cluster = PrivateCluster::init(newest_bin_dir());
    create_database_if_missing(&cluster.url("ovsr")).await;
    let server = Arc::new(start_on(&cluster.url("ovsr")).await);
    let namespace = random_namespace("crash");

    // Writers register new schemas one after another and note each one answered OK.
    let answered = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let slow_failures = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let running = Arc::new(AtomicBool::new(true));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (server, namespace) = (Arc::clone(&server), namespace.clone());
        let (answered, slow) = (Arc::clone(&answered), Arc::clone(&slow_failures));
        let running = Arc::clone(&running);
        writers.push(tokio::spawn(async move {
            let mut client = server.schemas();
            let mut n = 0;
            while running.load(Ordering::Relaxed) {
                n += 1;
                let name = format!("w{writer}-{n}");
                let content = format!(r#"{{"title": "{name}", "type": "object"}}"#);
                let sent = Instant::now();
                match client
                    .register_schema(request(&namespace, &name, content))
                    .await
                {
                    Ok(response) => {
                        let version = response.into_inner().schema_version.unwrap();
                        answered.lock().await.push((name, version.digest));
                    }
                    Err(status) => {
                        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                        if sent.elapsed() > ACQUIRE_TIMEOUT + SLACK {
                            slow.lock().await.push(sent.elapsed());
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }));
    }

    wait_for_answers(&answered, 20).await;
    cluster.crash();
    let before_restart = answered.lock().await.len();
    tokio::time::sleep(ACQUIRE_TIMEOUT * 2).await;
    let not_ready = server.http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(
        not_ready.status(),
        503,
        "readiness while the database is down"
    );

    cluster.start();
    wait_for_answers(&answered, before_restart + 20).await;
    running.store(false, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }

    let ready = server.http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "readiness after the database returned");
    assert!(
        slow_failures.lock().await.is_empty(),
        "failures slower than the acquire timeout: {:?}",
        slow_failures.lock().await
    );
    let mut reader = server.schemas();
    let answered = answered.lock().await;
    for (name, digest) in answered.iter() {
        let selector = harness::by_version(&namespace, name, 0);
        let found = reader
            .get_schema(harness::get_request(selector))
            .await
            .unwrap_or_else(|status| panic!("{name} was answered OK but is gone: {status:?}"));
        assert_eq!(&found.into_inner().schema_version.unwrap().digest, digest);
    }
    println!(
        "crash: {} registers answered OK, every one present after the restart",
        answered.len()
    );
}

/// Waits until at least `count` registers were answered OK, for up to a minute.
async fn wait_for_answers(answered: &Mutex<Vec<(String, String)>>, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.lock().await.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} registers answered OK within a minute",
            answered.lock().await.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
