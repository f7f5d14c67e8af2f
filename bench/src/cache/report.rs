//! The cache benchmark's results: one Markdown page for people, one JSON document for
//! tools, and the checks that the cache was really what answered.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::metrics::CacheCounters;
use super::{Lookup, Side, Step};
use crate::measure::median_ratio;
use crate::store::RoundSample;
use crate::store::report::{median_sample, micros};

/// Below this share of in-process hits, the cached steps measured the store.
pub const MIN_MEMORY_HIT_SHARE: f64 = 0.90;
/// Below this share of Redis hits, the Redis steps measured the store.
pub const MIN_REDIS_HIT_SHARE: f64 = 0.90;
/// Above this share of calls read from the store, the cached steps measured it.
pub const MAX_CACHED_STORE_SHARE: f64 = 0.01;
/// The share of the no-op's throughput the cached server aims for.
pub const GOAL_VS_NOOP: f64 = 0.85;

/// How to read the tables, appended to the Markdown.
const NOTES: &str = "
How to read this:

- Every side runs closed loop with the same number in flight. The gRPC callers share
  one HTTP/2 connection to a server in this process (its own two worker threads; the
  callers have two more). redis-benchmark opens one connection per client; the
  server's Redis pool has four, each pipelining the calls on it.
- \"cached\" is the server on its embedded SQLite store with the default in-process
  cache, warmed before the rounds. The no-op is a tonic server whose `GetSchema`
  clones a prepared answer (the same bytes the server sent) out of a map.
- \"through Redis\" is a second server with Redis behind an in-process layer of no
  bytes, which stores nothing, so every lookup goes to Redis: a GetSchema by exact
  version is two GETs (the version record, then the content), by latest three (the
  latest number first). Redis GETs/s counts them on the server's `/metrics`.
- \"store reads\" are the calls that reached the store. Without Redis, each
  in-process miss is one (a pointer's time to live ends every 30 s). On the Redis
  path they are inferred from the lookups calls skipped: a call that gets no usable
  pointer from Redis reads the whole version from the store and never looks its
  content up.
- redis-benchmark GETs keys of this run's own prefix holding values of the mean
  schema size (`-r` over as many keys as schemas), each round sized to last about as
  long as the others.
- Ratios are medians of the per-round ratios; rounds alternate the order of the steps.
- The machine is shared and has few cores: the server, the callers, Redis and
  redis-benchmark compete for them, so the ratios of one run are the figures to
  compare, not absolute rates across runs.
";

/// Every round of one step, and what the cache counted during them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StepSamples {
    /// Calls per second and latencies, one per round.
    pub rounds: Vec<RoundSample>,
    /// Redis GETs per second the server sent, one per round (Redis steps only).
    pub redis_gets_per_sec: Vec<f64>,
    /// Calls completed over every round.
    pub calls: u64,
    /// The change in the cache counters over every round.
    pub counters: CacheCounters,
}

/// One line of the table: medians over the rounds.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Which step.
    pub step: Step,
    /// Calls (GETs for redis-benchmark) per second, p50 and p99.
    pub median: RoundSample,
    /// Redis GETs per second the server sent.
    pub redis_gets_per_sec: Option<f64>,
}

/// A ratio the run is judged by.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    /// What is divided by what.
    pub name: String,
    /// The median of the per-round ratios.
    pub value: f64,
    /// The share aimed for, if any.
    pub goal: Option<f64>,
}

/// Everything a run produced.
#[derive(Debug, Serialize)]
pub struct CacheReport {
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
    /// Milliseconds of each step.
    pub round_ms: u64,
    /// Schemas registered and read.
    pub schemas: usize,
    /// Mean bytes of the content served, and of redis-benchmark's values.
    pub mean_served_bytes: usize,
    /// The in-process budget of the server on the Redis path.
    pub redis_path_cache_bytes: u64,
    /// Where Redis was.
    pub redis: String,
    /// The parts not run, and why.
    pub skipped: Vec<String>,
    /// The table.
    pub rows: Vec<Row>,
    /// The ratios.
    pub ratios: Vec<Ratio>,
    /// Every round, by step.
    pub samples: BTreeMap<Step, StepSamples>,
}

impl CacheReport {
    /// The table's rows and the ratios, from `samples`.
    pub fn summarize(samples: &BTreeMap<Step, StepSamples>) -> (Vec<Row>, Vec<Ratio>) {
        let rows = samples
            .iter()
            .filter(|(_, step)| !step.rounds.is_empty())
            .map(|(step, samples)| Row {
                step: *step,
                median: median_sample(&samples.rounds),
                redis_gets_per_sec: (!samples.redis_gets_per_sec.is_empty())
                    .then(|| crate::measure::median(&samples.redis_gets_per_sec)),
            })
            .collect();
        let rates = |step: Step| -> Vec<f64> {
            let rounds = samples.get(&step).map_or(&[][..], |s| s.rounds.as_slice());
            rounds.iter().map(|round| round.per_sec).collect()
        };
        let gets = |step: Step| -> Vec<f64> {
            samples
                .get(&step)
                .map_or_else(Vec::new, |s| s.redis_gets_per_sec.clone())
        };
        let mut ratios = Vec::new();
        let mut add = |name: &str, numerator: Vec<f64>, denominator: Vec<f64>, goal| {
            if !numerator.is_empty() && !denominator.is_empty() {
                let value = median_ratio(&numerator, &denominator);
                let name = name.to_owned();
                ratios.push(Ratio { name, value, goal });
            }
        };
        let goal = Some(GOAL_VS_NOOP);
        add(
            "cached / no-op, exact",
            rates(Step::CachedExact),
            rates(Step::NoopExact),
            goal,
        );
        add(
            "cached / no-op, latest",
            rates(Step::CachedLatest),
            rates(Step::NoopLatest),
            goal,
        );
        let floor = rates(Step::RedisBenchmark);
        add(
            "Redis path calls / redis-benchmark GETs, exact",
            rates(Step::RedisExact),
            floor.clone(),
            None,
        );
        add(
            "Redis path GETs / redis-benchmark GETs, exact",
            gets(Step::RedisExact),
            floor.clone(),
            None,
        );
        add(
            "Redis path calls / redis-benchmark GETs, latest",
            rates(Step::RedisLatest),
            floor.clone(),
            None,
        );
        add(
            "Redis path GETs / redis-benchmark GETs, latest",
            gets(Step::RedisLatest),
            floor,
            None,
        );
        (rows, ratios)
    }

    /// What shows a step measured the store rather than the cache layer it names.
    pub fn store_bound(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (step, samples) in &self.samples {
            let counters = &samples.counters;
            match step.side() {
                Side::Cached if counters.memory_hit_share() < MIN_MEMORY_HIT_SHARE => {
                    problems.push(format!(
                        "{step}: in-process hits are {:.1}% of {} lookups (at least {:.0}% expected)",
                        counters.memory_hit_share() * 100.0,
                        counters.memory_lookups(),
                        MIN_MEMORY_HIT_SHARE * 100.0
                    ));
                }
                Side::Cached if store_share(*step, samples) > MAX_CACHED_STORE_SHARE => {
                    problems.push(format!(
                        "{step}: about {} of {} calls read the store",
                        store_reads(*step, samples),
                        samples.calls
                    ));
                }
                Side::RedisPath if counters.redis_hit_share() < MIN_REDIS_HIT_SHARE => {
                    problems.push(format!(
                        "{step}: Redis hits are {:.1}% of {} GETs (at least {:.0}% expected)",
                        counters.redis_hit_share() * 100.0,
                        counters.redis_gets(),
                        MIN_REDIS_HIT_SHARE * 100.0
                    ));
                }
                _ => {}
            }
        }
        problems
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "# Cache: GetSchema from the cache layers against their floors\n"
        );
        let _ = writeln!(md, "Command: `{}`  ", self.command);
        let [start, end] = &self.load;
        let _ = writeln!(
            md,
            "{} cores; load average at start {start}, at end {end}. Redis: {}.\n",
            self.cores, self.redis
        );
        let _ = writeln!(
            md,
            "{} SchemaStore schemas (files of 1 to 16 KiB), mean content served {} bytes; \
             {} calls in flight; {} rounds of {} ms; medians.\n",
            self.schemas, self.mean_served_bytes, self.concurrency, self.rounds, self.round_ms
        );
        for (step, samples) in &self.samples {
            if step.side() == Side::RedisPath && store_share(*step, samples) > 0.0 {
                let _ = writeln!(
                    md,
                    "note: {step}: about {:.1}% of calls read the store although Redis \
                     answered their first GET.  ",
                    store_share(*step, samples) * 100.0
                );
            }
        }
        for skipped in &self.skipped {
            let _ = writeln!(md, "skipped: {skipped}  ");
        }
        md.push('\n');
        self.write_table(&mut md);
        self.write_ratios(&mut md);
        self.write_hits(&mut md);
        md.push_str(NOTES);
        md
    }

    fn write_table(&self, md: &mut String) {
        let _ = writeln!(md, "| measurement | calls/s | p50 | p99 | Redis GETs/s |");
        let _ = writeln!(md, "|---|---:|---:|---:|---:|");
        for row in &self.rows {
            let m = &row.median;
            let gets = match (row.step, row.redis_gets_per_sec) {
                (Step::RedisBenchmark, _) => format!("{:.0}", m.per_sec),
                (_, Some(gets)) => format!("{gets:.0}"),
                (_, None) => String::new(),
            };
            let _ = writeln!(
                md,
                "| {} | {:.0} | {} | {} | {gets} |",
                row.step.describe(),
                m.per_sec,
                micros(m.p50_us),
                micros(m.p99_us),
            );
        }
        md.push('\n');
    }

    fn write_ratios(&self, md: &mut String) {
        for ratio in &self.ratios {
            let goal = match ratio.goal {
                Some(goal) if ratio.value >= goal => format!(" (goal ≥ {goal:.2}: met)"),
                Some(goal) => format!(" (goal ≥ {goal:.2}: **not met**)"),
                None => String::new(),
            };
            let _ = writeln!(md, "- {}: **{:.3}**{goal}", ratio.name, ratio.value);
        }
        md.push('\n');
    }

    fn write_hits(&self, md: &mut String) {
        let _ = writeln!(md, "## What answered, from the server's `/metrics`\n");
        let _ = writeln!(
            md,
            "| step | calls | memory hits | memory misses | memory lookups/call \
             | Redis hits | Redis misses | Redis errors | Redis GETs/call | store reads |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (step, samples) in &self.samples {
            if !matches!(step.side(), Side::Cached | Side::RedisPath) || samples.calls == 0 {
                continue;
            }
            let c = &samples.counters;
            let per_call = |count: u64| count as f64 / samples.calls as f64;
            let _ = writeln!(
                md,
                "| {step} | {} | {} ({:.1}%) | {} | {:.2} | {} | {} | {} | {:.2} | ≈ {} |",
                samples.calls,
                c.memory_hits,
                c.memory_hit_share() * 100.0,
                c.memory_misses,
                per_call(c.memory_lookups()),
                c.redis_hits,
                c.redis_misses,
                c.redis_errors,
                per_call(c.redis_gets()),
                store_reads(*step, samples),
            );
        }
    }
}

/// Calls of `step` that read the store. Without Redis every in-process miss is one.
/// Through Redis they are inferred from the in-process lookups calls skipped, which
/// counts a call twice when it finds no latest number at all; the Redis misses
/// beside it in the table bound how often that happened.
fn store_reads(step: Step, samples: &StepSamples) -> u64 {
    let counters = &samples.counters;
    if step.side() == Side::Cached {
        return counters.memory_misses;
    }
    let expected = step.lookup().map_or(0, Lookup::memory_lookups_per_call);
    (expected * samples.calls).saturating_sub(counters.memory_lookups())
}

fn store_share(step: Step, samples: &StepSamples) -> f64 {
    if samples.calls == 0 {
        return 0.0;
    }
    store_reads(step, samples) as f64 / samples.calls as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounds(rates: &[f64]) -> StepSamples {
        StepSamples {
            rounds: rates
                .iter()
                .map(|&per_sec| RoundSample {
                    per_sec,
                    p50_us: 10.0,
                    p99_us: 20.0,
                })
                .collect(),
            ..StepSamples::default()
        }
    }

    #[test]
    fn ratios_pair_rounds_of_the_cached_server_and_the_noop() {
        let mut samples = BTreeMap::new();
        samples.insert(Step::CachedExact, rounds(&[90.0, 80.0, 70.0]));
        samples.insert(Step::NoopExact, rounds(&[100.0, 100.0, 100.0]));
        let (rows, ratios) = CacheReport::summarize(&samples);
        assert_eq!(rows.len(), 2);
        assert_eq!(ratios.len(), 1);
        assert!((ratios[0].value - 0.8).abs() < 1e-9);
    }

    #[test]
    fn a_cached_step_mostly_missing_is_store_bound() {
        let mut samples = BTreeMap::new();
        let mut missing = rounds(&[1.0]);
        missing.counters = CacheCounters {
            memory_hits: 50,
            memory_misses: 50,
            ..CacheCounters::default()
        };
        samples.insert(Step::CachedLatest, missing);
        let report = CacheReport {
            command: String::new(),
            cores: 1,
            load: [String::new(), String::new()],
            concurrency: 1,
            rounds: 1,
            round_ms: 1,
            schemas: 1,
            mean_served_bytes: 1,
            redis_path_cache_bytes: 1,
            redis: String::new(),
            skipped: Vec::new(),
            rows: Vec::new(),
            ratios: Vec::new(),
            samples,
        };
        assert_eq!(report.store_bound().len(), 1);
    }
}
