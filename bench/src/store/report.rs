//! The store benchmark's results: one Markdown page for people, one JSON document for
//! tools.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::database::DatabaseFacts;
use super::dataset::Shape;
use super::explain::Plan;
use super::load::LoadSummary;
use super::scripts::PageCursor;
use super::{RoundSample, StoreWorkload};
use crate::measure::{median, median_ratio};

/// How to read the table, appended to the Markdown.
const NOTES: &str = "
How to read this:

- Both sides run closed loop with the same number in flight: OVSR callers over one
  HTTP/2 connection to the server in this process (pool size = callers), pgbench
  clients over their own connections (`-M prepared`, two threads). Rounds alternate
  which side goes first; \"OVSR/pgbench\" is the median of the per-round ratios.
- pgbench runs the statements the store prepares, with the same parameters drawn
  over the same keys; digests come from a subquery on `bench_digest_keys` (one
  primary-key probe more than the store does). Its register script is the store's
  transaction for an existing schema: lock the row, look for the digest, insert.
- OVSR's side includes the gRPC client, the server and every store step in this
  process; there is no cache, so every read reaches PostgreSQL.
- The server runs with its cache off (`cache_bytes` 0), so every read reaches
  PostgreSQL.
- The machine is shared and has two cores; the ratios of one run are the figures
  to compare, not absolute rates across runs.
";

/// Every round of one workload, both sides.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkloadSamples {
    /// OVSR through gRPC, one per round.
    pub ovsr: Vec<RoundSample>,
    /// pgbench, one per round.
    pub pgbench: Vec<RoundSample>,
}

/// One line of the table: medians over the rounds.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Which workload.
    pub workload: StoreWorkload,
    /// OVSR calls per second, p50 and p99.
    pub ovsr: RoundSample,
    /// pgbench transactions per second, p50 and p99.
    pub pgbench: RoundSample,
    /// Median of the per-round throughput ratios OVSR / pgbench.
    pub ratio: f64,
}

/// Everything a run produced.
#[derive(Debug, Serialize)]
pub struct StoreReport {
    /// The command that produced it.
    pub command: String,
    /// Cores the machine has.
    pub cores: usize,
    /// `/proc/loadavg` at the start and at the end.
    pub load: [String; 2],
    /// Calls in flight on each side.
    pub concurrency: usize,
    /// Rounds.
    pub rounds: usize,
    /// Milliseconds each OVSR measurement runs.
    pub round_ms: u64,
    /// Seconds each pgbench run lasts (it counts whole seconds).
    pub pgbench_seconds: u64,
    /// The pgbench binary.
    pub pgbench: String,
    /// Whether the server accepted connections with Nagle's algorithm on.
    /// The seed of the data set and the keys.
    pub seed: u64,
    /// The data set.
    pub shape: Shape,
    /// The database, after loading.
    pub database: DatabaseFacts,
    /// The load, or that it was skipped.
    pub load_summary: LoadSummary,
    /// The deep listing page measured.
    pub deep_page: PageCursor,
    /// The table.
    pub rows: Vec<Row>,
    /// Every round, by workload.
    pub samples: BTreeMap<StoreWorkload, WorkloadSamples>,
    /// The plans.
    pub plans: Vec<Plan>,
}

/// The table's rows from the samples.
pub fn rows(samples: &BTreeMap<StoreWorkload, WorkloadSamples>) -> Vec<Row> {
    samples
        .iter()
        .map(|(workload, sides)| {
            let rates = |side: &[RoundSample]| side.iter().map(|s| s.per_sec).collect::<Vec<_>>();
            Row {
                workload: *workload,
                ovsr: median_sample(&sides.ovsr),
                pgbench: median_sample(&sides.pgbench),
                ratio: median_ratio(&rates(&sides.ovsr), &rates(&sides.pgbench)),
            }
        })
        .collect()
}

/// Each figure's median over the rounds.
pub fn median_sample(rounds: &[RoundSample]) -> RoundSample {
    let of =
        |figure: fn(&RoundSample) -> f64| median(&rounds.iter().map(figure).collect::<Vec<_>>());
    RoundSample {
        per_sec: of(|s| s.per_sec),
        p50_us: of(|s| s.p50_us),
        p99_us: of(|s| s.p99_us),
    }
}

impl StoreReport {
    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "# PostgreSQL store: OVSR through gRPC against pgbench\n"
        );
        let _ = writeln!(md, "Command: `{}`  ", self.command);
        let db = &self.database;
        let _ = writeln!(
            md,
            "{} cores; PostgreSQL {} at {} (shared_buffers {}); pgbench `{}`.  ",
            self.cores, db.server_version, db.target, db.shared_buffers, self.pgbench
        );
        let [start, end] = &self.load;
        let _ = writeln!(md, "Load average at start: {start}; at end: {end}.\n");
        self.write_data_set(&mut md);
        self.write_table(&mut md);
        md.push_str(NOTES);
        self.write_plans(&mut md);
        md
    }

    fn write_data_set(&self, md: &mut String) {
        let (shape, db) = (&self.shape, &self.database);
        let _ = writeln!(md, "## Data set\n");
        let _ = writeln!(
            md,
            "{} versions: {} namespaces × up to {} schemas × {} versions ({} schemas), \
             seed {}, mean content {:.0} bytes. Database {}, `schema_versions` {}, \
             `schemas` {}.\n",
            shape.versions,
            shape.namespaces,
            shape.schemas_per_namespace,
            shape.versions_per_schema,
            shape.schemas,
            self.seed,
            db.mean_content_bytes,
            mebibytes(db.database_bytes),
            mebibytes(db.schema_versions_bytes),
            mebibytes(db.schemas_bytes),
        );
        let load = &self.load_summary;
        if load.loaded {
            let _ = writeln!(
                md,
                "Loaded through `BatchRegisterSchemas` ({} items a call, {} calls in flight): \
                 {} new, {} already present, in {:.1} s: **{:.0} versions/s**.\n",
                load.batch_items,
                load.batches_in_flight,
                load.created,
                load.unchanged,
                load.seconds,
                load.versions_per_sec
            );
        } else {
            let _ = writeln!(
                md,
                "The database already held the data set: loading skipped.\n"
            );
        }
    }

    fn write_table(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "## Calls, {} in flight, {} rounds of {} ms (pgbench {} s), medians\n",
            self.concurrency, self.rounds, self.round_ms, self.pgbench_seconds
        );
        let _ = writeln!(
            md,
            "The deep page is page {} of 100 schemas, after `{}/{}`.\n",
            self.deep_page.page, self.deep_page.after_namespace, self.deep_page.after_name
        );
        let _ = writeln!(
            md,
            "| workload | OVSR calls/s | p50 | p99 | pgbench tx/s | p50 | p99 | OVSR/pgbench |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|");
        for row in &self.rows {
            let (o, p) = (&row.ovsr, &row.pgbench);
            let _ = writeln!(
                md,
                "| {} | {:.0} | {} | {} | {:.0} | {} | {} | **{:.2}** |",
                row.workload.describe(),
                o.per_sec,
                micros(o.p50_us),
                micros(o.p99_us),
                p.per_sec,
                micros(p.p50_us),
                micros(p.p99_us),
                row.ratio
            );
        }
    }

    fn write_plans(&self, md: &mut String) {
        let _ = writeln!(md, "\n## Plans\n");
        let _ = writeln!(md, "| workload | statement | plan | indexes | full scans |");
        let _ = writeln!(md, "|---|---|---|---|---|");
        for plan in &self.plans {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                plan.workload,
                plan.statement,
                plan.kind,
                plan.indexes.join(", "),
                if plan.seq_scans.is_empty() {
                    "none".to_owned()
                } else {
                    plan.seq_scans.join(", ")
                }
            );
        }
        for plan in &self.plans {
            let _ = writeln!(md, "\n### {}: {}\n", plan.workload, plan.statement);
            let _ = writeln!(md, "```\n{}\n```", plan.text);
        }
    }
}

/// A latency for the table: µs, or ms from 10 ms up.
pub fn micros(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn mebibytes(bytes: i64) -> String {
    format!("{:.0} MiB", bytes as f64 / f64::from(1 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(per_sec: f64) -> RoundSample {
        RoundSample {
            per_sec,
            p50_us: per_sec / 10.0,
            p99_us: per_sec,
        }
    }

    #[test]
    fn rows_take_medians_and_pair_rounds_for_the_ratio() {
        let mut samples = BTreeMap::new();
        samples.insert(
            StoreWorkload::GetExact,
            WorkloadSamples {
                ovsr: vec![sample(100.0), sample(300.0), sample(200.0)],
                pgbench: vec![sample(400.0), sample(400.0), sample(1000.0)],
            },
        );
        let rows = rows(&samples);
        assert_eq!(rows[0].ovsr.per_sec, 200.0);
        assert_eq!(rows[0].pgbench.p50_us, 40.0);
        assert_eq!(rows[0].ratio, 0.25);
    }

    #[test]
    fn latencies_switch_to_milliseconds_when_large() {
        assert_eq!(micros(950.0), "950 µs");
        assert_eq!(micros(12_345.0), "12.3 ms");
    }
}
