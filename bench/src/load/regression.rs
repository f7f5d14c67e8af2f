//! Regression detection: a committed file of the ratios a full run measured, and the
//! check that a later run's ratios have not fallen further than a stated tolerance
//! below them. Ratios, not rates, are compared, so the check holds across machines.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use super::pairs::PairReport;
use super::report::was_skipped;

/// The committed baseline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Baseline {
    /// Where the figures came from: the command and the machine.
    pub measured_with: String,
    /// A throughput ratio may fall this share below its baseline (0.2: to 80% of it).
    pub tolerance: f64,
    /// A p99 ratio may rise this share above its baseline.
    pub p99_tolerance: f64,
    /// Each pair's ratios.
    pub ratios: BTreeMap<String, PairRatios>,
}

/// One pair's ratios.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct PairRatios {
    /// OVSR's throughput over the baseline's.
    pub throughput: f64,
    /// OVSR's p99 over the baseline's, when both sides time their calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
}

/// The default tolerances of a new baseline. On the shared two-core machine the
/// ratios were measured on, full runs moved by up to a quarter when other machines
/// took its CPU, so a fall of 30% is a regression; p99s move more.
pub const DEFAULT_TOLERANCE: f64 = 0.30;
/// See [`DEFAULT_TOLERANCE`].
pub const DEFAULT_P99_TOLERANCE: f64 = 0.50;

impl Baseline {
    /// Reads the baseline at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path:?}"))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {path:?}"))
    }

    /// A baseline of `pairs`' ratios.
    pub fn of(pairs: &[PairReport], measured_with: String) -> Self {
        let ratios = pairs
            .iter()
            .map(|pair| {
                let ratios = PairRatios {
                    throughput: round(pair.throughput_ratio),
                    p99: pair.p99_ratio.map(round),
                };
                (pair.id.clone(), ratios)
            })
            .collect();
        Self {
            measured_with,
            tolerance: DEFAULT_TOLERANCE,
            p99_tolerance: DEFAULT_P99_TOLERANCE,
            ratios,
        }
    }

    /// What regressed in `pairs`: a ratio past its tolerance, or a pair of the
    /// baseline that did not run and was not `skipped` for a missing tool.
    pub fn regressions(&self, pairs: &[PairReport], skipped: &[String]) -> Vec<String> {
        let mut found = Vec::new();
        for (id, expected) in &self.ratios {
            let Some(pair) = pairs.iter().find(|pair| &pair.id == id) else {
                if !was_skipped(skipped, id) {
                    found.push(format!("{id}: in the baseline but not measured"));
                }
                continue;
            };
            let floor = expected.throughput * (1.0 - self.tolerance);
            if pair.throughput_ratio < floor {
                found.push(format!(
                    "{id}: throughput ratio {:.2}, below {floor:.2} (baseline {:.2} less {:.0}%)",
                    pair.throughput_ratio,
                    expected.throughput,
                    self.tolerance * 100.0
                ));
            }
            if let (Some(expected), Some(measured)) = (expected.p99, pair.p99_ratio) {
                let ceiling = expected * (1.0 + self.p99_tolerance);
                if measured > ceiling {
                    found.push(format!(
                        "{id}: p99 ratio {measured:.2}, above {ceiling:.2} (baseline {expected:.2} plus {:.0}%)",
                        self.p99_tolerance * 100.0
                    ));
                }
            }
        }
        found
    }
}

fn round(ratio: f64) -> f64 {
    (ratio * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::pairs::Goals;

    fn pair(id: &str, throughput: f64, p99: Option<f64>) -> PairReport {
        PairReport {
            id: id.to_owned(),
            description: String::new(),
            ovsr: String::new(),
            baseline: String::new(),
            concurrency: 1,
            rounds: Vec::new(),
            throughput_ratio: throughput,
            p99_ratio: p99,
            goals: Goals::default(),
        }
    }

    #[test]
    fn a_ratio_within_tolerance_passes_and_one_past_it_fails() {
        let baseline = Baseline::of(
            &[pair("hot", 0.9012, Some(1.1)), pair("cold", 0.5, None)],
            "test".to_owned(),
        );
        assert_eq!(baseline.ratios["hot"].throughput, 0.9);
        let steady = [pair("hot", 0.65, Some(1.6)), pair("cold", 0.36, None)];
        assert!(baseline.regressions(&steady, &[]).is_empty());

        let worse = [pair("hot", 0.62, Some(1.7)), pair("cold", 0.34, None)];
        let found = baseline.regressions(&worse, &[]);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("cold: throughput ratio 0.34"),
            "{found:?}"
        );
    }

    #[test]
    fn a_missing_pair_fails_unless_its_tool_was_missing() {
        let baseline = Baseline::of(&[pair("http", 0.8, None)], "test".to_owned());
        assert_eq!(baseline.regressions(&[], &[]).len(), 1);
        let skipped = ["http: nginx not installed".to_owned()];
        assert!(baseline.regressions(&[], &skipped).is_empty());
    }

    #[test]
    fn the_baseline_reads_back_as_written() {
        let baseline = Baseline::of(&[pair("hot", 0.9, Some(1.2))], "test".to_owned());
        let text = serde_json::to_string(&baseline).expect("serialized");
        let back: Baseline = serde_json::from_str(&text).expect("parsed");
        assert_eq!(back, baseline);
    }
}
