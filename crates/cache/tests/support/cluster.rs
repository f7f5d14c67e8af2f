//! A private Redis Cluster for tests: three `redis-server` masters on free loopback
//! ports, joined with `redis-cli --cluster create`, killed when dropped.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ovsr_cache::RedisConfig;

/// How long the cluster may take to report `cluster_state:ok`.
const READY_LIMIT: Duration = Duration::from_secs(30);

/// Three masters and their data directory.
pub struct RedisCluster {
    nodes: Vec<Child>,
    ports: Vec<u16>,
    _dir: tempfile::TempDir,
}

impl RedisCluster {
    /// Starts the nodes, creates the cluster and waits until it serves.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("cluster directory");
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let nodes = ports
            .iter()
            .map(|port| {
                Command::new("redis-server")
                    .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                    .args([
                        "--cluster-enabled",
                        "yes",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ])
                    .arg("--cluster-config-file")
                    .arg(dir.path().join(format!("nodes-{port}.conf")))
                    .arg("--dir")
                    .arg(dir.path())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start redis-server")
            })
            .collect();
        let cluster = Self {
            nodes,
            ports,
            _dir: dir,
        };
        for port in &cluster.ports {
            cluster.wait_for(*port, "PONG", &["ping"]);
        }
        let addresses: Vec<String> = cluster
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("run redis-cli --cluster create");
        assert!(
            created.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        for port in &cluster.ports {
            cluster.wait_for(*port, "cluster_state:ok", &["cluster", "info"]);
        }
        cluster
    }

    /// The cache's Redis settings for this cluster.
    pub fn redis_config(&self) -> RedisConfig {
        RedisConfig {
            url: self.url(),
            timeout: Duration::from_secs(2),
            ..RedisConfig::default()
        }
    }

    /// The URL naming every node.
    pub fn url(&self) -> String {
        let first = self.ports[0];
        let others: Vec<String> = self.ports[1..]
            .iter()
            .map(|port| format!("node=127.0.0.1:{port}"))
            .collect();
        format!("redis-cluster://127.0.0.1:{first}?{}", others.join("&"))
    }

    fn wait_for(&self, port: u16, expected: &str, command: &[&str]) {
        let deadline = Instant::now() + READY_LIMIT;
        loop {
            let answer = Command::new("redis-cli")
                .args(["-h", "127.0.0.1", "-p", &port.to_string()])
                .args(command)
                .output();
            if answer.is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(expected)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "redis node {port}: no {expected}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.kill();
            let _ = node.wait();
        }
    }
}

fn free_port() -> u16 {
    // Cluster nodes also listen on port + 10000 for their bus.
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("bind a free port")
            .local_addr()
            .expect("local address")
            .port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}
