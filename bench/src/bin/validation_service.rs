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
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use ovsr_bench::corpus::Corpus;
use ovsr_bench::measure::median;
use ovsr_bench::validation::{self, Item};
use ovsr_proto::v1::schema_selector::Target;
use ovsr_proto::v1::validation_service_client::ValidationServiceClient;
use ovsr_proto::v1::validation_service_server::{ValidationService, ValidationServiceServer};
use ovsr_proto::v1::{
    CheckCompatibilityRequest, CheckCompatibilityResponse, OutputFormat, ValidateBatchRequest,
    ValidateBatchResponse, ValidateRequest, ValidateResponse, ValidateSchemaRequest,
    ValidateSchemaResponse, ValidateStreamRequest, ValidateStreamResponse, ValidationResult,
};
use ovsr_validate::Engine;
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
    let servers = ovsr_bench::runtime(ovsr_bench::SERVER_THREADS)?;
    let data = tempfile::tempdir()?;
    let real = servers.block_on(start_registry(data.path()))?;
    let noop = servers.block_on(start_noop())?;
    let client = ovsr_bench::runtime("bench-callers")?;

    let real_channel = client.block_on(connect(real))?;
    let registering =
        validation::register_small_cases(&corpus, &real_channel, "bench", MAX_SCHEMAS);
    let items = client.block_on(registering)?;
    if items.is_empty() {
        bail!("no schema of the corpus registered; is shared/corpora/schemastore there?");
    }
    let schemas = validation::schema_count(&items);
    let document_bytes = items.iter().map(|i| i.text.len()).sum();
    eprintln!(
        "{schemas} schemas, {} documents ({document_bytes} bytes) per sweep; {rounds} rounds of {round:?}",
        items.len()
    );

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
                    .push(validation::in_process(&items, round)),
                1 => samples
                    .stream_docs_per_sec
                    .push(client.block_on(validation::stream(&real_channel, &items, round))?),
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

/// `UNARY_CONCURRENCY` callers for `round`; calls per second, p50 and p99 in µs.
async fn unary(channel: &Channel, items: &[Item], round: Duration) -> Result<(f64, f64, f64)> {
    let requests: Arc<Vec<ValidateRequest>> = Arc::new(
        items
            .iter()
            .map(|i| ValidateRequest {
                schema: Some(validation::selector(&i.digest)),
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
