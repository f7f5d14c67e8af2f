//! Runs `bench/ajv/bench.mjs` under Node on the same cases, when Node and the npm
//! packages are installed (`npm install --prefix bench/ajv`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use crate::Workload;
use crate::check::Checked;
use crate::corpus::Corpus;
use crate::measure::{Budget, WorkloadPlan};

/// Where the script and its `node_modules` live.
#[derive(Debug, Clone)]
pub struct AjvRunner {
    dir: PathBuf,
    scratch: PathBuf,
}

/// What the probe learnt about one case.
#[derive(Debug, Clone, Deserialize)]
pub struct ProbedCase {
    /// ajv compiled the schema.
    pub compiled: bool,
    /// Why not.
    #[serde(default)]
    pub error: Option<String>,
    /// Milliseconds to compile it (one sample), its first validation included.
    #[serde(default)]
    pub compile_ms: f64,
    /// Each document's answer, in the case's order.
    #[serde(default)]
    pub valid: Vec<bool>,
}

#[derive(Debug, Deserialize)]
struct ProbeOutput {
    cases: BTreeMap<usize, ProbedCase>,
}

/// ajv's samples on one workload, one per round.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AjvSamples {
    /// Documents per second, stopping at the first error (ajv's default).
    pub flag_docs_per_sec: Vec<f64>,
    /// Documents per second with `allErrors: true`, the nearest to "basic".
    pub all_errors_docs_per_sec: Vec<f64>,
    /// Milliseconds to compile every schema of the workload once, from the probe.
    #[serde(default)]
    pub compile_ms: f64,
}

/// ajv's timed results.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AjvResults {
    /// `process.version`.
    pub node: String,
    /// ajv's version.
    pub ajv: String,
    /// Samples by workload name.
    pub workloads: BTreeMap<String, AjvSamples>,
}

impl AjvResults {
    /// The samples of `workload`, if ajv ran it.
    pub fn samples(&self, workload: Workload) -> Option<&AjvSamples> {
        self.workloads.get(workload.as_str())
    }
}

#[derive(Serialize)]
struct ManifestCase<'a> {
    id: usize,
    url: &'a str,
    schema: &'a Path,
    references: Vec<ManifestReference<'a>>,
    documents: Vec<&'a Path>,
}

#[derive(Serialize)]
struct ManifestReference<'a> {
    url: &'a str,
    path: &'a Path,
}

#[derive(Serialize)]
struct Manifest<'a> {
    mode: &'a str,
    rounds: usize,
    round_ms: u128,
    cases: Vec<ManifestCase<'a>>,
    workloads: &'a [WorkloadPlan],
}

impl AjvRunner {
    /// A runner, if `node` runs and the packages are installed in `dir`.
    pub fn find(dir: &Path, scratch: &Path) -> Option<Self> {
        let node = Command::new("node").arg("--version").output().ok()?;
        let installed = dir.join("node_modules/ajv/package.json").exists();
        (node.status.success() && installed).then(|| Self {
            dir: dir.to_path_buf(),
            scratch: scratch.to_path_buf(),
        })
    }

    /// Compiles `cases` once and answers each of their documents.
    pub fn probe(
        &self,
        corpus: &Corpus,
        checked: &Checked,
        cases: &[usize],
    ) -> Result<BTreeMap<usize, ProbedCase>> {
        let manifest = Manifest {
            mode: "probe",
            rounds: 0,
            round_ms: 0,
            cases: manifest_cases(corpus, checked, cases),
            workloads: &[],
        };
        let output: ProbeOutput = self.run(&manifest)?;
        Ok(output.cases)
    }

    /// Times every workload of `plans` for `budget`'s rounds; compile times come from
    /// `probed`.
    pub fn bench(
        &self,
        corpus: &Corpus,
        checked: &Checked,
        plans: &[WorkloadPlan],
        budget: Budget,
        probed: &BTreeMap<usize, ProbedCase>,
    ) -> Result<AjvResults> {
        let mut cases: Vec<usize> = plans
            .iter()
            .flat_map(|plan| plan.entries.iter().map(|(case, _)| *case))
            .collect();
        cases.sort_unstable();
        cases.dedup();
        let manifest = Manifest {
            mode: "bench",
            rounds: budget.rounds,
            round_ms: budget.per_measurement.as_millis(),
            cases: manifest_cases(corpus, checked, &cases),
            workloads: plans,
        };
        let mut results: AjvResults = self.run(&manifest)?;
        for plan in plans {
            let compile_ms = plan
                .entries
                .iter()
                .filter_map(|(case, _)| probed.get(case))
                .map(|probe| probe.compile_ms)
                .sum();
            if let Some(samples) = results.workloads.get_mut(plan.workload.as_str()) {
                samples.compile_ms = compile_ms;
            }
        }
        Ok(results)
    }

    fn run<T: for<'de> Deserialize<'de>>(&self, manifest: &Manifest<'_>) -> Result<T> {
        let path = self.scratch.join(format!("ajv-{}.json", manifest.mode));
        std::fs::write(&path, serde_json::to_vec(manifest)?)?;
        let output = Command::new("node")
            .arg(self.dir.join("bench.mjs"))
            .arg(&path)
            .output()
            .context("running node")?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!("ajv {} failed: {stderr}", manifest.mode);
        }
        serde_json::from_slice(&output.stdout).context("reading ajv's output")
    }
}

fn manifest_cases<'a>(
    corpus: &'a Corpus,
    checked: &'a Checked,
    cases: &[usize],
) -> Vec<ManifestCase<'a>> {
    cases
        .iter()
        .map(|&id| {
            let case = &corpus.cases[id];
            let references = checked.references[id]
                .iter()
                .map(|(url, path)| ManifestReference { url, path })
                .collect();
            ManifestCase {
                id,
                url: &case.url,
                schema: &case.schema_path,
                references,
                documents: case.documents.iter().map(|d| d.path.as_path()).collect(),
            }
        })
        .collect()
}
