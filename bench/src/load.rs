//! The load benchmark: a load generator that drives the server closed loop to find
//! its capacity, then open loop at fixed arrival rates derived from it, measuring
//! every call from the moment it was meant to be sent.
//!
//! - [`target`]: one call of a workload (gRPC `GetSchema`, `ListSchemas`, `Search`,
//!   `Validate`, HTTP GET of a document).
//! - [`schedule`]: intended send times and the phases' rates, pure arithmetic.
//! - [`record`]: latency histograms and error counts.
//! - [`generator`]: the closed and the open loop.
//! - [`process`]: CPU and memory of this process, sampled while a phase runs.
//! - [`scenario`]: capacity, then baseline, peak, stress and spike phases.
//! - [`report`]: the JSON and Markdown written to `bench/results/`.
//! - [`schemas`]: the SchemaStore schemas registered before the run.

pub mod generator;
pub mod process;
pub mod record;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod schemas;
pub mod target;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// What the load is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadWorkload {
    /// gRPC `GetSchema` by name and pinned version, answered from the warm cache.
    GetSchemaHot,
    /// `GET /schemas/{namespace}/{name}/{version}` answered 200 with the document.
    HttpGet200,
    /// The same GET with `If-None-Match` set to the document's ETag, answered 304.
    HttpGet304,
    /// gRPC `ListSchemas`, a first page of the run's namespace.
    ListSchemas,
    /// gRPC `Search` for a registered schema's name, through the page cache.
    Search,
    /// gRPC unary `Validate` of a small document against a registered schema.
    Validate,
}

impl LoadWorkload {
    /// Every workload, in report order.
    pub const ALL: [LoadWorkload; 6] = [
        LoadWorkload::GetSchemaHot,
        LoadWorkload::HttpGet200,
        LoadWorkload::HttpGet304,
        LoadWorkload::ListSchemas,
        LoadWorkload::Search,
        LoadWorkload::Validate,
    ];

    /// Its name on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GetSchemaHot => "get-schema-hot",
            Self::HttpGet200 => "http-get-200",
            Self::HttpGet304 => "http-get-304",
            Self::ListSchemas => "list-schemas",
            Self::Search => "search",
            Self::Validate => "validate",
        }
    }

    /// What one call is, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Self::GetSchemaHot => "gRPC GetSchema, name + pinned version, cached",
            Self::HttpGet200 => "HTTP GET /schemas/{ns}/{name}/{version}, 200 with body",
            Self::HttpGet304 => "HTTP GET /schemas/{ns}/{name}/{version}, If-None-Match → 304",
            Self::ListSchemas => "gRPC ListSchemas, first page of 20 in the run's namespace",
            Self::Search => "gRPC Search for a registered schema's name, page cache on",
            Self::Validate => "gRPC Validate of a small document, compiled validator cached",
        }
    }
}

impl fmt::Display for LoadWorkload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LoadWorkload {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|workload| workload.as_str() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|w| w.as_str()).collect();
                format!("unknown workload {name:?}; known: {}", known.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_parse_from_their_own_names() {
        for workload in LoadWorkload::ALL {
            assert_eq!(workload.as_str().parse::<LoadWorkload>(), Ok(workload));
        }
        assert!("get-schema-cold".parse::<LoadWorkload>().is_err());
    }
}
