//! Validation's parts shared by the validation-service and load benchmarks:
//! SchemaStore's small self-contained cases registered in a server, the loop of parse
//! and validate in process that is the floor of streaming validation, and one
//! `ValidateStream` driven as fast as flow control lets it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use futures::StreamExt as _;
use ovsr_proto::v1::schema_selector::Target;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::validate_stream_request::Message;
use ovsr_proto::v1::validation_service_client::ValidationServiceClient;
use ovsr_proto::v1::{
    OutputFormat, RegisterSchemaRequest, SchemaSelector, StreamDocument, ValidateStreamOpen,
    ValidateStreamRequest,
};
use ovsr_validate::{CompiledSchema, Engine, OutputFormat as Format};
use tonic::transport::Channel;

use crate::Workload;
use crate::check::options_for;
use crate::corpus::Corpus;

/// One document to validate, and the registered schema it goes to.
#[derive(Debug, Clone)]
pub struct Item {
    /// The schema's digest as registered.
    pub digest: String,
    /// The document's text.
    pub text: String,
    /// The schema compiled in process, with the engine the server uses.
    pub compiled: Arc<CompiledSchema>,
}

/// The number of distinct schemas `items` validate against.
pub fn schema_count(items: &[Item]) -> usize {
    let mut digests: Vec<&str> = items.iter().map(|item| item.digest.as_str()).collect();
    digests.sort_unstable();
    digests.dedup();
    digests.len()
}

/// Registers up to `max_schemas` of the corpus's small cases' schemas in `namespace`
/// (at their published URLs, so references inside them resolve as they do in
/// process) and returns their small documents. Schemas the server or the engine
/// refuses are passed over.
pub async fn register_small_cases(
    corpus: &Corpus,
    channel: &Channel,
    namespace: &str,
    max_schemas: usize,
) -> Result<Vec<Item>> {
    let mut schemas = SchemaServiceClient::new(channel.clone());
    let mut items = Vec::new();
    let mut registered = 0;
    for (index, case) in corpus.cases.iter().enumerate() {
        if registered == max_schemas {
            break;
        }
        let small: Vec<_> = case
            .documents
            .iter()
            .filter(|d| !d.format_dependent && Workload::of(case, d) == Some(Workload::Small))
            .collect();
        if small.is_empty() {
            continue;
        }
        let Ok(compiled) = CompiledSchema::compile(
            &case.url,
            &case.schema,
            &corpus.resolver,
            options_for(Engine::default()),
        )
        .await
        else {
            continue;
        };
        let request = RegisterSchemaRequest {
            namespace: namespace.to_owned(),
            name: format!("case-{index}"),
            content: serde_json::to_string(&case.schema)?,
            aliases: vec![case.url.clone()],
            ..RegisterSchemaRequest::default()
        };
        let Ok(response) = schemas.register_schema(request).await else {
            continue;
        };
        let Some(version) = response.into_inner().schema_version else {
            continue;
        };
        registered += 1;
        let compiled = Arc::new(compiled);
        for document in small {
            items.push(Item {
                digest: version.digest.clone(),
                text: serde_json::to_string(&document.value)?,
                compiled: Arc::clone(&compiled),
            });
        }
    }
    Ok(items)
}

/// Parses and validates `items` in turn on this thread for `round`; documents per
/// second.
pub fn in_process(items: &[Item], round: Duration) -> f64 {
    let started = Instant::now();
    let mut done = 0usize;
    while started.elapsed() < round {
        for item in items {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&item.text) else {
                continue;
            };
            std::hint::black_box(item.compiled.validate(&value, Format::Flag).valid);
        }
        done += items.len();
    }
    done as f64 / started.elapsed().as_secs_f64()
}

/// A selector of the schema with `digest`.
pub fn selector(digest: &str) -> SchemaSelector {
    SchemaSelector {
        target: Some(Target::Digest(digest.to_owned())),
    }
}

/// The message that opens a stream: flag output, formats not asserted.
pub fn stream_open() -> ValidateStreamRequest {
    ValidateStreamRequest {
        message: Some(Message::Open(ValidateStreamOpen {
            default_schema: None,
            output_format: OutputFormat::Flag as i32,
            assert_formats: false,
        })),
    }
}

/// Document `sequence` of a stream, against `digest`.
pub fn stream_document(sequence: u64, digest: &str, text: &str) -> ValidateStreamRequest {
    ValidateStreamRequest {
        message: Some(Message::Document(StreamDocument {
            sequence,
            schema: Some(selector(digest)),
            document: text.to_owned(),
        })),
    }
}

/// One stream for `round`: documents go out as fast as flow control lets them;
/// documents answered per second.
pub async fn stream(channel: &Channel, items: &[Item], round: Duration) -> Result<f64> {
    let mut client = ValidationServiceClient::new(channel.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let documents: Arc<[(String, String)]> = items
        .iter()
        .map(|i| (i.digest.clone(), i.text.clone()))
        .collect();
    let stop_sending = Arc::clone(&stop);
    let outgoing = futures::stream::iter(std::iter::once(stream_open())).chain(
        futures::stream::iter((0u64..).map(move |sequence| {
            let (digest, text) = &documents[(sequence as usize) % documents.len()];
            stream_document(sequence, digest, text)
        }))
        .take_while(move |_| futures::future::ready(!stop_sending.load(Ordering::Relaxed))),
    );
    let started = Instant::now();
    let mut inbound = client.validate_stream(outgoing).await?.into_inner();
    let mut received = 0usize;
    let mut measured = None;
    while let Some(response) = inbound.message().await? {
        if response.outcome.is_none() {
            bail!("a stream answer carried no outcome");
        }
        received += 1;
        if measured.is_none() && started.elapsed() >= round {
            measured = Some((received, started.elapsed()));
            stop.store(true, Ordering::Relaxed);
        }
    }
    let (count, elapsed) = measured.context("the stream ended before the round did")?;
    Ok(count as f64 / elapsed.as_secs_f64())
}
