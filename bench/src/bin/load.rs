//! The server under load: its capacity closed loop, then open-loop phases at fixed
//! arrival rates derived from it, for each workload.
//!
//! `cargo run --release -p ovsr-bench --bin load [-- --phase-ms MS --capacity-ms MS
//! --spike-ms MS --workloads get-schema-hot,http-get-200,… --smoke]`
//!
//! The server runs in this process on its embedded default store in a temporary
//! directory, with a few dozen SchemaStore schemas registered. For each workload:
//! capacity (closed loop), then baseline at half of it, peak 2×, stress 5×, and a
//! spike of 10× followed at once by the baseline. Latencies are measured from each
//! call's intended send time. CPU and RSS are this process's (server and load
//! generator together). Writes `bench/results/load.{json,md}` and prints the
//! Markdown.
//!
//! `--smoke` is a short run that checks every path: phases of about a second at a
//! baseline of at most 200 calls per second. It fails unless every workload ran
//! every phase with at least one successful call and no error at baseline.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use ovsr_bench::load::LoadWorkload;
use ovsr_bench::load::report::{LoadReport, WorkloadReport};
use ovsr_bench::load::scenario::{ScenarioSettings, run_scenario};
use ovsr_bench::load::schemas::{self, Registered};
use ovsr_bench::load::target::{GrpcGetSchema, GrpcUnary, HttpGet, Target};
use ovsr_server::{RunningServer, ServeConfig};
use reqwest::{StatusCode, Url};
use tokio::runtime::Runtime;
use tonic::transport::Channel;

/// The namespace the schemas are registered in.
const NAMESPACE: &str = "load";
/// The baseline of a smoke run at most, calls per second: enough to exercise every
/// path, little enough to keep a shared machine responsive.
const SMOKE_BASELINE_CAP: f64 = 200.0;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "The server's capacity, then open-loop phases at rates derived from it")]
struct Options {
    /// Milliseconds of each open-loop phase [default: 10000; 1000 with --smoke].
    #[arg(long)]
    phase_ms: Option<u64>,
    /// Milliseconds of the capacity closed loop [default: 3000; 500 with --smoke].
    #[arg(long)]
    capacity_ms: Option<u64>,
    /// Milliseconds of the spike [default: 3000; 1000 with --smoke].
    #[arg(long)]
    spike_ms: Option<u64>,
    /// Workloads to run, comma separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "get-schema-hot,http-get-200,http-get-304,list-schemas,search,validate"
    )]
    workloads: Vec<LoadWorkload>,
    /// Callers in flight in the closed loop.
    #[arg(long, default_value_t = 64)]
    callers: usize,
    /// Calls outstanding at most in the open loop; more are dropped.
    #[arg(long, default_value_t = 10_000)]
    max_outstanding: usize,
    /// HTTP/2 connections the gRPC calls are spread over.
    #[arg(long, default_value_t = 4)]
    grpc_connections: usize,
    /// HTTP/1.1 connections at most for the HTTP workloads.
    #[arg(long, default_value_t = 256)]
    http_connections: usize,
    /// Schemas registered and read.
    #[arg(long, default_value_t = 40)]
    schemas: usize,
    /// The highest baseline rate, calls per second [default: none; 200 with --smoke].
    #[arg(long)]
    baseline_cap: Option<f64>,
    /// A short run that checks every path and fails on errors at baseline.
    #[arg(long)]
    smoke: bool,
}

impl Options {
    fn settings(&self) -> ScenarioSettings {
        let ms = |given: Option<u64>, full: u64, smoke: u64| {
            Duration::from_millis(given.unwrap_or(if self.smoke { smoke } else { full }))
        };
        let (warm_up, pause) = if self.smoke {
            (Duration::from_millis(200), Duration::from_millis(100))
        } else {
            (Duration::from_secs(1), Duration::from_millis(500))
        };
        ScenarioSettings {
            warm_up,
            capacity: ms(self.capacity_ms, 3000, 500),
            callers: self.callers,
            phase: ms(self.phase_ms, 10_000, 1000),
            spike: ms(self.spike_ms, 3000, 1000),
            max_outstanding: self.max_outstanding,
            baseline_cap: self
                .baseline_cap
                .or(self.smoke.then_some(SMOKE_BASELINE_CAP)),
            pause,
        }
    }
}

/// What the workloads read, once set up.
struct Prepared {
    channels: Vec<Channel>,
    base: Url,
    registered: Vec<Registered>,
}

fn main() -> Result<()> {
    ovsr_bench::log_like_the_server();
    let options = Options::parse();
    let settings = options.settings();
    if options.callers == 0 || options.max_outstanding == 0 || options.schemas == 0 {
        bail!("--callers, --max-outstanding and --schemas must be at least 1");
    }
    if options.grpc_connections == 0 || options.http_connections == 0 {
        bail!("--grpc-connections and --http-connections must be at least 1");
    }
    if settings.phase.is_zero() || settings.capacity.is_zero() || settings.spike.is_zero() {
        bail!("--phase-ms, --capacity-ms and --spike-ms must be at least 1");
    }
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let results = bench_dir.join("results");
    std::fs::create_dir_all(&results).with_context(|| format!("creating {results:?}"))?;
    let load_at_start = ovsr_bench::measure::load_average();

    // The server gets its own threads; the calls run on the client's, and this
    // thread paces the open-loop sends.
    let servers = ovsr_bench::runtime("bench-servers")?;
    let client = ovsr_bench::runtime("bench-callers")?;
    let data_dir = tempfile::tempdir()?;
    let mut config = ServeConfig::new(data_dir.path());
    // Searches in flight are bounded to shed load; here the phases measure how latency
    // grows with load, so the bound is set above what any phase keeps in flight.
    config.max_concurrent_searches = Some(settings.max_outstanding);
    let server = servers.block_on(start_server(config))?;
    let outcome = run(&options, &settings, bench_dir, &server, &client);
    let stopped = servers.block_on(server.shutdown());
    let ran = outcome?;
    stopped?;

    let report = LoadReport {
        command: command_line(&options),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        load: [load_at_start, ovsr_bench::measure::load_average()],
        smoke: options.smoke,
        capacity_ms: settings.capacity.as_millis() as u64,
        phase_ms: settings.phase.as_millis() as u64,
        spike_ms: settings.spike.as_millis() as u64,
        callers: settings.callers,
        max_outstanding: settings.max_outstanding,
        http_connections: options.http_connections,
        grpc_connections: options.grpc_connections,
        schemas: ran.schemas,
        mean_document_bytes: ran.mean_document_bytes,
        baseline_cap: settings.baseline_cap,
        workloads: ran.reports,
    };
    let markdown = report.markdown();
    std::fs::write(
        results.join("load.json"),
        serde_json::to_vec_pretty(&report)?,
    )?;
    std::fs::write(results.join("load.md"), &markdown)?;
    println!("{markdown}");

    if options.smoke {
        let problems = report.smoke_problems(&options.workloads);
        if !problems.is_empty() {
            bail!("the smoke run failed:\n{}", problems.join("\n"));
        }
    }
    Ok(())
}

/// What the workloads' scenarios came to.
struct Ran {
    schemas: usize,
    mean_document_bytes: usize,
    reports: Vec<WorkloadReport>,
}

/// Registers the schemas and runs every workload's scenario.
fn run(
    options: &Options,
    settings: &ScenarioSettings,
    bench_dir: &Path,
    server: &RunningServer,
    client: &Runtime,
) -> Result<Ran> {
    let prepared = client.block_on(prepare(options, bench_dir, server))?;
    let mean_bytes = schemas::mean_served_bytes(&prepared.registered);
    eprintln!(
        "{} schemas registered, mean document {mean_bytes} bytes",
        prepared.registered.len()
    );

    let mut reports = Vec::with_capacity(options.workloads.len());
    for &workload in &options.workloads {
        eprintln!("running {workload}");
        let report = match workload {
            LoadWorkload::GetSchemaHot => {
                let requests = schemas::grpc_requests(NAMESPACE, &prepared.registered);
                let target = GrpcGetSchema::new(&prepared.channels, requests);
                scenario(workload, client, target, settings)?
            }
            LoadWorkload::HttpGet200 | LoadWorkload::HttpGet304 => {
                let conditional = workload == LoadWorkload::HttpGet304;
                let expected = if conditional {
                    StatusCode::NOT_MODIFIED
                } else {
                    StatusCode::OK
                };
                let requests = schemas::http_requests(
                    &prepared.base,
                    NAMESPACE,
                    &prepared.registered,
                    conditional,
                )?;
                let target = HttpGet::new(requests, expected, options.http_connections)?;
                scenario(workload, client, target, settings)?
            }
            LoadWorkload::ListSchemas | LoadWorkload::Search | LoadWorkload::Validate => {
                let calls = match workload {
                    LoadWorkload::ListSchemas => schemas::list_calls(NAMESPACE),
                    LoadWorkload::Search => schemas::search_calls(NAMESPACE, &prepared.registered),
                    _ => schemas::validate_calls(NAMESPACE, &prepared.registered),
                };
                let target = GrpcUnary::new(&prepared.channels, calls);
                scenario(workload, client, target, settings)?
            }
        };
        reports.push(report);
    }
    Ok(Ran {
        schemas: prepared.registered.len(),
        mean_document_bytes: mean_bytes,
        reports,
    })
}

async fn prepare(options: &Options, bench_dir: &Path, server: &RunningServer) -> Result<Prepared> {
    let addr = server.local_addr();
    let mut channels = Vec::with_capacity(options.grpc_connections);
    for _ in 0..options.grpc_connections {
        let endpoint = Channel::from_shared(format!("http://{addr}"))?;
        channels.push(endpoint.connect().await?);
    }
    let corpus = bench_dir.join("../../shared/corpora/schemastore/schemas");
    let files = schemas::candidate_files(&corpus)?;
    let registered =
        schemas::register_first(&channels[0], NAMESPACE, &files, options.schemas).await?;
    if registered.is_empty() {
        bail!("no schema registered; is shared/corpora/schemastore/schemas there?");
    }
    let base = Url::parse(&format!("http://{addr}/"))?;
    Ok(Prepared {
        channels,
        base,
        registered,
    })
}

/// How long a workload's first call may take to succeed before its scenario runs.
const READY_LIMIT: Duration = Duration::from_secs(10);

fn scenario<T: Target>(
    workload: LoadWorkload,
    client: &Runtime,
    target: T,
    settings: &ScenarioSettings,
) -> Result<WorkloadReport> {
    let target = Arc::new(target);
    // One call first, retried while the server catches up (search indexes in the
    // background), so a workload that cannot work at all says why at once.
    let deadline = std::time::Instant::now() + READY_LIMIT;
    while let Err(error) = client.block_on(target.call(0)) {
        if std::time::Instant::now() >= deadline {
            eprintln!("{workload}: the first call failed: {error}");
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let outcome = run_scenario(client.handle(), &target, settings)?;
    Ok(WorkloadReport {
        workload,
        description: workload.describe().to_owned(),
        capacity_per_sec: outcome.capacity_per_sec,
        rates: outcome.rates,
        phases: outcome.rows,
    })
}

async fn start_server(mut config: ServeConfig) -> Result<RunningServer> {
    // Every call has come back by shutdown; nothing is left to wait for.
    config.shutdown_grace = Duration::from_secs(1);
    ovsr_bench::start_server(config).await
}

/// The command as run.
fn command_line(options: &Options) -> String {
    let mut command = "cargo run --release -p ovsr-bench --bin load --".to_owned();
    if options.smoke {
        command.push_str(" --smoke");
    }
    let optional = [
        ("--phase-ms", options.phase_ms),
        ("--capacity-ms", options.capacity_ms),
        ("--spike-ms", options.spike_ms),
    ];
    for (flag, value) in optional {
        if let Some(value) = value {
            command.push_str(&format!(" {flag} {value}"));
        }
    }
    let names: Vec<&str> = options.workloads.iter().map(|w| w.as_str()).collect();
    command.push_str(&format!(" --workloads {}", names.join(",")));
    command.push_str(&format!(" --callers {}", options.callers));
    command.push_str(&format!(" --max-outstanding {}", options.max_outstanding));
    command.push_str(&format!(" --schemas {}", options.schemas));
    if let Some(cap) = options.baseline_cap {
        command.push_str(&format!(" --baseline-cap {cap}"));
    }
    command
}
