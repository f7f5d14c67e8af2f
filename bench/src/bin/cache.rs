//! GetSchema from the cache layers against the floors they cannot beat, in one run.
//!
//! `cargo run --release -p ovsr-bench --bin cache [-- --concurrency C --rounds R
//! --round-ms MS --schemas N --redis-url URL --no-redis --seed S]`
//!
//! - Cached: the server on its embedded SQLite store with the default in-process
//!   cache, against a tonic `SchemaService` whose `GetSchema` answers the same bytes
//!   from a map, GetSchema by exact version and by latest over SchemaStore schemas.
//! - Redis path: a second server with Redis and an in-process layer too small to hold
//!   anything, against redis-benchmark's GETs on the same Redis (skipped, saying so,
//!   when Redis or redis-benchmark is missing).
//!
//! Every step runs closed loop with the same number in flight; rounds alternate the
//! order. `/metrics` is read around each step, and the run fails when the cached steps
//! did not hit the in-process layer (or the Redis steps Redis). Everything this run
//! wrote to Redis is deleted at the end. Writes `bench/results/cache.{json,md}`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::Parser;
use ovsr_bench::cache::calls::{LoopResult, closed_loop};
use ovsr_bench::cache::cleanup::Cleanup;
use ovsr_bench::cache::metrics::{self, CacheCounters};
use ovsr_bench::cache::noop::{self, NoopSchemaService};
use ovsr_bench::cache::redis::{RedisConnection, RedisTarget};
use ovsr_bench::cache::redis_benchmark::RedisBenchmark;
use ovsr_bench::cache::report::{CacheReport, StepSamples};
use ovsr_bench::cache::schemas::{self, Served};
use ovsr_bench::cache::{Lookup, Side, Step};
use ovsr_bench::corpus::Corpus;
use ovsr_bench::store::RoundSample;
use ovsr_proto::v1::GetSchemaRequest;
use ovsr_server::{RunningServer, ServeConfig};
use tokio::runtime::Runtime;
use tonic::transport::Channel;

const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// The in-process budget of the Redis-path server. moka stores nothing at all with
/// no capacity; a budget of a few hundred bytes would still answer some reads, as
/// moka keeps an entry too large for it until its next maintenance.
const REDIS_PATH_CACHE_BYTES: u64 = 0;
/// Requests drawn per lookup kind; callers take them in turn.
const REQUESTS_PER_LOOKUP: usize = 4096;
/// How long each gRPC step runs untimed before the rounds.
const WARM_UP: Duration = Duration::from_millis(300);
/// redis-benchmark's requests in its first, calibrating run.
const CALIBRATION_REQUESTS: u64 = 10_000;
/// Lifetime of the benchmark's own Redis keys, in case a run dies before it deletes
/// them.
const TOOL_KEY_TTL_SECS: u64 = 3600;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "GetSchema from the cache layers against a no-op server and redis-benchmark")]
struct Options {
    /// Calls in flight on each side.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Timed rounds.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Milliseconds of each step in a round.
    #[arg(long, default_value_t = 2000)]
    round_ms: u64,
    /// Most schemas registered and read.
    #[arg(long, default_value_t = 200)]
    schemas: usize,
    /// The Redis of the Redis path and of redis-benchmark.
    #[arg(
        long,
        env = "OVSR_BENCH_REDIS_URL",
        default_value = DEFAULT_REDIS_URL,
        hide_env_values = true
    )]
    redis_url: String,
    /// Leave out the Redis path.
    #[arg(long)]
    no_redis: bool,
    /// Seed of the keys drawn.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The Redis side, once set up.
struct RedisSide {
    channel: Channel,
    metrics: SocketAddr,
    tool: Option<RedisBenchmark>,
}

/// What the timed rounds need.
struct Harness<'a> {
    runtime: &'a Runtime,
    callers: usize,
    round: Duration,
    requests: BTreeMap<Lookup, Arc<[GetSchemaRequest]>>,
    cached: (Channel, SocketAddr),
    noop: Channel,
    redis: Option<RedisSide>,
}

/// One step's figures in one round.
struct Measured {
    sample: RoundSample,
    calls: u64,
    counters: CacheCounters,
    redis_gets_per_sec: Option<f64>,
}

fn main() -> Result<()> {
    ovsr_bench::log_like_the_server();
    let options = Options::parse();
    if options.concurrency == 0 || options.rounds == 0 || options.round_ms == 0 {
        bail!("--concurrency, --rounds and --round-ms must be at least 1");
    }
    if options.schemas == 0 {
        bail!("--schemas must be at least 1");
    }
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let results = bench_dir.join("results");
    let scratch = results.join("scratch");
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {scratch:?}"))?;

    // The servers get their own threads; the callers and the set-up run here.
    let servers = ovsr_bench::runtime(ovsr_bench::SERVER_THREADS)?;
    let client = ovsr_bench::runtime("bench-callers")?;
    // Outlives the servers, which stop only in the clean-up.
    let data_dir = tempfile::tempdir()?;
    let mut cleanup = Cleanup::default();
    let dirs = (bench_dir, data_dir.path());
    let outcome = run(&options, dirs, &servers, &client, &mut cleanup);
    let cleaned = cleanup.finish(&servers, &client);
    let report = outcome?;
    cleaned?;

    let markdown = report.markdown();
    std::fs::write(
        results.join("cache.json"),
        serde_json::to_vec_pretty(&report)?,
    )?;
    std::fs::write(results.join("cache.md"), &markdown)?;
    println!("{markdown}");
    let problems = report.store_bound();
    if !problems.is_empty() {
        bail!("the cache did not answer:\n{}", problems.join("\n"));
    }
    Ok(())
}

fn run(
    options: &Options,
    (bench_dir, data_dir): (&Path, &Path),
    servers: &Runtime,
    client: &Runtime,
    cleanup: &mut Cleanup,
) -> Result<CacheReport> {
    let load_at_start = ovsr_bench::measure::load_average();
    let run_id = ovsr_bench::cache::run_id();
    let namespace = format!("cache-bench-{run_id}");
    let corpus = Corpus::load(
        &bench_dir.join("../../shared/corpora/schemastore"),
        &bench_dir.join("results/scratch/generated"),
    )?;
    let candidates = schemas::candidates(&corpus, &run_id)?;

    let cached_dir = data_dir.join("cached");
    let server = servers.block_on(start_server(ServeConfig::new(&cached_dir)))?;
    let cached_addr = server.local_addr();
    cleanup.stop_server(server);
    let cached_channel = client.block_on(connect(cached_addr))?;
    let registering =
        schemas::register_first(&cached_channel, &namespace, &candidates, options.schemas);
    let served = client.block_on(registering)?;
    if served.is_empty() {
        bail!("no schema of the corpus registered; is shared/corpora/schemastore there?");
    }
    let mean_bytes = schemas::mean_served_bytes(&served);
    eprintln!(
        "{} schemas registered, mean content {mean_bytes} bytes",
        served.len()
    );

    // Reading every answer also warms the cached server.
    let answers = client.block_on(schemas::answers(&cached_channel, &namespace, &served))?;
    let noop_addr = servers.block_on(noop::start(NoopSchemaService::new(answers)))?;
    let noop_channel = client.block_on(connect(noop_addr))?;

    let mut skipped = Vec::new();
    let redis = if options.no_redis {
        skipped.push("Redis path and redis-benchmark: --no-redis".to_owned());
        None
    } else {
        let side = RedisSetup {
            options,
            namespace: &namespace,
            run_id: &run_id,
            served: &served,
            data_dir: &data_dir.join("redis"),
        };
        match side.start(servers, client, cleanup, &mut skipped) {
            Ok(side) => Some(side),
            Err(err) => {
                skipped.push(format!("Redis path and redis-benchmark: {err:#}"));
                None
            }
        }
    };
    for line in &skipped {
        println!("skipped: {line}");
    }

    let requests = [Lookup::Exact, Lookup::Latest]
        .into_iter()
        .map(|lookup| {
            let seed = options.seed ^ lookup as u64;
            let drawn = schemas::requests(&namespace, &served, lookup, seed, REQUESTS_PER_LOOKUP);
            (lookup, Arc::from(drawn))
        })
        .collect();
    let harness = Harness {
        runtime: client,
        callers: options.concurrency,
        round: Duration::from_millis(options.round_ms),
        requests,
        cached: (cached_channel, cached_addr),
        noop: noop_channel,
        redis,
    };
    let mut tool_rate = harness.warm_up()?;
    let samples = harness.run_rounds(options.rounds, &mut tool_rate)?;

    let (rows, ratios) = CacheReport::summarize(&samples);
    let redis_target = RedisTarget::parse(&options.redis_url).map(|target| target.to_string());
    Ok(CacheReport {
        command: command_line(options),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        load: [load_at_start, ovsr_bench::measure::load_average()],
        concurrency: options.concurrency,
        rounds: options.rounds,
        round_ms: options.round_ms,
        schemas: served.len(),
        mean_served_bytes: mean_bytes,
        redis_path_cache_bytes: REDIS_PATH_CACHE_BYTES,
        redis: match (&harness.redis, redis_target) {
            (Some(_), Ok(target)) => target,
            _ => "not used".to_owned(),
        },
        skipped,
        rows,
        ratios,
        samples,
    })
}

/// How the Redis side is set up.
struct RedisSetup<'a> {
    options: &'a Options,
    namespace: &'a str,
    run_id: &'a str,
    served: &'a [Served],
    data_dir: &'a Path,
}

impl RedisSetup<'_> {
    /// Starts the Redis-path server, registers and warms the schemas on it, and sets
    /// redis-benchmark's keys; a missing redis-benchmark only skips its part.
    fn start(
        &self,
        servers: &Runtime,
        client: &Runtime,
        cleanup: &mut Cleanup,
        skipped: &mut Vec<String>,
    ) -> Result<RedisSide> {
        let target = RedisTarget::parse(&self.options.redis_url)?;
        let mut connection = client.block_on(RedisConnection::connect(&target))?;
        cleanup.forget_server_writes(&target, self.namespace, self.served);

        let mut config = ServeConfig::new(self.data_dir);
        config.redis_url = Some(self.options.redis_url.clone());
        config.cache_bytes = REDIS_PATH_CACHE_BYTES;
        // The read counts in a shared Redis may name other people's schemas.
        config.cache_warm_schemas = 0;
        let server = servers.block_on(start_server(config))?;
        let metrics = server.local_addr();
        cleanup.stop_server(server);
        let channel = client.block_on(connect(metrics))?;
        let registering = schemas::register_again(&channel, self.namespace, self.served);
        client.block_on(registering)?;
        // Fills Redis with every pointer (latest is only written on a read).
        client.block_on(schemas::answers(&channel, self.namespace, self.served))?;

        let prefix = format!("ovsr-bench:cache:{}:", self.run_id);
        let clients = self.options.concurrency;
        let keyspace = self.served.len();
        let tool = RedisBenchmark::locate(target.clone(), clients, prefix, keyspace);
        match &tool {
            Some(tool) => {
                let keys = tool.keys();
                cleanup.delete_keys(&target, keys.iter().cloned());
                let value = vec![b'x'; schemas::mean_served_bytes(self.served)];
                let setting = connection.set_all(&keys, &value, TOOL_KEY_TTL_SECS);
                client.block_on(setting)?;
            }
            None => skipped.push("redis-benchmark: not on PATH".to_owned()),
        }
        Ok(RedisSide {
            channel,
            metrics,
            tool,
        })
    }
}

impl Harness<'_> {
    /// Runs every gRPC step briefly, so connections and caches are warm, and
    /// redis-benchmark once; its rate sizes its rounds.
    fn warm_up(&self) -> Result<f64> {
        let mut tool_rate = 0.0;
        for step in Step::ALL {
            if let Some(measured) = self.measure(step, WARM_UP, &mut tool_rate)? {
                tool_rate = match step {
                    Step::RedisBenchmark => measured.sample.per_sec,
                    _ => tool_rate,
                };
            }
        }
        Ok(tool_rate)
    }

    /// Every step, round after round, reversing the order every other round.
    fn run_rounds(
        &self,
        rounds: usize,
        tool_rate: &mut f64,
    ) -> Result<BTreeMap<Step, StepSamples>> {
        let mut samples: BTreeMap<Step, StepSamples> = BTreeMap::new();
        for index in 0..rounds {
            let mut steps = Step::ALL.to_vec();
            if index % 2 == 1 {
                steps.reverse();
            }
            let mut line = Vec::new();
            for step in steps {
                let Some(measured) = self.measure(step, self.round, tool_rate)? else {
                    continue;
                };
                line.push(format!("{step} {:.0}/s", measured.sample.per_sec));
                let entry = samples.entry(step).or_default();
                entry.rounds.push(measured.sample);
                entry.calls += measured.calls;
                entry.counters += measured.counters;
                entry.redis_gets_per_sec.extend(measured.redis_gets_per_sec);
            }
            eprintln!("round {}: {}", index + 1, line.join(", "));
        }
        Ok(samples)
    }

    /// One step for `time`; `None` when its side is not set up.
    fn measure(&self, step: Step, time: Duration, tool_rate: &mut f64) -> Result<Option<Measured>> {
        let (channel, metrics) = match step.side() {
            Side::Cached => (&self.cached.0, Some(self.cached.1)),
            Side::Noop => (&self.noop, None),
            Side::RedisPath => match &self.redis {
                Some(redis) => (&redis.channel, Some(redis.metrics)),
                None => return Ok(None),
            },
            Side::RedisBenchmark => {
                let Some(tool) = self.redis.as_ref().and_then(|r| r.tool.as_ref()) else {
                    return Ok(None);
                };
                return self.measure_tool(tool, time, tool_rate).map(Some);
            }
        };
        let lookup = step.lookup().context("a gRPC step without requests")?;
        let requests = Arc::clone(&self.requests[&lookup]);
        let before = self.scrape(metrics)?;
        let timed = closed_loop(channel, requests, self.callers, time);
        let LoopResult { sample, calls } = self.runtime.block_on(timed)?;
        let counters = self.scrape(metrics)? - before;
        // GETs per call at the calls' own rate.
        let redis_gets_per_sec = (step.side() == Side::RedisPath && calls > 0)
            .then(|| counters.redis_gets() as f64 / calls as f64 * sample.per_sec);
        Ok(Some(Measured {
            sample,
            calls,
            counters,
            redis_gets_per_sec,
        }))
    }

    /// redis-benchmark with as many requests as its last rate fits in `time`.
    fn measure_tool(
        &self,
        tool: &RedisBenchmark,
        time: Duration,
        rate: &mut f64,
    ) -> Result<Measured> {
        let requests = if *rate > 0.0 {
            ((*rate * time.as_secs_f64()) as u64).max(1000)
        } else {
            CALIBRATION_REQUESTS
        };
        let sample = tool.run(requests)?;
        *rate = sample.per_sec;
        Ok(Measured {
            sample,
            calls: requests,
            counters: CacheCounters::default(),
            redis_gets_per_sec: None,
        })
    }

    fn scrape(&self, metrics: Option<SocketAddr>) -> Result<CacheCounters> {
        match metrics {
            Some(addr) => self.runtime.block_on(metrics::scrape(addr)),
            None => Ok(CacheCounters::default()),
        }
    }
}

async fn start_server(mut config: ServeConfig) -> Result<RunningServer> {
    // The benchmark's channels are gone by shutdown; nothing is left to wait for.
    config.shutdown_grace = Duration::from_secs(1);
    ovsr_bench::start_server(config).await
}

async fn connect(addr: SocketAddr) -> Result<Channel> {
    Ok(Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?)
}

/// The command as run.
fn command_line(options: &Options) -> String {
    let mut command = "cargo run --release -p ovsr-bench --bin cache --".to_owned();
    command.push_str(&format!(" --concurrency {}", options.concurrency));
    command.push_str(&format!(" --rounds {}", options.rounds));
    command.push_str(&format!(" --round-ms {}", options.round_ms));
    command.push_str(&format!(" --schemas {}", options.schemas));
    command.push_str(&format!(" --seed {}", options.seed));
    if options.no_redis {
        command.push_str(" --no-redis");
    } else if options.redis_url != DEFAULT_REDIS_URL {
        command.push_str(" --redis-url <given>");
    }
    command
}
