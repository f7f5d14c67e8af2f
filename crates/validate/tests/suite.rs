//! The official JSON Schema Test Suite, run in-process on every engine.
//!
//! Reads `shared/corpora/jsts` beside the repository. Remotes are served as
//! `http://localhost:1234/<path>` by a resolver that reads `remotes/`; every other URL
//! is outside the registry. Each case is checked with both output formats, and counts
//! only if both give the expected answer.
//!
//! Run with `--nocapture` to see the table; set `JSTS_FAILURES=<engine>` to list that
//! engine's failing cases.

// Test helpers unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

use async_trait::async_trait;
use ovsr_validate::{
    CompileOptions, CompiledSchema, Dialect, Engine, OutputFormat, RegistryResolver, Resolution,
};
use serde_json::Value;

const REMOTE_BASE: &str = "http://localhost:1234/";

/// Required cases an engine cannot pass for a reason outside our code:
/// (draft, file, group description, case description, reason). Empty: both engines
/// pass every required case.
const SKIPPED_REQUIRED: &[(&str, &str, &str, &str, &str)] = &[];

const DRAFTS: [(&str, Dialect); 5] = [
    ("draft4", Dialect::Draft4),
    ("draft6", Dialect::Draft6),
    ("draft7", Dialect::Draft7),
    ("draft2019-09", Dialect::Draft2019_09),
    ("draft2020-12", Dialect::Draft2020_12),
];

/// Which part of a draft's folder a file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    Required,
    Optional,
    Format,
}

impl Category {
    const ALL: [Category; 3] = [Category::Required, Category::Optional, Category::Format];

    fn folder(self) -> &'static str {
        match self {
            Self::Required => "",
            Self::Optional => "optional",
            Self::Format => "optional/format",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Optional => "optional",
            Self::Format => "format",
        }
    }
}

/// Serves the suite's `remotes/` folder, and nothing else.
struct Remotes {
    by_url: HashMap<String, Value>,
}

#[async_trait]
impl RegistryResolver for Remotes {
    async fn resolve(&self, url: &str) -> Result<Resolution, String> {
        if let Some(value) = self.by_url.get(url) {
            return Ok(Resolution::Found(value.clone()));
        }
        if url.starts_with(REMOTE_BASE) {
            return Ok(Resolution::Missing);
        }
        Ok(Resolution::Outside)
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    passed: usize,
    failed: usize,
}

/// One case that did not give the expected answer.
struct Failure {
    draft: &'static str,
    file: String,
    group: String,
    case: String,
    why: String,
}

type Tallies = BTreeMap<(usize, Category), Tally>;

#[test]
fn every_engine_passes_every_required_case_of_the_official_suite() {
    let root = suite_root();
    let remotes = load_remotes(&root.join("remotes"));
    let started = Instant::now();

    let runs: Vec<(Engine, Tallies, Vec<Failure>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = Engine::ALL
            .into_iter()
            .map(|engine| {
                let (root, remotes) = (&root, &remotes);
                scope.spawn(move || {
                    let (tallies, failures) = run_engine(engine, root, remotes);
                    (engine, tallies, failures)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    println!("{}", render_table(&runs));
    println!("suite ran in {:.1?}", started.elapsed());
    if let Ok(wanted) = std::env::var("JSTS_FAILURES") {
        for (engine, _, failures) in &runs {
            if engine.as_str() == wanted {
                print_failures(*engine, failures);
            }
        }
    }

    // Every engine, not only the default, since each stays selectable.
    for (engine, _, failures) in &runs {
        let required: Vec<String> = failures
            .iter()
            .filter(|f| f.file.split('/').count() == 1 && !is_skipped(f))
            .map(describe)
            .collect();
        assert!(
            required.is_empty(),
            "{engine} fails {} required cases:\n{}",
            required.len(),
            required.join("\n")
        );
    }
}

fn suite_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/jsts")
}

fn load_remotes(dir: &Path) -> Remotes {
    let mut by_url = HashMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(dir).unwrap().to_string_lossy();
            let url = format!("{REMOTE_BASE}{}", relative.replace('\\', "/"));
            by_url.insert(url, read_json(&path));
        }
    }
    Remotes { by_url }
}

fn run_engine(engine: Engine, root: &Path, remotes: &Remotes) -> (Tallies, Vec<Failure>) {
    let mut tallies = Tallies::new();
    let mut failures = Vec::new();
    for (index, (draft, dialect)) in DRAFTS.into_iter().enumerate() {
        for category in Category::ALL {
            let options = CompileOptions {
                assert_formats: category == Category::Format,
                default_dialect: dialect,
                engine,
            };
            let folder = root.join("tests").join(draft).join(category.folder());
            let tally = tallies.entry((index, category)).or_default();
            for path in json_files(&folder) {
                let file = path.strip_prefix(root.join("tests").join(draft)).unwrap();
                let file = file.to_string_lossy().into_owned();
                let groups = read_json(&path);
                for (n, group) in groups.as_array().unwrap().iter().enumerate() {
                    let url = format!("http://suite.test/{draft}/{file}/{n}.json");
                    let context = (draft, file.as_str(), group);
                    run_group(context, &url, options, remotes, tally, &mut failures);
                }
            }
        }
    }
    (tallies, failures)
}

fn run_group(
    (draft, file, group): (&'static str, &str, &Value),
    url: &str,
    options: CompileOptions,
    remotes: &Remotes,
    tally: &mut Tally,
    failures: &mut Vec<Failure>,
) {
    let schema = &group["schema"];
    let cases = group["tests"].as_array().unwrap();
    let compile =
        || futures::executor::block_on(CompiledSchema::compile(url, schema, remotes, options));
    let compiled = match catch_unwind(AssertUnwindSafe(compile)) {
        Ok(Ok(compiled)) => Ok(compiled),
        Ok(Err(err)) => Err(format!("compile error: {err}")),
        Err(_) => Err("compile panicked".to_owned()),
    };
    for case in cases {
        let expected = case["valid"].as_bool().unwrap();
        let outcome = match &compiled {
            Err(why) => Err(why.clone()),
            Ok(compiled) => check_case(compiled, &case["data"], expected),
        };
        match outcome {
            Ok(()) => tally.passed += 1,
            Err(why) => {
                tally.failed += 1;
                failures.push(Failure {
                    draft,
                    file: file.to_owned(),
                    group: group["description"].as_str().unwrap_or("").to_owned(),
                    case: case["description"].as_str().unwrap_or("").to_owned(),
                    why,
                });
            }
        }
    }
}

/// Both output formats must give the expected answer, and "basic" must say why
/// whenever it says no.
fn check_case(compiled: &CompiledSchema, data: &Value, expected: bool) -> Result<(), String> {
    let validate = || {
        let flag = compiled.validate(data, OutputFormat::Flag);
        let basic = compiled.validate(data, OutputFormat::Basic);
        (flag, basic)
    };
    let (flag, basic) =
        catch_unwind(AssertUnwindSafe(validate)).map_err(|_| "validation panicked".to_owned())?;
    if flag.valid != expected || basic.valid != expected {
        return Err(format!(
            "expected valid={expected}, flag said {}, basic said {}",
            flag.valid, basic.valid
        ));
    }
    if !basic.valid && basic.errors.is_empty() {
        return Err("basic output says invalid but lists no failure".to_owned());
    }
    Ok(())
}

fn json_files(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn is_skipped(failure: &Failure) -> bool {
    SKIPPED_REQUIRED
        .iter()
        .any(|(draft, file, group, case, _)| {
            failure.draft == *draft
                && failure.file == *file
                && failure.group == *group
                && failure.case == *case
        })
}

fn describe(failure: &Failure) -> String {
    format!(
        "{} {} | {} | {}: {}",
        failure.draft, failure.file, failure.group, failure.case, failure.why
    )
}

fn print_failures(engine: Engine, failures: &[Failure]) {
    println!("{engine} fails {} cases:", failures.len());
    for failure in failures {
        println!("  {}", describe(failure));
    }
}

fn render_table(runs: &[(Engine, Tallies, Vec<Failure>)]) -> String {
    let mut table = String::from("| engine | draft |");
    for category in Category::ALL {
        write!(table, " {} |", category.name()).unwrap();
    }
    table.push_str("\n|---|---|---|---|---|\n");
    for (engine, tallies, _) in runs {
        let mut totals = [Tally::default(); 3];
        for (index, (draft, _)) in DRAFTS.into_iter().enumerate() {
            write!(table, "| {engine} | {draft} |").unwrap();
            for (slot, category) in Category::ALL.into_iter().enumerate() {
                let tally = tallies.get(&(index, category)).copied().unwrap_or_default();
                totals[slot].passed += tally.passed;
                totals[slot].failed += tally.failed;
                write!(table, " {} |", cell(tally)).unwrap();
            }
            table.push('\n');
        }
        write!(table, "| {engine} | **all** |").unwrap();
        for total in totals {
            write!(table, " **{}** |", cell(total)).unwrap();
        }
        table.push('\n');
    }
    table
}

fn cell(tally: Tally) -> String {
    let total = tally.passed + tally.failed;
    format!("{}/{} ({} fail)", tally.passed, total, tally.failed)
}
