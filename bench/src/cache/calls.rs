//! GetSchema closed loop: a fixed number of callers over one channel, each sending
//! prepared requests back to back. Unlike the store benchmark's loop, it also returns
//! the exact number of calls, which the cache counters are divided by.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use ovsr_proto::v1::GetSchemaRequest;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use tonic::transport::Channel;

use crate::store::RoundSample;

/// Latencies each caller expects to record per round, to size its buffer once.
const EXPECTED_CALLS_PER_CALLER: usize = 16 * 1024;

/// A round's figures and how many calls it made.
#[derive(Debug, Clone, Copy)]
pub struct LoopResult {
    /// Calls per second and latencies.
    pub sample: RoundSample,
    /// Calls completed.
    pub calls: u64,
}

/// `callers` callers sending `requests` in turn for `duration`; the first failed
/// call, or an answer without a version, fails the round.
pub async fn closed_loop(
    channel: &Channel,
    requests: Arc<[GetSchemaRequest]>,
    callers: usize,
    duration: Duration,
) -> Result<LoopResult> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(callers);
    for caller in 0..callers {
        let mut client = SchemaServiceClient::new(channel.clone());
        let requests = Arc::clone(&requests);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(EXPECTED_CALLS_PER_CALLER);
            let mut next = caller;
            while Instant::now() < deadline {
                // tonic takes the request by value: the clone is the one copy a call needs.
                let request = requests[next % requests.len()].clone();
                next += callers;
                let sent = Instant::now();
                let answer = client.get_schema(request).await?.into_inner();
                latencies.push(sent.elapsed().as_micros() as u64);
                if answer.schema_version.is_none() {
                    bail!("GetSchema answered without a version");
                }
            }
            Ok(latencies)
        }));
    }

    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.context("a caller panicked")??);
    }
    let calls = latencies.len() as u64;
    let per_sec = calls as f64 / started.elapsed().as_secs_f64();
    let sample = RoundSample::from_latencies(per_sec, &mut latencies);
    Ok(LoopResult { sample, calls })
}
