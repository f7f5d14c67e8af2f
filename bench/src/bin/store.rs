//! The PostgreSQL store through the server against pgbench running the same SQL, in
//! one run.
//!
//! `cargo run --release -p ovsr-bench --bin store [-- --versions N --concurrency C
//! --rounds R --round-ms MS --seed S --database-url URL]`
//!
//! Creates the database when missing (`OVSR_BENCH_DATABASE_URL` also names it), starts
//! the server in this process on it, and loads a seeded data set through
//! `BatchRegisterSchemas` unless the database holds it already. Then explains each
//! statement the measured calls run (failing on a full scan of `schema_versions` or
//! `schemas`) and times GetSchema, ListSchemas and RegisterSchema closed loop, each
//! round alternating OVSR and pgbench first. Writes `bench/results/store.{json,md}`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use ovsr_bench::store::calls::{self, OvsrCalls};
use ovsr_bench::store::dataset::{self, MAX_VERSIONS, Shape};
use ovsr_bench::store::explain::{self, PlanInputs};
use ovsr_bench::store::load;
use ovsr_bench::store::pgbench::{Pgbench, PgbenchScript};
use ovsr_bench::store::report::{self, StoreReport, WorkloadSamples};
use ovsr_bench::store::scripts::{self, PAGE_SIZE, PageCursor};
use ovsr_bench::store::{RoundSample, StoreWorkload, database};
use tokio::runtime::Runtime;
use tonic::transport::Channel;

const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/ovsr_bench_store";
/// The page the deep listing measures, when the data set has that many.
const DEEP_PAGE: u64 = 1000;
/// How long each OVSR workload runs before the first round, so the server's pool
/// has its connections and its statements prepared, as pgbench's have.
const WARM_UP: Duration = Duration::from_millis(300);

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "The PostgreSQL store through gRPC against pgbench on the same SQL")]
struct Options {
    /// The benchmark's own database; created if missing.
    #[arg(
        long,
        env = "OVSR_BENCH_DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL,
        hide_env_values = true
    )]
    database_url: String,
    /// Schema versions in the data set.
    #[arg(long, default_value_t = 1_000_000)]
    versions: u64,
    /// Calls in flight on each side.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Timed rounds.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Milliseconds of each OVSR measurement (pgbench runs the nearest whole second).
    #[arg(long, default_value_t = 2000)]
    round_ms: u64,
    /// Seed of the data set and of the keys drawn.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> Result<()> {
    ovsr_bench::log_like_the_server();
    let options = Options::parse();
    if !(1..=MAX_VERSIONS).contains(&options.versions) {
        bail!("--versions must be between 1 and {MAX_VERSIONS}");
    }
    if options.concurrency == 0 || options.rounds == 0 || options.round_ms == 0 {
        bail!("--concurrency, --rounds and --round-ms must be at least 1");
    }
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let results = bench_dir.join("results");
    let scratch = results.join("scratch");
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {scratch:?}"))?;
    let load_at_start = ovsr_bench::measure::load_average();
    let url = options.database_url.as_str();
    let shape = Shape::new(options.versions);

    // The server gets its own threads; the callers, pgbench's setup and SQL run here.
    let servers = ovsr_bench::runtime(ovsr_bench::SERVER_THREADS)?;
    let client = ovsr_bench::runtime("bench-callers")?;
    if client.block_on(database::create_database_if_missing(url))? {
        eprintln!("created database {}", database::describe_target(url));
    }
    let data_dir = tempfile::tempdir()?;
    let pool_size = u32::try_from(options.concurrency)?;
    let starting = start_server(url, pool_size, data_dir.path());
    let server = servers.block_on(starting)?;
    let channel = client.block_on(connect(server.local_addr()))?;
    let admin = client.block_on(database::connect(url))?;

    let loading = load::ensure_data_set(&admin, &channel, &shape, options.seed);
    let load_summary = client.block_on(loading)?;
    let (deep_request, deep_page) = client.block_on(calls::walk_to_page(&channel, DEEP_PAGE))?;
    let drawing = calls::read_calls(&admin, &shape, options.seed, deep_request);
    let reads = client.block_on(drawing)?;

    let inputs = plan_inputs(&shape, &reads, &deep_page)?;
    let plans = client.block_on(explain::explain_all(&admin, &inputs))?;
    refuse_full_scans(&plans)?;

    let pgbench = Pgbench::locate(url, &scratch, options.concurrency)?;
    let writers = scripts::pgbench_writer_names(options.concurrency);
    client.block_on(database::create_writer_schemas(&admin, &writers))?;
    let round = Duration::from_millis(options.round_ms);
    let pgbench_seconds = round.as_secs_f64().round().max(1.0) as u64;
    let harness = Harness {
        runtime: &client,
        channel,
        scripts: write_scripts(&pgbench, &shape, &deep_page)?,
        pgbench,
        reads,
        callers: options.concurrency,
        round,
        pgbench_round: Duration::from_secs(pgbench_seconds),
        nonce: run_nonce(),
    };
    harness.warm_up()?;
    let samples = harness.run_rounds(options.rounds)?;

    let database = client.block_on(database::facts(&admin, url))?;
    let report = StoreReport {
        command: command_line(&options),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        load: [load_at_start, ovsr_bench::measure::load_average()],
        concurrency: options.concurrency,
        rounds: options.rounds,
        round_ms: options.round_ms,
        pgbench_seconds,
        pgbench: harness.pgbench.binary().display().to_string(),
        seed: options.seed,
        shape,
        database,
        load_summary,
        deep_page,
        rows: report::rows(&samples),
        samples,
        plans,
    };
    let markdown = report.markdown();
    let json = serde_json::to_vec_pretty(&report)?;
    std::fs::write(results.join("store.json"), json)?;
    std::fs::write(results.join("store.md"), &markdown)?;
    println!("{markdown}");
    servers.block_on(server.shutdown())?;
    Ok(())
}

/// What the timed rounds need.
struct Harness<'a> {
    /// Where the OVSR callers run.
    runtime: &'a Runtime,
    channel: Channel,
    reads: BTreeMap<StoreWorkload, Arc<OvsrCalls>>,
    pgbench: Pgbench,
    scripts: BTreeMap<StoreWorkload, PgbenchScript>,
    callers: usize,
    round: Duration,
    pgbench_round: Duration,
    /// Makes registered content unique to this run.
    nonce: String,
}

impl Harness<'_> {
    /// Runs each OVSR workload briefly, so the server's pool has opened its
    /// connections and prepared its statements, as pgbench does before its clock.
    fn warm_up(&self) -> Result<()> {
        for workload in StoreWorkload::ALL {
            let unique = format!("{}-warm-up", self.nonce);
            self.ovsr(workload, unique, WARM_UP)?;
        }
        Ok(())
    }

    /// Every workload on both sides, round after round, flipping which side goes
    /// first each round.
    fn run_rounds(&self, rounds: usize) -> Result<BTreeMap<StoreWorkload, WorkloadSamples>> {
        let mut samples: BTreeMap<StoreWorkload, WorkloadSamples> = BTreeMap::new();
        for index in 0..rounds {
            let ovsr_first = index % 2 == 0;
            for workload in StoreWorkload::ALL {
                let sides = samples.entry(workload).or_default();
                for ovsr_turn in [ovsr_first, !ovsr_first] {
                    if ovsr_turn {
                        let unique = format!("{}-{index}", self.nonce);
                        sides.ovsr.push(self.ovsr(workload, unique, self.round)?);
                    } else {
                        let script = &self.scripts[&workload];
                        sides
                            .pgbench
                            .push(self.pgbench.run(script, self.pgbench_round)?);
                    }
                }
            }
            eprintln!("round {}: {}", index + 1, round_line(&samples, index));
        }
        Ok(samples)
    }

    fn ovsr(&self, workload: StoreWorkload, unique: String, time: Duration) -> Result<RoundSample> {
        let calls = match self.reads.get(&workload) {
            Some(calls) => Arc::clone(calls),
            None => Arc::new(OvsrCalls::register(self.callers, unique)),
        };
        let timed = calls::closed_loop(&self.channel, calls, self.callers, time);
        self.runtime.block_on(timed)
    }
}

/// Fails, showing the plans, when a keyed lookup or keyset page reads a whole table.
fn refuse_full_scans(plans: &[explain::Plan]) -> Result<()> {
    let full_scans: Vec<String> = plans
        .iter()
        .filter(|plan| plan.scans_an_indexed_table())
        .map(|plan| format!("{} ({}):\n{}", plan.workload, plan.statement, plan.text))
        .collect();
    if !full_scans.is_empty() {
        let plans = full_scans.join("\n\n");
        bail!("a keyed lookup or keyset page reads a whole table (Seq Scan):\n{plans}");
    }
    Ok(())
}

async fn start_server(
    url: &str,
    pool_size: u32,
    data_dir: &Path,
) -> Result<ovsr_server::RunningServer> {
    let mut config = ovsr_server::ServeConfig::new(data_dir);
    config.database_url = Some(url.to_owned());
    // As many connections as callers, as pgbench has clients.
    config.database_pool_size = pool_size;
    // Every read goes to PostgreSQL: this measures the store, not the cache.
    config.cache_bytes = 0;
    ovsr_bench::start_server(config)
        .await
        .context("on PostgreSQL")
}

async fn connect(addr: SocketAddr) -> Result<Channel> {
    Ok(Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?)
}

/// The parameters the plans are explained with: the middle of the data set.
fn plan_inputs(
    shape: &Shape,
    reads: &BTreeMap<StoreWorkload, Arc<OvsrCalls>>,
    deep_page: &PageCursor,
) -> Result<PlanInputs> {
    let key = shape.version_key(shape.versions / 2);
    let digest = match reads.get(&StoreWorkload::GetByDigest).map(Arc::as_ref) {
        Some(OvsrCalls::Get(requests)) => requests.first().and_then(|r| r.schema.clone()),
        _ => None,
    };
    let Some(ovsr_proto::v1::schema_selector::Target::Digest(digest)) =
        digest.and_then(|selector| selector.target)
    else {
        bail!("no digest drawn to explain the digest lookup with");
    };
    Ok(PlanInputs {
        version: (
            dataset::namespace_of(key.schema),
            dataset::name_of(key.schema),
            key.version,
        ),
        digest,
        deep_after: (
            deep_page.after_namespace.clone(),
            deep_page.after_name.clone(),
        ),
        page_limit: PAGE_SIZE + 1,
        content: dataset::written_document("explain", "plan"),
    })
}

fn write_scripts(
    pgbench: &Pgbench,
    shape: &Shape,
    deep_page: &PageCursor,
) -> Result<BTreeMap<StoreWorkload, PgbenchScript>> {
    let mut written = BTreeMap::new();
    for workload in StoreWorkload::ALL {
        let source = scripts::script_for(workload, shape, deep_page);
        let script = pgbench.write_script(workload.as_str(), &source.text, source.defines)?;
        written.insert(workload, script);
    }
    Ok(written)
}

/// Each workload's ratio in round `index`, for progress.
fn round_line(samples: &BTreeMap<StoreWorkload, WorkloadSamples>, index: usize) -> String {
    let parts: Vec<String> = samples
        .iter()
        .filter_map(|(workload, sides)| {
            let (ovsr, pgbench) = (sides.ovsr.get(index)?, sides.pgbench.get(index)?);
            Some(format!(
                "{workload} {:.0}/{:.0}",
                ovsr.per_sec, pgbench.per_sec
            ))
        })
        .collect();
    format!("OVSR/pgbench per second: {}", parts.join(", "))
}

/// Different in every run, so registered content never repeats across runs.
fn run_nonce() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("{nanos:x}")
}

/// The command as run, with the database URL shown without its password.
fn command_line(options: &Options) -> String {
    let mut command = "cargo run --release -p ovsr-bench --bin store --".to_owned();
    command.push_str(&format!(" --versions {}", options.versions));
    command.push_str(&format!(" --concurrency {}", options.concurrency));
    command.push_str(&format!(" --rounds {}", options.rounds));
    command.push_str(&format!(" --round-ms {}", options.round_ms));
    command.push_str(&format!(" --seed {}", options.seed));
    if options.database_url != DEFAULT_DATABASE_URL {
        let target = database::describe_target(&options.database_url);
        command.push_str(&format!(" --database-url postgres://{target}"));
    }
    command
}
