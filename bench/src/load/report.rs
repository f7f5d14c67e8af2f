//! The load benchmark's results: serialized to `bench/results/load.json`, and as
//! Markdown tables, one per workload with a row per phase.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::LoadWorkload;
use super::pairs::PairReport;
use super::process::ProcessUsage;
use super::record::Percentiles;
use super::schedule::{Phase, PhaseRates};

/// How to read the tables, appended to the Markdown.
const NOTES: &str = "
How to read this:

- capacity: closed loop, the callers sending back to back; its rate is what the
  server sustained, and its latencies are measured from each actual send.
- The other phases are open loop: calls are sent at fixed intended times (rate
  from the capacity: baseline half of it, peak 2×, stress 5×, spike 10× the
  baseline, after-spike the baseline again right after the spike), each on a task of
  its own. Latency runs from the intended send time, so queueing anywhere (in the
  server, the connections or the generator) shows; the send lag column is how late
  the generator itself sent, p99.
- Calls beyond the bound of outstanding ones are not sent and count as `dropped`;
  calls without an answer within the call timeout count as `timeout`. Latency
  percentiles cover the successful calls only.
- achieved: successful calls over the phase's window (its scheduled length; for the
  last phase of a schedule, until its last answer came back).
- CPU and RSS are of the whole benchmark process, read from `/proc/self/stat` and
  `/proc/self/status` every 100 ms: the server runs inside it, beside the load
  generator. Server CPU is the server runtime's threads alone (`/proc/self/task`,
  by thread name); RSS cannot be split by thread. CPU is in percent of one core.
- HTTP calls go over at most a fixed number of HTTP/1.1 connections; a call waiting
  for one counts that wait in its latency.
- The machine is shared and has few cores: the server and the generator compete for
  them, so compare phases of one run rather than absolute figures across runs.
";

/// One phase's figures.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseRow {
    /// Which phase.
    pub phase: Phase,
    /// The intended arrival rate, per second; none for the closed loop.
    pub offered_per_sec: Option<f64>,
    /// The window the achieved rate is over, ms.
    pub window_ms: u64,
    /// Calls meant to be sent (all calls made, closed loop).
    pub scheduled: u64,
    /// Calls answered as expected.
    pub ok: u64,
    /// Successful calls per second over the window.
    pub achieved_per_sec: f64,
    /// Failed or unsent calls by kind.
    pub errors: BTreeMap<String, u64>,
    /// Latencies of the successful calls.
    pub latency: Percentiles,
    /// p99 of how late the generator sent a call, µs; none for the closed loop.
    pub send_lag_p99_us: Option<u64>,
    /// CPU and memory of the process over the window.
    pub process: ProcessUsage,
}

impl PhaseRow {
    /// Failed or unsent calls.
    pub fn failed(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// One workload's scenario.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadReport {
    /// Which workload.
    pub workload: LoadWorkload,
    /// What one call is.
    pub description: String,
    /// Successful calls per second, closed loop.
    pub capacity_per_sec: f64,
    /// The open-loop rates offered.
    pub rates: PhaseRates,
    /// Every phase, in the order run.
    pub phases: Vec<PhaseRow>,
}

/// Everything a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// The command that produced it.
    pub command: String,
    /// Cores the machine has.
    pub cores: usize,
    /// `/proc/loadavg` at the start and at the end.
    pub load: [String; 2],
    /// A short run that only checks every path works.
    pub smoke: bool,
    /// Milliseconds of the capacity closed loop.
    pub capacity_ms: u64,
    /// Milliseconds of each open-loop phase.
    pub phase_ms: u64,
    /// Milliseconds of the spike.
    pub spike_ms: u64,
    /// Callers in flight in the closed loop.
    pub callers: usize,
    /// Calls outstanding at most in the open loop.
    pub max_outstanding: usize,
    /// HTTP/1.1 connections at most, HTTP workloads.
    pub http_connections: usize,
    /// HTTP/2 connections the gRPC calls are spread over.
    pub grpc_connections: usize,
    /// Schemas registered and read.
    pub schemas: usize,
    /// Mean bytes of a served document.
    pub mean_document_bytes: usize,
    /// The highest baseline rate, if capped.
    pub baseline_cap: Option<f64>,
    /// One scenario per workload.
    pub workloads: Vec<WorkloadReport>,
    /// Rounds of each A/B pair, and their length in ms.
    pub pair_rounds: usize,
    /// Milliseconds of each side's round in a pair.
    pub pair_round_ms: u64,
    /// OVSR against its baselines, in the same run.
    pub pairs: Vec<PairReport>,
    /// Pairs not measured, and why (a baseline's tool missing).
    pub skipped: Vec<String>,
}

impl LoadReport {
    /// What makes a smoke run fail: a phase without one successful call, or any
    /// error at baseline.
    pub fn smoke_problems(&self, expected: &[LoadWorkload]) -> Vec<String> {
        let mut problems = Vec::new();
        for workload in expected {
            let Some(report) = self.workloads.iter().find(|w| w.workload == *workload) else {
                problems.push(format!("{workload}: did not run"));
                continue;
            };
            for phase in PHASES_EXPECTED {
                let Some(row) = report.phases.iter().find(|row| row.phase == phase) else {
                    problems.push(format!("{workload}: phase {phase} did not run"));
                    continue;
                };
                if row.ok == 0 {
                    problems.push(format!("{workload}: no successful call in {phase}"));
                }
                if phase == Phase::Baseline && row.failed() > 0 {
                    let errors = errors_cell(&row.errors);
                    problems.push(format!("{workload}: errors at baseline: {errors}"));
                }
            }
        }
        problems
    }

    /// What makes a smoke run's pairs fail: a pair of `expected` neither measured
    /// nor skipped for a missing tool, or a round where a side did nothing.
    pub fn pair_problems(&self, expected: &[&str]) -> Vec<String> {
        let mut problems = Vec::new();
        for id in expected {
            if was_skipped(&self.skipped, id) {
                continue;
            }
            let Some(pair) = self.pairs.iter().find(|pair| pair.id == *id) else {
                problems.push(format!("pair {id}: not measured"));
                continue;
            };
            let silent = pair
                .rounds
                .iter()
                .any(|round| round.ovsr.per_sec <= 0.0 || round.baseline.per_sec <= 0.0);
            if pair.rounds.is_empty() || silent {
                problems.push(format!("pair {id}: a side produced no figures"));
            }
        }
        problems
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Load: open-loop phases against measured capacity\n");
        let _ = writeln!(md, "Command: `{}`  ", self.command);
        let [start, end] = &self.load;
        let _ = writeln!(
            md,
            "{} cores; load average at start {start}, at end {end}.\n",
            self.cores
        );
        let cap = self.baseline_cap.map_or_else(String::new, |cap| {
            format!("; baseline capped at {cap:.0}/s")
        });
        let _ = writeln!(
            md,
            "{} SchemaStore schemas (files of 1 to 16 KiB), mean document {} bytes. \
             Capacity {} ms closed loop with {} callers; phases of {} ms, spike {} ms; \
             at most {} calls outstanding; gRPC over {} connections, HTTP over at most {}{cap}.\n",
            self.schemas,
            self.mean_document_bytes,
            self.capacity_ms,
            self.callers,
            self.phase_ms,
            self.spike_ms,
            self.max_outstanding,
            self.grpc_connections,
            self.http_connections,
        );
        if !self.pairs.is_empty() || !self.skipped.is_empty() {
            write_pairs(&mut md, self);
        }
        for workload in &self.workloads {
            write_workload(&mut md, workload);
        }
        md.push_str(NOTES);
        md
    }
}

/// The ratio table: each pair's rates, p99s, ratios and goals, then plainly what
/// fell short.
fn write_pairs(md: &mut String, report: &LoadReport) {
    let _ = writeln!(
        md,
        "## OVSR against its baselines\n\n{} rounds of {} ms per side, alternating which \
         side goes first; ratios are medians of the rounds' ratios.\n",
        report.pair_rounds, report.pair_round_ms
    );
    let _ = writeln!(
        md,
        "| pair | OVSR | baseline | in flight | OVSR/s | baseline/s | ratio | goal \
         | OVSR p99 | baseline p99 | p99 ratio | goal |"
    );
    let _ = writeln!(
        md,
        "|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|"
    );
    for pair in &report.pairs {
        let (ovsr_rate, baseline_rate) = pair.rates();
        let (ovsr_p99, baseline_p99) = pair.p99s();
        let latency = |us: f64| {
            if pair.p99_ratio.is_some() {
                micros(us as u64)
            } else {
                "–".to_owned()
            }
        };
        let goal = |bound: Option<f64>, sign: &str, met: bool| match bound {
            Some(bound) if met => format!("{sign} {bound:.2} ✓"),
            Some(bound) => format!("{sign} {bound:.2} ✗"),
            None => String::new(),
        };
        let throughput_met = pair
            .goals
            .throughput_at_least
            .is_none_or(|goal| pair.throughput_ratio >= goal);
        let p99_met = match (pair.goals.p99_at_most, pair.p99_ratio) {
            (Some(goal), Some(ratio)) => ratio <= goal,
            _ => true,
        };
        let p99_ratio = pair
            .p99_ratio
            .map_or_else(|| "–".to_owned(), |ratio| format!("{ratio:.2}"));
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {ovsr_rate:.0} | {baseline_rate:.0} | **{:.2}** | {} | {} | {} | {p99_ratio} | {} |",
            pair.id,
            pair.ovsr,
            pair.baseline,
            pair.concurrency,
            pair.throughput_ratio,
            goal(pair.goals.throughput_at_least, "≥", throughput_met),
            latency(ovsr_p99),
            latency(baseline_p99),
            goal(pair.goals.p99_at_most, "≤", p99_met),
        );
    }
    md.push('\n');
    let short: Vec<String> = report
        .pairs
        .iter()
        .flat_map(PairReport::shortfalls)
        .collect();
    if short.is_empty() && !report.pairs.is_empty() {
        let _ = writeln!(md, "Every measured pair met its goal.\n");
    }
    for line in short {
        let _ = writeln!(md, "- **Short of the goal:** {line}.");
    }
    for line in &report.skipped {
        let _ = writeln!(md, "- Not measured: {line}.");
    }
    md.push('\n');
}

/// A line of [`LoadReport::skipped`]: the pair, and why it was not measured.
pub fn skipped_line(id: &str, reason: &str) -> String {
    format!("{id}: {reason}")
}

/// Whether `skipped` names the pair `id` (see [`skipped_line`]).
pub fn was_skipped(skipped: &[String], id: &str) -> bool {
    skipped.iter().any(|line| {
        line.strip_prefix(id)
            .is_some_and(|rest| rest.starts_with(':'))
    })
}

/// The phases every scenario runs.
const PHASES_EXPECTED: [Phase; 6] = [
    Phase::Capacity,
    Phase::Baseline,
    Phase::Peak,
    Phase::Stress,
    Phase::Spike,
    Phase::AfterSpike,
];

fn write_workload(md: &mut String, workload: &WorkloadReport) {
    let _ = writeln!(
        md,
        "## {}: {}\n\ncapacity {:.0}/s\n",
        workload.workload, workload.description, workload.capacity_per_sec
    );
    let _ = writeln!(
        md,
        "| phase | offered/s | achieved/s | calls | ok | errors | p50 | p90 | p99 | p99.9 \
         | max | send lag p99 | CPU % | server CPU % | RSS MiB |"
    );
    let _ = writeln!(
        md,
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for row in &workload.phases {
        let offered = row
            .offered_per_sec
            .map_or_else(|| "closed".to_owned(), |rate| format!("{rate:.0}"));
        let lag = row.send_lag_p99_us.map_or_else(String::new, micros);
        let l = &row.latency;
        let _ = writeln!(
            md,
            "| {} | {offered} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {lag} | {:.0} | {:.0} | {:.0} |",
            row.phase,
            row.achieved_per_sec,
            row.scheduled,
            row.ok,
            errors_cell(&row.errors),
            micros(l.p50_us),
            micros(l.p90_us),
            micros(l.p99_us),
            micros(l.p999_us),
            micros(l.max_us),
            row.process.cpu_percent,
            row.process.server_cpu_percent,
            row.process.rss_max_mib,
        );
    }
    md.push('\n');
}

/// Errors as `kind: count, …`, or 0.
fn errors_cell(errors: &BTreeMap<String, u64>) -> String {
    if errors.is_empty() {
        return "0".to_owned();
    }
    let parts: Vec<String> = errors
        .iter()
        .map(|(kind, count)| format!("{kind}: {count}"))
        .collect();
    parts.join(", ")
}

/// A latency in µs as µs below 10 ms, else ms.
fn micros(us: u64) -> String {
    if us < 10_000 {
        format!("{us} µs")
    } else {
        format!("{:.1} ms", us as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(phase: Phase, ok: u64, errors: &[(&str, u64)]) -> PhaseRow {
        PhaseRow {
            phase,
            offered_per_sec: Some(10.0),
            window_ms: 1000,
            scheduled: ok,
            ok,
            achieved_per_sec: ok as f64,
            errors: errors.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect(),
            latency: Percentiles::default(),
            send_lag_p99_us: None,
            process: ProcessUsage::default(),
        }
    }

    fn report(phases: Vec<PhaseRow>) -> LoadReport {
        LoadReport {
            command: String::new(),
            cores: 2,
            load: [String::new(), String::new()],
            smoke: true,
            capacity_ms: 1,
            phase_ms: 1,
            spike_ms: 1,
            callers: 1,
            max_outstanding: 1,
            http_connections: 1,
            grpc_connections: 1,
            schemas: 1,
            mean_document_bytes: 1,
            baseline_cap: None,
            pair_rounds: 1,
            pair_round_ms: 1,
            pairs: Vec::new(),
            skipped: vec!["nginx: not installed".to_owned()],
            workloads: vec![WorkloadReport {
                workload: LoadWorkload::HttpGet304,
                description: String::new(),
                capacity_per_sec: 1.0,
                rates: PhaseRates::from_capacity(2.0, None),
                phases,
            }],
        }
    }

    #[test]
    fn a_smoke_run_passes_with_calls_everywhere_and_errors_only_under_stress() {
        let phases = PHASES_EXPECTED
            .iter()
            .map(|&phase| match phase {
                Phase::Stress => row(phase, 5, &[("dropped", 9)]),
                _ => row(phase, 5, &[]),
            })
            .collect();
        let report = report(phases);
        assert!(
            report
                .smoke_problems(&[LoadWorkload::HttpGet304])
                .is_empty()
        );
        let markdown = report.markdown();
        assert!(markdown.contains("dropped: 9"));
        assert!(markdown.contains("Not measured: nginx: not installed."));
    }

    #[test]
    fn a_smoke_run_fails_on_baseline_errors_silent_phases_and_missing_workloads() {
        let phases = vec![
            row(Phase::Capacity, 5, &[]),
            row(Phase::Baseline, 5, &[("http 503", 1)]),
            row(Phase::Peak, 0, &[]),
        ];
        let report = report(phases);
        let expected = [LoadWorkload::HttpGet304, LoadWorkload::GetSchemaHot];
        let problems = report.smoke_problems(&expected);
        // Baseline errors, a silent peak, three phases missing, one workload missing.
        assert_eq!(problems.len(), 6, "{problems:?}");
    }

    #[test]
    fn a_smoke_run_needs_every_pair_measured_with_figures_or_skipped_for_its_tool() {
        use crate::load::pairs::{Goals, PairReport, PairRound};
        use crate::store::RoundSample;
        let sample = |per_sec| RoundSample {
            per_sec,
            p50_us: 1.0,
            p99_us: 2.0,
        };
        let pair = |id: &str, ovsr| PairReport {
            id: id.to_owned(),
            description: String::new(),
            ovsr: String::new(),
            baseline: String::new(),
            concurrency: 1,
            rounds: vec![PairRound {
                ovsr: sample(ovsr),
                baseline: sample(10.0),
            }],
            throughput_ratio: 1.0,
            p99_ratio: None,
            goals: Goals::default(),
        };
        let mut report = report(Vec::new());
        report.pairs = vec![pair("hot", 5.0), pair("cold", 0.0)];
        let problems = report.pair_problems(&["hot", "cold", "nginx", "search"]);
        // "nginx: not installed" is skipped; cold is silent; search is missing.
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("cold"), "{problems:?}");
        assert!(problems[1].contains("search"), "{problems:?}");
    }

    #[test]
    fn short_latencies_read_in_microseconds_and_long_ones_in_milliseconds() {
        assert_eq!(micros(950), "950 µs");
        assert_eq!(micros(12_345), "12.3 ms");
    }
}
