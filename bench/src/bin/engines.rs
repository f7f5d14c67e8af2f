//! Compares the validation engines (boon, jsonschema) with each other and with ajv.
//!
//! `cargo run --release -p ovsr-bench --bin engines [-- --rounds N --round-ms MS --no-ajv]`
//!
//! Reads SchemaStore from `shared/corpora/schemastore` beside the repository, checks
//! every schema's documents on every engine, then times validation and compilation on
//! one core in interleaved rounds. Writes `bench/results/engines.{json,md}`. ajv runs
//! when `node` is on the PATH and `npm install --prefix bench/ajv` has been done.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use ovsr_bench::ajv::AjvRunner;
use ovsr_bench::check::check_corpus;
use ovsr_bench::corpus::Corpus;
use ovsr_bench::measure::{Budget, plan_workloads, run_rounds};
use ovsr_bench::report::{self, Report};

const DEFAULT_ROUNDS: usize = 5;
const DEFAULT_ROUND_MS: u64 = 300;

fn main() -> Result<()> {
    let args = Args::parse()?;
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schemastore = bench_dir.join("../../shared/corpora/schemastore");
    let results = bench_dir.join("results");
    let scratch = results.join("scratch");
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {scratch:?}"))?;
    let started = Instant::now();
    let load_at_start = ovsr_bench::measure::load_average();

    let corpus = Corpus::load(&schemastore, &scratch.join("generated"))?;
    eprintln!(
        "{:>6.1?} checking {} schemas on every engine",
        started.elapsed(),
        corpus.cases.len()
    );
    let checked = check_corpus(&corpus);
    let mut timed: Vec<usize> = (0..corpus.cases.len())
        .filter(|&case| checked.validators.iter().all(|v| v[case].is_some()))
        .collect();

    let ajv = if args.no_ajv {
        None
    } else {
        AjvRunner::find(&bench_dir.join("ajv"), &scratch)
    };
    let mut conformance = report::rust_conformance(&checked);
    let mut probed = BTreeMap::new();
    if let Some(ajv) = &ajv {
        eprintln!("{:>6.1?} probing ajv", started.elapsed());
        let all: Vec<usize> = (0..corpus.cases.len()).collect();
        probed = ajv.probe(&corpus, &checked, &all)?;
        conformance.push(report::ajv_conformance(&corpus, &probed));
        timed.retain(|case| probed.get(case).is_some_and(|p| p.compiled));
    } else {
        eprintln!("ajv skipped: needs node and `npm install --prefix bench/ajv`");
    }

    let plans = plan_workloads(&corpus, &timed);
    let budget = Budget {
        rounds: args.rounds,
        per_measurement: Duration::from_millis(args.round_ms),
    };
    eprintln!(
        "{:>6.1?} timing {} schemas, {} rounds",
        started.elapsed(),
        timed.len(),
        budget.rounds
    );
    let samples = run_rounds(&corpus, &checked, &plans, budget);
    let ajv_results = match &ajv {
        Some(ajv) => {
            eprintln!("{:>6.1?} timing ajv", started.elapsed());
            Some(ajv.bench(&corpus, &checked, &plans, budget, &probed)?)
        }
        None => None,
    };

    let report = Report {
        command: args.command(),
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        load: [load_at_start, ovsr_bench::measure::load_average()],
        rounds: budget.rounds,
        measurement_ms: budget.per_measurement.as_millis(),
        cases: corpus.cases.len(),
        timed_cases: timed.len(),
        excluded_documents: corpus.excluded_documents,
        workloads: report::summarize_workloads(&corpus, &plans),
        conformance,
        refusals: report::refusals(&corpus, &checked, &probed),
        rows: report::rows(&samples, ajv_results.as_ref()),
        samples: samples
            .iter()
            .map(|((workload, engine), s)| (format!("{workload}/{engine}"), s.clone()))
            .collect(),
        ajv: ajv_results,
    };
    write_results(&results, &report)?;
    println!("{}", report.markdown());
    eprintln!("done in {:.0?}", started.elapsed());
    Ok(())
}

fn write_results(dir: &Path, report: &Report) -> Result<()> {
    let json: PathBuf = dir.join("engines.json");
    std::fs::write(&json, serde_json::to_vec_pretty(report)?)?;
    std::fs::write(dir.join("engines.md"), report.markdown())?;
    eprintln!("wrote {json:?} and engines.md");
    Ok(())
}

/// Command-line options.
struct Args {
    rounds: usize,
    round_ms: u64,
    no_ajv: bool,
}

impl Args {
    fn parse() -> Result<Self> {
        let mut args = Self {
            rounds: DEFAULT_ROUNDS,
            round_ms: DEFAULT_ROUND_MS,
            no_ajv: false,
        };
        let mut given = std::env::args().skip(1);
        while let Some(flag) = given.next() {
            match flag.as_str() {
                "--rounds" => args.rounds = value_of(&flag, given.next())?,
                "--round-ms" => args.round_ms = value_of(&flag, given.next())?,
                "--no-ajv" => args.no_ajv = true,
                other => bail!("unknown argument {other}; try --rounds, --round-ms, --no-ajv"),
            }
        }
        Ok(args)
    }

    fn command(&self) -> String {
        let mut command = "cargo run --release -p ovsr-bench --bin engines".to_owned();
        if self.rounds != DEFAULT_ROUNDS || self.round_ms != DEFAULT_ROUND_MS || self.no_ajv {
            command.push_str(" --");
            if self.rounds != DEFAULT_ROUNDS {
                command.push_str(&format!(" --rounds {}", self.rounds));
            }
            if self.round_ms != DEFAULT_ROUND_MS {
                command.push_str(&format!(" --round-ms {}", self.round_ms));
            }
            if self.no_ajv {
                command.push_str(" --no-ajv");
            }
        }
        command
    }
}

fn value_of<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T> {
    let value = value.with_context(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| anyhow::anyhow!("{flag}: '{value}' is not a number"))
}
