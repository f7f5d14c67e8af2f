//! Validation through the server against the floors it cannot beat, in one run.
//!
//! `cargo run --release -p ovsr-bench --bin validation_service [-- --rounds N --round-ms MS]`
//!
//! - Streaming: documents per second over one `ValidateStream` against a loop of parse
//!   and validate on one core, with the same engine, schemas and documents.
//! - Unary: `Validate` calls per second (and latency) against a tonic server whose
//!   `Validate` does nothing but answer, with the same requests and concurrency.
//!
//! The schemas are SchemaStore's small, self-contained ones (from
//! `shared/corpora/schemastore` beside the repository) with their small documents.
//! Rounds alternate the order of the measurements. Writes
//! `bench/results/validation_service.{json,md}`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use futures::StreamExt as _;
use ovsr_bench::Workload;
use ovsr_bench::check::options_for;
use ovsr_bench::corpus::Corpus;
use ovsr_bench::measure::median;
use ovsr_proto::v1::schema_selector::Target;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::validate_stream_request::Message;
use ovsr_proto::v1::validation_service_client::ValidationServiceClient;
use ovsr_proto::v1::validation_service_server::{ValidationService, ValidationServiceServer};
use ovsr_proto::v1::{
    CheckCompatibilityRequest, CheckCompatibilityResponse, OutputFormat, RegisterSchemaRequest,
    SchemaSelector, StreamDocument, ValidateBatchRequest, ValidateBatchResponse, ValidateRequest,
    ValidateResponse, ValidateSchemaRequest, ValidateSchemaResponse, ValidateStreamOpen,
    ValidateStreamRequest, ValidateStreamResponse, ValidationResult,
};
use ovsr_validate::{CompiledSchema, Engine, OutputFormat as Format};
use serde::Serialize;
use tokio::net::TcpListener;
use tonic::transport::Channel;
use tonic::{Request, Response, Status, Streaming};

const DEFAULT_ROUNDS: usize = 5;
const DEFAULT_ROUND_MS: u64 = 2000;
/// Unary calls in flight at once, over one HTTP/2 connection.
const UNARY_CONCURRENCY: usize = 32;
/// Most schemas taken from the corpus, to keep registration short.
const MAX_SCHEMAS: usize = 60;

/// One document to validate, and which registered schema it goes to.
struct Item {
    digest: String,
    text: String,
    compiled: Arc<CompiledSchema>,
}

#[derive(Debug, Default, Serialize)]
struct Samples {
    in_process_docs_per_sec: Vec<f64>,
    stream_docs_per_sec: Vec<f64>,
    unary_calls_per_sec: Vec<f64>,
    noop_calls_per_sec: Vec<f64>,
    unary_p50_us: Vec<f64>,
    unary_p99_us: Vec<f64>,
    noop_p50_us: Vec<f64>,
    noop_p99_us: Vec<f64>,
}

#[derive(Debug, Serialize)]
struct Summary {
    schemas: usize,
    documents: usize,
    document_bytes: usize,
    rounds: usize,
    round_ms: u64,
    unary_concurrency: usize,
    engine: &'static str,
    stream_vs_in_process: f64,
    unary_vs_noop: f64,
    samples: Samples,
}

fn main() -> Result<()> {
    ovsr_bench::log_like_the_server();
    let (rounds, round) = parse_args()?;
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let results = bench_dir.join("results");
    let scratch = results.join("scratch");
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {scratch:?}"))?;
    let corpus = Corpus::load(
        &bench_dir.join("../../shared/corpora/schemastore"),
        &scratch.join("generated"),
    )?;

    // Servers get their own threads; the client and the in-process loop run here.
    let servers = ovsr_bench::runtime("bench-servers")?;
    let data = tempfile::tempdir()?;
    let real = servers.block_on(start_registry(data.path()))?;
    let noop = servers.block_on(start_noop())?;
    let client = ovsr_bench::runtime("bench-callers")?;

    let items = client.block_on(register_small_cases(&corpus, real))?;
    if items.is_empty() {
        bail!("no schema of the corpus registered; is shared/corpora/schemastore there?");
    }
    let schemas = {
        let mut digests: Vec<&str> = items.iter().map(|i| i.digest.as_str()).collect();
        digests.sort_unstable();
        digests.dedup();
        digests.len()
    };
    let document_bytes = items.iter().map(|i| i.text.len()).sum();
    eprintln!(
        "{schemas} schemas, {} documents ({document_bytes} bytes) per sweep; {rounds} rounds of {round:?}",
        items.len()
    );

    let real_channel = client.block_on(connect(real))?;
    let noop_channel = client.block_on(connect(noop))?;
    let mut samples = Samples::default();
    for index in 0..rounds {
        let mut steps: Vec<u8> = vec![0, 1, 2, 3];
        if index % 2 == 1 {
            steps.reverse();
        }
        for step in steps {
            match step {
                0 => samples
                    .in_process_docs_per_sec
                    .push(in_process(&items, round)),
                1 => samples.stream_docs_per_sec.push(client.block_on(stream(
                    &real_channel,
                    &items,
                    round,
                ))?),
                2 => {
                    let (rate, p50, p99) = client.block_on(unary(&real_channel, &items, round))?;
                    samples.unary_calls_per_sec.push(rate);
                    samples.unary_p50_us.push(p50);
                    samples.unary_p99_us.push(p99);
                }
                _ => {
                    let (rate, p50, p99) = client.block_on(unary(&noop_channel, &items, round))?;
                    samples.noop_calls_per_sec.push(rate);
                    samples.noop_p50_us.push(p50);
                    samples.noop_p99_us.push(p99);
                }
            }
        }
        eprintln!(
            "round {}: in-process {:.0}/s, stream {:.0}/s, unary {:.0}/s, no-op {:.0}/s",
            index + 1,
            samples.in_process_docs_per_sec[index],
            samples.stream_docs_per_sec[index],
            samples.unary_calls_per_sec[index],
            samples.noop_calls_per_sec[index],
        );
    }

    let summary = Summary {
        schemas,
        documents: items.len(),
        document_bytes,
        rounds,
        round_ms: u64::try_from(round.as_millis()).unwrap_or(u64::MAX),
        unary_concurrency: UNARY_CONCURRENCY,
        engine: Engine::default().as_str(),
        stream_vs_in_process: ratio(
            &samples.stream_docs_per_sec,
            &samples.in_process_docs_per_sec,
        ),
        unary_vs_noop: ratio(&samples.unary_calls_per_sec, &samples.noop_calls_per_sec),
        samples,
    };
    let markdown = markdown(&summary);
    print!("{markdown}");
    std::fs::write(
        results.join("validation_service.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    std::fs::write(results.join("validation_service.md"), markdown)?;
    drop(servers);
    Ok(())
}

fn parse_args() -> Result<(usize, Duration)> {
    let mut rounds = DEFAULT_ROUNDS;
    let mut round_ms = DEFAULT_ROUND_MS;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--rounds" => rounds = value.parse().context("--rounds")?,
            "--round-ms" => round_ms = value.parse().context("--round-ms")?,
            _ => bail!("unknown argument {arg}; expected --rounds N or --round-ms MS"),
        }
    }
    if rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    Ok((rounds, Duration::from_millis(round_ms)))
}

async fn start_registry(data_dir: &Path) -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let server = ovsr_server::start(ovsr_server::ServeConfig::new(data_dir), listener).await?;
    let addr = server.local_addr();
    // The server lives as long as the runtime that runs it.
    std::mem::forget(server);
    Ok(addr)
}

/// A `ValidationService` whose `Validate` answers "valid" without looking.
#[derive(Debug, Clone, Copy)]
struct NoopValidation;

#[tonic::async_trait]
impl ValidationService for NoopValidation {
    async fn validate(
        &self,
        request: Request<ValidateRequest>,
    ) -> Result<Response<ValidateResponse>, Status> {
        let digest = match request.into_inner().schema.and_then(|s| s.target) {
            Some(Target::Digest(digest)) => digest,
            _ => String::new(),
        };
        Ok(Response::new(ValidateResponse {
            result: Some(ValidationResult {
                valid: true,
                errors: Vec::new(),
                schema_digest: digest,
            }),
        }))
    }

    async fn validate_batch(
        &self,
        _: Request<ValidateBatchRequest>,
    ) -> Result<Response<ValidateBatchResponse>, Status> {
        Err(Status::unimplemented("no-op"))
    }

    type ValidateStreamStream =
        futures::stream::BoxStream<'static, Result<ValidateStreamResponse, Status>>;

    async fn validate_stream(
        &self,
        _: Request<Streaming<ValidateStreamRequest>>,
    ) -> Result<Response<Self::ValidateStreamStream>, Status> {
        Err(Status::unimplemented("no-op"))
    }

    async fn validate_schema(
        &self,
        _: Request<ValidateSchemaRequest>,
    ) -> Result<Response<ValidateSchemaResponse>, Status> {
        Err(Status::unimplemented("no-op"))
    }

    async fn check_compatibility(
        &self,
        _: Request<CheckCompatibilityRequest>,
    ) -> Result<Response<CheckCompatibilityResponse>, Status> {
        Err(Status::unimplemented("no-op"))
    }
}

async fn start_noop() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let incoming = ovsr_bench::accept_without_nagle(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(ValidationServiceServer::new(NoopValidation))
            .serve_with_incoming(incoming),
    );
    Ok(addr)
}

async fn connect(addr: SocketAddr) -> Result<Channel> {
    Ok(Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?)
}

/// Registers the small cases' schemas (at their published URLs, so references inside
/// them resolve as they do in process) and returns their small documents. Schemas that
/// reference others are left out: each is measured alone.
async fn register_small_cases(corpus: &Corpus, addr: SocketAddr) -> Result<Vec<Item>> {
    let mut schemas = SchemaServiceClient::new(connect(addr).await?);
    let mut items = Vec::new();
    let mut registered = 0;
    for (index, case) in corpus.cases.iter().enumerate() {
        if registered == MAX_SCHEMAS {
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
            namespace: "bench".to_owned(),
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

/// Parse and validate on this thread, as fast as it goes.
fn in_process(items: &[Item], round: Duration) -> f64 {
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

fn selector(digest: &str) -> SchemaSelector {
    SchemaSelector {
        target: Some(Target::Digest(digest.to_owned())),
    }
}

/// One stream for `round`: documents go out as fast as flow control lets them.
async fn stream(channel: &Channel, items: &[Item], round: Duration) -> Result<f64> {
    let mut client = ValidationServiceClient::new(channel.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let open = ValidateStreamRequest {
        message: Some(Message::Open(ValidateStreamOpen {
            default_schema: None,
            output_format: OutputFormat::Flag as i32,
            assert_formats: false,
        })),
    };
    let documents: Vec<(String, String)> = items
        .iter()
        .map(|i| (i.digest.clone(), i.text.clone()))
        .collect();
    let stop_sending = Arc::clone(&stop);
    let outgoing = futures::stream::iter(std::iter::once(open)).chain(
        futures::stream::iter((0u64..).map(move |sequence| {
            let (digest, text) = &documents[(sequence as usize) % documents.len()];
            ValidateStreamRequest {
                message: Some(Message::Document(StreamDocument {
                    sequence,
                    schema: Some(selector(digest)),
                    document: text.clone(),
                })),
            }
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

/// `UNARY_CONCURRENCY` callers for `round`; calls per second, p50 and p99 in µs.
async fn unary(channel: &Channel, items: &[Item], round: Duration) -> Result<(f64, f64, f64)> {
    let requests: Arc<Vec<ValidateRequest>> = Arc::new(
        items
            .iter()
            .map(|i| ValidateRequest {
                schema: Some(selector(&i.digest)),
                document: i.text.clone(),
                output_format: OutputFormat::Flag as i32,
                assert_formats: false,
            })
            .collect(),
    );
    let started = Instant::now();
    let mut callers = Vec::new();
    for caller in 0..UNARY_CONCURRENCY {
        let mut client = ValidationServiceClient::new(channel.clone());
        let requests = Arc::clone(&requests);
        callers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut next = caller;
            while started.elapsed() < round {
                let request = requests[next % requests.len()].clone();
                next += UNARY_CONCURRENCY;
                let sent = Instant::now();
                client.validate(request).await?;
                latencies.push(sent.elapsed().as_secs_f64() * 1e6);
            }
            Ok::<_, Status>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for caller in callers {
        latencies.extend(caller.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    Ok((latencies.len() as f64 / elapsed, at(0.5), at(0.99)))
}

fn ratio(numerator: &[f64], denominator: &[f64]) -> f64 {
    let ratios: Vec<f64> = numerator
        .iter()
        .zip(denominator)
        .map(|(n, d)| n / d)
        .collect();
    median(&ratios)
}

fn markdown(summary: &Summary) -> String {
    let s = &summary.samples;
    format!(
        "# Validation through the service\n\n\
         {} schemas, {} small documents ({} bytes) per sweep, engine `{}`; \
         {} rounds of {} ms, medians.\n\n\
         | measurement | rate | p50 | p99 |\n|---|---:|---:|---:|\n\
         | in-process parse + validate, one core | {:.0} docs/s | | |\n\
         | `ValidateStream`, one stream | {:.0} docs/s | | |\n\
         | `Validate`, {} in flight | {:.0} calls/s | {:.0} µs | {:.0} µs |\n\
         | tonic no-op `Validate`, {} in flight | {:.0} calls/s | {:.0} µs | {:.0} µs |\n\n\
         Stream vs in-process: **{:.2}** (goal ≥ 0.50). Unary vs no-op: **{:.2}** (goal ≥ 0.70).\n",
        summary.schemas,
        summary.documents,
        summary.document_bytes,
        summary.engine,
        summary.rounds,
        summary.round_ms,
        median(&s.in_process_docs_per_sec),
        median(&s.stream_docs_per_sec),
        summary.unary_concurrency,
        median(&s.unary_calls_per_sec),
        median(&s.unary_p50_us),
        median(&s.unary_p99_us),
        summary.unary_concurrency,
        median(&s.noop_calls_per_sec),
        median(&s.noop_p50_us),
        median(&s.noop_p99_us),
        summary.stream_vs_in_process,
        summary.unary_vs_noop,
    )
}
