//! The load benchmark: a load generator that drives the server closed loop to find
//! its capacity, then open loop at fixed arrival rates derived from it, measuring
//! every call from the moment it was meant to be sent.
//!
//! - [`target`]: one call of a workload (gRPC `GetSchema`, `ListSchemas`, `Search`,
//!   `Validate`, `ValidateStream`, `RegisterSchema`, HTTP GET of a document, a mix).
//! - [`schedule`]: intended send times and the phases' rates, pure arithmetic.
//! - [`record`]: latency histograms and error counts.
//! - [`generator`]: the closed and the open loop.
//! - [`process`]: CPU and memory of this process, sampled while a phase runs.
//! - [`scenario`]: capacity, then baseline, peak, stress and spike phases.
//! - [`report`]: the JSON and Markdown written to `bench/results/`.
//! - [`plot`]: the same as SVG charts.
//! - [`schemas`]: the SchemaStore schemas registered before the run.
//! - [`pairs`]: OVSR against a baseline in alternating rounds, medians of ratios.
//! - [`baselines`]: the pairs measured: tonic no-op, nginx, pgbench, in-process.
//! - [`nginx`], [`cold`]: the static-file server, and the uncached server on
//!   PostgreSQL with pgbench beside it.
//! - [`regression`]: the committed ratios a run is checked against.

pub mod baselines;
pub mod cold;
pub mod generator;
pub mod nginx;
pub mod pairs;
pub mod plot;
pub mod process;
pub mod record;
pub mod regression;
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
    /// gRPC `GetSchema` of random versions of a PostgreSQL data set, cache off.
    GetSchemaCold,
    /// `GET /schemas/{namespace}/{name}/{version}` answered 200 with the document.
    #[serde(rename = "http-get-200")]
    HttpGet200,
    /// The same GET with `If-None-Match` set to the document's ETag, answered 304.
    #[serde(rename = "http-get-304")]
    HttpGet304,
    /// gRPC `ListSchemas`, a first page of the run's namespace.
    ListSchemas,
    /// gRPC `Search` for a registered schema's name, through the page cache.
    Search,
    /// gRPC unary `Validate` of a small document against a registered schema.
    Validate,
    /// gRPC `ValidateStream` of a batch of real documents per call.
    ValidateStream,
    /// gRPC `RegisterSchema` of new content, a new version each call.
    RegisterSchema,
    /// The realistic mix of reads, searches, validation and writes.
    Mix,
}

impl LoadWorkload {
    /// Every workload, in report order.
    pub const ALL: [LoadWorkload; 10] = [
        LoadWorkload::GetSchemaHot,
        LoadWorkload::GetSchemaCold,
        LoadWorkload::HttpGet200,
        LoadWorkload::HttpGet304,
        LoadWorkload::ListSchemas,
        LoadWorkload::Search,
        LoadWorkload::Validate,
        LoadWorkload::ValidateStream,
        LoadWorkload::RegisterSchema,
        LoadWorkload::Mix,
    ];

    /// Its name on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GetSchemaHot => "get-schema-hot",
            Self::GetSchemaCold => "get-schema-cold",
            Self::HttpGet200 => "http-get-200",
            Self::HttpGet304 => "http-get-304",
            Self::ListSchemas => "list-schemas",
            Self::Search => "search",
            Self::Validate => "validate",
            Self::ValidateStream => "validate-stream",
            Self::RegisterSchema => "register-schema",
            Self::Mix => "mix",
        }
    }

    /// What one call is, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Self::GetSchemaHot => "gRPC GetSchema, name + pinned version, cached",
            Self::GetSchemaCold => {
                "gRPC GetSchema of random versions in PostgreSQL, cache off: one query each"
            }
            Self::HttpGet200 => {
                "HTTP GET /schemas/{ns}/{name}/{version}, br or gzip, 200 with body"
            }
            Self::HttpGet304 => "HTTP GET /schemas/{ns}/{name}/{version}, If-None-Match → 304",
            Self::ListSchemas => "gRPC ListSchemas, first page of 20 in the run's namespace",
            Self::Search => "gRPC Search for a registered schema's name, page cache on",
            Self::Validate => "gRPC Validate of a small document, compiled validator cached",
            Self::ValidateStream => {
                "gRPC ValidateStream of 100 real SchemaStore documents, all results read"
            }
            Self::RegisterSchema => "gRPC RegisterSchema of new content into 256 schemas",
            Self::Mix => {
                "50% GetSchema, 15% HTTP 304, 10% HTTP 200, 10% Validate, 8% Search, \
                 5% ListSchemas, 2% RegisterSchema"
            }
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
    fn workloads_parse_from_their_own_names_and_serialize_as_them() {
        for workload in LoadWorkload::ALL {
            assert_eq!(workload.as_str().parse::<LoadWorkload>(), Ok(workload));
            let json = serde_json::to_string(&workload).expect("serialized");
            assert_eq!(json, format!("\"{workload}\""));
        }
        assert!("get-schema-lukewarm".parse::<LoadWorkload>().is_err());
    }
}
