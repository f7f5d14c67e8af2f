//! A/B pairs: a workload through OVSR and the cheapest implementation of the same
//! wire behaviour, measured in the same run in alternating closed-loop rounds (the
//! order flips every round, so drift in the machine falls on both sides alike). A
//! pair's ratios are medians of the round-by-round ratios.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use serde::Serialize;
use tokio::runtime::Handle;

use super::generator;
use super::record::Percentiles;
use super::target::Target;
use crate::measure::median;
use crate::store::RoundSample;

/// One side of a pair: something that runs one closed-loop round of a given length.
pub struct Side<'a> {
    /// What it is, for the report.
    pub name: String,
    round: Box<dyn FnMut(Duration) -> Result<RoundSample> + 'a>,
}

impl std::fmt::Debug for Side<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Side").field("name", &self.name).finish()
    }
}

impl<'a> Side<'a> {
    /// A side whose rounds `round` runs.
    pub fn new(
        name: impl Into<String>,
        round: impl FnMut(Duration) -> Result<RoundSample> + 'a,
    ) -> Self {
        Self {
            name: name.into(),
            round: Box::new(round),
        }
    }

    /// Runs one round of `round`.
    pub fn run_round(&mut self, round: Duration) -> Result<RoundSample> {
        (self.round)(round)
    }

    /// A side of `callers` callers sending to `target` back to back on `runtime`. A
    /// round with any failed call fails: a ratio over errors would flatter.
    pub fn closed_loop<T: Target>(
        name: impl Into<String>,
        runtime: &'a Handle,
        target: Arc<T>,
        callers: usize,
    ) -> Self {
        let name = name.into();
        let label = name.clone();
        Self::new(name, move |round| {
            let outcome = generator::closed_loop(runtime, &target, callers, round)?;
            let recorder = &outcome.recorder;
            if recorder.failed() > 0 {
                bail!("{label}: failed calls {:?}", recorder.errors_by_kind());
            }
            let latency = Percentiles::of(&recorder.latency);
            Ok(RoundSample {
                per_sec: recorder.ok() as f64 / outcome.elapsed.as_secs_f64(),
                p50_us: latency.p50_us as f64,
                p99_us: latency.p99_us as f64,
            })
        })
    }
}

/// What a pair claims: the least throughput ratio and the most p99 ratio it aims at.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Goals {
    /// OVSR's throughput over the baseline's, at least.
    pub throughput_at_least: Option<f64>,
    /// OVSR's p99 over the baseline's, at most.
    pub p99_at_most: Option<f64>,
}

/// A workload and its baseline.
#[derive(Debug)]
pub struct Pair<'a> {
    /// Its key in reports and in the committed baseline of ratios.
    pub id: &'static str,
    /// What the two sides do, in a line.
    pub description: String,
    /// Callers in flight on each side.
    pub concurrency: usize,
    /// OVSR.
    pub ovsr: Side<'a>,
    /// The floor it is measured against.
    pub baseline: Side<'a>,
    /// What it aims at.
    pub goals: Goals,
}

/// One round: both sides' samples.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PairRound {
    /// OVSR's sample.
    pub ovsr: RoundSample,
    /// The baseline's sample.
    pub baseline: RoundSample,
}

/// A pair's figures.
#[derive(Debug, Clone, Serialize)]
pub struct PairReport {
    /// The pair's key.
    pub id: String,
    /// What the two sides do.
    pub description: String,
    /// OVSR's side.
    pub ovsr: String,
    /// The baseline's side.
    pub baseline: String,
    /// Callers in flight on each side.
    pub concurrency: usize,
    /// Every round, in order.
    pub rounds: Vec<PairRound>,
    /// Median of the rounds' OVSR throughput over the baseline's.
    pub throughput_ratio: f64,
    /// Median of the rounds' OVSR p99 over the baseline's, when both have latencies.
    pub p99_ratio: Option<f64>,
    /// What it aims at.
    pub goals: Goals,
}

impl PairReport {
    /// The median of OVSR's and of the baseline's rate.
    pub fn rates(&self) -> (f64, f64) {
        let ovsr: Vec<f64> = self.rounds.iter().map(|r| r.ovsr.per_sec).collect();
        let baseline: Vec<f64> = self.rounds.iter().map(|r| r.baseline.per_sec).collect();
        (median(&ovsr), median(&baseline))
    }

    /// The median of OVSR's and of the baseline's p99, µs.
    pub fn p99s(&self) -> (f64, f64) {
        let ovsr: Vec<f64> = self.rounds.iter().map(|r| r.ovsr.p99_us).collect();
        let baseline: Vec<f64> = self.rounds.iter().map(|r| r.baseline.p99_us).collect();
        (median(&ovsr), median(&baseline))
    }

    /// Each goal the pair missed, said plainly; empty when it met them all.
    pub fn shortfalls(&self) -> Vec<String> {
        let mut short = Vec::new();
        if let Some(goal) = self.goals.throughput_at_least
            && self.throughput_ratio < goal
        {
            short.push(format!(
                "{}: throughput {:.2} of {}, below the goal of {goal:.2}",
                self.id, self.throughput_ratio, self.baseline
            ));
        }
        if let (Some(goal), Some(ratio)) = (self.goals.p99_at_most, self.p99_ratio)
            && ratio > goal
        {
            short.push(format!(
                "{}: p99 {ratio:.2}× {}'s, above the goal of {goal:.2}×",
                self.id, self.baseline
            ));
        }
        short
    }
}

/// Runs `rounds` rounds of `round` each on both sides of `pair`, after one short
/// untimed round of each to warm connections, caches and pools.
pub fn run(pair: &mut Pair<'_>, rounds: usize, round: Duration) -> Result<PairReport> {
    let warm_up = round.min(Duration::from_millis(500));
    pair.ovsr.run_round(warm_up)?;
    pair.baseline.run_round(warm_up)?;
    let mut samples = Vec::with_capacity(rounds);
    for index in 0..rounds {
        let (ovsr, baseline) = if index % 2 == 0 {
            let ovsr = pair.ovsr.run_round(round)?;
            (ovsr, pair.baseline.run_round(round)?)
        } else {
            let baseline = pair.baseline.run_round(round)?;
            (pair.ovsr.run_round(round)?, baseline)
        };
        eprintln!(
            "  {} round {}: {:.0}/s against {:.0}/s",
            pair.id,
            index + 1,
            ovsr.per_sec,
            baseline.per_sec
        );
        samples.push(PairRound { ovsr, baseline });
    }
    Ok(summarize(pair, samples))
}

fn summarize(pair: &Pair<'_>, rounds: Vec<PairRound>) -> PairReport {
    let throughput: Vec<f64> = rounds
        .iter()
        .map(|r| r.ovsr.per_sec / r.baseline.per_sec)
        .collect();
    let timed = rounds
        .iter()
        .all(|r| r.ovsr.p99_us > 0.0 && r.baseline.p99_us > 0.0);
    let p99: Vec<f64> = rounds
        .iter()
        .map(|r| r.ovsr.p99_us / r.baseline.p99_us)
        .collect();
    PairReport {
        id: pair.id.to_owned(),
        description: pair.description.clone(),
        ovsr: pair.ovsr.name.clone(),
        baseline: pair.baseline.name.clone(),
        concurrency: pair.concurrency,
        throughput_ratio: median(&throughput),
        p99_ratio: (timed && !rounds.is_empty()).then(|| median(&p99)),
        goals: pair.goals,
        rounds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(per_sec: f64, p99_us: f64) -> RoundSample {
        RoundSample {
            per_sec,
            p50_us: p99_us / 2.0,
            p99_us,
        }
    }

    fn pair_of(ovsr: Vec<RoundSample>, baseline: Vec<RoundSample>, goals: Goals) -> PairReport {
        let mut ovsr = ovsr.into_iter();
        let mut baseline = baseline.into_iter();
        let mut pair = Pair {
            id: "test",
            description: String::new(),
            concurrency: 1,
            ovsr: Side::new("a", move |_| Ok(ovsr.next().unwrap_or_default())),
            baseline: Side::new("b", move |_| Ok(baseline.next().unwrap_or_default())),
            goals,
        };
        run(&mut pair, 3, Duration::ZERO).expect("the rounds run")
    }

    #[test]
    fn ratios_are_medians_of_round_ratios_after_the_warm_up() {
        // The first sample of each side is its warm-up round, left out.
        let ovsr = [0.0, 90.0, 40.0, 100.0]
            .map(|rate| sample(rate, 200.0))
            .to_vec();
        let baseline = [1.0, 100.0, 100.0, 100.0]
            .map(|rate| sample(rate, 100.0))
            .to_vec();
        let goals = Goals {
            throughput_at_least: Some(0.85),
            p99_at_most: Some(1.25),
        };
        let report = pair_of(ovsr, baseline, goals);
        assert_eq!(report.rounds.len(), 3);
        assert!((report.throughput_ratio - 0.9).abs() < 1e-9);
        assert_eq!(report.p99_ratio, Some(2.0));
        assert_eq!(report.rates(), (90.0, 100.0));
        let short = report.shortfalls();
        assert_eq!(short.len(), 1, "{short:?}");
        assert!(short[0].contains("p99 2.00"), "{short:?}");
    }

    #[test]
    fn a_side_without_latencies_has_no_p99_ratio() {
        let ovsr = vec![sample(50.0, 0.0); 4];
        let baseline = vec![sample(100.0, 10.0); 4];
        let goals = Goals {
            throughput_at_least: Some(0.5),
            p99_at_most: Some(1.0),
        };
        let report = pair_of(ovsr, baseline, goals);
        assert_eq!(report.p99_ratio, None);
        assert!(report.shortfalls().is_empty());
    }
}
