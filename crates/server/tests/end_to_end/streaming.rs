//! Batch and streaming validation: one result per document, in order, a bad document
//! failing alone, memory held in check by flow control, and per-caller rate limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt as _;
use ovsr_proto::v1::batch_validation_outcome::Outcome as BatchOutcome;
use ovsr_proto::v1::validate_stream_request::Message;
use ovsr_proto::v1::validate_stream_response::Outcome;
use ovsr_proto::v1::{
    OutputFormat, SchemaSelector, StreamDocument, ValidateBatchRequest, ValidateStreamOpen,
    ValidateStreamRequest, ValidateStreamResponse,
};
use tonic::Code;

use crate::harness::{CUSTOMER, TestServer, expect_status};

const ORDER: &str = r#"{"type": "object", "required": ["total"]}"#;

fn open(default_schema: Option<SchemaSelector>, format: OutputFormat) -> ValidateStreamRequest {
    let open = ValidateStreamOpen {
        default_schema,
        output_format: format as i32,
        assert_formats: false,
    };
    ValidateStreamRequest {
        message: Some(Message::Open(open)),
    }
}

fn document(sequence: u64, schema: Option<SchemaSelector>, body: &str) -> ValidateStreamRequest {
    let document = StreamDocument {
        sequence,
        schema,
        document: body.to_owned(),
    };
    ValidateStreamRequest {
        message: Some(Message::Document(document)),
    }
}

/// Sends `requests` on one stream and collects every result.
async fn run_stream(
    server: &TestServer,
    requests: Vec<ValidateStreamRequest>,
) -> anyhow::Result<Vec<ValidateStreamResponse>> {
    let response = server
        .validation()
        .validate_stream(tokio_stream::iter(requests))
        .await?;
    let mut inbound = response.into_inner();
    let mut results = Vec::new();
    while let Some(result) = inbound.message().await? {
        results.push(result);
    }
    Ok(results)
}

fn is_valid(response: &ValidateStreamResponse) -> Option<bool> {
    match &response.outcome {
        Some(Outcome::Result(result)) => Some(result.valid),
        _ => None,
    }
}

fn error_code(response: &ValidateStreamResponse) -> Option<Code> {
    match &response.outcome {
        Some(Outcome::Error(error)) => Some(Code::from(error.code)),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_answers_each_document_in_order_with_its_sequence() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    let selector = server.selector("customer", 1);

    let mut requests = vec![open(Some(selector), OutputFormat::Basic)];
    for i in 0..300u64 {
        let body = if i % 3 == 0 {
            r#"{"id": "x"}"#
        } else {
            r#"{"id": 7}"#
        };
        requests.push(document(1000 + i * 7, None, body));
    }
    let results = run_stream(&server, requests).await?;

    assert_eq!(results.len(), 300);
    for (i, result) in results.iter().enumerate() {
        let i = i as u64;
        assert_eq!(result.sequence, 1000 + i * 7);
        assert_eq!(is_valid(result), Some(!i.is_multiple_of(3)), "document {i}");
    }
    let Some(Outcome::Result(invalid)) = &results[0].outcome else {
        panic!("no result for the first document");
    };
    assert_eq!(invalid.errors[0].instance_location, "/id");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_document_fails_alone_and_the_stream_goes_on() -> anyhow::Result<()> {
    let server = TestServer::start_with(|config| config.max_document_bytes = 1024).await?;
    server.publish("customer", CUSTOMER).await?;
    let selector = server.selector("customer", 1);
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let large = format!(r#"{{"id": 1, "pad": "{}"}}"#, "x".repeat(2048));
    let missing = server.selector("nobody", 1);

    let requests = vec![
        open(Some(selector), OutputFormat::Flag),
        document(1, None, r#"{"id": 1}"#),
        document(2, None, "{not json"),
        document(3, None, &deep),
        document(4, None, &large),
        document(5, Some(missing), r#"{"id": 1}"#),
        document(6, None, r#"{"id": 2}"#),
    ];
    let results = run_stream(&server, requests).await?;

    let sequences: Vec<u64> = results.iter().map(|r| r.sequence).collect();
    assert_eq!(sequences, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(is_valid(&results[0]), Some(true));
    assert_eq!(error_code(&results[1]), Some(Code::InvalidArgument));
    assert_eq!(error_code(&results[2]), Some(Code::InvalidArgument));
    assert_eq!(error_code(&results[3]), Some(Code::InvalidArgument));
    assert_eq!(error_code(&results[4]), Some(Code::NotFound));
    assert_eq!(is_valid(&results[5]), Some(true));

    let message = |r: &ValidateStreamResponse| match &r.outcome {
        Some(Outcome::Error(error)) => error.message.clone(),
        _ => String::new(),
    };
    assert!(
        message(&results[2]).contains("deeper than 128"),
        "{}",
        message(&results[2])
    );
    assert!(
        message(&results[3]).contains("1024"),
        "{}",
        message(&results[3])
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_may_name_their_own_schema_or_fail_without_one() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    server.publish("order", ORDER).await?;
    let customer = server.selector("customer", 1);
    let order = server.selector("order", 0);

    let requests = vec![
        document(1, Some(customer.clone()), r#"{"id": 1}"#),
        document(2, Some(order.clone()), r#"{"id": 1}"#),
        document(3, Some(order), r#"{"total": 3}"#),
        document(4, None, r#"{"id": 1}"#),
    ];
    let results = run_stream(&server, requests).await?;

    assert_eq!(is_valid(&results[0]), Some(true));
    assert_eq!(is_valid(&results[1]), Some(false));
    assert_eq!(is_valid(&results[2]), Some(true));
    assert_eq!(error_code(&results[3]), Some(Code::InvalidArgument));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_mixed_documents_is_answered_in_order_each_as_itself() -> anyhow::Result<()> {
    // Sent at once, the documents arrive in batches the server validates on two
    // tasks; every answer must still come back in order and belong to its document.
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    server.publish("order", ORDER).await?;
    let customer = server.selector("customer", 1);
    let order = server.selector("order", 0);
    let missing = server.selector("no-such-schema", 1);

    let kinds = 5;
    let count = 2000u64;
    let mut requests = vec![open(Some(customer), OutputFormat::Basic)];
    for sequence in 0..count {
        requests.push(match sequence % kinds {
            0 => document(sequence, None, &format!(r#"{{"id": {sequence}}}"#)),
            1 => document(sequence, None, r#"{"id": "not a number"}"#),
            2 => document(sequence, None, "{not json"),
            3 => document(sequence, Some(missing.clone()), r#"{"id": 1}"#),
            _ => document(sequence, Some(order.clone()), r#"{"total": 3}"#),
        });
    }
    let results = run_stream(&server, requests).await?;

    assert_eq!(results.len() as u64, count);
    for (sequence, result) in (0..count).zip(&results) {
        assert_eq!(result.sequence, sequence);
        let expected = match sequence % kinds {
            0 | 4 => (Some(true), None),
            1 => (Some(false), None),
            2 => (None, Some(Code::InvalidArgument)),
            _ => (None, Some(Code::NotFound)),
        };
        let got = (is_valid(result), error_code(result));
        assert_eq!(got, expected, "document {sequence}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_open_ends_the_stream_with_invalid_argument() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    let selector = server.selector("customer", 1);
    let requests = vec![
        open(Some(selector.clone()), OutputFormat::Basic),
        document(1, None, r#"{"id": 1}"#),
        open(Some(selector), OutputFormat::Basic),
        document(2, None, r#"{"id": 1}"#),
    ];
    let response = server
        .validation()
        .validate_stream(tokio_stream::iter(requests))
        .await?;
    let mut inbound = response.into_inner();

    let first = inbound
        .message()
        .await?
        .expect("a result for the first document");
    assert_eq!(first.sequence, 1);
    let status = inbound.message().await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("open"), "{status:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_holds_the_writer_back() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server
        .publish("strings", r#"{"items": {"type": "string"}}"#)
        .await?;
    let selector = server.selector("strings", 1);
    const DOCUMENTS: usize = 8_000;
    // Each document is about 1 KiB and earns 20 errors (about 2 KiB of results), so
    // the run moves far more than the HTTP/2 windows and channels on the path hold.
    let numbers: Vec<String> = (0..20).map(|n| n.to_string()).collect();
    let body = format!(r#"[{}, "{}"]"#, numbers.join(","), "x".repeat(900));

    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let first = futures::stream::iter([open(Some(selector), OutputFormat::Basic)]);
    let documents = futures::stream::iter(0..DOCUMENTS).map(move |i| {
        counter.fetch_add(1, Ordering::SeqCst);
        document(i as u64, None, &body)
    });
    let response = server
        .validation()
        .validate_stream(first.chain(documents))
        .await?;
    let mut inbound = response.into_inner();

    // Read nothing for a while: the server must stop taking documents.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let taken_while_stalled = pulled.load(Ordering::SeqCst);
    eprintln!("documents taken while the reader stalled: {taken_while_stalled}");
    assert!(
        taken_while_stalled < DOCUMENTS * 2 / 3,
        "{taken_while_stalled} of {DOCUMENTS} documents were taken while nobody read results"
    );

    let mut results = 0;
    while let Some(result) = inbound.message().await? {
        assert_eq!(result.sequence, results as u64);
        assert_eq!(is_valid(&result), Some(false));
        results += 1;
    }
    assert_eq!(results, DOCUMENTS);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_answers_each_document_in_order() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    server.publish("customer", CUSTOMER).await?;
    let request = ValidateBatchRequest {
        schema: Some(server.selector("customer", 1)),
        documents: vec![
            r#"{"id": 1}"#.into(),
            "nope".into(),
            r#"{"id": "x"}"#.into(),
        ],
        output_format: OutputFormat::Basic as i32,
        assert_formats: false,
    };
    let outcomes = server
        .validation()
        .validate_batch(request)
        .await?
        .into_inner()
        .outcomes;

    assert_eq!(outcomes.len(), 3);
    let valid = |i: usize| match &outcomes[i].outcome {
        Some(BatchOutcome::Result(result)) => Some(result.valid),
        _ => None,
    };
    assert_eq!(valid(0), Some(true));
    let Some(BatchOutcome::Error(error)) = &outcomes[1].outcome else {
        panic!("the broken document did not fail alone");
    };
    assert_eq!(Code::from(error.code), Code::InvalidArgument);
    assert!(error.message.contains("documents[1]"), "{}", error.message);
    assert_eq!(valid(2), Some(false));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_the_limit_is_refused_naming_the_field() -> anyhow::Result<()> {
    let server = TestServer::start_with(|config| config.max_batch_documents = 3).await?;
    server.publish("customer", CUSTOMER).await?;
    let request = ValidateBatchRequest {
        schema: Some(server.selector("customer", 1)),
        documents: vec![r#"{"id": 1}"#.into(); 4],
        ..Default::default()
    };
    let result = server.validation().validate_batch(request).await;
    let status = expect_status(result, &[Code::InvalidArgument]);
    assert!(status.message().contains("documents"), "{status:?}");
    assert!(status.message().contains("ValidateStream"), "{status:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_over_their_rate_are_told_to_retry() -> anyhow::Result<()> {
    let server = TestServer::start_with(|config| config.validation_rate_per_caller = 3).await?;
    server.publish("customer", CUSTOMER).await?;
    let selector = server.selector("customer", 1);

    let mut refused = None;
    for _ in 0..10 {
        let result = server
            .validate(selector.clone(), r#"{"id": 1}"#, OutputFormat::Flag)
            .await;
        if let Err(status) = result {
            refused = Some(status);
            break;
        }
    }
    let status = refused.expect("ten calls at once stayed within three per second");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("retry in"), "{status:?}");

    let requests = (0..5)
        .map(|i| document(i, Some(selector.clone()), "{}"))
        .collect();
    let results = run_stream(&server, requests).await?;
    let limited = results
        .iter()
        .filter(|r| error_code(r) == Some(Code::ResourceExhausted));
    assert!(
        limited.count() > 0,
        "a stream of five stayed within the rate"
    );
    Ok(())
}
