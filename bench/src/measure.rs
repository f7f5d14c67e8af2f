//! Timed rounds: each engine in turn on each workload, the order flipped every round,
//! so drift in the machine lands on both sides of every ratio.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use futures::executor::block_on;
use ovsr_validate::{CompiledSchema, Engine, OutputFormat};
use serde::Serialize;

use crate::Workload;
use crate::check::{Checked, options_for};
use crate::corpus::Corpus;

/// The (case, documents) pairs of one workload, by index into the corpus.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadPlan {
    /// Which workload.
    pub workload: Workload,
    /// Case index and the indices of its documents in this workload.
    pub entries: Vec<(usize, Vec<usize>)>,
}

impl WorkloadPlan {
    /// Documents validated per sweep.
    pub fn documents(&self) -> usize {
        self.entries.iter().map(|(_, docs)| docs.len()).sum()
    }

    /// Bytes of JSON validated per sweep.
    pub fn document_bytes(&self, corpus: &Corpus) -> usize {
        self.entries
            .iter()
            .flat_map(|(case, docs)| docs.iter().map(|d| corpus.cases[*case].documents[*d].bytes))
            .sum()
    }
}

/// Samples of one engine on one workload, one per round.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Samples {
    /// Documents per second, "flag" output.
    pub flag_docs_per_sec: Vec<f64>,
    /// Documents per second, "basic" output.
    pub basic_docs_per_sec: Vec<f64>,
    /// Milliseconds to compile every schema of the workload once.
    pub compile_ms: Vec<f64>,
}

/// How long each measurement in a round runs, and how many rounds.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Rounds.
    pub rounds: usize,
    /// Time for each throughput measurement.
    pub per_measurement: Duration,
}

/// Splits the cases every engine compiled into workloads.
pub fn plan_workloads(corpus: &Corpus, usable: &[usize]) -> Vec<WorkloadPlan> {
    let mut plans: BTreeMap<Workload, Vec<(usize, Vec<usize>)>> = BTreeMap::new();
    for &index in usable {
        let case = &corpus.cases[index];
        let mut by_workload: BTreeMap<Workload, Vec<usize>> = BTreeMap::new();
        for (n, document) in case.documents.iter().enumerate() {
            if let Some(workload) = Workload::of(case, document) {
                by_workload.entry(workload).or_default().push(n);
            }
        }
        for (workload, documents) in by_workload {
            plans.entry(workload).or_default().push((index, documents));
        }
    }
    plans
        .into_iter()
        .map(|(workload, entries)| WorkloadPlan { workload, entries })
        .collect()
}

/// Runs every round; samples are keyed by workload, then engine.
pub fn run_rounds(
    corpus: &Corpus,
    checked: &Checked,
    plans: &[WorkloadPlan],
    budget: Budget,
) -> BTreeMap<(Workload, Engine), Samples> {
    let mut samples: BTreeMap<(Workload, Engine), Samples> = BTreeMap::new();
    for round in 0..budget.rounds {
        for plan in plans {
            let mut order = Engine::ALL.to_vec();
            if round % 2 == 1 {
                order.reverse();
            }
            for engine in order {
                let validators = &checked.validators[engine_slot(engine)];
                let sample = samples.entry((plan.workload, engine)).or_default();
                let pairs = pairs_of(corpus, validators, plan);
                let flag = docs_per_second(&pairs, OutputFormat::Flag, budget.per_measurement);
                let basic = docs_per_second(&pairs, OutputFormat::Basic, budget.per_measurement);
                sample.flag_docs_per_sec.push(flag);
                sample.basic_docs_per_sec.push(basic);
                sample.compile_ms.push(compile_ms(corpus, plan, engine));
            }
        }
    }
    samples
}

/// Where `engine`'s results sit in per-engine vectors.
pub fn engine_slot(engine: Engine) -> usize {
    Engine::ALL
        .iter()
        .position(|candidate| *candidate == engine)
        .unwrap_or_default()
}

/// The median; 0 for no samples.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The median of the round-by-round ratios `numerator / denominator`.
pub fn median_ratio(numerator: &[f64], denominator: &[f64]) -> f64 {
    let ratios: Vec<f64> = numerator
        .iter()
        .zip(denominator)
        .filter(|(_, d)| **d > 0.0)
        .map(|(n, d)| n / d)
        .collect();
    median(&ratios)
}

type Pair<'a> = (&'a CompiledSchema, &'a serde_json::Value);

fn pairs_of<'a>(
    corpus: &'a Corpus,
    validators: &'a [Option<CompiledSchema>],
    plan: &WorkloadPlan,
) -> Vec<Pair<'a>> {
    let mut pairs = Vec::new();
    for (case, documents) in &plan.entries {
        let Some(validator) = &validators[*case] else {
            continue;
        };
        for document in documents {
            pairs.push((validator, &corpus.cases[*case].documents[*document].value));
        }
    }
    pairs
}

/// Validates every pair in sweeps until `budget` has passed; documents per second.
fn docs_per_second(pairs: &[Pair<'_>], format: OutputFormat, budget: Duration) -> f64 {
    if pairs.is_empty() {
        return 0.0;
    }
    let started = Instant::now();
    let mut validated = 0usize;
    while started.elapsed() < budget {
        for (validator, document) in pairs {
            black_box(validator.validate(black_box(document), format));
        }
        validated += pairs.len();
    }
    validated as f64 / started.elapsed().as_secs_f64()
}

fn compile_ms(corpus: &Corpus, plan: &WorkloadPlan, engine: Engine) -> f64 {
    let started = Instant::now();
    for (case, _) in &plan.entries {
        let case = &corpus.cases[*case];
        let compiled = block_on(CompiledSchema::compile(
            &case.url,
            &case.schema,
            &corpus.resolver,
            options_for(engine),
        ));
        black_box(compiled.is_ok());
    }
    started.elapsed().as_secs_f64() * 1000.0
}

/// The first three fields of `/proc/loadavg`, or "unknown".
pub fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    if fields.is_empty() {
        "unknown".to_owned()
    } else {
        fields.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_take_the_middle_or_the_mean_of_the_two_middles() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn ratios_pair_rounds_and_skip_empty_denominators() {
        let ratio = median_ratio(&[2.0, 9.0, 4.0], &[1.0, 3.0, 0.0]);
        assert_eq!(ratio, 2.5);
    }
}
