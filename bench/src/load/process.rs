//! CPU time and resident memory of this process, read from `/proc/self`, sampled on
//! a thread of its own while a phase runs. The server runs inside the benchmark: its
//! CPU is told apart by its threads' name ([`crate::SERVER_THREADS`], read from
//! `/proc/self/task`), while resident memory is the process's, server and load
//! generator together.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Clock ticks per second of `/proc/<pid>/stat`'s CPU times: `USER_HZ`, which Linux
/// exposes as 100 on every architecture it runs on.
const TICKS_PER_SEC: f64 = 100.0;
/// How often the sampler reads `/proc/self`.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// One reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessSample {
    /// When it was read.
    pub at: Instant,
    /// User and system CPU time so far, in clock ticks.
    pub cpu_ticks: u64,
    /// The same, of the server's threads alone.
    pub server_cpu_ticks: u64,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
}

/// CPU and memory over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ProcessUsage {
    /// CPU time over wall time, in percent of one core (200 is two cores busy).
    pub cpu_percent: f64,
    /// The same, of the server's threads alone.
    pub server_cpu_percent: f64,
    /// The largest resident set seen, MiB.
    pub rss_max_mib: f64,
}

/// Reads `/proc/self/stat` and `/proc/self/status` now; none off Linux.
pub fn sample_self() -> Option<ProcessSample> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    Some(ProcessSample {
        at: Instant::now(),
        cpu_ticks: cpu_ticks_of_stat(&stat)?,
        server_cpu_ticks: threads_cpu_ticks(crate::SERVER_THREADS),
        rss_bytes: rss_bytes_of_status(&status)?,
    })
}

/// The CPU ticks of this process's threads named `name`. A thread that ended takes
/// its ticks with it, so a pool that retires threads reads a little low.
fn threads_cpu_ticks(name: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
        .filter(|stat| name_of_stat(stat) == Some(name))
        .filter_map(|stat| cpu_ticks_of_stat(&stat))
        .sum()
}

/// The command (thread) name of a `/proc/<pid>/stat` line.
fn name_of_stat(stat: &str) -> Option<&str> {
    let (_, after_open) = stat.split_once('(')?;
    let (name, _) = after_open.rsplit_once(')')?;
    Some(name)
}

/// `utime + stime` of a `/proc/<pid>/stat` line. The command name may hold spaces
/// and parentheses, so fields are counted from its closing parenthesis.
fn cpu_ticks_of_stat(stat: &str) -> Option<u64> {
    let (_, after_name) = stat.rsplit_once(')')?;
    // After the name come field 3 (state) onwards; utime and stime are 14 and 15.
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// `VmRSS` of a `/proc/<pid>/status` text, in bytes.
fn rss_bytes_of_status(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// CPU and memory between `from` and `to`, from the samples taken in that window.
pub fn usage_between(samples: &[ProcessSample], from: Instant, to: Instant) -> ProcessUsage {
    let inside: Vec<&ProcessSample> = samples
        .iter()
        .filter(|sample| sample.at >= from && sample.at <= to)
        .collect();
    let (Some(first), Some(last)) = (inside.first(), inside.last()) else {
        return ProcessUsage::default();
    };
    let wall = last.at.duration_since(first.at).as_secs_f64();
    let percent = |from: u64, to: u64| {
        let ticks = to.saturating_sub(from) as f64;
        if wall > 0.0 {
            ticks / TICKS_PER_SEC / wall * 100.0
        } else {
            0.0
        }
    };
    let rss_max = inside.iter().map(|s| s.rss_bytes).max().unwrap_or(0);
    ProcessUsage {
        cpu_percent: percent(first.cpu_ticks, last.cpu_ticks),
        server_cpu_percent: percent(first.server_cpu_ticks, last.server_cpu_ticks),
        rss_max_mib: rss_max as f64 / (1024.0 * 1024.0),
    }
}

/// Samples `/proc/self` every [`SAMPLE_EVERY`] until stopped.
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<ProcessSample>>,
}

impl Sampler {
    /// Starts sampling, with a first sample taken before this returns.
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let first = sample_self();
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut samples: Vec<ProcessSample> = first.into_iter().collect();
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(SAMPLE_EVERY);
                samples.extend(sample_self());
            }
            samples
        });
        Self { stop, thread }
    }

    /// Stops sampling and returns every sample, a last one taken now.
    pub fn stop(self) -> Vec<ProcessSample> {
        self.stop.store(true, Ordering::Relaxed);
        let mut samples = self.thread.join().unwrap_or_default();
        samples.extend(sample_self());
        samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_counted_after_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (load (gen) 1) S 1 4242 4242 0 -1 4194560 900 0 0 0 \
                    250 50 0 0 20 0 6 0 1000 123456 789 18446744073709551615";
        assert_eq!(cpu_ticks_of_stat(stat), Some(300));
        assert_eq!(name_of_stat(stat), Some("load (gen) 1"));
        assert_eq!(cpu_ticks_of_stat("garbage"), None);
    }

    #[test]
    fn rss_is_read_from_vmrss_in_kib() {
        let status = "Name:\tload\nVmPeak:\t  9000 kB\nVmRSS:\t    2048 kB\nThreads:\t6\n";
        assert_eq!(rss_bytes_of_status(status), Some(2048 * 1024));
    }

    #[test]
    fn usage_is_cpu_time_over_wall_time_inside_the_window() {
        let start = Instant::now();
        let at = |ms: u64, ticks: u64, mib: u64| ProcessSample {
            at: start + Duration::from_millis(ms),
            cpu_ticks: ticks,
            server_cpu_ticks: ticks / 2,
            rss_bytes: mib << 20,
        };
        let samples = [
            at(0, 0, 1),
            at(1000, 100, 8),
            at(2000, 250, 4),
            at(3000, 900, 64),
        ];
        let window_end = start + Duration::from_millis(2000);
        let usage = usage_between(&samples, start, window_end);
        assert!((usage.cpu_percent - 125.0).abs() < 1e-9, "{usage:?}");
        assert!((usage.server_cpu_percent - 62.5).abs() < 1e-9, "{usage:?}");
        assert_eq!(usage.rss_max_mib, 8.0);
        assert_eq!(
            usage_between(&[], start, window_end),
            ProcessUsage::default()
        );
    }

    #[test]
    fn this_process_can_be_sampled() {
        let sample = sample_self().expect("/proc/self is readable on Linux");
        assert!(sample.rss_bytes > 0);
    }

    #[test]
    fn a_named_thread_is_told_apart_by_its_cpu() {
        let name = "cpu-probe";
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let busy = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let mut spins = 0u64;
                while !stopping.load(Ordering::Relaxed) {
                    spins = std::hint::black_box(spins.wrapping_add(1));
                }
            })
            .expect("a thread starts");
        // A tick is 10 ms: a busy thread gathers several within 200 ms.
        std::thread::sleep(Duration::from_millis(200));
        let ticks = threads_cpu_ticks(name);
        stop.store(true, Ordering::Relaxed);
        busy.join().expect("the thread ends");
        assert!(ticks > 0, "the busy thread's ticks were not found");
        assert_eq!(threads_cpu_ticks("no-such-thread"), 0);
    }
}
