//! The cache benchmark: GetSchema answered from the server's in-process cache against
//! a tonic server that only looks its answer up, and GetSchema answered through Redis
//! against redis-benchmark's GETs on the same Redis.

pub mod calls;
pub mod cleanup;
pub mod metrics;
pub mod noop;
pub mod redis;
pub mod redis_benchmark;
pub mod report;
pub mod schemas;

use std::fmt;
use std::net::SocketAddr;

use anyhow::Result;
use serde::Serialize;
use tokio::net::{TcpListener, TcpSocket};

/// One timed step of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// GetSchema by name and exact version, from the in-process cache.
    CachedExact,
    /// The same requests to the no-op server.
    NoopExact,
    /// GetSchema by name, latest version, from the in-process cache.
    CachedLatest,
    /// The same requests to the no-op server.
    NoopLatest,
    /// GetSchema by name and exact version, every lookup through Redis.
    RedisExact,
    /// GetSchema by name, latest version, every lookup through Redis.
    RedisLatest,
    /// redis-benchmark's GET over keys of the mean schema size.
    RedisBenchmark,
}

/// Which server (or tool) a step measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The server with its default in-process cache, on SQLite.
    Cached,
    /// The tonic server answering from a prepared map.
    Noop,
    /// The server with Redis behind an in-process layer too small to hold anything.
    RedisPath,
    /// redis-benchmark.
    RedisBenchmark,
}

/// Which GetSchema requests a step sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lookup {
    /// By namespace, name and version number.
    Exact,
    /// By namespace and name, latest version.
    Latest,
}

impl Lookup {
    /// In-process lookups one GetSchema makes when no step falls to the store: the
    /// version record and the content, and the latest number before them.
    pub fn memory_lookups_per_call(self) -> u64 {
        match self {
            Self::Exact => 2,
            Self::Latest => 3,
        }
    }
}

impl Step {
    /// Every step, in the order even rounds run them (odd rounds reverse it).
    pub const ALL: [Step; 7] = [
        Step::CachedExact,
        Step::NoopExact,
        Step::CachedLatest,
        Step::NoopLatest,
        Step::RedisExact,
        Step::RedisLatest,
        Step::RedisBenchmark,
    ];

    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CachedExact => "cached-exact",
            Self::NoopExact => "noop-exact",
            Self::CachedLatest => "cached-latest",
            Self::NoopLatest => "noop-latest",
            Self::RedisExact => "redis-exact",
            Self::RedisLatest => "redis-latest",
            Self::RedisBenchmark => "redis-benchmark",
        }
    }

    /// What it measures, for the table.
    pub fn describe(self) -> &'static str {
        match self {
            Self::CachedExact => "OVSR GetSchema name + version, in-process cache",
            Self::NoopExact => "tonic no-op GetSchema name + version",
            Self::CachedLatest => "OVSR GetSchema name, latest, in-process cache",
            Self::NoopLatest => "tonic no-op GetSchema name, latest",
            Self::RedisExact => "OVSR GetSchema name + version, through Redis",
            Self::RedisLatest => "OVSR GetSchema name, latest, through Redis",
            Self::RedisBenchmark => "redis-benchmark GET",
        }
    }

    /// The server or tool it measures.
    pub fn side(self) -> Side {
        match self {
            Self::CachedExact | Self::CachedLatest => Side::Cached,
            Self::NoopExact | Self::NoopLatest => Side::Noop,
            Self::RedisExact | Self::RedisLatest => Side::RedisPath,
            Self::RedisBenchmark => Side::RedisBenchmark,
        }
    }

    /// The requests it sends; redis-benchmark sends its own.
    pub fn lookup(self) -> Option<Lookup> {
        match self {
            Self::CachedExact | Self::NoopExact | Self::RedisExact => Some(Lookup::Exact),
            Self::CachedLatest | Self::NoopLatest | Self::RedisLatest => Some(Lookup::Latest),
            Self::RedisBenchmark => None,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A listener on a free loopback port with TCP_NODELAY set, which Linux passes on to
/// the connections it accepts, so the real server and the no-op answer alike.
pub fn listen_on_loopback() -> Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_nodelay(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    Ok(socket.listen(1024)?)
}

/// Names a run's namespace and Redis keys: lowercase hex, unique enough per machine.
pub fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("{:010x}", nanos & 0xff_ffff_ffff)
}
