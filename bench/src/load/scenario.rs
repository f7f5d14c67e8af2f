//! A scenario over one workload: a warm-up, the capacity closed loop, then open-loop
//! phases at rates derived from that capacity: baseline, peak, stress, and a spike
//! followed at once by the baseline again.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tokio::runtime::Handle;

use super::generator::{self, SegmentOutcome};
use super::process::{self, Sampler};
use super::record::{Percentiles, Recorder};
use super::report::PhaseRow;
use super::schedule::{Phase, PhaseRates, Schedule, Segment};
use super::target::Target;

/// How long and how hard each part of a scenario runs.
#[derive(Debug, Clone, Copy)]
pub struct ScenarioSettings {
    /// Closed loop, untimed, before the capacity is measured.
    pub warm_up: Duration,
    /// The capacity closed loop.
    pub capacity: Duration,
    /// Callers in flight in the closed loops.
    pub callers: usize,
    /// Each open-loop phase, and the baseline after the spike.
    pub phase: Duration,
    /// The spike itself.
    pub spike: Duration,
    /// Calls outstanding at most in the open loop; more are dropped.
    pub max_outstanding: usize,
    /// The highest baseline rate, if any, whatever the capacity.
    pub baseline_cap: Option<f64>,
    /// Idle time between phases, so one phase's stragglers do not load the next.
    pub pause: Duration,
}

/// What a scenario measured.
#[derive(Debug, Clone)]
pub struct ScenarioOutcome {
    /// Successful calls per second in the capacity closed loop.
    pub capacity_per_sec: f64,
    /// The rates offered.
    pub rates: PhaseRates,
    /// Every phase in the order run.
    pub rows: Vec<PhaseRow>,
}

/// Runs every phase against `target` with its calls on `runtime`; blocks this
/// thread, which paces the open-loop sends.
pub fn run_scenario<T: Target>(
    runtime: &Handle,
    target: &Arc<T>,
    settings: &ScenarioSettings,
) -> Result<ScenarioOutcome> {
    generator::closed_loop(runtime, target, settings.callers, settings.warm_up)?;
    std::thread::sleep(settings.pause);

    let sampler = Sampler::start();
    let closed = generator::closed_loop(runtime, target, settings.callers, settings.capacity)?;
    let samples = sampler.stop();
    let capacity_per_sec = closed.recorder.ok() as f64 / closed.elapsed.as_secs_f64();
    let (from, to) = closed.window;
    let mut rows = vec![PhaseRow::of(
        Phase::Capacity,
        None,
        &closed.recorder,
        closed.recorder.ok() + closed.recorder.failed(),
        closed.elapsed,
        None,
        process::usage_between(&samples, from, to),
    )];

    let rates = PhaseRates::from_capacity(capacity_per_sec, settings.baseline_cap);
    let segment = |phase: Phase, duration: Duration| Segment {
        phase,
        rate_per_sec: rates.of(phase).unwrap_or(rates.baseline),
        duration,
    };
    let phases = [
        vec![segment(Phase::Baseline, settings.phase)],
        vec![segment(Phase::Peak, settings.phase)],
        vec![segment(Phase::Stress, settings.phase)],
        vec![
            segment(Phase::Spike, settings.spike),
            segment(Phase::AfterSpike, settings.phase),
        ],
    ];
    for segments in phases {
        std::thread::sleep(settings.pause);
        let schedule = Schedule { segments };
        let sampler = Sampler::start();
        let outcomes = generator::open_loop(runtime, target, &schedule, settings.max_outstanding);
        let samples = sampler.stop();
        for (segment, outcome) in schedule.segments.iter().zip(&outcomes) {
            rows.push(open_loop_row(segment, outcome, &samples));
        }
    }
    Ok(ScenarioOutcome {
        capacity_per_sec,
        rates,
        rows,
    })
}

fn open_loop_row(
    segment: &Segment,
    outcome: &SegmentOutcome,
    samples: &[process::ProcessSample],
) -> PhaseRow {
    let (from, to) = outcome.window;
    let lag = Percentiles::of(&outcome.send_lag).p99_us;
    PhaseRow::of(
        segment.phase,
        Some(segment.rate_per_sec),
        &outcome.recorder,
        outcome.scheduled,
        to.saturating_duration_since(from),
        Some(lag),
        process::usage_between(samples, from, to),
    )
}

impl PhaseRow {
    /// A row from a phase's calls over `window`.
    fn of(
        phase: Phase,
        offered_per_sec: Option<f64>,
        recorder: &Recorder,
        scheduled: u64,
        window: Duration,
        send_lag_p99_us: Option<u64>,
        process: process::ProcessUsage,
    ) -> Self {
        let seconds = window.as_secs_f64();
        let achieved_per_sec = if seconds > 0.0 {
            recorder.ok() as f64 / seconds
        } else {
            0.0
        };
        Self {
            phase,
            offered_per_sec,
            window_ms: window.as_millis() as u64,
            scheduled,
            ok: recorder.ok(),
            achieved_per_sec,
            errors: recorder.errors_by_kind(),
            latency: Percentiles::of(&recorder.latency),
            send_lag_p99_us,
            process,
        }
    }
}
