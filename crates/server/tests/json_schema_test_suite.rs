//! The official JSON Schema Test Suite, run through the gRPC API: every remote and
//! every test schema registered (remotes under their `http://localhost:1234/` URLs as
//! aliases), every instance validated over a stream. All required tests of all five
//! drafts must pass; optional and format results are printed as counts per draft.

// Test helpers unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

#[path = "end_to_end/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::{Path, PathBuf};

use ovsr_proto::v1::batch_register_schemas_result::Result as BatchItem;
use ovsr_proto::v1::schema_selector::Target;
use ovsr_proto::v1::validate_stream_request::Message;
use ovsr_proto::v1::validate_stream_response::Outcome;
use ovsr_proto::v1::{
    BatchRegisterSchemasRequest, OutputFormat, RegisterSchemaRequest, SchemaSelector,
    StreamDocument, ValidateStreamOpen, ValidateStreamRequest, VersionRef,
};
use serde_json::Value;

use harness::{TestServer, random_namespace};

const REMOTES_URL: &str = "http://localhost:1234/";

const DRAFTS: [(&str, &str); 5] = [
    ("draft4", "http://json-schema.org/draft-04/schema#"),
    ("draft6", "http://json-schema.org/draft-06/schema#"),
    ("draft7", "http://json-schema.org/draft-07/schema#"),
    (
        "draft2019-09",
        "https://json-schema.org/draft/2019-09/schema",
    ),
    (
        "draft2020-12",
        "https://json-schema.org/draft/2020-12/schema",
    ),
];

/// The three parts of the suite for one draft, with whether formats are asserted.
const CATEGORIES: [(&str, &str, bool); 3] = [
    ("required", "", false),
    ("optional", "optional", false),
    ("format", "optional/format", true),
];

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/jsts")
}

/// One test case: an instance, the version it goes against, and the expected answer.
struct Case {
    about: String,
    schema: Option<(String, u32)>,
    data: String,
    valid: bool,
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_required_test_of_every_draft_passes_through_the_api() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut required_failures = Vec::new();
    println!(
        "{:<14}{:>22}{:>22}{:>22}",
        "draft", "required", "optional", "format"
    );

    for (draft, dialect) in DRAFTS {
        let namespace = random_namespace(&format!("jsts-{}", draft.replace('-', "")));
        register_remotes(&server, &namespace, dialect).await?;

        let mut row = format!("{draft:<14}");
        for (category, folder, assert_formats) in CATEGORIES {
            let dir = suite_dir().join("tests").join(draft).join(folder);
            let cases = register_groups(&server, &namespace, dialect, &dir, category).await?;
            let tally = run_cases(&server, &namespace, cases, assert_formats).await?;
            let total = tally.passed + tally.failed.len();
            row.push_str(&format!(
                "{:>22}",
                format!("{}/{total} passed", tally.passed)
            ));
            if category == "required" {
                let failures = tally.failed.into_iter().map(|f| format!("{draft}: {f}"));
                required_failures.extend(failures);
            }
        }
        println!("{row}");
    }

    for failure in required_failures.iter().take(40) {
        println!("required failure: {failure}");
    }
    assert!(
        required_failures.is_empty(),
        "{} required cases failed",
        required_failures.len()
    );
    Ok(())
}

/// Registers every remote document under its `http://localhost:1234/` URL. Remotes
/// refer to each other, so each round retries what the last could not resolve.
async fn register_remotes(
    server: &TestServer,
    namespace: &str,
    dialect: &str,
) -> anyhow::Result<()> {
    let root = suite_dir().join("remotes");
    let mut waiting: Vec<RegisterSchemaRequest> = json_files(&root)
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            RegisterSchemaRequest {
                namespace: namespace.to_owned(),
                name: format!("remote-{}", schema_name(&relative)),
                content: std::fs::read_to_string(&path).unwrap(),
                aliases: vec![format!("{REMOTES_URL}{relative}")],
                dialect: dialect.to_owned(),
                ..Default::default()
            }
        })
        .collect();

    loop {
        let batch = BatchRegisterSchemasRequest {
            requests: waiting.clone(),
        };
        let results = server
            .schemas()
            .batch_register_schemas(batch)
            .await?
            .into_inner()
            .results;
        let before = waiting.len();
        let mut retry = Vec::new();
        for (request, result) in waiting.into_iter().zip(results) {
            if let Some(BatchItem::Error(_)) = result.result {
                retry.push(request);
            }
        }
        if retry.is_empty() || retry.len() == before {
            // What never registers (a draft 3 remote, say) fails the cases using it.
            return Ok(());
        }
        waiting = retry;
    }
}

/// Registers every group of every file in `dir` and returns its cases.
async fn register_groups(
    server: &TestServer,
    namespace: &str,
    dialect: &str,
    dir: &Path,
    category: &str,
) -> anyhow::Result<Vec<Case>> {
    let mut cases = Vec::new();
    for path in std::fs::read_dir(dir)?.map(|e| e.unwrap().path()) {
        if path.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let groups: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        let requests = groups
            .iter()
            .enumerate()
            .map(|(i, group)| RegisterSchemaRequest {
                namespace: namespace.to_owned(),
                name: format!("{category}-{}-{i}", schema_name(&stem)),
                content: group["schema"].to_string(),
                dialect: dialect.to_owned(),
                ..Default::default()
            })
            .collect();
        let batch = BatchRegisterSchemasRequest { requests };
        let results = server
            .schemas()
            .batch_register_schemas(batch)
            .await?
            .into_inner()
            .results;

        for (group, result) in groups.iter().zip(results) {
            let schema = match result.result {
                Some(BatchItem::Registered(registered)) => {
                    let version = registered.schema_version.unwrap();
                    Some((version.name, version.version))
                }
                _ => None,
            };
            for test in group["tests"].as_array().unwrap() {
                cases.push(Case {
                    about: format!(
                        "{stem}: {} / {}",
                        group["description"].as_str().unwrap_or(""),
                        test["description"].as_str().unwrap_or("")
                    ),
                    schema: schema.clone(),
                    data: test["data"].to_string(),
                    valid: test["valid"].as_bool().unwrap(),
                });
            }
        }
    }
    Ok(cases)
}

/// Validates every case over one stream and tallies the answers.
async fn run_cases(
    server: &TestServer,
    namespace: &str,
    cases: Vec<Case>,
    assert_formats: bool,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    let (runnable, unregistered): (Vec<Case>, Vec<Case>) =
        cases.into_iter().partition(|case| case.schema.is_some());
    for case in unregistered {
        tally
            .failed
            .push(format!("{} (schema refused)", case.about));
    }

    let open = ValidateStreamOpen {
        default_schema: None,
        output_format: OutputFormat::Flag as i32,
        assert_formats,
    };
    let mut requests = vec![ValidateStreamRequest {
        message: Some(Message::Open(open)),
    }];
    for (i, case) in runnable.iter().enumerate() {
        let (name, version) = case.schema.clone().unwrap();
        let version_ref = VersionRef {
            namespace: namespace.to_owned(),
            name,
            version,
        };
        let document = StreamDocument {
            sequence: i as u64,
            schema: Some(SchemaSelector {
                target: Some(Target::VersionRef(version_ref)),
            }),
            document: case.data.clone(),
        };
        requests.push(ValidateStreamRequest {
            message: Some(Message::Document(document)),
        });
    }

    let stream = tokio_stream::iter(requests);
    let mut results = server
        .validation()
        .validate_stream(stream)
        .await?
        .into_inner();
    while let Some(result) = results.message().await? {
        let case = &runnable[result.sequence as usize];
        match result.outcome {
            Some(Outcome::Result(answer)) if answer.valid == case.valid => tally.passed += 1,
            Some(Outcome::Result(answer)) => {
                let got = if answer.valid { "valid" } else { "invalid" };
                tally
                    .failed
                    .push(format!("{} (answered {got})", case.about));
            }
            other => tally.failed.push(format!("{} ({other:?})", case.about)),
        }
    }
    Ok(tally)
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
        if entry.is_dir() {
            files.extend(json_files(&entry));
        } else if entry.extension().is_some_and(|ext| ext == "json") {
            files.push(entry);
        }
    }
    files.sort();
    files
}

/// A registry name from a file path: lowercase, anything outside the name rules '-'.
fn schema_name(path: &str) -> String {
    let stem = path.strip_suffix(".json").unwrap_or(path);
    let name: String = stem
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '.' | '_' | '-') => c,
            _ => '-',
        })
        .collect();
    name.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}
