//! One stream of a million documents: the server's memory must stay flat, because flow
//! control bounds what is in flight whatever the stream's length.
//!
//! This runs in its own test binary so that no other test shares the process whose
//! resident memory it samples.

// Test helpers unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

#[path = "end_to_end/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt as _;
use ovsr_proto::v1::validate_stream_request::Message;
use ovsr_proto::v1::validate_stream_response::Outcome;
use ovsr_proto::v1::{OutputFormat, StreamDocument, ValidateStreamOpen, ValidateStreamRequest};

use harness::{CUSTOMER, TestServer};

const DOCUMENTS: u64 = 1_000_000;
const WARM_UP: u64 = 100_000;
/// Growth allowed between the warmed-up sample and the end: far below what keeping
/// even a few bytes per document would cost (a million documents of 40 bytes).
const MAX_GROWTH_KIB: u64 = 16 * 1024;

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_document_stream_keeps_memory_flat() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    let open = ValidateStreamOpen {
        default_schema: Some(server.selector("customer", 1)),
        output_format: OutputFormat::Flag as i32,
        assert_formats: false,
    };

    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    let first = futures::stream::iter([ValidateStreamRequest {
        message: Some(Message::Open(open)),
    }]);
    let documents = futures::stream::iter(0..DOCUMENTS).map(move |sequence| {
        counter.fetch_add(1, Ordering::Relaxed);
        let document = StreamDocument {
            sequence,
            schema: None,
            document: format!(r#"{{"id": {sequence}, "email": "a@b.c"}}"#),
        };
        ValidateStreamRequest {
            message: Some(Message::Document(document)),
        }
    });
    let response = server
        .validation()
        .validate_stream(first.chain(documents))
        .await?;
    let mut inbound = response.into_inner();

    let mut received = 0u64;
    let mut warmed_up_kib = 0;
    let mut peak_kib = 0;
    while let Some(result) = inbound.message().await? {
        assert_eq!(result.sequence, received);
        assert!(matches!(result.outcome, Some(Outcome::Result(ref r)) if r.valid));
        received += 1;
        if received == WARM_UP {
            warmed_up_kib = resident_kib();
        }
        if received > WARM_UP && received.is_multiple_of(50_000) {
            peak_kib = peak_kib.max(resident_kib());
        }
    }

    assert_eq!(received, DOCUMENTS);
    assert_eq!(sent.load(Ordering::Relaxed), DOCUMENTS);
    let growth = peak_kib.saturating_sub(warmed_up_kib);
    eprintln!(
        "resident memory: {warmed_up_kib} KiB after {WARM_UP} documents, \
         peak {peak_kib} KiB up to {DOCUMENTS}: growth {growth} KiB"
    );
    assert!(
        growth < MAX_GROWTH_KIB,
        "memory grew {growth} KiB over the stream"
    );
    Ok(())
}
