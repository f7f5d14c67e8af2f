//! The real-world SchemaStore corpus through the API: its 507 schemas registered with
//! the URLs they are published at as aliases (those referencing documents outside the
//! corpus are refused, since the registry never fetches), then every valid document
//! must validate and every invalid one must fail, over streams. Documents the corpus marks unreliable
//! (`excluded.tsv`) are skipped; those whose answer depends on format assertion
//! (`format_dependent.tsv`) are validated with it on.

// Test helpers unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

#[path = "end_to_end/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use ovsr_proto::v1::batch_register_schemas_result::Result as BatchItem;
use ovsr_proto::v1::schema_selector::Target;
use ovsr_proto::v1::validate_stream_request::Message;
use ovsr_proto::v1::validate_stream_response::Outcome;
use ovsr_proto::v1::{
    BatchRegisterSchemasRequest, OutputFormat, RegisterSchemaRequest, SchemaSelector,
    StreamDocument, ValidateStreamOpen, ValidateStreamRequest, VersionRef,
};

use harness::{TestServer, random_namespace};

/// Bytes of schemas per batch call, well under the request limit.
const BATCH_BYTES: usize = 6 << 20;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/schemastore")
}

/// Rows of a corpus TSV file as column name → value.
fn tsv(file: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(corpus().join(file)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .map(|line| {
            let fields = line.split('\t').map(str::to_owned);
            header.iter().map(|h| (*h).to_owned()).zip(fields).collect()
        })
        .collect()
}

struct Document {
    file: String,
    schema: String,
    expect_valid: bool,
    assert_formats: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_valid_document_validates_and_every_invalid_one_fails() -> anyhow::Result<()> {
    let server = TestServer::start_with(|config| config.max_schema_bytes = 4 << 20).await?;
    let namespace = random_namespace("schemastore");
    let (registered, refused) = register_corpus(&server, &namespace).await?;
    // The registry never fetches: a schema pointing outside the corpus is refused,
    // and for no other reason.
    for (name, reason) in &refused {
        assert!(
            reason.contains("is outside the registry"),
            "{name} refused: {reason}"
        );
    }

    let excluded: HashSet<String> = tsv("excluded.tsv")
        .into_iter()
        .map(|r| r["file"].clone())
        .collect();
    let format_dependent: HashSet<String> = tsv("format_dependent.tsv")
        .into_iter()
        .map(|r| r["file"].clone())
        .collect();
    let documents: Vec<Document> = tsv("docs.tsv")
        .into_iter()
        .filter(|row| !excluded.contains(&row["file"]))
        .map(|row| Document {
            assert_formats: format_dependent.contains(&row["file"]),
            expect_valid: row["expected"] == "valid",
            schema: row["name"].clone(),
            file: row["file"].clone(),
        })
        .collect();

    let mut failures = Vec::new();
    for assert_formats in [false, true] {
        let batch: Vec<&Document> = documents
            .iter()
            .filter(|d| d.assert_formats == assert_formats)
            .collect();
        failures
            .extend(run_documents(&server, &namespace, &registered, &batch, assert_formats).await?);
    }

    println!(
        "schemastore: {} schemas registered, {} refused for references outside the corpus, \
         {} documents checked, {} failed",
        registered.len(),
        refused.len(),
        documents.len(),
        failures.len()
    );
    for failure in failures.iter().take(40) {
        println!("failure: {failure}");
    }
    assert!(
        failures.is_empty(),
        "{} documents got the wrong answer",
        failures.len()
    );
    Ok(())
}

/// Registers every schema of the corpus in batches, retrying those whose references
/// are not registered yet. Returns the registry name of each corpus name registered,
/// and the reason each other one was refused.
async fn register_corpus(
    server: &TestServer,
    namespace: &str,
) -> anyhow::Result<(BTreeMap<String, String>, BTreeMap<String, String>)> {
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in tsv("aliases.tsv") {
        aliases
            .entry(row["name"].clone())
            .or_default()
            .push(row["uri"].clone());
    }
    let mut waiting: Vec<(String, RegisterSchemaRequest)> = tsv("manifest.tsv")
        .into_iter()
        .map(|row| {
            let name = row["name"].clone();
            // The published URL first: it is the base of the schema's relative refs.
            let published = format!("https://json.schemastore.org/{name}.json");
            let mut urls = vec![published.clone()];
            let others = aliases.get(&name).into_iter().flatten();
            urls.extend(others.filter(|url| **url != published).cloned());
            let path = corpus().join("schemas").join(format!("{name}.json"));
            let request = RegisterSchemaRequest {
                namespace: namespace.to_owned(),
                name: name.to_lowercase(),
                content: std::fs::read_to_string(path).unwrap(),
                aliases: urls,
                dialect: row["draft"].clone(),
                ..Default::default()
            };
            (name, request)
        })
        .collect();

    let mut registered = BTreeMap::new();
    let mut refused = BTreeMap::new();
    loop {
        let before = waiting.len();
        let mut retry = Vec::new();
        for chunk in chunks_by_size(waiting) {
            let requests = chunk.iter().map(|(_, request)| request.clone()).collect();
            let batch = BatchRegisterSchemasRequest { requests };
            let results = server
                .schemas()
                .batch_register_schemas(batch)
                .await?
                .into_inner()
                .results;
            for ((name, request), result) in chunk.into_iter().zip(results) {
                match result.result {
                    Some(BatchItem::Registered(_)) => {
                        registered.insert(name, request.name.clone());
                    }
                    Some(BatchItem::Error(error)) => {
                        refused.insert(name.clone(), error.message);
                        retry.push((name, request));
                    }
                    None => anyhow::bail!("no result for {name}"),
                }
            }
        }
        if retry.is_empty() || retry.len() == before {
            refused.retain(|name, _| !registered.contains_key(name));
            return Ok((registered, refused));
        }
        waiting = retry;
    }
}

fn chunks_by_size(
    items: Vec<(String, RegisterSchemaRequest)>,
) -> Vec<Vec<(String, RegisterSchemaRequest)>> {
    let mut chunks = vec![Vec::new()];
    let mut bytes = 0;
    for item in items {
        let size = item.1.content.len();
        if bytes + size > BATCH_BYTES && !chunks.last().unwrap().is_empty() {
            chunks.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        chunks.last_mut().unwrap().push(item);
    }
    chunks
}

/// Validates `documents` over one stream; returns a line per wrong answer.
async fn run_documents(
    server: &TestServer,
    namespace: &str,
    registered: &BTreeMap<String, String>,
    documents: &[&Document],
    assert_formats: bool,
) -> anyhow::Result<Vec<String>> {
    let mut failures = Vec::new();
    let open = ValidateStreamOpen {
        default_schema: None,
        output_format: OutputFormat::Basic as i32,
        assert_formats,
    };
    let mut requests = vec![ValidateStreamRequest {
        message: Some(Message::Open(open)),
    }];
    for (i, document) in documents.iter().enumerate() {
        let Some(name) = registered.get(&document.schema) else {
            failures.push(format!(
                "{}: schema {} not registered",
                document.file, document.schema
            ));
            continue;
        };
        let version_ref = VersionRef {
            namespace: namespace.to_owned(),
            name: name.clone(),
            version: 1,
        };
        let body = std::fs::read_to_string(corpus().join(&document.file))?;
        requests.push(ValidateStreamRequest {
            message: Some(Message::Document(StreamDocument {
                sequence: i as u64,
                schema: Some(SchemaSelector {
                    target: Some(Target::VersionRef(version_ref)),
                }),
                document: body,
            })),
        });
    }

    let stream = tokio_stream::iter(requests);
    let mut results = server
        .validation()
        .validate_stream(stream)
        .await?
        .into_inner();
    while let Some(result) = results.message().await? {
        let document = documents[result.sequence as usize];
        match result.outcome {
            Some(Outcome::Result(answer)) if answer.valid == document.expect_valid => {}
            Some(Outcome::Result(answer)) => {
                let first = answer
                    .errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_default();
                failures.push(format!(
                    "{}: answered valid={} ({first})",
                    document.file, answer.valid
                ));
            }
            other => failures.push(format!("{}: {other:?}", document.file)),
        }
    }
    Ok(failures)
}
