//! redis-benchmark, run as the floor of the Redis path: GETs with the same number in
//! flight, over keys of the benchmark's own prefix that hold values of the mean schema
//! size.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use super::redis::RedisTarget;
use crate::store::RoundSample;

/// Where `__rand_int__` sits in the key pattern; redis-benchmark writes it as a
/// zero-padded 12-digit number below the keyspace size.
const RANDOM_PART: &str = "__rand_int__";

/// redis-benchmark's GET over `keyspace` keys named by `prefix`.
#[derive(Debug, Clone)]
pub struct RedisBenchmark {
    binary: PathBuf,
    target: RedisTarget,
    clients: usize,
    prefix: String,
    keyspace: usize,
}

impl RedisBenchmark {
    /// redis-benchmark from `PATH`, or `None` when it is not there.
    pub fn locate(
        target: RedisTarget,
        clients: usize,
        prefix: String,
        keyspace: usize,
    ) -> Option<Self> {
        let binary = crate::find_on_path("redis-benchmark")?;
        Some(Self {
            binary,
            target,
            clients,
            prefix,
            keyspace,
        })
    }

    /// The binary run.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The keys its GETs read, to be set beforehand and deleted after.
    pub fn keys(&self) -> Vec<String> {
        (0..self.keyspace)
            .map(|index| format!("{}{index:012}", self.prefix))
            .collect()
    }

    /// Sends `requests` GETs and reads its figures: requests per second, p50, p99.
    pub fn run(&self, requests: u64) -> Result<RoundSample> {
        let pattern = format!("{}{RANDOM_PART}", self.prefix);
        let output = Command::new(&self.binary)
            .args(["-h", &self.target.host])
            .args(["-p", &self.target.port.to_string()])
            .args(["--dbnum", &self.target.db.to_string()])
            .args(["-c", &self.clients.to_string()])
            .args(["-n", &requests.to_string()])
            .args(["-r", &self.keyspace.to_string()])
            .arg("--csv")
            .args(["GET", &pattern])
            .output()
            .with_context(|| format!("running {:?}", self.binary))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!("redis-benchmark failed ({}): {stderr}", output.status);
        }
        parse_csv(&String::from_utf8_lossy(&output.stdout))
    }
}

/// The figures of the first test in redis-benchmark's `--csv` output, whose columns
/// are named by its header line.
fn parse_csv(text: &str) -> Result<RoundSample> {
    let mut lines = text.lines().filter(|line| line.starts_with('"'));
    let header = split_csv(
        lines
            .next()
            .context("redis-benchmark printed no CSV header")?,
    );
    let values = split_csv(lines.next().context("redis-benchmark printed no result")?);
    let column = |name: &str| -> Result<f64> {
        let index = header
            .iter()
            .position(|field| field == name)
            .with_context(|| format!("redis-benchmark's CSV has no {name} column"))?;
        let value = values.get(index).context("a short CSV line")?;
        value.parse().with_context(|| format!("reading {name}"))
    };
    Ok(RoundSample {
        per_sec: column("rps")?,
        p50_us: column("p50_latency_ms")? * 1000.0,
        p99_us: column("p99_latency_ms")? * 1000.0,
    })
}

fn split_csv(line: &str) -> Vec<String> {
    line.split(',')
        .map(|field| field.trim_matches('"').to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_gives_rate_and_latencies_in_microseconds() {
        let text = "\
\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"
\"GET k:__rand_int__\",\"133333.34\",\"0.020\",\"0.008\",\"0.023\",\"0.031\",\"0.047\",\"0.095\"
";
        let sample = parse_csv(text).expect("parses");
        assert_eq!(sample.per_sec, 133_333.34);
        assert!((sample.p50_us - 23.0).abs() < 1e-9);
        assert!((sample.p99_us - 47.0).abs() < 1e-9);
    }

    #[test]
    fn keys_follow_redis_benchmarks_padding() {
        let target = RedisTarget::parse("redis://127.0.0.1:6379").expect("parses");
        let tool = RedisBenchmark {
            binary: PathBuf::from("redis-benchmark"),
            target,
            clients: 1,
            prefix: "p:".to_owned(),
            keyspace: 2,
        };
        assert_eq!(tool.keys(), vec!["p:000000000000", "p:000000000001"]);
    }
}
