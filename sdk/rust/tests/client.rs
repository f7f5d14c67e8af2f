//! The client against a live registry: the real server, started on a free port over a
//! data directory of its own. Requests reaching the server are counted through its
//! `/metrics` (every GetSchema moves the in-process cache's hits or misses).

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use ovsr_client::{CacheConfig, Client, ClientConfig, Error, RetryPolicy};
use ovsr_proto::v1::validate_stream_response::Outcome;
use ovsr_server::{RunningServer, ServeConfig};
use tonic::Code;

const ORDER_V1: &str = r#"{"type": "object", "required": ["id"], "title": "Order"}"#;
const ORDER_V2: &str = r#"{"type": "object", "required": ["id", "total"], "title": "Order"}"#;

struct Registry {
    server: RunningServer,
    _data: tempfile::TempDir,
    http: reqwest::Client,
}

impl Registry {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener).await
    }

    async fn start_on(listener: tokio::net::TcpListener) -> Self {
        let data = tempfile::tempdir().unwrap();
        let server = ovsr_server::start(ServeConfig::new(data.path()), listener)
            .await
            .unwrap();
        Self {
            server,
            _data: data,
            http: reqwest::Client::new(),
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.server.local_addr())
    }

    /// GetSchema lookups the server's cache has seen.
    async fn lookups(&self) -> u64 {
        let url = format!("http://{}/metrics", self.server.local_addr());
        let text = self
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let value = |series: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(series))
                .and_then(|rest| rest.trim().parse::<f64>().ok())
                .unwrap_or(0.0) as u64
        };
        value(r#"ovsr_cache_hits_total{layer="memory"}"#)
            + value(r#"ovsr_cache_misses_total{layer="memory"}"#)
    }
}

fn namespace() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!("sdk-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

async fn client_of(registry: &Registry, cache: CacheConfig) -> Client {
    let config = ClientConfig {
        cache,
        ..ClientConfig::new(registry.endpoint())
    };
    Client::connect(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_version_is_fetched_once_then_served_locally() {
    let registry = Registry::start().await;
    let client = client_of(&registry, CacheConfig::default()).await;
    let ns = namespace();
    let published = client.register(&ns, "order", ORDER_V1).await.unwrap();

    // Registering cached it already; a fresh client fetches once.
    let fresh = client_of(&registry, CacheConfig::default()).await;
    let before = registry.lookups().await;
    let first = fresh.get(&ns, "order", Some(1)).await.unwrap();
    let after_first = registry.lookups().await;
    assert!(
        after_first > before,
        "the first read did not reach the server"
    );
    let second = fresh.get(&ns, "order", Some(1)).await.unwrap();
    let by_digest = fresh.get_by_digest(&published.digest).await.unwrap();
    assert_eq!(
        registry.lookups().await,
        after_first,
        "a cached read reached the server"
    );
    assert_eq!(
        (first.as_ref(), second.as_ref()),
        (by_digest.as_ref(), by_digest.as_ref())
    );
    assert_eq!(fresh.cache_stats().hits, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_is_revalidated_after_its_ttl_and_a_new_version_is_seen() {
    let registry = Registry::start().await;
    let ttl = Duration::from_millis(300);
    let cache = CacheConfig {
        latest_ttl: ttl,
        ..CacheConfig::default()
    };
    let client = client_of(&registry, cache).await;
    let ns = namespace();
    client.register(&ns, "order", ORDER_V1).await.unwrap();

    let first = client.get(&ns, "order", None).await.unwrap();
    let before = registry.lookups().await;
    let within_ttl = client.get(&ns, "order", None).await.unwrap();
    assert_eq!(
        registry.lookups().await,
        before,
        "a fresh latest reached the server"
    );
    assert_eq!(within_ttl, first);

    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    let revalidated = client.get(&ns, "order", None).await.unwrap();
    assert_eq!(revalidated.version, 1);
    let stats = client.cache_stats();
    assert_eq!((stats.revalidations, stats.not_modified), (1, 1));
    assert!(
        registry.lookups().await > before,
        "revalidation did not ask the server"
    );

    client.register(&ns, "order", ORDER_V2).await.unwrap();
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    let moved = client.get(&ns, "order", None).await.unwrap();
    assert_eq!(moved.version, 2);
    assert_eq!(client.cache_stats().not_modified, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_persisted_cache_survives_a_restart_and_drops_tampered_files() {
    let registry = Registry::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cache = || CacheConfig {
        directory: Some(dir.path().to_owned()),
        ..CacheConfig::default()
    };
    let ns = namespace();
    {
        let client = client_of(&registry, cache()).await;
        client.register(&ns, "order", ORDER_V1).await.unwrap();
        client.register(&ns, "invoice", ORDER_V2).await.unwrap();
    }

    // A new process: what was persisted is served without the server.
    let restarted = client_of(&registry, cache()).await;
    let before = registry.lookups().await;
    let order = restarted.get(&ns, "order", Some(1)).await.unwrap();
    assert_eq!(order.version, 1);
    assert_eq!(
        registry.lookups().await,
        before,
        "a persisted read reached the server"
    );

    // A file altered on disk fails verification: dropped, counted, fetched again.
    let invoice_file = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.extension().is_some_and(|ext| ext == "json")
                && std::fs::read_to_string(path).unwrap().contains("total")
        })
        .unwrap();
    let text = std::fs::read_to_string(&invoice_file).unwrap();
    std::fs::write(&invoice_file, text.replace("total", "tampered")).unwrap();
    let again = client_of(&registry, cache()).await;
    let invoice = again.get(&ns, "invoice", Some(1)).await.unwrap();
    assert!(
        invoice.content.contains("total"),
        "the tampered content was served"
    );
    assert_eq!(again.cache_stats().rejected_files, 1);
    assert!(
        registry.lookups().await > before,
        "the dropped file was not refetched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_documents_stream_back_in_order() {
    const DOCUMENTS: usize = 10_000;
    let registry = Registry::start().await;
    let client = client_of(&registry, CacheConfig::default()).await;
    let ns = namespace();
    client.register(&ns, "order", ORDER_V1).await.unwrap();

    // Every third document lacks `id`.
    let documents = futures::stream::iter((0..DOCUMENTS).map(|i| {
        if i % 3 == 0 {
            r#"{"total": 1}"#.to_owned()
        } else {
            format!(r#"{{"id": {i}}}"#)
        }
    }));
    let answers: Vec<_> = client
        .validate_stream(&ns, "order", None, documents)
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(answers.len(), DOCUMENTS);
    for (i, answer) in answers.into_iter().enumerate() {
        let answer = answer.unwrap();
        assert_eq!(answer.sequence, i as u64);
        let Some(Outcome::Result(result)) = answer.outcome else {
            panic!("document {i} was not validated");
        };
        assert_eq!(result.valid, i % 3 != 0, "document {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_is_retried_and_not_found_is_not() {
    // A port nobody listens on yet; the registry starts there a moment later.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = probe.local_addr().unwrap();
    drop(probe);
    let config = ClientConfig {
        retry: RetryPolicy {
            attempts: 20,
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(200),
        },
        ..ClientConfig::new(format!("http://{addr}"))
    };
    let client = Client::connect(config).await.unwrap();
    let starting = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        Registry::start_on(listener).await
    });
    let ns = namespace();
    let started = Instant::now();
    let registered = client.register(&ns, "order", ORDER_V1).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "no retry was needed"
    );
    assert_eq!(registered.version, 1);
    let _registry = starting.await.unwrap();

    let started = Instant::now();
    let err = client.get(&ns, "absent", Some(1)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Status(status) if status.code() == Code::NotFound),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "NOT_FOUND was retried"
    );
}
