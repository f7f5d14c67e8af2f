//! The cache's counters, read from the server's `/metrics` over plain HTTP/1.0 on the
//! gRPC port, so the benchmark needs no HTTP client.

use std::net::SocketAddr;
use std::ops::{AddAssign, Sub};

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const MEMORY_HITS: &str = r#"ovsr_cache_hits_total{layer="memory"}"#;
const MEMORY_MISSES: &str = r#"ovsr_cache_misses_total{layer="memory"}"#;
const MEMORY_EVICTIONS: &str = r#"ovsr_cache_evictions_total{layer="memory"}"#;
const REDIS_HITS: &str = r#"ovsr_cache_hits_total{layer="redis"}"#;
const REDIS_MISSES: &str = r#"ovsr_cache_misses_total{layer="redis"}"#;
const REDIS_ERRORS: &str = "ovsr_cache_redis_errors_total";

/// The cache counters at one moment, or their change over a step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheCounters {
    /// Lookups the in-process layer answered (pointers and content alike).
    pub memory_hits: u64,
    /// Lookups the in-process layer could not answer.
    pub memory_misses: u64,
    /// In-process entries dropped for room.
    pub memory_evictions: u64,
    /// Redis GETs that found their key.
    pub redis_hits: u64,
    /// Redis GETs that did not.
    pub redis_misses: u64,
    /// Redis calls that failed or timed out.
    pub redis_errors: u64,
}

impl CacheCounters {
    /// Lookups in the in-process layer.
    pub fn memory_lookups(&self) -> u64 {
        self.memory_hits + self.memory_misses
    }

    /// GETs sent to Redis.
    pub fn redis_gets(&self) -> u64 {
        self.redis_hits + self.redis_misses
    }

    /// The share of in-process lookups that hit; 0 for none.
    pub fn memory_hit_share(&self) -> f64 {
        share(self.memory_hits, self.memory_lookups())
    }

    /// The share of Redis GETs that hit; 0 for none.
    pub fn redis_hit_share(&self) -> f64 {
        share(self.redis_hits, self.redis_gets())
    }

    /// Reads the counters out of `/metrics` text; absent counters are 0, as a
    /// counter nobody touched yet may not be printed.
    pub fn parse(text: &str) -> Result<Self> {
        let mut counters = Self::default();
        for line in text.lines() {
            let Some((name, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let slot = match name {
                MEMORY_HITS => &mut counters.memory_hits,
                MEMORY_MISSES => &mut counters.memory_misses,
                MEMORY_EVICTIONS => &mut counters.memory_evictions,
                REDIS_HITS => &mut counters.redis_hits,
                REDIS_MISSES => &mut counters.redis_misses,
                REDIS_ERRORS => &mut counters.redis_errors,
                _ => continue,
            };
            let value: f64 = value.parse().with_context(|| format!("reading {name}"))?;
            *slot = value as u64;
        }
        Ok(counters)
    }
}

impl Sub for CacheCounters {
    type Output = Self;

    fn sub(self, before: Self) -> Self {
        Self {
            memory_hits: self.memory_hits.saturating_sub(before.memory_hits),
            memory_misses: self.memory_misses.saturating_sub(before.memory_misses),
            memory_evictions: self
                .memory_evictions
                .saturating_sub(before.memory_evictions),
            redis_hits: self.redis_hits.saturating_sub(before.redis_hits),
            redis_misses: self.redis_misses.saturating_sub(before.redis_misses),
            redis_errors: self.redis_errors.saturating_sub(before.redis_errors),
        }
    }
}

impl AddAssign for CacheCounters {
    fn add_assign(&mut self, other: Self) {
        self.memory_hits += other.memory_hits;
        self.memory_misses += other.memory_misses;
        self.memory_evictions += other.memory_evictions;
        self.redis_hits += other.redis_hits;
        self.redis_misses += other.redis_misses;
        self.redis_errors += other.redis_errors;
    }
}

/// The server's cache counters now.
pub async fn scrape(addr: SocketAddr) -> Result<CacheCounters> {
    CacheCounters::parse(&metrics_text(addr).await?)
}

/// The server's `/metrics` text now.
pub async fn metrics_text(addr: SocketAddr) -> Result<String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr} for /metrics"))?;
    // HTTP/1.0: the answer has no chunked framing and the server closes after it.
    let request = format!("GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let answer = String::from_utf8_lossy(&answer);
    let Some((head, body)) = answer.split_once("\r\n\r\n") else {
        bail!("/metrics answered without a header end");
    };
    let status = head.lines().next().unwrap_or_default();
    if !status.contains(" 200 ") {
        bail!("/metrics answered {status:?}");
    }
    Ok(body.to_owned())
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# HELP ovsr_cache_hits Reads answered by a cache layer.
# TYPE ovsr_cache_hits counter
ovsr_cache_hits_total{layer=\"memory\"} 90
ovsr_cache_hits_total{layer=\"redis\"} 7
ovsr_cache_misses_total{layer=\"memory\"} 10
ovsr_cache_redis_errors_total 2
# EOF
";

    #[test]
    fn counters_are_read_by_layer_and_missing_ones_are_zero() {
        let counters = CacheCounters::parse(TEXT).expect("parses");
        assert_eq!(counters.memory_hits, 90);
        assert_eq!(counters.redis_hits, 7);
        assert_eq!(counters.redis_misses, 0);
        assert_eq!(counters.redis_errors, 2);
        assert_eq!(counters.memory_hit_share(), 0.9);
    }

    #[test]
    fn differences_never_go_below_zero() {
        let before = CacheCounters {
            memory_hits: 5,
            redis_hits: 3,
            ..CacheCounters::default()
        };
        let after = CacheCounters {
            memory_hits: 8,
            ..CacheCounters::default()
        };
        let delta = after - before;
        assert_eq!((delta.memory_hits, delta.redis_hits), (3, 0));
    }
}
