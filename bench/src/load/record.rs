//! What a phase's calls came to: an HDR histogram of the successful calls' latencies
//! and a count of the failed ones by kind.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use hdrhistogram::Histogram;
use serde::Serialize;

/// The longest latency a histogram keeps apart, in µs; longer ones count as this.
const MAX_TRACKED_US: u64 = 120_000_000;
/// Significant digits every recorded latency keeps.
const SIGNIFICANT_DIGITS: u8 = 3;

/// Why a call did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallError {
    /// The server answered with a gRPC status other than OK.
    Grpc(tonic::Code),
    /// The server answered with another HTTP status than the one expected.
    Http(u16),
    /// No answer within the per-call timeout.
    Timeout,
    /// The connection could not be opened.
    Connect,
    /// The connection failed in another way (reset, protocol error, bad body).
    Transport,
    /// An answer that was well formed but not what the call expects.
    Unexpected(&'static str),
    /// Never sent: the generator already had its bound of calls outstanding.
    Dropped,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Grpc(code) => write!(f, "grpc {code:?}"),
            Self::Http(status) => write!(f, "http {status}"),
            Self::Timeout => f.write_str("timeout"),
            Self::Connect => f.write_str("connect"),
            Self::Transport => f.write_str("transport"),
            Self::Unexpected(what) => write!(f, "unexpected: {what}"),
            Self::Dropped => f.write_str("dropped"),
        }
    }
}

/// A latency histogram in µs to three significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    // Only fails for bounds out of order or digits above 5, which these are not.
    Histogram::new_with_bounds(1, MAX_TRACKED_US, SIGNIFICANT_DIGITS)
        .expect("constant histogram bounds are valid")
}

/// The calls of one phase (or one caller of it) as they complete.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// Latencies of the successful calls, µs.
    pub latency: Histogram<u64>,
    /// Failed calls by kind.
    pub errors: HashMap<CallError, u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            latency: latency_histogram(),
            errors: HashMap::new(),
        }
    }
}

impl Recorder {
    /// Counts one call: its latency when it succeeded, its kind of failure when not.
    pub fn record(&mut self, outcome: Result<(), CallError>, latency_us: u64) {
        match outcome {
            Ok(()) => self.latency.saturating_record(latency_us.max(1)),
            Err(error) => self.count_error(error, 1),
        }
    }

    /// Counts `count` failures of one kind.
    pub fn count_error(&mut self, error: CallError, count: u64) {
        if count > 0 {
            *self.errors.entry(error).or_default() += count;
        }
    }

    /// Adds another recorder's calls to these.
    pub fn merge(&mut self, other: &Recorder) {
        // Both histograms share bounds, so adding never fails; saturate if it did.
        if self.latency.add(&other.latency).is_err() {
            for value in other.latency.iter_recorded() {
                let latency = value.value_iterated_to();
                let count = value.count_at_value();
                self.latency.saturating_record_n(latency, count);
            }
        }
        for (error, count) in &other.errors {
            self.count_error(*error, *count);
        }
    }

    /// Successful calls.
    pub fn ok(&self) -> u64 {
        self.latency.len()
    }

    /// Failed calls.
    pub fn failed(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Failures by kind, named and sorted for the report.
    pub fn errors_by_kind(&self) -> BTreeMap<String, u64> {
        self.errors
            .iter()
            .map(|(error, count)| (error.to_string(), *count))
            .collect()
    }
}

/// Latency percentiles, µs; all 0 when nothing was recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// The longest.
    pub max_us: u64,
}

impl Percentiles {
    /// The percentiles of `histogram`.
    pub fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        Self {
            p50_us: histogram.value_at_quantile(0.50),
            p90_us: histogram.value_at_quantile(0.90),
            p99_us: histogram.value_at_quantile(0.99),
            p999_us: histogram.value_at_quantile(0.999),
            max_us: histogram.max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// True when `value` is within the histogram's precision of `expected`.
    fn close(value: u64, expected: u64) -> bool {
        value.abs_diff(expected) <= expected / 1000 + 1
    }

    #[test]
    fn percentiles_come_from_the_recorded_latencies() {
        let mut recorder = Recorder::default();
        for latency in 1..=10_000 {
            recorder.record(Ok(()), latency);
        }
        let percentiles = Percentiles::of(&recorder.latency);
        assert!(close(percentiles.p50_us, 5_000), "{percentiles:?}");
        assert!(close(percentiles.p90_us, 9_000), "{percentiles:?}");
        assert!(close(percentiles.p99_us, 9_900), "{percentiles:?}");
        assert!(close(percentiles.p999_us, 9_990), "{percentiles:?}");
        assert!(close(percentiles.max_us, 10_000), "{percentiles:?}");
    }

    #[test]
    fn an_empty_histogram_has_zero_percentiles() {
        let recorder = Recorder::default();
        assert_eq!(Percentiles::of(&recorder.latency), Percentiles::default());
    }

    #[test]
    fn failures_are_counted_by_kind_and_kept_out_of_the_latencies() {
        let mut recorder = Recorder::default();
        recorder.record(Ok(()), 100);
        recorder.record(Err(CallError::Grpc(tonic::Code::Unavailable)), 5);
        recorder.record(Err(CallError::Http(503)), 5);
        let mut other = Recorder::default();
        other.record(Err(CallError::Http(503)), 5);
        other.count_error(CallError::Dropped, 3);
        other.record(Ok(()), 200);
        recorder.merge(&other);

        assert_eq!((recorder.ok(), recorder.failed()), (2, 6));
        let errors = recorder.errors_by_kind();
        assert_eq!(errors.get("grpc Unavailable"), Some(&1));
        assert_eq!(errors.get("http 503"), Some(&2));
        assert_eq!(errors.get("dropped"), Some(&3));
        assert!(close(Percentiles::of(&recorder.latency).max_us, 200));
    }
}
