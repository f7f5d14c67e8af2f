//! The load run as pictures, in plain SVG: per workload, latency percentiles against
//! the offered rate of the open-loop phases, and the throughput each phase offered
//! and achieved.

use std::fmt::Write as _;

use super::report::{PhaseRow, WorkloadReport};
use super::schedule::Phase;

/// One panel's size and the grid's columns.
const PANEL_WIDTH: f64 = 420.0;
const PANEL_HEIGHT: f64 = 260.0;
const COLUMNS: usize = 2;
/// Room around a panel's plot area for its title, ticks and labels.
const MARGIN_LEFT: f64 = 62.0;
const MARGIN_RIGHT: f64 = 14.0;
const MARGIN_TOP: f64 = 40.0;
const MARGIN_BOTTOM: f64 = 42.0;

/// The percentiles drawn, with their colours.
const SERIES: [(&str, &str); 4] = [
    ("p50", "#1b9e77"),
    ("p90", "#7570b3"),
    ("p99", "#d95f02"),
    ("p99.9", "#e7298a"),
];
const OFFERED_COLOUR: &str = "#bbbbbb";
const ACHIEVED_COLOUR: &str = "#1f78b4";

/// Latency percentiles (log scale) against the offered rate (log scale) of the
/// open-loop phases, one panel per workload.
pub fn latency_svg(workloads: &[WorkloadReport]) -> String {
    let mut svg = Canvas::new(workloads.len(), "Latency against offered load");
    for (index, workload) in workloads.iter().enumerate() {
        let (left, top) = svg.panel_origin(index);
        let mut points: Vec<&PhaseRow> = workload
            .phases
            .iter()
            .filter(|row| row.offered_per_sec.is_some() && row.phase != Phase::AfterSpike)
            .filter(|row| row.ok > 0)
            .collect();
        points.sort_by(|a, b| {
            let rate = |row: &PhaseRow| row.offered_per_sec.unwrap_or(0.0);
            rate(a).total_cmp(&rate(b))
        });
        let rates: Vec<f64> = points
            .iter()
            .filter_map(|row| row.offered_per_sec)
            .collect();
        let latencies: Vec<f64> = points
            .iter()
            .flat_map(|row| percentiles(row).map(|(_, us)| us))
            .collect();
        let x = LogAxis::over(&rates);
        let y = LogAxis::over(&latencies);
        let plot = svg.frame(left, top, &format!("{}", workload.workload));
        svg.log_ticks_x(&plot, &x, "offered calls/s");
        svg.log_ticks_y(&plot, &y, "latency", micros_label);
        for (series, (name, colour)) in SERIES.iter().enumerate() {
            let path: Vec<(f64, f64)> = points
                .iter()
                .map(|row| {
                    let rate = row.offered_per_sec.unwrap_or(1.0);
                    let us = percentiles(row)[series].1;
                    (plot.x(x.at(rate)), plot.y(y.at(us)))
                })
                .collect();
            svg.polyline(&path, colour);
            svg.legend(&plot, series, name, colour);
        }
    }
    svg.finish()
}

/// Offered and achieved calls per second of every phase, as bars, one panel per
/// workload; the capacity phase has no offered rate and shows what it achieved.
pub fn throughput_svg(workloads: &[WorkloadReport]) -> String {
    let mut svg = Canvas::new(workloads.len(), "Throughput per phase");
    for (index, workload) in workloads.iter().enumerate() {
        let (left, top) = svg.panel_origin(index);
        let plot = svg.frame(left, top, &format!("{}", workload.workload));
        let highest = workload
            .phases
            .iter()
            .map(|row| row.offered_per_sec.unwrap_or(0.0).max(row.achieved_per_sec))
            .fold(1.0, f64::max);
        let top_value = nice_ceiling(highest);
        svg.linear_ticks_y(&plot, top_value, "calls/s");
        let slot = plot.width / workload.phases.len().max(1) as f64;
        let bar = slot * 0.36;
        for (phase_index, row) in workload.phases.iter().enumerate() {
            let x0 = plot.left + slot * phase_index as f64 + slot * 0.14;
            if let Some(offered) = row.offered_per_sec {
                svg.bar(&plot, x0, bar, offered / top_value, OFFERED_COLOUR);
            }
            let achieved = row.achieved_per_sec / top_value;
            svg.bar(&plot, x0 + bar, bar, achieved, ACHIEVED_COLOUR);
            let label_x = plot.left + slot * (phase_index as f64 + 0.5);
            svg.text(
                label_x,
                plot.bottom() + 14.0,
                "middle",
                9.0,
                row.phase.as_str(),
            );
        }
        svg.legend(&plot, 0, "offered", OFFERED_COLOUR);
        svg.legend(&plot, 1, "achieved", ACHIEVED_COLOUR);
    }
    svg.finish()
}

/// A row's p50, p90, p99 and p99.9, µs (at least 1, for the log scale).
fn percentiles(row: &PhaseRow) -> [(&'static str, f64); 4] {
    let l = &row.latency;
    [
        ("p50", l.p50_us.max(1) as f64),
        ("p90", l.p90_us.max(1) as f64),
        ("p99", l.p99_us.max(1) as f64),
        ("p99.9", l.p999_us.max(1) as f64),
    ]
}

fn micros_label(us: f64) -> String {
    if us >= 1_000_000.0 {
        format!("{:.0} s", us / 1_000_000.0)
    } else if us >= 1000.0 {
        format!("{:.0} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

/// The smallest 1, 2 or 5 times a power of ten at or above `value`.
fn nice_ceiling(value: f64) -> f64 {
    let magnitude = 10f64.powf(value.max(1.0).log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|step| step * magnitude)
        .find(|candidate| *candidate >= value)
        .unwrap_or(10.0 * magnitude)
}

/// A log10 axis over whole decades covering the values.
#[derive(Debug, Clone, Copy)]
struct LogAxis {
    low: f64,
    high: f64,
}

impl LogAxis {
    fn over(values: &[f64]) -> Self {
        let logs = values.iter().filter(|v| **v > 0.0).map(|v| v.log10());
        let (low, high) = logs.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if low > high {
            return Self {
                low: 0.0,
                high: 1.0,
            };
        }
        let (low, high) = (low.floor(), high.ceil());
        Self {
            low,
            high: if high > low { high } else { low + 1.0 },
        }
    }

    /// Where `value` falls, 0 at the low end and 1 at the high.
    fn at(&self, value: f64) -> f64 {
        (value.max(f64::MIN_POSITIVE).log10() - self.low) / (self.high - self.low)
    }

    fn decades(&self) -> impl Iterator<Item = f64> {
        (self.low as i32..=self.high as i32).map(|exponent| 10f64.powi(exponent))
    }
}

/// A panel's plot area in canvas coordinates.
#[derive(Debug, Clone, Copy)]
struct Plot {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

impl Plot {
    fn x(&self, fraction: f64) -> f64 {
        self.left + fraction * self.width
    }

    fn y(&self, fraction: f64) -> f64 {
        self.top + (1.0 - fraction) * self.height
    }

    fn bottom(&self) -> f64 {
        self.top + self.height
    }
}

/// The SVG being written.
struct Canvas {
    body: String,
    width: f64,
    height: f64,
}

impl Canvas {
    fn new(panels: usize, title: &str) -> Self {
        let rows = panels.div_ceil(COLUMNS).max(1);
        let mut canvas = Self {
            body: String::new(),
            width: PANEL_WIDTH * COLUMNS as f64,
            height: PANEL_HEIGHT * rows as f64 + 30.0,
        };
        canvas.text(canvas.width / 2.0, 20.0, "middle", 15.0, title);
        canvas
    }

    fn panel_origin(&self, index: usize) -> (f64, f64) {
        let column = (index % COLUMNS) as f64;
        let row = (index / COLUMNS) as f64;
        (column * PANEL_WIDTH, 30.0 + row * PANEL_HEIGHT)
    }

    fn frame(&mut self, left: f64, top: f64, title: &str) -> Plot {
        let plot = Plot {
            left: left + MARGIN_LEFT,
            top: top + MARGIN_TOP,
            width: PANEL_WIDTH - MARGIN_LEFT - MARGIN_RIGHT,
            height: PANEL_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
        };
        let _ = writeln!(
            self.body,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="#444"/>"##,
            plot.left, plot.top, plot.width, plot.height
        );
        self.text(plot.x(0.5), top + 18.0, "middle", 12.0, title);
        plot
    }

    fn log_ticks_x(&mut self, plot: &Plot, axis: &LogAxis, label: &str) {
        for decade in axis.decades() {
            let x = plot.x(axis.at(decade));
            self.grid_line(x, plot.top, x, plot.bottom());
            let text = format!("{decade}");
            self.text(x, plot.bottom() + 13.0, "middle", 9.0, &text);
        }
        self.text(plot.x(0.5), plot.bottom() + 30.0, "middle", 10.0, label);
    }

    fn log_ticks_y(&mut self, plot: &Plot, axis: &LogAxis, label: &str, format: fn(f64) -> String) {
        for decade in axis.decades() {
            let y = plot.y(axis.at(decade));
            self.grid_line(plot.left, y, plot.left + plot.width, y);
            self.text(plot.left - 4.0, y + 3.0, "end", 9.0, &format(decade));
        }
        self.vertical_label(plot, label);
    }

    fn linear_ticks_y(&mut self, plot: &Plot, top_value: f64, label: &str) {
        for step in 0..=4 {
            let fraction = f64::from(step) / 4.0;
            let y = plot.y(fraction);
            self.grid_line(plot.left, y, plot.left + plot.width, y);
            let text = format!("{:.0}", top_value * fraction);
            self.text(plot.left - 4.0, y + 3.0, "end", 9.0, &text);
        }
        self.vertical_label(plot, label);
    }

    fn vertical_label(&mut self, plot: &Plot, label: &str) {
        let (x, y) = (plot.left - 48.0, plot.y(0.5));
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="10" text-anchor="middle" transform="rotate(-90 {x:.1} {y:.1})">{}</text>"#,
            escape(label)
        );
    }

    fn grid_line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64) {
        let _ = writeln!(
            self.body,
            r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="#e4e4e4"/>"##
        );
    }

    fn polyline(&mut self, points: &[(f64, f64)], colour: &str) {
        let coordinates: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = writeln!(
            self.body,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            coordinates.join(" ")
        );
        for (x, y) in points {
            let _ = writeln!(
                self.body,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="2.5" fill="{colour}"/>"#
            );
        }
    }

    fn bar(&mut self, plot: &Plot, x: f64, width: f64, fraction: f64, colour: &str) {
        let fraction = fraction.clamp(0.0, 1.0);
        let height = fraction * plot.height;
        let _ = writeln!(
            self.body,
            r#"<rect x="{x:.1}" y="{:.1}" width="{width:.1}" height="{height:.1}" fill="{colour}"/>"#,
            plot.bottom() - height
        );
    }

    fn legend(&mut self, plot: &Plot, slot: usize, name: &str, colour: &str) {
        // Above the plot area, under the panel's title, so no line crosses it.
        let x = plot.left + 8.0 + slot as f64 * 62.0;
        let y = plot.top - 6.0;
        let _ = writeln!(
            self.body,
            r#"<rect x="{x:.1}" y="{:.1}" width="10" height="4" fill="{colour}"/>"#,
            y - 4.0
        );
        self.text(x + 14.0, y + 1.0, "start", 9.0, name);
    }

    fn text(&mut self, x: f64, y: f64, anchor: &str, size: f64, text: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{anchor}">{}</text>"#,
            escape(text)
        );
    }

    fn finish(self) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
{}</svg>
"#,
            self.body,
            w = self.width,
            h = self.height
        )
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::LoadWorkload;
    use crate::load::process::ProcessUsage;
    use crate::load::record::Percentiles;
    use crate::load::schedule::PhaseRates;

    fn row(phase: Phase, offered: Option<f64>, p50_us: u64) -> PhaseRow {
        PhaseRow {
            phase,
            offered_per_sec: offered,
            window_ms: 1000,
            scheduled: 10,
            ok: 10,
            achieved_per_sec: offered.unwrap_or(900.0),
            errors: Default::default(),
            latency: Percentiles {
                p50_us,
                p90_us: p50_us * 2,
                p99_us: p50_us * 4,
                p999_us: p50_us * 8,
                max_us: p50_us * 9,
            },
            send_lag_p99_us: None,
            process: ProcessUsage::default(),
        }
    }

    fn workload() -> WorkloadReport {
        WorkloadReport {
            workload: LoadWorkload::HttpGet200,
            description: String::new(),
            capacity_per_sec: 1000.0,
            rates: PhaseRates::from_capacity(1000.0, None),
            phases: vec![
                row(Phase::Capacity, None, 300),
                row(Phase::Baseline, Some(500.0), 200),
                row(Phase::Peak, Some(1000.0), 900),
                row(Phase::Stress, Some(2500.0), 40_000),
            ],
        }
    }

    #[test]
    fn the_latency_chart_draws_each_percentile_through_the_open_loop_phases() {
        let svg = latency_svg(&[workload(), workload(), workload()]);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        // Four percentiles in each of three panels, three open-loop points each.
        assert_eq!(svg.matches("<polyline").count(), 12);
        assert_eq!(svg.matches("<circle").count(), 36);
        assert!(svg.contains(">http-get-200<"));
        assert!(svg.contains(">10 ms<"), "decade ticks label the latencies");
    }

    #[test]
    fn the_throughput_chart_has_a_bar_per_rate_and_phase() {
        let svg = throughput_svg(&[workload()]);
        // Achieved bars for four phases, offered bars for three, two legend swatches,
        // one frame, and the background.
        let bars = svg.matches("<rect").count();
        assert_eq!(bars, 4 + 3 + 2 + 1 + 1, "{svg}");
        assert!(svg.contains(">after-spike<") || svg.contains(">stress<"));
    }

    #[test]
    fn axes_round_out_to_whole_decades_and_nice_steps() {
        let axis = LogAxis::over(&[150.0, 42_000.0]);
        assert_eq!((axis.low, axis.high), (2.0, 5.0));
        assert!((axis.at(1000.0) - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(nice_ceiling(730.0), 1000.0);
        assert_eq!(nice_ceiling(1600.0), 2000.0);
        assert_eq!(nice_ceiling(4100.0), 5000.0);
    }
}
