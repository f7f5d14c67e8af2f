//! The results: one table for people, one JSON document for tools.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ovsr_validate::Engine;
use serde::Serialize;

use crate::Workload;
use crate::ajv::{AjvResults, ProbedCase};
use crate::check::{Checked, EngineTally};
use crate::corpus::Corpus;
use crate::measure::{Samples, WorkloadPlan, engine_slot, median, median_ratio};

const TABLE_HEADER: &str = "\
| engine | workload | docs/s flag | docs/s basic | compile ms | flag vs boon \
| compile vs boon | flag vs ajv |
|---|---|---:|---:|---:|---:|---:|---:|
";

/// How to read the tables, appended to the Markdown report.
const NOTES: &str = "
How to read this:

- docs/s is documents validated per second on one core over the whole workload (every
  document once per sweep), so the slowest schemas weigh most. \"flag\" answers yes/no
  (ajv: stop at the first error); \"basic\" lists every failure (ajv: `allErrors: true`).
- \"vs boon\" is the median of the per-round ratios, boon and jsonschema alternating
  first. \"vs ajv\" divides medians: ajv runs in its own Node process after the Rust rounds.
- Compile is every schema of the workload compiled once with its references resolved
  from memory, through `CompiledSchema::compile` (all passes included) for the Rust
  engines. ajv's is one sample per schema on a warm instance per draft, its first
  validation included, since V8 compiles ajv's generated code on that call.
- Format assertion is off everywhere, as in the server's default, except that boon
  always asserts formats in drafts 4 to 7.
- Documents that `excluded.tsv` lists are skipped; `format_dependent.tsv` ones are
  timed but left out of right/wrong.
";

/// One line of the table: an engine on a workload.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `boon`, `jsonschema` or `ajv`.
    pub engine: String,
    /// Which workload.
    pub workload: Workload,
    /// Median documents per second, "flag" output (ajv: first error).
    pub flag_docs_per_sec: f64,
    /// Median documents per second, "basic" output (ajv: all errors).
    pub basic_docs_per_sec: f64,
    /// Median milliseconds to compile the workload's schemas once each.
    pub compile_ms: f64,
    /// Median of the per-round flag throughput ratios against boon.
    pub flag_vs_boon: Option<f64>,
    /// Median of the per-round compile time ratios against boon.
    pub compile_vs_boon: Option<f64>,
    /// Flag throughput against ajv's (ratio of medians; separate processes).
    pub flag_vs_ajv: Option<f64>,
}

/// How one engine did on the corpus, ajv included.
#[derive(Debug, Clone, Serialize)]
pub struct Conformance {
    /// `boon`, `jsonschema` or `ajv`.
    pub engine: String,
    /// Schemas compiled, of those with documents.
    pub compiled: usize,
    /// Schemas refused, by kind of reason.
    pub refused: BTreeMap<String, usize>,
    /// Documents answered as expected, format-dependent ones aside.
    pub right: usize,
    /// Documents answered otherwise.
    pub wrong: usize,
    /// Milliseconds to compile every schema once (all schemas it compiled or refused).
    pub compile_all_ms: Option<f64>,
}

/// A schema an engine would not compile.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// `boon`, `jsonschema` or `ajv`.
    pub engine: String,
    /// The schema's name.
    pub schema: String,
    /// The engine's reason, shortened.
    pub reason: String,
}

/// Everything a run produced.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The command that produced it.
    pub command: String,
    /// Cores the machine has (the benchmark itself uses one).
    pub cores: usize,
    /// `/proc/loadavg` at the start and at the end: other work skews ajv's numbers,
    /// which are not interleaved with the Rust engines'.
    pub load: [String; 2],
    /// Rounds and time per measurement.
    pub rounds: usize,
    /// Milliseconds per throughput measurement.
    pub measurement_ms: u128,
    /// Cases with documents, and those every engine compiled.
    pub cases: usize,
    /// Cases in the timed set.
    pub timed_cases: usize,
    /// Documents `excluded.tsv` removed.
    pub excluded_documents: usize,
    /// Per workload: cases, documents, bytes.
    pub workloads: Vec<WorkloadSummary>,
    /// Per engine.
    pub conformance: Vec<Conformance>,
    /// Every schema some engine refused.
    pub refusals: Vec<Refusal>,
    /// The table.
    pub rows: Vec<Row>,
    /// Every sample, for a second look.
    pub samples: BTreeMap<String, Samples>,
    /// ajv's own output, when it ran.
    pub ajv: Option<AjvResults>,
}

/// The size of one workload.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadSummary {
    /// Which.
    pub workload: Workload,
    /// Schemas.
    pub cases: usize,
    /// Documents per sweep.
    pub documents: usize,
    /// Bytes of JSON per sweep.
    pub document_bytes: usize,
}

/// The conformance line of each Rust engine.
pub fn rust_conformance(checked: &Checked) -> Vec<Conformance> {
    Engine::ALL
        .into_iter()
        .map(|engine| {
            let tally: &EngineTally = &checked.tallies[engine_slot(engine)];
            Conformance {
                engine: engine.to_string(),
                compiled: tally.compiled,
                refused: tally.refused.clone(),
                right: tally.right,
                wrong: tally.wrong,
                compile_all_ms: Some(tally.compile_time.as_secs_f64() * 1000.0),
            }
        })
        .collect()
}

/// ajv's conformance line, from its probe.
pub fn ajv_conformance(corpus: &Corpus, probed: &BTreeMap<usize, ProbedCase>) -> Conformance {
    let mut line = Conformance {
        engine: "ajv".to_owned(),
        compiled: 0,
        refused: BTreeMap::new(),
        right: 0,
        wrong: 0,
        compile_all_ms: Some(probed.values().map(|probe| probe.compile_ms).sum()),
    };
    for (id, probe) in probed {
        if !probe.compiled {
            *line.refused.entry("refused by ajv".to_owned()).or_default() += 1;
            continue;
        }
        line.compiled += 1;
        let documents = &corpus.cases[*id].documents;
        for (document, valid) in documents.iter().zip(&probe.valid) {
            if document.format_dependent {
                continue;
            }
            if *valid == document.expected_valid {
                line.right += 1;
            } else {
                line.wrong += 1;
            }
        }
    }
    line
}

/// Every refusal, Rust engines first, then ajv's.
pub fn refusals(
    corpus: &Corpus,
    checked: &Checked,
    probed: &BTreeMap<usize, ProbedCase>,
) -> Vec<Refusal> {
    let mut refusals = Vec::new();
    for engine in Engine::ALL {
        for (case, reason) in checked.refusals[engine_slot(engine)].iter().enumerate() {
            if let Some(reason) = reason {
                refusals.push(refusal(engine.as_str(), &corpus.cases[case].name, reason));
            }
        }
    }
    for (case, probe) in probed {
        if let Some(reason) = &probe.error {
            refusals.push(refusal("ajv", &corpus.cases[*case].name, reason));
        }
    }
    refusals
}

fn refusal(engine: &str, schema: &str, reason: &str) -> Refusal {
    const MAX_REASON_CHARS: usize = 200;
    let mut reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
    reason = reason.replace('|', "\\|").replace('\n', " ");
    Refusal {
        engine: engine.to_owned(),
        schema: schema.to_owned(),
        reason,
    }
}

/// The table's rows from the Rust samples and ajv's.
pub fn rows(samples: &BTreeMap<(Workload, Engine), Samples>, ajv: Option<&AjvResults>) -> Vec<Row> {
    let mut rows = Vec::new();
    for workload in Workload::ALL {
        let Some(boon) = samples.get(&(workload, Engine::Boon)) else {
            continue;
        };
        let ajv_samples = ajv.and_then(|results| results.samples(workload));
        let ajv_flag = ajv_samples.map(|s| median(&s.flag_docs_per_sec));
        for engine in Engine::ALL {
            let Some(sample) = samples.get(&(workload, engine)) else {
                continue;
            };
            let flag = median(&sample.flag_docs_per_sec);
            rows.push(Row {
                engine: engine.to_string(),
                workload,
                flag_docs_per_sec: flag,
                basic_docs_per_sec: median(&sample.basic_docs_per_sec),
                compile_ms: median(&sample.compile_ms),
                flag_vs_boon: Some(median_ratio(
                    &sample.flag_docs_per_sec,
                    &boon.flag_docs_per_sec,
                )),
                compile_vs_boon: Some(median_ratio(&sample.compile_ms, &boon.compile_ms)),
                flag_vs_ajv: ajv_flag.filter(|a| *a > 0.0).map(|a| flag / a),
            });
        }
        if let (Some(ajv_samples), Some(ajv_flag)) = (ajv_samples, ajv_flag) {
            rows.push(Row {
                engine: "ajv".to_owned(),
                workload,
                flag_docs_per_sec: ajv_flag,
                basic_docs_per_sec: median(&ajv_samples.all_errors_docs_per_sec),
                compile_ms: ajv_samples.compile_ms,
                flag_vs_boon: None,
                compile_vs_boon: None,
                flag_vs_ajv: Some(1.0),
            });
        }
    }
    rows
}

/// A summary line per workload.
pub fn summarize_workloads(corpus: &Corpus, plans: &[WorkloadPlan]) -> Vec<WorkloadSummary> {
    plans
        .iter()
        .map(|plan| WorkloadSummary {
            workload: plan.workload,
            cases: plan.entries.len(),
            documents: plan.documents(),
            document_bytes: plan.document_bytes(corpus),
        })
        .collect()
}

impl Report {
    /// The report as Markdown: the workloads, the conformance and the speed tables.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# Validation engines: boon, jsonschema, ajv\n");
        let _ = writeln!(md, "Command: `{}`  ", self.command);
        let _ = writeln!(
            md,
            "{} cores (one used); {} rounds of {} ms per measurement, engines interleaved.  ",
            self.cores, self.rounds, self.measurement_ms
        );
        let [start, end] = &self.load;
        let _ = writeln!(md, "Load average at start: {start}; at end: {end}.\n");
        let _ = writeln!(md, "## Workloads\n");
        let _ = writeln!(md, "| workload | schemas | documents | bytes per sweep |");
        let _ = writeln!(md, "|---|---:|---:|---:|");
        for w in &self.workloads {
            let (name, cases, docs) = (w.workload, w.cases, w.documents);
            let _ = writeln!(md, "| {name} | {cases} | {docs} | {} |", w.document_bytes);
        }
        let _ = writeln!(
            md,
            "\n## Conformance on the corpus ({} schemas with documents, generated ones \
             included; {} SchemaStore documents excluded)\n",
            self.cases, self.excluded_documents
        );
        let _ = writeln!(
            md,
            "| engine | compiled | refused | right | wrong | compile all |"
        );
        let _ = writeln!(md, "|---|---:|---|---:|---:|---:|");
        for c in &self.conformance {
            let refused: Vec<String> = c.refused.iter().map(|(k, n)| format!("{n} {k}")).collect();
            let compile = c
                .compile_all_ms
                .map_or("-".to_owned(), |ms| format!("{ms:.0} ms"));
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {compile} |",
                c.engine,
                c.compiled,
                refused.join(", "),
                c.right,
                c.wrong
            );
        }
        let _ = writeln!(md, "\n### Refused schemas\n");
        let _ = writeln!(md, "| engine | schema | reason |");
        let _ = writeln!(md, "|---|---|---|");
        for r in &self.refusals {
            let _ = writeln!(md, "| {} | {} | {} |", r.engine, r.schema, r.reason);
        }
        let timed = self.timed_cases;
        let _ = writeln!(
            md,
            "\n## Throughput and compile time ({timed} schemas every engine compiles)\n"
        );
        md.push_str(&self.table());
        md.push_str(NOTES);
        md
    }

    /// The speed table alone.
    pub fn table(&self) -> String {
        let mut md = String::new();
        md.push_str(TABLE_HEADER);
        for row in &self.rows {
            let _ = writeln!(
                md,
                "| {} | {} | {:.0} | {:.0} | {:.1} | {} | {} | {} |",
                row.engine,
                row.workload,
                row.flag_docs_per_sec,
                row.basic_docs_per_sec,
                row.compile_ms,
                ratio(row.flag_vs_boon),
                ratio(row.compile_vs_boon),
                ratio(row.flag_vs_ajv),
            );
        }
        md
    }
}

fn ratio(value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |r| format!("{r:.2}x"))
}
