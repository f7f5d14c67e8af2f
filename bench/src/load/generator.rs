//! The two ways load is applied.
//!
//! Closed loop: a fixed number of callers, each sending its next call as soon as the
//! last one answered. The rate is whatever the server sustains, so this measures
//! capacity, and its latencies hide queueing (a slow answer delays the next send).
//!
//! Open loop: calls are sent at the times a [`Schedule`] fixes in advance, each as a
//! task of its own, so a slow answer never delays a later send, and each latency runs
//! from the call's intended send time rather than from when it actually went out. A
//! server falling behind therefore shows in the latencies of every call it delayed
//! (no coordinated omission). Calls beyond a bound of outstanding ones are not sent
//! and count as dropped.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use hdrhistogram::Histogram;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;

use super::record::{CallError, Recorder, latency_histogram};
use super::schedule::Schedule;
use super::target::Target;

/// How long a call may take before it counts as timed out.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long after its last send an open-loop phase waits for outstanding calls; past
/// that, the ones left count as timed out.
const DRAIN_WAIT: Duration = Duration::from_secs(6);
/// The first send goes out this long after the pacer starts, so it is not late.
const START_DELAY: Duration = Duration::from_millis(5);
/// How often the drain checks whether every call came back.
const DRAIN_POLL: Duration = Duration::from_millis(1);

/// A closed-loop run's figures.
#[derive(Debug, Clone)]
pub struct ClosedOutcome {
    /// Every call.
    pub recorder: Recorder,
    /// From the first send to the last answer.
    pub elapsed: Duration,
    /// When it started and ended, for the process samples.
    pub window: (Instant, Instant),
}

/// One segment's figures in an open-loop run.
#[derive(Debug, Clone)]
pub struct SegmentOutcome {
    /// Every call meant for the segment, dropped ones included.
    pub recorder: Recorder,
    /// Calls the schedule meant for it.
    pub scheduled: u64,
    /// How late the pacer sent each call after its intended time, µs.
    pub send_lag: Histogram<u64>,
    /// From its first intended send to the last answer of its calls.
    pub window: (Instant, Instant),
}

/// Runs `callers` callers back to back against `target` for `duration`, on
/// `runtime`; blocks until they are done.
pub fn closed_loop<T: Target>(
    runtime: &Handle,
    target: &Arc<T>,
    callers: usize,
    duration: Duration,
) -> Result<ClosedOutcome> {
    let started = Instant::now();
    let deadline = started + duration;
    let callers = callers.max(1) as u64;
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let target = Arc::clone(target);
            runtime.spawn(async move {
                let mut recorder = Recorder::default();
                let mut index = caller;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let outcome = call_with_timeout(target.as_ref(), index).await;
                    recorder.record(outcome, sent.elapsed().as_micros() as u64);
                    index += callers;
                }
                recorder
            })
        })
        .collect();

    let mut recorder = Recorder::default();
    for task in tasks {
        let caller = runtime.block_on(task).context("a caller panicked")?;
        recorder.merge(&caller);
    }
    let ended = Instant::now();
    Ok(ClosedOutcome {
        recorder,
        elapsed: ended - started,
        window: (started, ended),
    })
}

/// Sends `schedule`'s calls to `target` on `runtime`, at most `max_outstanding` at
/// once; blocks this thread, which paces the sends, until every call came back or
/// the drain wait ran out. Results are by segment of the schedule.
pub fn open_loop<T: Target>(
    runtime: &Handle,
    target: &Arc<T>,
    schedule: &Schedule,
    max_outstanding: usize,
) -> Vec<SegmentOutcome> {
    let segments = schedule.segments.len();
    let recorders: Arc<[Mutex<Recorder>]> = (0..segments).map(|_| Mutex::default()).collect();
    let mut send_lags: Vec<Histogram<u64>> = (0..segments).map(|_| latency_histogram()).collect();
    let mut dropped = vec![0_u64; segments];
    let mut scheduled = vec![0_u64; segments];
    let permits = Arc::new(Semaphore::new(max_outstanding));

    let start = Instant::now() + START_DELAY;
    for send in schedule.sends() {
        let intended = start + send.offset;
        // A plain thread sleep wakes within tens of µs; the runtime's timer would
        // round every send up to the next millisecond.
        let now = Instant::now();
        if intended > now {
            std::thread::sleep(intended - now);
        }
        let lag = intended.elapsed().as_micros() as u64;
        send_lags[send.segment].saturating_record(lag.max(1));
        scheduled[send.segment] += 1;

        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            dropped[send.segment] += 1;
            continue;
        };
        let target = Arc::clone(target);
        let recorders = Arc::clone(&recorders);
        runtime.spawn(async move {
            let outcome = call_with_timeout(target.as_ref(), send.index).await;
            let latency = intended.elapsed().as_micros() as u64;
            lock(&recorders[send.segment]).record(outcome, latency);
            drop(permit);
        });
    }

    let drain_deadline = Instant::now() + DRAIN_WAIT;
    while permits.available_permits() < max_outstanding && Instant::now() < drain_deadline {
        std::thread::sleep(DRAIN_POLL);
    }
    let ended = Instant::now();
    let unfinished = (max_outstanding - permits.available_permits()) as u64;

    let starts = schedule.segment_starts();
    let mut outcomes = Vec::with_capacity(segments);
    for segment in 0..segments {
        let mut recorder = lock(&recorders[segment]).clone();
        recorder.count_error(CallError::Dropped, dropped[segment]);
        // Calls still out after the drain wait are laid on the last segment: they
        // are the newest, and the wait is far longer than any segment's own calls.
        if segment + 1 == segments {
            recorder.count_error(CallError::Timeout, unfinished);
        }
        let window_start = start + starts[segment];
        // The last segment ends at its scheduled end, or at its last answer if later.
        let last_end = ended.max(start + schedule.duration());
        let next_start = starts.get(segment + 1).map(|next| start + *next);
        let window_end = next_start.unwrap_or(last_end);
        outcomes.push(SegmentOutcome {
            recorder,
            scheduled: scheduled[segment],
            send_lag: send_lags[segment].clone(),
            window: (window_start, window_end),
        });
    }
    outcomes
}

async fn call_with_timeout<T: Target>(target: &T, index: u64) -> Result<(), CallError> {
    match tokio::time::timeout(CALL_TIMEOUT, target.call(index)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(CallError::Timeout),
    }
}

/// A recorder's lock, even if a call panicked while holding it: a count is still a
/// count.
fn lock(recorder: &Mutex<Recorder>) -> std::sync::MutexGuard<'_, Recorder> {
    recorder.lock().unwrap_or_else(PoisonError::into_inner)
}
