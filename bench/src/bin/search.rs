//! Search through OVSR against Meilisearch queried directly, and against the embedded
//! index, with the same query mix in one run.
//!
//! `cargo run --release -p ovsr-bench --bin search [-- --concurrency C --rounds R
//! --round-ms MS]`
//!
//! Every SchemaStore schema is registered into two servers: one on a Meilisearch it
//! starts (the binary at `MEILI_BIN` or on `PATH`; without one that side is skipped,
//! saying so) and one on its embedded index. Both run without their page cache, so
//! every call reaches the index. The queries are the relevance test's catalog queries;
//! the direct side sends Meilisearch the very search request OVSR's backend sends.
//! Steps run closed loop with the same callers in flight, alternating their order
//! round by round. Writes `bench/results/search.{json,md}`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Parser;
use ovsr_bench::load::pairs::Side;
use ovsr_bench::load::target::GrpcUnary;
use ovsr_bench::measure::{load_average, median, median_ratio};
use ovsr_bench::search::{self, MeiliDirect, meili};
use ovsr_bench::store::RoundSample;
use ovsr_server::RunningServer;
use serde::Serialize;
use tonic::transport::{Channel, Endpoint};

/// How long each step runs untimed before the rounds.
const WARM_UP: Duration = Duration::from_millis(500);

#[derive(Debug, Parser)]
#[command(about = "Search through OVSR against direct Meilisearch queries and the embedded index")]
struct Options {
    /// Calls in flight on each side.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Timed rounds.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Milliseconds of each step in a round.
    #[arg(long, default_value_t = 3000)]
    round_ms: u64,
}

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Step {
    /// `Search` on OVSR over Meilisearch.
    OvsrMeili,
    /// The same searches sent to Meilisearch over its HTTP API.
    DirectMeili,
    /// `Search` on OVSR over its embedded index.
    OvsrEmbedded,
}

impl Step {
    fn describe(self) -> &'static str {
        match self {
            Self::OvsrMeili => "OVSR Search over Meilisearch",
            Self::DirectMeili => "Meilisearch HTTP search, direct",
            Self::OvsrEmbedded => "OVSR Search over the embedded index",
        }
    }
}

#[derive(Debug, Serialize)]
struct StepResult {
    step: Step,
    describe: &'static str,
    per_sec: Vec<f64>,
    median_per_sec: f64,
    median_p50_us: f64,
    median_p99_us: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    schemas: usize,
    queries: usize,
    concurrency: usize,
    rounds: usize,
    round_ms: u64,
    load_at_start: String,
    steps: Vec<StepResult>,
    /// OVSR over Meilisearch / direct Meilisearch, median of round ratios.
    ovsr_to_direct: Option<f64>,
    /// OVSR embedded / direct Meilisearch, median of round ratios.
    embedded_to_direct: Option<f64>,
    skipped: Vec<String>,
}

fn main() -> Result<()> {
    ovsr_bench::log_like_the_server();
    let options = Options::parse();
    if options.concurrency == 0 || options.rounds == 0 || options.round_ms == 0 {
        bail!("--concurrency, --rounds and --round-ms must be at least 1");
    }
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let results = bench_dir.join("results");
    std::fs::create_dir_all(&results)?;
    let schemas =
        search::load_schemas(&bench_dir.join("../../shared/corpora/schemastore/schemas"))?;
    let queries =
        search::load_queries(&bench_dir.join("../crates/search/tests/relevance_queries.tsv"))?;

    let servers = ovsr_bench::runtime(ovsr_bench::SERVER_THREADS)?;
    let client = ovsr_bench::runtime("bench-callers")?;
    let data = tempfile::tempdir()?;
    let mut skipped = Vec::new();
    let meili = match meili::binary() {
        Some(binary) => Some(meili::MeiliServer::start(binary)),
        None => {
            skipped.push("Meilisearch: no binary at MEILI_BIN or on PATH".to_owned());
            None
        }
    };

    let callers = client.handle();
    let concurrency = options.concurrency;
    let grpc_side = |step: Step, channel: Channel| {
        let target = GrpcUnary::new(&[channel], search::search_calls(&queries));
        (
            step,
            Side::closed_loop(step.describe(), callers, Arc::new(target), concurrency),
        )
    };
    let mut sides: Vec<(Step, Side)> = Vec::new();
    let mut channels: Vec<(Step, Channel)> = Vec::new();
    let mut running = Vec::new();
    if let Some(meili) = &meili {
        let dir = data.path().join("meili");
        let config = search::meili_config(&dir, options.concurrency, meili);
        let server = servers.block_on(ovsr_bench::start_server(config))?;
        let channel = client.block_on(connect(&server))?;
        running.push(server);
        channels.push((Step::OvsrMeili, channel.clone()));
        sides.push(grpc_side(Step::OvsrMeili, channel));
        let direct = Arc::new(MeiliDirect::new(meili, &queries));
        let step = Step::DirectMeili;
        sides.push((
            step,
            Side::closed_loop(step.describe(), callers, direct, concurrency),
        ));
    }
    let dir = data.path().join("embedded");
    let server = servers.block_on(ovsr_bench::start_server(search::server_config(
        &dir,
        options.concurrency,
    )))?;
    let channel = client.block_on(connect(&server))?;
    running.push(server);
    channels.push((Step::OvsrEmbedded, channel.clone()));
    sides.push(grpc_side(Step::OvsrEmbedded, channel));

    let mut indexed = 0;
    for (step, channel) in &channels {
        let registered = client.block_on(search::register_all(channel, &schemas))?;
        client.block_on(search::wait_indexed(channel, registered))?;
        eprintln!("{}: {registered} schemas indexed", step.describe());
        indexed = registered;
    }

    let round = Duration::from_millis(options.round_ms);
    let load_at_start = load_average();
    for (_, side) in &mut sides {
        side.run_round(WARM_UP)?;
    }
    let mut samples: Vec<Vec<RoundSample>> = vec![Vec::new(); sides.len()];
    for r in 0..options.rounds {
        let mut order: Vec<usize> = (0..sides.len()).collect();
        if r % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let sample = sides[i].1.run_round(round)?;
            samples[i].push(sample);
        }
        eprintln!("round {} of {} done", r + 1, options.rounds);
    }
    for server in running {
        servers.block_on(server.shutdown())?;
    }
    drop(meili);

    let steps: Vec<StepResult> = sides
        .iter()
        .zip(&samples)
        .map(|((step, _), samples)| summarize(*step, samples))
        .collect();
    let rate = |step: Step| steps.iter().find(|s| s.step == step).map(|s| &s.per_sec);
    let ratio = |a: Step, b: Step| Some(median_ratio(rate(a)?, rate(b)?));
    let report = Report {
        schemas: indexed,
        queries: queries.len(),
        concurrency: options.concurrency,
        rounds: options.rounds,
        round_ms: options.round_ms,
        load_at_start,
        ovsr_to_direct: ratio(Step::OvsrMeili, Step::DirectMeili),
        embedded_to_direct: ratio(Step::OvsrEmbedded, Step::DirectMeili),
        steps,
        skipped,
    };
    let markdown = markdown(&report);
    std::fs::write(
        results.join("search.json"),
        serde_json::to_vec_pretty(&report)?,
    )?;
    std::fs::write(results.join("search.md"), &markdown)?;
    println!("{markdown}");
    Ok(())
}

async fn connect(server: &RunningServer) -> Result<Channel> {
    let endpoint = Endpoint::from_shared(format!("http://{}", server.local_addr()))?;
    Ok(endpoint.tcp_nodelay(true).connect().await?)
}

fn summarize(step: Step, samples: &[RoundSample]) -> StepResult {
    let per_sec: Vec<f64> = samples.iter().map(|s| s.per_sec).collect();
    let p50: Vec<f64> = samples.iter().map(|s| s.p50_us).collect();
    let p99: Vec<f64> = samples.iter().map(|s| s.p99_us).collect();
    StepResult {
        step,
        describe: step.describe(),
        median_per_sec: median(&per_sec),
        median_p50_us: median(&p50),
        median_p99_us: median(&p99),
        per_sec,
    }
}

fn markdown(report: &Report) -> String {
    let mut out = format!(
        "# Search benchmark\n\n{} schemas, {} queries, {} in flight, {} rounds of {} ms; \
         load at start {}.\n\n| step | calls/s | p50 µs | p99 µs |\n|---|---:|---:|---:|\n",
        report.schemas,
        report.queries,
        report.concurrency,
        report.rounds,
        report.round_ms,
        report.load_at_start
    );
    for step in &report.steps {
        out.push_str(&format!(
            "| {} | {:.0} | {:.0} | {:.0} |\n",
            step.describe, step.median_per_sec, step.median_p50_us, step.median_p99_us
        ));
    }
    if let Some(ratio) = report.ovsr_to_direct {
        out.push_str(&format!(
            "\nOVSR over Meilisearch / direct Meilisearch: **{ratio:.2}** (goal 0.80)\n"
        ));
    }
    if let Some(ratio) = report.embedded_to_direct {
        out.push_str(&format!("OVSR embedded / direct Meilisearch: {ratio:.2}\n"));
    }
    for skipped in &report.skipped {
        out.push_str(&format!("\nskipped: {skipped}\n"));
    }
    out
}
