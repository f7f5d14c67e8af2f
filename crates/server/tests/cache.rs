//! The cache layers inside the real server: two `ovsr` processes sharing one
//! PostgreSQL and one Redis agree on `latest` within 100 ms, reads ride out a Redis
//! restart with no failure, and `/metrics` reports what each layer answered.
//!
//! The restart test runs its own `redis-server` on a free port, so stopping it
//! disturbs nobody else.

#![allow(clippy::unwrap_used)]

#[path = "support/database.rs"]
mod database;
#[path = "end_to_end/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "../../store/tests/support/postgres.rs"]
mod postgres_support;

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use database::server_test_database_url;
use harness::{CUSTOMER, CUSTOMER_V2, TestServer, by_version, get_request, random_namespace};
use ovsr_proto::v1::RegisterSchemaRequest;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use tonic::transport::Channel;

const TEST_REDIS_URL: &str = "redis://127.0.0.1:6379";

fn test_redis_url() -> String {
    std::env::var("OVSR_TEST_REDIS_URL").unwrap_or_else(|_| TEST_REDIS_URL.to_owned())
}

/// An `ovsr serve` process, killed when dropped.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    _data_dir: tempfile::TempDir,
}

impl ServerProcess {
    fn spawn(args: &[&str]) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ovsr"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(args)
            .env("RUST_LOG", "info")
            // Plain text, so the address can be read from the log line.
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                panic!("ovsr exited before listening");
            };
            if line.contains("listening")
                && let Some(addr) = line.split("addr=").nth(1)
            {
                break addr.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        // Keep draining its log so the process never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            addr,
            _data_dir: data_dir,
        }
    }

    async fn client(&self) -> SchemaServiceClient<Channel> {
        let channel = Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        SchemaServiceClient::new(channel)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn register(namespace: &str, name: &str, content: &str) -> RegisterSchemaRequest {
    RegisterSchemaRequest {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        content: content.to_owned(),
        ..Default::default()
    }
}

async fn latest_version(client: &mut SchemaServiceClient<Channel>, ns: &str, name: &str) -> u32 {
    let request = get_request(by_version(ns, name, 0));
    let response = client.get_schema(request).await.unwrap().into_inner();
    response.schema_version.unwrap().version
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_sharing_postgres_and_redis_agree_on_latest_within_100_ms() {
    let database = server_test_database_url().await;
    let redis = test_redis_url();
    let args = ["--database-url", &database, "--redis-url", &redis];
    let first = ServerProcess::spawn(&args);
    let second = ServerProcess::spawn(&args);
    let (mut a, mut b) = (first.client().await, second.client().await);
    let namespace = random_namespace("cache-procs");

    a.register_schema(register(&namespace, "customer", CUSTOMER))
        .await
        .unwrap();
    // B reads v1, so v1 sits in B's memory as latest.
    for _ in 0..3 {
        assert_eq!(latest_version(&mut b, &namespace, "customer").await, 1);
    }
    // Give B's subscription time to be live (it connects at start-up).
    tokio::time::sleep(Duration::from_millis(300)).await;

    a.register_schema(register(&namespace, "customer", CUSTOMER_V2))
        .await
        .unwrap();
    let registered = Instant::now();
    loop {
        if latest_version(&mut b, &namespace, "customer").await == 2 {
            break;
        }
        let waited = registered.elapsed();
        assert!(
            waited < Duration::from_millis(100),
            "B still served v1 after {waited:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A `redis-server` of the test's own on a free port.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Self { port, child: None };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be on PATH");
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_ride_out_a_redis_restart_with_zero_errors() {
    let mut redis = PrivateRedis::start();
    let url = redis.url();
    let server = TestServer::start_with(move |config| {
        config.redis_url = Some(url);
        config.redis_timeout = Duration::from_millis(100);
    })
    .await
    .unwrap();
    let server = Arc::new(server);
    server.publish("customer", CUSTOMER).await.unwrap();

    let running = Arc::new(AtomicBool::new(true));
    let reads = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (server, running, reads) = (server.clone(), running.clone(), reads.clone());
        readers.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            let mut client = server.schemas();
            while running.load(Ordering::Relaxed) {
                let request = get_request(server.selector("customer", 0));
                if let Err(status) = client.get_schema(request).await {
                    failures.push(status);
                }
                reads.fetch_add(1, Ordering::Relaxed);
            }
            failures
        }));
    }

    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.stop();
    // Writes still succeed while Redis is down, and reads see them.
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.publish("customer", CUSTOMER_V2).await.unwrap();
    assert_eq!(server.fetch("customer", 0).await.unwrap().version, 2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.restart();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let reads_before_stop = reads.load(Ordering::Relaxed);
    running.store(false, Ordering::Relaxed);

    let mut failures = Vec::new();
    for reader in readers {
        failures.extend(reader.await.unwrap());
    }
    assert!(
        failures.is_empty(),
        "{} failed reads: {:?}",
        failures.len(),
        failures.first()
    );
    assert!(
        reads_before_stop > 100,
        "only {reads_before_stop} reads ran"
    );

    // fred reconnects on its own: once it has, what this server reads goes to Redis
    // again, where a second server, with an empty store of its own, finds it.
    let digest = server.fetch("customer", 2).await.unwrap().digest;
    let url = redis.url();
    let fresh = TestServer::start_with(move |config| config.redis_url = Some(url))
        .await
        .unwrap();
    let by_digest = || get_request(harness::by_digest(&digest));
    let reconnected = Instant::now();
    loop {
        server.get(by_digest()).await.unwrap();
        if fresh.get(by_digest()).await.is_ok() {
            break;
        }
        let waited = reconnected.elapsed();
        assert!(
            waited < Duration::from_secs(15),
            "Redis unused {waited:?} after restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(redis_hits(&fresh).await > 0);
}

/// The `ovsr_cache_hits_total{layer="redis"}` figure of a server's `/metrics`.
async fn redis_hits(server: &TestServer) -> u64 {
    metric(server, r#"ovsr_cache_hits_total{layer="redis"}"#).await
}

async fn metric(server: &TestServer, series: &str) -> u64 {
    let text = server
        .http_get("/metrics")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .map_or(0, |value| value as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_report_hits_and_misses_per_layer() {
    let server = TestServer::start().await.unwrap();
    server.publish("customer", CUSTOMER).await.unwrap();
    server.fetch("customer", 1).await.unwrap();
    let hits_series = r#"ovsr_cache_hits_total{layer="memory"}"#;
    let misses_series = r#"ovsr_cache_misses_total{layer="memory"}"#;
    let (hits, misses) = (
        metric(&server, hits_series).await,
        metric(&server, misses_series).await,
    );
    for _ in 0..5 {
        server.fetch("customer", 1).await.unwrap();
    }
    // A pinned version in memory is one lookup: five hits, no miss.
    assert_eq!(metric(&server, hits_series).await, hits + 5);
    assert_eq!(metric(&server, misses_series).await, misses);
    let response = server.http_get("/metrics").await.unwrap();
    let text = response.text().await.unwrap();
    for series in [
        "ovsr_cache_misses_total",
        "ovsr_cache_evictions_total",
        "ovsr_cache_redis_latency_seconds",
        "ovsr_cache_invalidations_received_total",
    ] {
        assert!(text.contains(series), "/metrics lacks {series}");
    }
}
