//! A real Meilisearch server for tests, when a `meilisearch` binary is at `MEILI_BIN`
//! or on `PATH`; without one, tests that need it print a "skipped: …" line and pass.
//!
//! Each server listens on a free loopback port with a master key and a data
//! directory of its own. A small shell watchdog ends it, and removes its data, when
//! the test process exits, so no server outlives the tests even when one panics.

#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

/// How long a starting server may take to answer its health check.
const START_LIMIT: Duration = Duration::from_secs(30);

/// The master key of every test server.
pub const MASTER_KEY: &str = "ovsr-test-master-key-0123456789abcdef";

/// The binary to run: `MEILI_BIN`, else `meilisearch` on `PATH`.
pub fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MEILI_BIN") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("meilisearch"))
        .find(|candidate| candidate.is_file())
}

/// Says, once per test process and past the test harness's capture, that the
/// Meilisearch tests check nothing here; `test` names the first one skipped.
pub fn say_skipped(test: &str) {
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        let line = format!(
            "skipped: Meilisearch tests (first: {test}): no meilisearch binary at MEILI_BIN or on PATH\n"
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
    });
}

/// A Meilisearch process; it stops when dropped.
#[derive(Debug)]
pub struct MeiliServer {
    binary: PathBuf,
    data: PathBuf,
    addr: SocketAddr,
    child: Option<Child>,
}

impl MeiliServer {
    /// Starts a server on a free port with an empty data directory.
    pub fn start(binary: PathBuf) -> Self {
        let port = free_port();
        let data = scratch_dir(port);
        let mut server = Self {
            binary,
            data,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child: None,
        };
        server.resume();
        server
    }

    /// The base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server, keeping its data.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM, which the watchdog passes on; SIGKILL would orphan the server.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
        // Wait until the port is free, so a restart can take it again.
        let deadline = Instant::now() + START_LIMIT;
        while TcpStream::connect(self.addr).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the server again on the same port and data, and waits until it is
    /// healthy.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        let script = r#"
            parent=$1; data=$2; shift 2
            "$@" &
            child=$!
            trap 'kill $child 2>/dev/null; wait $child 2>/dev/null' TERM
            while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do
                sleep 0.2
            done
            kill $child 2>/dev/null
            wait $child 2>/dev/null
            kill -0 "$parent" 2>/dev/null || rm -rf "$data"
        "#;
        let child = Command::new("sh")
            .args(["-c", script, "sh"])
            .arg(std::process::id().to_string())
            .arg(&self.data)
            .arg(&self.binary)
            .arg("--db-path")
            .arg(self.data.join("data.ms"))
            .arg("--dump-dir")
            .arg(self.data.join("dumps"))
            .arg("--snapshot-dir")
            .arg(self.data.join("snapshots"))
            .args(["--http-addr", &self.addr.to_string()])
            .args(["--master-key", MASTER_KEY])
            .args(["--env", "development", "--no-analytics"])
            .args(["--log-level", "WARN"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start meilisearch");
        self.child = Some(child);
        self.wait_until_healthy();
    }

    fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if healthy(self.addr) {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("meilisearch exited at start-up: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "meilisearch not healthy after {START_LIMIT:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for MeiliServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// One server for every test of this process that does not stop it; `None` without
/// a binary.
pub fn shared() -> Option<&'static MeiliServer> {
    static SHARED: OnceLock<Option<MeiliServer>> = OnceLock::new();
    SHARED
        .get_or_init(|| binary().map(MeiliServer::start))
        .as_ref()
}

/// Whether `GET /health` answers `available`.
fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let request = format!("GET /health HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.contains("available")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// A data directory under the target's scratch space (or the system's), unique to
/// this process and port.
fn scratch_dir(port: u16) -> PathBuf {
    let base = option_env!("CARGO_TARGET_TMPDIR")
        .map(Path::new)
        .map_or_else(std::env::temp_dir, Path::to_path_buf);
    let dir = base.join(format!("meili-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create meilisearch data directory");
    dir
}
