//! When each request of an open-loop phase is meant to be sent, and the rates of the
//! phases. Pure arithmetic: the generator only walks what is computed here.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// Baseline load as a share of the capacity measured closed loop.
pub const BASELINE_SHARE_OF_CAPACITY: f64 = 0.5;
/// Peak load, in baselines.
pub const PEAK_TIMES_BASELINE: f64 = 2.0;
/// Stress load, in baselines.
pub const STRESS_TIMES_BASELINE: f64 = 5.0;
/// Spike load, in baselines.
pub const SPIKE_TIMES_BASELINE: f64 = 10.0;
/// The lowest rate a phase is offered, so a tiny capacity still sends something.
const MIN_RATE_PER_SEC: f64 = 1.0;

/// One part of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Closed loop, callers back to back: the most the server answers.
    Capacity,
    /// Open loop at half the capacity.
    Baseline,
    /// Open loop at twice the baseline.
    Peak,
    /// Open loop at five times the baseline.
    Stress,
    /// Open loop at ten times the baseline, for a short while.
    Spike,
    /// Open loop at the baseline again, right after the spike.
    AfterSpike,
}

impl Phase {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Capacity => "capacity",
            Self::Baseline => "baseline",
            Self::Peak => "peak",
            Self::Stress => "stress",
            Self::Spike => "spike",
            Self::AfterSpike => "after-spike",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The arrival rates of the open-loop phases, per second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PhaseRates {
    /// Baseline.
    pub baseline: f64,
    /// Peak.
    pub peak: f64,
    /// Stress.
    pub stress: f64,
    /// Spike.
    pub spike: f64,
}

impl PhaseRates {
    /// Rates from the capacity measured closed loop. `baseline_cap` lowers the
    /// baseline (and the others with it), for short runs that only check the path.
    pub fn from_capacity(capacity_per_sec: f64, baseline_cap: Option<f64>) -> Self {
        let share = capacity_per_sec * BASELINE_SHARE_OF_CAPACITY;
        let capped = baseline_cap.map_or(share, |cap| share.min(cap));
        let baseline = capped.max(MIN_RATE_PER_SEC);
        Self {
            baseline,
            peak: baseline * PEAK_TIMES_BASELINE,
            stress: baseline * STRESS_TIMES_BASELINE,
            spike: baseline * SPIKE_TIMES_BASELINE,
        }
    }

    /// The rate of an open-loop phase; none for the closed-loop one.
    pub fn of(&self, phase: Phase) -> Option<f64> {
        match phase {
            Phase::Capacity => None,
            Phase::Baseline | Phase::AfterSpike => Some(self.baseline),
            Phase::Peak => Some(self.peak),
            Phase::Stress => Some(self.stress),
            Phase::Spike => Some(self.spike),
        }
    }
}

/// A stretch of an open-loop schedule at one rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// The phase it belongs to, which its results are reported under.
    pub phase: Phase,
    /// Requests per second.
    pub rate_per_sec: f64,
    /// How long it lasts.
    pub duration: Duration,
}

impl Segment {
    /// Requests it sends: as many as start strictly before its end.
    pub fn requests(&self) -> u64 {
        if self.rate_per_sec <= 0.0 {
            return 0;
        }
        // The nudge keeps a product such as 3.0000000000000004 from counting as 4.
        let exact = self.rate_per_sec * self.duration.as_secs_f64();
        (exact - 1e-9).ceil().max(0.0) as u64
    }
}

/// Segments run one after the other from one start.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// In order.
    pub segments: Vec<Segment>,
}

/// One request of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Send {
    /// Its number over the whole schedule, from 0.
    pub index: u64,
    /// Which segment it belongs to.
    pub segment: usize,
    /// When it is meant to go out, from the schedule's start.
    pub offset: Duration,
}

impl Schedule {
    /// A schedule of one segment.
    pub fn constant(phase: Phase, rate_per_sec: f64, duration: Duration) -> Self {
        let segment = Segment {
            phase,
            rate_per_sec,
            duration,
        };
        Self {
            segments: vec![segment],
        }
    }

    /// Requests over every segment.
    pub fn requests(&self) -> u64 {
        self.segments.iter().map(Segment::requests).sum()
    }

    /// How long the whole schedule lasts.
    pub fn duration(&self) -> Duration {
        self.segments.iter().map(|segment| segment.duration).sum()
    }

    /// Where each segment starts, from the schedule's start.
    pub fn segment_starts(&self) -> Vec<Duration> {
        let mut start = Duration::ZERO;
        let mut starts = Vec::with_capacity(self.segments.len());
        for segment in &self.segments {
            starts.push(start);
            start += segment.duration;
        }
        starts
    }

    /// Every request in send order. Request `j` of a segment starting at `s` with
    /// rate `r` is meant for `s + j / r`: the times follow from the rate alone, never
    /// from when earlier answers came back.
    pub fn sends(&self) -> impl Iterator<Item = Send> + '_ {
        let starts = self.segment_starts();
        let mut index = 0;
        self.segments
            .iter()
            .enumerate()
            .flat_map(move |(segment_index, segment)| {
                let start = starts[segment_index];
                let rate = segment.rate_per_sec;
                (0..segment.requests()).map(move |j| (segment_index, start, rate, j))
            })
            .map(move |(segment, start, rate, j)| {
                let send = Send {
                    index,
                    segment,
                    offset: start + nanos_after_start(j, rate),
                };
                index += 1;
                send
            })
    }
}

/// When request `j` of a segment at `rate_per_sec` is meant to go out, from the
/// segment's start, to the nearest nanosecond.
fn nanos_after_start(j: u64, rate_per_sec: f64) -> Duration {
    Duration::from_nanos((j as f64 * 1e9 / rate_per_sec).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn intended_send_times_follow_the_rate_from_the_start() {
        let schedule = Schedule::constant(Phase::Baseline, 100.0, ms(50));
        let offsets: Vec<Duration> = schedule.sends().map(|send| send.offset).collect();
        assert_eq!(offsets, [ms(0), ms(10), ms(20), ms(30), ms(40)]);
        assert_eq!(schedule.requests(), 5);
    }

    #[test]
    fn a_second_segment_starts_where_the_first_ends_at_its_own_rate() {
        let schedule = Schedule {
            segments: vec![
                Segment {
                    phase: Phase::Spike,
                    rate_per_sec: 1000.0,
                    duration: ms(3),
                },
                Segment {
                    phase: Phase::AfterSpike,
                    rate_per_sec: 500.0,
                    duration: ms(4),
                },
            ],
        };
        let sends: Vec<Send> = schedule.sends().collect();
        let offsets: Vec<Duration> = sends.iter().map(|send| send.offset).collect();
        assert_eq!(offsets, [ms(0), ms(1), ms(2), ms(3), ms(5)]);
        let segments: Vec<usize> = sends.iter().map(|send| send.segment).collect();
        assert_eq!(segments, [0, 0, 0, 1, 1]);
        let indices: Vec<u64> = sends.iter().map(|send| send.index).collect();
        assert_eq!(indices, [0, 1, 2, 3, 4]);
        assert_eq!(schedule.duration(), ms(7));
    }

    #[test]
    fn a_fractional_count_rounds_up_so_every_start_before_the_end_is_sent() {
        let segment = Segment {
            phase: Phase::Peak,
            rate_per_sec: 3.0,
            duration: ms(1000),
        };
        assert_eq!(segment.requests(), 3);
        let short = Segment {
            duration: ms(500),
            ..segment
        };
        assert_eq!(short.requests(), 2);
        let idle = Segment {
            rate_per_sec: 0.0,
            ..segment
        };
        assert_eq!(idle.requests(), 0);
    }

    #[test]
    fn phase_rates_are_multiples_of_half_the_capacity() {
        let rates = PhaseRates::from_capacity(10_000.0, None);
        assert_eq!(rates.baseline, 5_000.0);
        assert_eq!(rates.of(Phase::Peak), Some(10_000.0));
        assert_eq!(rates.of(Phase::Stress), Some(25_000.0));
        assert_eq!(rates.of(Phase::Spike), Some(50_000.0));
        assert_eq!(rates.of(Phase::AfterSpike), Some(5_000.0));
        assert_eq!(rates.of(Phase::Capacity), None);
    }

    #[test]
    fn a_baseline_cap_lowers_every_phase_but_never_below_one_per_second() {
        let capped = PhaseRates::from_capacity(10_000.0, Some(200.0));
        assert_eq!((capped.baseline, capped.spike), (200.0, 2_000.0));
        let tiny = PhaseRates::from_capacity(0.5, None);
        assert_eq!(tiny.baseline, 1.0);
    }
}
