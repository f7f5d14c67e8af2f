//! nginx serving the same schema documents as static files, precompressed with gzip
//! and brotli beside each file: the floor of serving raw documents over HTTP. It runs
//! from a temporary prefix of its own with two workers (one per core), logs off and
//! open files cached, and stops when dropped.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use tempfile::TempDir;

/// Where Debian puts nginx and its dynamic modules.
const DEBIAN_NGINX: &str = "/usr/sbin/nginx";
const BROTLI_STATIC_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so";
/// How long nginx may take to accept connections.
const START_LIMIT: Duration = Duration::from_secs(10);
/// The brotli quality files are precompressed at: the densest, as a site would
/// precompress its static files once.
const BROTLI_QUALITY: u32 = 11;

/// nginx from the PATH, else Debian's; `None` when neither is there.
pub fn locate() -> Option<PathBuf> {
    crate::find_on_path("nginx").or_else(|| {
        let debian = PathBuf::from(DEBIAN_NGINX);
        debian.is_file().then_some(debian)
    })
}

/// A running nginx and the folder it serves from.
#[derive(Debug)]
pub struct Nginx {
    binary: PathBuf,
    prefix: TempDir,
    child: Child,
    addr: SocketAddr,
    /// Whether `.br` files are served (the brotli module is installed).
    pub brotli: bool,
}

impl Nginx {
    /// Writes each `(path, content)` under the site's root, with `.gz` and `.br`
    /// beside it, and starts `binary` serving them on a free loopback port.
    pub fn start(binary: &Path, documents: &[(String, Vec<u8>)]) -> Result<Self> {
        let prefix = tempfile::tempdir()?;
        let root = prefix.path().join("site");
        for (path, content) in documents {
            write_precompressed(&root.join(path.trim_start_matches('/')), content)?;
        }
        for temp in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            std::fs::create_dir_all(prefix.path().join("temp").join(temp))?;
        }
        let brotli = Path::new(BROTLI_STATIC_MODULE).is_file();
        let addr = free_port()?;
        let config = config(prefix.path(), &root, addr, brotli);
        let config_path = prefix.path().join("nginx.conf");
        std::fs::write(&config_path, config)?;
        let child = Command::new(binary)
            .arg("-p")
            .arg(prefix.path())
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {binary:?}"))?;
        let mut nginx = Self {
            binary: binary.to_owned(),
            prefix,
            child,
            addr,
            brotli,
        };
        nginx.wait_ready()?;
        Ok(nginx)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(self.prefix.path().join("error.log"))
                    .unwrap_or_default();
                bail!("nginx exited at start ({status}): {log}");
            }
            if TcpStream::connect(self.addr).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "nginx did not listen on {} within {START_LIMIT:?}",
                    self.addr
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // A signal through nginx's own pid file stops the workers with the master;
        // killing the master alone would leave them serving.
        let stopped = Command::new(&self.binary)
            .arg("-p")
            .arg(self.prefix.path())
            .arg("-c")
            .arg(self.prefix.path().join("nginx.conf"))
            .args(["-s", "stop"])
            .stderr(Stdio::null())
            .status();
        if !stopped.is_ok_and(|status| status.success()) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The configuration: two workers, keep-alive without limit, logs off, sendfile,
/// open files cached, precompressed files served as they are.
fn config(prefix: &Path, root: &Path, addr: SocketAddr, brotli: bool) -> String {
    let prefix = prefix.display();
    let load_brotli = if brotli {
        format!("load_module {BROTLI_STATIC_MODULE};\n")
    } else {
        String::new()
    };
    let brotli_static = if brotli { "brotli_static on;" } else { "" };
    // Run as root, nginx would hand its workers to `nobody`, who cannot read a
    // private temporary folder; as anyone else, workers stay that user anyway.
    let user = if running_as_root() {
        "user root;\n"
    } else {
        ""
    };
    format!(
        "{load_brotli}{user}worker_processes 2;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 300s;
    keepalive_requests 10000000;
    open_file_cache max=10000 inactive=300s;
    open_file_cache_valid 300s;
    client_body_temp_path {prefix}/temp/body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    types {{ }}
    default_type application/schema+json;
    gzip_static on;
    {brotli_static}
    server {{
        listen {addr};
        root {root};
        add_header Cache-Control \"public, max-age=31536000, immutable\";
    }}
}}
",
        root = root.display(),
    )
}

/// Writes `content` at `path`, and gzip and brotli forms of it beside it.
fn write_precompressed(path: &Path, content: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {parent:?}"))?;
    }
    std::fs::write(path, content).with_context(|| format!("writing {path:?}"))?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(content)?;
    std::fs::write(with_suffix(path, "gz"), gzip.finish()?)?;
    let mut brotli = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY as i32,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &content[..], &mut brotli, &params)?;
    std::fs::write(with_suffix(path, "br"), brotli)?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// A loopback port free a moment ago (nginx binds it itself).
fn free_port() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// Whether this process runs as root, read from `/proc/self/status`.
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_with_gzip_and_brotli_forms_that_decode_to_them() {
        use std::io::Read as _;
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("schemas/load/a/1");
        let content = br#"{"type":"object","properties":{"a":{"type":"string"}}}"#.repeat(20);
        write_precompressed(&path, &content).expect("written");
        assert_eq!(std::fs::read(&path).expect("the file"), content);
        let gz = std::fs::read(with_suffix(&path, "gz")).expect("the .gz");
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut decoded)
            .expect("gzip decodes");
        assert_eq!(decoded, content);
        let br = std::fs::read(with_suffix(&path, "br")).expect("the .br");
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut decoded).expect("brotli decodes");
        assert_eq!(decoded, content);
        assert!(
            br.len() < content.len() / 4,
            "{} of {}",
            br.len(),
            content.len()
        );
    }

    #[test]
    fn the_configuration_serves_the_root_on_the_address_precompressed() {
        let addr: SocketAddr = "127.0.0.1:8089".parse().expect("an address");
        let text = config(Path::new("/p"), Path::new("/p/site"), addr, true);
        assert!(text.starts_with(&format!("load_module {BROTLI_STATIC_MODULE};")));
        assert!(text.contains("listen 127.0.0.1:8089;"));
        assert!(text.contains("root /p/site;"));
        assert!(text.contains("gzip_static on;") && text.contains("brotli_static on;"));
        let without = config(Path::new("/p"), Path::new("/p/site"), addr, false);
        assert!(!without.contains("brotli"));
    }
}
