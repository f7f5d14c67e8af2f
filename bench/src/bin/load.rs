//! The performance suite over one server: each workload's capacity closed loop, then
//! open-loop phases at arrival rates derived from it; and OVSR against the cheapest
//! implementation of the same wire behaviour, in alternating rounds of the same run.
//!
//! `cargo run --release -p ovsr-bench --bin load [-- --workloads get-schema-hot,…
//! --phase-ms MS --rounds N --round-ms MS --pairs-only --check bench/baseline.json
//! --smoke]`
//!
//! The server runs in this process on its embedded default store in a temporary
//! directory, with a few dozen SchemaStore schemas registered, and small SchemaStore
//! cases with their documents for validation. A second server runs on PostgreSQL with
//! its cache off, over a seeded data set, for uncached `GetSchema`.
//!
//! For each workload: capacity (closed loop), then baseline at half of it, peak 2×,
//! stress 5×, and a spike of 10× followed at once by the baseline. Latencies are
//! measured from each call's intended send time. CPU and RSS are this process's
//! (server and load generator together).
//!
//! Then the pairs: cached `GetSchema` against a tonic no-op answering the same bytes;
//! HTTP 200 and 304 against nginx serving the same documents precompressed (when
//! nginx is installed); uncached `GetSchema` against pgbench running the store's SQL;
//! `ValidateStream` against parse-and-validate in process; and `Search` over
//! Meilisearch against Meilisearch queried directly (when a `meilisearch` binary is
//! at `MEILI_BIN` or on `PATH`); and `GetSchema` through a server whose only cache is
//! Redis against redis-benchmark on the same Redis. A pair whose tool is missing is reported as not
//! measured, with the reason.
//!
//! Writes `bench/results/load.{json,md}` and `load-{latency,throughput}.svg`, and
//! prints the Markdown. `--check` fails when a ratio fell past the tolerance of the
//! committed baseline; `--write-baseline` writes one from this run.
//!
//! `--smoke` is a short run that checks every path: phases of about a second at a
//! baseline of at most 200 calls per second, and one short round of each pair. It
//! fails unless every workload ran every phase with at least one successful call and
//! no error at baseline, and every pair whose tools are there produced figures.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use ovsr_bench::cache::Lookup;
use ovsr_bench::cache::cleanup::Cleanup;
use ovsr_bench::cache::noop::{self, NoopSchemaService};
use ovsr_bench::cache::redis::{RedisConnection, RedisTarget};
use ovsr_bench::cache::redis_benchmark::RedisBenchmark;
use ovsr_bench::cache::schemas as cache_schemas;
use ovsr_bench::corpus::Corpus;
use ovsr_bench::load::LoadWorkload;
use ovsr_bench::load::baselines;
use ovsr_bench::load::cold::{self, ColdSettings, ColdStore};
use ovsr_bench::load::nginx::{self, Nginx};
use ovsr_bench::load::pairs::{self, PairReport};
use ovsr_bench::load::plot;
use ovsr_bench::load::regression::Baseline;
use ovsr_bench::load::report::{self, LoadReport, WorkloadReport};
use ovsr_bench::load::scenario::{ScenarioSettings, run_scenario};
use ovsr_bench::load::schemas::{self, Registered};
use ovsr_bench::load::target::{
    GrpcGetSchema, GrpcRegister, GrpcUnary, GrpcValidateStream, HttpGet, Mixed, Target,
};
use ovsr_bench::search::{self, meili};
use ovsr_bench::validation::{self, Item};
use ovsr_server::{RunningServer, ServeConfig};
use reqwest::{StatusCode, Url};
use tokio::runtime::Runtime;
use tonic::transport::Channel;

/// The namespace the read schemas are registered in.
const NAMESPACE: &str = "load";
/// The namespace of the validation cases' schemas.
const VALIDATION_NAMESPACE: &str = "validation";
/// The namespace `RegisterSchema` writes into, and the schemas it spreads over.
const WRITES_NAMESPACE: &str = "writes";
const WRITTEN_SCHEMAS: usize = 256;
/// Validation cases' schemas registered at most.
const VALIDATION_SCHEMAS: usize = 60;
/// Documents per `ValidateStream` call in the scenario.
const STREAM_BATCH: usize = 100;
/// The baseline of a smoke run at most, calls per second: enough to exercise every
/// path, little enough to keep a shared machine responsive.
const SMOKE_BASELINE_CAP: f64 = 200.0;
/// How long redis-benchmark's keys live if a run dies before deleting them.
const REDIS_KEY_TTL_SECS: u64 = 3600;
/// The smoke run's own database, so its small data set never replaces the full one.
const SMOKE_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/ovsr_bench_load_smoke";

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "Load scenarios and OVSR against its baselines, in one run")]
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
        default_value = "get-schema-hot,get-schema-cold,http-get-200,http-get-304,list-schemas,\
                         search,validate,validate-stream,register-schema,mix"
    )]
    workloads: Vec<LoadWorkload>,
    /// Callers in flight in the closed loops, scenarios and pairs alike.
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
    /// HTTP/1.1 connections in the HTTP pairs, on each side.
    #[arg(long, default_value_t = 32)]
    pair_http_connections: usize,
    /// Schemas registered and read.
    #[arg(long, default_value_t = 40)]
    schemas: usize,
    /// The highest baseline rate, calls per second [default: none; 200 with --smoke].
    #[arg(long)]
    baseline_cap: Option<f64>,
    /// Rounds of each pair [default: 5; 1 with --smoke].
    #[arg(long)]
    rounds: Option<usize>,
    /// Milliseconds of each side's round in a pair [default: 2000; 300 with --smoke].
    #[arg(long)]
    round_ms: Option<u64>,
    /// Only the pairs, no scenarios.
    #[arg(long, conflicts_with = "no_pairs")]
    pairs_only: bool,
    /// Only the scenarios, no pairs.
    #[arg(long)]
    no_pairs: bool,
    /// The pairs to measure, comma separated [default: every one].
    #[arg(long, value_delimiter = ',', value_parser = parse_pair)]
    pairs: Vec<String>,
    /// The database of the uncached server; created if missing [default: the
    /// `ovsr_bench_load` database on 127.0.0.1, `ovsr_bench_load_smoke` with --smoke].
    #[arg(long, env = "OVSR_BENCH_LOAD_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Versions in the uncached server's data set [default: 100000; 5000 with --smoke].
    #[arg(long)]
    cold_versions: Option<u64>,
    /// Searches in flight on each side of the search pair: a few, as Meilisearch
    /// spends tens of milliseconds on each.
    #[arg(long, default_value_t = 4)]
    search_callers: usize,
    /// The Redis of the Redis pair; the run deletes what it wrote there.
    #[arg(
        long,
        env = "OVSR_BENCH_REDIS_URL",
        default_value = "redis://127.0.0.1:6379",
        hide_env_values = true
    )]
    redis_url: String,
    /// pgbench clients and OVSR callers in the uncached pair.
    #[arg(long, default_value_t = 16)]
    cold_clients: usize,
    /// Fail when a ratio fell past the tolerance of this committed baseline.
    #[arg(long)]
    check: Option<PathBuf>,
    /// Write this run's ratios as a new baseline here.
    #[arg(long)]
    write_baseline: Option<PathBuf>,
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

    fn rounds(&self) -> usize {
        self.rounds.unwrap_or(if self.smoke { 1 } else { 5 })
    }

    fn round(&self) -> Duration {
        Duration::from_millis(self.round_ms.unwrap_or(if self.smoke { 300 } else { 2000 }))
    }

    fn cold(&self) -> ColdSettings {
        let default_url = if self.smoke {
            SMOKE_DATABASE_URL
        } else {
            cold::DEFAULT_DATABASE_URL
        };
        ColdSettings {
            database_url: self
                .database_url
                .as_deref()
                .unwrap_or(default_url)
                .to_owned(),
            versions: self
                .cold_versions
                .unwrap_or(if self.smoke { 5000 } else { 100_000 }),
            seed: 1,
            clients: self.cold_clients,
            connections: self.grpc_connections,
        }
    }

    /// The workloads whose scenarios run.
    fn scenarios(&self) -> &[LoadWorkload] {
        if self.pairs_only {
            &[]
        } else {
            &self.workloads
        }
    }

    /// Whether the pair `id` is measured.
    fn wants_pair(&self, id: &str) -> bool {
        !self.no_pairs && (self.pairs.is_empty() || self.pairs.iter().any(|pair| pair == id))
    }

    fn needs_cold(&self) -> bool {
        self.wants_pair(baselines::COLD) || self.scenarios().contains(&LoadWorkload::GetSchemaCold)
    }

    fn validate(&self) -> Result<()> {
        if self.callers == 0 || self.max_outstanding == 0 || self.schemas == 0 {
            bail!("--callers, --max-outstanding and --schemas must be at least 1");
        }
        if self.grpc_connections == 0 || self.http_connections == 0 {
            bail!("--grpc-connections and --http-connections must be at least 1");
        }
        if self.pair_http_connections == 0 || self.cold_clients == 0 || self.search_callers == 0 {
            bail!(
                "--pair-http-connections, --cold-clients and --search-callers must be at least 1"
            );
        }
        if self.rounds() == 0 {
            bail!("--rounds must be at least 1");
        }
        if self.cold().versions == 0 {
            bail!("--cold-versions must be at least 1");
        }
        let settings = self.settings();
        if settings.phase.is_zero() || settings.capacity.is_zero() || settings.spike.is_zero() {
            bail!("--phase-ms, --capacity-ms and --spike-ms must be at least 1");
        }
        if self.round().is_zero() {
            bail!("--round-ms must be at least 1");
        }
        Ok(())
    }
}

/// What the workloads read, once set up.
struct Prepared {
    corpus: Corpus,
    addr: std::net::SocketAddr,
    channels: Vec<Channel>,
    base: Url,
    registered: Vec<Registered>,
    items: Vec<Item>,
}

fn main() -> Result<()> {
    ovsr_bench::log_like_the_server();
    let options = Options::parse();
    options.validate()?;
    let settings = options.settings();
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let results = bench_dir.join("results");
    let scratch = results.join("scratch");
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {scratch:?}"))?;
    let load_at_start = ovsr_bench::measure::load_average();

    // The servers get their own threads; the calls run on the client's, and this
    // thread paces the open-loop sends.
    let servers = ovsr_bench::runtime(ovsr_bench::SERVER_THREADS)?;
    let client = ovsr_bench::runtime("bench-callers")?;
    let data_dir = tempfile::tempdir()?;
    let mut config = ServeConfig::new(data_dir.path());
    // Searches in flight are bounded to shed load; here the phases measure how latency
    // grows with load, so the bound is set above what any phase keeps in flight.
    config.max_concurrent_searches = Some(settings.max_outstanding);
    config.shutdown_grace = Duration::from_secs(1);
    let server = servers.block_on(ovsr_bench::start_server(config))?;
    let cold = if options.needs_cold() {
        let cold_settings = options.cold();
        let cold_dir = data_dir.path().join("cold");
        let started = servers.block_on(cold::start_server(&cold_settings, &cold_dir));
        let started = started.with_context(|| {
            format!(
                "uncached GetSchema needs PostgreSQL at {} (--database-url)",
                ovsr_bench::store::database::describe_target(&cold_settings.database_url)
            )
        })?;
        let preparing = cold::prepare(&cold_settings, started, &scratch);
        Some(client.block_on(preparing)?)
    } else {
        None
    };

    let outcome = run(
        &options,
        &settings,
        bench_dir,
        &server,
        cold.as_ref(),
        &servers,
        &client,
    );
    let mut stopped = vec![servers.block_on(server.shutdown())];
    if let Some(cold) = cold {
        stopped.push(servers.block_on(cold.server.shutdown()));
    }
    let ran = outcome?;
    stopped.into_iter().collect::<Result<Vec<()>>>()?;

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
        pair_rounds: options.rounds(),
        pair_round_ms: options.round().as_millis() as u64,
        pairs: ran.pairs,
        skipped: ran.skipped,
    };
    write_results(&results, &report)?;

    let mut problems = Vec::new();
    if options.smoke {
        problems.extend(report.smoke_problems(options.scenarios()));
        let wanted: Vec<&str> = baselines::ALL
            .into_iter()
            .filter(|id| options.wants_pair(id))
            .collect();
        problems.extend(report.pair_problems(&wanted));
    }
    if let Some(path) = &options.write_baseline {
        let baseline = Baseline::of(&report.pairs, report.command.clone());
        std::fs::write(path, serde_json::to_string_pretty(&baseline)? + "\n")
            .with_context(|| format!("writing {path:?}"))?;
        eprintln!("wrote the baseline of ratios to {}", path.display());
    }
    if let Some(path) = &options.check {
        let baseline = Baseline::read(path)?;
        let regressions = baseline.regressions(&report.pairs, &report.skipped);
        if regressions.is_empty() {
            eprintln!("every ratio is within its tolerance of {}", path.display());
        }
        problems.extend(regressions);
    }
    if !problems.is_empty() {
        bail!("the run failed:\n{}", problems.join("\n"));
    }
    Ok(())
}

/// Writes the JSON, the Markdown and the charts, and prints the Markdown.
fn write_results(results: &Path, report: &LoadReport) -> Result<()> {
    let markdown = report.markdown();
    std::fs::write(
        results.join("load.json"),
        serde_json::to_vec_pretty(report)?,
    )?;
    std::fs::write(results.join("load.md"), &markdown)?;
    if !report.workloads.is_empty() {
        let latency = plot::latency_svg(&report.workloads);
        std::fs::write(results.join("load-latency.svg"), latency)?;
        let throughput = plot::throughput_svg(&report.workloads);
        std::fs::write(results.join("load-throughput.svg"), throughput)?;
    }
    println!("{markdown}");
    Ok(())
}

/// What the run came to.
struct Ran {
    schemas: usize,
    mean_document_bytes: usize,
    reports: Vec<WorkloadReport>,
    pairs: Vec<PairReport>,
    skipped: Vec<String>,
}

/// Registers the schemas, runs every workload's scenario, then the pairs.
fn run(
    options: &Options,
    settings: &ScenarioSettings,
    bench_dir: &Path,
    server: &RunningServer,
    cold: Option<&ColdStore>,
    servers: &Runtime,
    client: &Runtime,
) -> Result<Ran> {
    let prepared = client.block_on(prepare(options, bench_dir, server))?;
    let mean_bytes = schemas::mean_served_bytes(&prepared.registered);
    eprintln!(
        "{} schemas registered, mean document {mean_bytes} bytes; {} validation documents",
        prepared.registered.len(),
        prepared.items.len()
    );

    let mut reports = Vec::with_capacity(options.workloads.len());
    for &workload in options.scenarios() {
        eprintln!("running {workload}");
        let report = match workload {
            LoadWorkload::GetSchemaHot => {
                let requests = schemas::grpc_requests(NAMESPACE, &prepared.registered);
                let target = GrpcGetSchema::new(&prepared.channels, requests);
                scenario(workload, client, target, settings)?
            }
            LoadWorkload::GetSchemaCold => {
                let cold = cold.context("the uncached server did not start")?;
                let target = GrpcGetSchema::new(&cold.channels, cold.requests.clone());
                scenario(workload, client, target, settings)?
            }
            LoadWorkload::HttpGet200 | LoadWorkload::HttpGet304 => {
                let conditional = workload == LoadWorkload::HttpGet304;
                let target = http_target(options, &prepared, conditional)?;
                scenario(workload, client, target, settings)?
            }
            LoadWorkload::ListSchemas | LoadWorkload::Search | LoadWorkload::Validate => {
                let target = unary_target(workload, &prepared);
                scenario(workload, client, target, settings)?
            }
            LoadWorkload::ValidateStream => {
                let target = GrpcValidateStream::new(
                    &prepared.channels,
                    prepared.items.clone(),
                    STREAM_BATCH,
                );
                scenario(workload, client, target, settings)?
            }
            LoadWorkload::RegisterSchema => {
                let target = GrpcRegister::new(
                    &prepared.channels,
                    WRITES_NAMESPACE,
                    "written",
                    WRITTEN_SCHEMAS,
                );
                scenario(workload, client, target, settings)?
            }
            LoadWorkload::Mix => {
                let requests = schemas::grpc_requests(NAMESPACE, &prepared.registered);
                let target = Mixed {
                    get: GrpcGetSchema::new(&prepared.channels, requests),
                    http_conditional: http_target(options, &prepared, true)?,
                    http_document: http_target(options, &prepared, false)?,
                    validate: unary_target(LoadWorkload::Validate, &prepared),
                    search: unary_target(LoadWorkload::Search, &prepared),
                    list: unary_target(LoadWorkload::ListSchemas, &prepared),
                    register: GrpcRegister::new(
                        &prepared.channels,
                        WRITES_NAMESPACE,
                        "mixed",
                        WRITTEN_SCHEMAS,
                    ),
                };
                scenario(workload, client, target, settings)?
            }
        };
        reports.push(report);
    }

    let (pairs, skipped) = if options.no_pairs {
        (Vec::new(), Vec::new())
    } else {
        run_pairs(options, &prepared, cold, servers, client)?
    };
    Ok(Ran {
        schemas: prepared.registered.len(),
        mean_document_bytes: mean_bytes,
        reports,
        pairs,
        skipped,
    })
}

fn http_target(options: &Options, prepared: &Prepared, conditional: bool) -> Result<HttpGet> {
    let expected = if conditional {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let requests =
        schemas::http_requests(&prepared.base, NAMESPACE, &prepared.registered, conditional)?;
    Ok(HttpGet::new(requests, expected, options.http_connections)?)
}

fn unary_target(workload: LoadWorkload, prepared: &Prepared) -> GrpcUnary {
    let calls = match workload {
        LoadWorkload::ListSchemas => schemas::list_calls(NAMESPACE),
        LoadWorkload::Search => schemas::search_calls(NAMESPACE, &prepared.registered),
        _ => schemas::validate_calls(NAMESPACE, &prepared.registered),
    };
    GrpcUnary::new(&prepared.channels, calls)
}

/// Every pair whose baseline is at hand; the others are named with the reason.
fn run_pairs(
    options: &Options,
    prepared: &Prepared,
    cold: Option<&ColdStore>,
    servers: &Runtime,
    client: &Runtime,
) -> Result<(Vec<PairReport>, Vec<String>)> {
    let (rounds, round) = (options.rounds(), options.round());
    let runtime = client.handle();
    let mut reports = Vec::new();
    let mut skipped = Vec::new();

    // The scenarios' writes are still being indexed; that must not run beside the
    // pairs.
    client.block_on(cold::wait_indexed(prepared.addr))?;
    eprintln!("pairs: {rounds} rounds of {round:?} per side");
    if options.wants_pair(baselines::HOT) {
        let requests = schemas::grpc_requests(NAMESPACE, &prepared.registered);
        let answers = client.block_on(baselines::noop_answers(&prepared.channels[0], &requests))?;
        let noop_addr = servers.block_on(noop::start(NoopSchemaService::new(answers)))?;
        let noop_channels =
            client.block_on(ovsr_bench::connect_all(noop_addr, options.grpc_connections))?;
        let mut pair = baselines::hot_pair(
            runtime,
            &prepared.channels,
            &noop_channels,
            &requests,
            options.callers,
        );
        reports.push(pairs::run(&mut pair, rounds, round)?);
    }

    let wants_http = [baselines::HTTP_200, baselines::HTTP_304].map(|id| options.wants_pair(id));
    match nginx::locate() {
        _ if wants_http == [false, false] => {}
        Some(binary) => {
            let ovsr_200 =
                schemas::http_requests(&prepared.base, NAMESPACE, &prepared.registered, false)?;
            let ovsr_304 =
                schemas::http_requests(&prepared.base, NAMESPACE, &prepared.registered, true)?;
            let documents = client.block_on(baselines::served_documents(&ovsr_200))?;
            let nginx = Nginx::start(&binary, &documents)?;
            if !nginx.brotli {
                eprintln!("nginx has no brotli_static module: it serves gzip only");
            }
            let base = Url::parse(&format!("http://{}/", nginx.addr()))?;
            let nginx_200 = client.block_on(baselines::nginx_requests(&base, &documents, false))?;
            let nginx_304 = client.block_on(baselines::nginx_requests(&base, &documents, true))?;
            let connections = options.pair_http_connections;
            let sides = [
                (ovsr_200, nginx_200, StatusCode::OK),
                (ovsr_304, nginx_304, StatusCode::NOT_MODIFIED),
            ];
            for ((ovsr, nginx, expected), wanted) in sides.into_iter().zip(wants_http) {
                if wanted {
                    let mut pair =
                        baselines::http_pair(runtime, ovsr, nginx, expected, connections)?;
                    reports.push(pairs::run(&mut pair, rounds, round)?);
                }
            }
        }
        None => {
            let reason = "nginx is not installed (Debian's nginx-light)";
            for id in [baselines::HTTP_200, baselines::HTTP_304] {
                if options.wants_pair(id) {
                    skip(&mut skipped, id, reason);
                }
            }
        }
    }

    if let Some(cold) = cold.filter(|_| options.wants_pair(baselines::COLD)) {
        let mut pair = baselines::cold_pair(runtime, cold, options.cold_clients);
        reports.push(pairs::run(&mut pair, rounds, round)?);
    }

    if options.wants_pair(baselines::STREAM) {
        let mut pair = baselines::stream_pair(runtime, &prepared.channels[0], &prepared.items);
        reports.push(pairs::run(&mut pair, rounds, round)?);
    }

    if options.wants_pair(baselines::REDIS) {
        match redis_pair(options, prepared, servers, client)? {
            Ok(report) => reports.push(report),
            Err(reason) => skip(&mut skipped, baselines::REDIS, &reason),
        }
    }

    if options.wants_pair(baselines::SEARCH) {
        match meili::binary() {
            Some(binary) => reports.push(search_pair(options, &binary, servers, client)?),
            None => skip(
                &mut skipped,
                baselines::SEARCH,
                "no meilisearch binary at MEILI_BIN or on PATH",
            ),
        }
    }
    Ok((reports, skipped))
}

/// Notes that the pair `id` is not measured, and why, in the report and on stderr.
fn skip(skipped: &mut Vec<String>, id: &str, reason: &str) {
    eprintln!("skipped: {id}: {reason}");
    skipped.push(report::skipped_line(id, reason));
}

/// Starts a server whose only cache is Redis, registers schemas of this run's own
/// content (so its keys are its alone), and measures the Redis pair; deletes every
/// key it and the server wrote, however it ends. The inner error says why the pair
/// was not measured (no Redis, no redis-benchmark).
fn redis_pair(
    options: &Options,
    prepared: &Prepared,
    servers: &Runtime,
    client: &Runtime,
) -> Result<std::result::Result<PairReport, String>> {
    let target = RedisTarget::parse(&options.redis_url)?;
    if let Err(err) = client.block_on(RedisConnection::connect(&target)) {
        return Ok(Err(format!("Redis is not reachable: {err:#}")));
    }
    let run = ovsr_bench::cache::run_id();
    let namespace = format!("load-bench-{run}");
    let candidates = cache_schemas::candidates(&prepared.corpus, &run)?;
    let data = tempfile::tempdir()?;
    let mut config = ServeConfig::new(data.path());
    config.redis_url = Some(options.redis_url.clone());
    // No memory layer: every lookup is a Redis GET.
    config.cache_bytes = 0;
    // The read counts in a shared Redis may name other people's schemas.
    config.cache_warm_schemas = 0;
    config.shutdown_grace = Duration::from_secs(1);
    let server = servers.block_on(ovsr_bench::start_server(config))?;
    let addr = server.local_addr();
    let mut cleanup = Cleanup::default();
    cleanup.stop_server(server);
    let measured = (|| {
        let channels = client.block_on(ovsr_bench::connect_all(addr, options.grpc_connections))?;
        let registering =
            cache_schemas::register_first(&channels[0], &namespace, &candidates, options.schemas);
        let served = client.block_on(registering)?;
        cleanup.forget_server_writes(&target, &namespace, &served);
        // Fills Redis with every version record and content.
        client.block_on(cache_schemas::answers(&channels[0], &namespace, &served))?;
        let prefix = format!("ovsr-bench:load:{run}:");
        let callers = options.pair_http_connections;
        let Some(tool) = RedisBenchmark::locate(target.clone(), callers, prefix, served.len())
        else {
            return Ok(Err("redis-benchmark is not on PATH".to_owned()));
        };
        let keys = tool.keys();
        cleanup.delete_keys(&target, keys.iter().cloned());
        let value = vec![b'x'; cache_schemas::mean_served_bytes(&served)];
        client.block_on(async {
            let mut connection = RedisConnection::connect(&target).await?;
            connection.set_all(&keys, &value, REDIS_KEY_TTL_SECS).await
        })?;
        let requests = cache_schemas::requests(&namespace, &served, Lookup::Exact, 1, 4096);
        let mut pair =
            baselines::redis_pair(client.handle(), &channels, addr, requests, tool, callers);
        pairs::run(&mut pair, options.rounds(), options.round()).map(Ok)
    })();
    let cleaned = cleanup.finish(servers, client);
    let measured = measured?;
    cleaned?;
    Ok(measured)
}

/// Starts Meilisearch and a server on it, registers the SchemaStore corpus, and
/// measures the search pair.
fn search_pair(
    options: &Options,
    binary: &Path,
    servers: &Runtime,
    client: &Runtime,
) -> Result<PairReport> {
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schemas =
        search::load_schemas(&bench_dir.join("../../shared/corpora/schemastore/schemas"))?;
    let queries =
        search::load_queries(&bench_dir.join("../crates/search/tests/relevance_queries.tsv"))?;
    let meili = meili::MeiliServer::start(binary.to_owned());
    let dir = tempfile::tempdir()?;
    let config = search::meili_config(dir.path(), options.search_callers, &meili);
    let server = servers.block_on(ovsr_bench::start_server(config))?;
    let measured = (|| {
        let channel = client
            .block_on(ovsr_bench::connect_all(server.local_addr(), 1))?
            .remove(0);
        let registered = client.block_on(search::register_all(&channel, &schemas))?;
        client.block_on(search::wait_indexed(&channel, registered))?;
        eprintln!("{registered} schemas indexed in Meilisearch");
        let mut pair = baselines::search_pair(
            client.handle(),
            &channel,
            &meili,
            &queries,
            options.search_callers,
        );
        pairs::run(&mut pair, options.rounds(), options.round())
    })();
    servers.block_on(server.shutdown())?;
    measured
}

async fn prepare(options: &Options, bench_dir: &Path, server: &RunningServer) -> Result<Prepared> {
    let channels = ovsr_bench::connect_all(server.local_addr(), options.grpc_connections).await?;
    let schemastore = bench_dir.join("../../shared/corpora/schemastore");
    let files = schemas::candidate_files(&schemastore.join("schemas"))?;
    let registered =
        schemas::register_first(&channels[0], NAMESPACE, &files, options.schemas).await?;
    if registered.is_empty() {
        bail!("no schema registered; is shared/corpora/schemastore/schemas there?");
    }
    let scratch = bench_dir.join("results/scratch");
    let corpus = Corpus::load(&schemastore, &scratch.join("generated"))?;
    let registering = validation::register_small_cases(
        &corpus,
        &channels[0],
        VALIDATION_NAMESPACE,
        VALIDATION_SCHEMAS,
    );
    let items = registering.await?;
    if items.is_empty() {
        bail!("no validation case registered from {schemastore:?}");
    }
    let base = Url::parse(&format!("http://{}/", server.local_addr()))?;
    Ok(Prepared {
        corpus,
        addr: server.local_addr(),
        channels,
        base,
        registered,
        items,
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

fn parse_pair(id: &str) -> Result<String, String> {
    if baselines::ALL.contains(&id) {
        Ok(id.to_owned())
    } else {
        Err(format!(
            "unknown pair {id:?}; known: {}",
            baselines::ALL.join(", ")
        ))
    }
}

/// The command as run.
fn command_line(options: &Options) -> String {
    let mut command = "cargo run --release -p ovsr-bench --bin load --".to_owned();
    for (flag, on) in [
        ("--smoke", options.smoke),
        ("--pairs-only", options.pairs_only),
        ("--no-pairs", options.no_pairs),
    ] {
        if on {
            command.push_str(&format!(" {flag}"));
        }
    }
    let optional = [
        ("--phase-ms", options.phase_ms),
        ("--capacity-ms", options.capacity_ms),
        ("--spike-ms", options.spike_ms),
        ("--round-ms", options.round_ms),
        ("--cold-versions", options.cold_versions),
        ("--rounds", options.rounds.map(|rounds| rounds as u64)),
    ];
    for (flag, value) in optional {
        if let Some(value) = value {
            command.push_str(&format!(" {flag} {value}"));
        }
    }
    let names: Vec<&str> = options.workloads.iter().map(|w| w.as_str()).collect();
    command.push_str(&format!(" --workloads {}", names.join(",")));
    if !options.pairs.is_empty() {
        command.push_str(&format!(" --pairs {}", options.pairs.join(",")));
    }
    command.push_str(&format!(" --callers {}", options.callers));
    command.push_str(&format!(" --max-outstanding {}", options.max_outstanding));
    command.push_str(&format!(" --schemas {}", options.schemas));
    if let Some(cap) = options.baseline_cap {
        command.push_str(&format!(" --baseline-cap {cap}"));
    }
    command
}
