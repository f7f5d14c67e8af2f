//! The PostgreSQL store benchmark: a seeded data set loaded through
//! `BatchRegisterSchemas`, each store call measured through gRPC against pgbench
//! running the same SQL, and the plans PostgreSQL picks for it.

pub mod calls;
pub mod database;
pub mod dataset;
pub mod explain;
pub mod load;
pub mod pgbench;
pub mod report;
pub mod scripts;
pub mod statements;

use std::fmt;

use serde::Serialize;

/// One measured call, on the server and as pgbench SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoreWorkload {
    /// GetSchema by namespace, name and exact version.
    GetExact,
    /// GetSchema by namespace and name, latest version.
    GetLatest,
    /// GetSchema by digest.
    GetByDigest,
    /// ListSchemas over every namespace, first page.
    ListFirstPage,
    /// ListSchemas over every namespace, a deep page reached by keyset cursor.
    ListDeepPage,
    /// RegisterSchema of new content into an existing schema.
    Register,
}

impl StoreWorkload {
    /// Every workload, in the order each round runs them (writes last, so reads never
    /// follow a round's fresh rows).
    pub const ALL: [StoreWorkload; 6] = [
        StoreWorkload::GetExact,
        StoreWorkload::GetLatest,
        StoreWorkload::GetByDigest,
        StoreWorkload::ListFirstPage,
        StoreWorkload::ListDeepPage,
        StoreWorkload::Register,
    ];

    /// Its name in reports and script file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GetExact => "get-exact",
            Self::GetLatest => "get-latest",
            Self::GetByDigest => "get-by-digest",
            Self::ListFirstPage => "list-page-1",
            Self::ListDeepPage => "list-deep-page",
            Self::Register => "register",
        }
    }

    /// What the call is, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Self::GetExact => "GetSchema namespace/name + version",
            Self::GetLatest => "GetSchema namespace/name, latest",
            Self::GetByDigest => "GetSchema by digest",
            Self::ListFirstPage => "ListSchemas (all namespaces), page 1",
            Self::ListDeepPage => "ListSchemas (all namespaces), deep page by keyset",
            Self::Register => "RegisterSchema, new content",
        }
    }
}

impl fmt::Display for StoreWorkload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One timed round of one side (OVSR or pgbench) on one workload.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RoundSample {
    /// Calls (or transactions) completed per second.
    pub per_sec: f64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th percentile latency, µs.
    pub p99_us: f64,
}

impl RoundSample {
    /// A sample from a rate and every call's latency in µs (sorted here).
    pub fn from_latencies(per_sec: f64, latencies_us: &mut [u64]) -> Self {
        latencies_us.sort_unstable();
        Self {
            per_sec,
            p50_us: percentile(latencies_us, 0.50),
            p99_us: percentile(latencies_us, 0.99),
        }
    }
}

/// The value at quantile `q` of sorted `values` (nearest rank); 0 for none.
fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let mut latencies: Vec<u64> = (1..=100).rev().collect();
        let sample = RoundSample::from_latencies(5.0, &mut latencies);
        assert_eq!((sample.p50_us, sample.p99_us), (50.0, 99.0));
        assert_eq!(percentile(&[], 0.5), 0.0);
        assert_eq!(percentile(&[7], 0.99), 7.0);
    }
}
