//! `ovsr import DIR`: loads a folder of schema documents into a running registry
//! through `BatchRegisterSchemas`.
//!
//! Every `*.json` file under the folder is a schema. Its namespace is `--namespace`, or
//! else the first folder below DIR it sits in; its name is the file name without
//! `.json` (and without `.schema`), lowercased, with characters names may not hold
//! turned into `-`. A `manifest.tsv` at the top of the folder may set, per file, the
//! namespace, name, aliases, tags and dialect (see [`MANIFEST_FILE`]).
//!
//! Files that are not JSON are refused before sending. Schemas the server refuses as
//! invalid or as referencing what is not registered yet are retried after each round
//! until a round registers nothing more, so files can come in any order. Identical
//! content returns the existing version, so running an import twice is harmless.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use ovsr_proto::v1::batch_register_schemas_result::Result as Item;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::{BatchRegisterSchemasRequest, RegisterSchemaRequest};
use tonic::Code;
use tonic::transport::{Channel, Endpoint};

/// The optional manifest's file name. It is tab-separated with a header line naming
/// its columns, of which only `file` (relative to the folder) is required:
/// `namespace`, `name`, `aliases` (separated by spaces), `tags` (separated by
/// commas), `dialect` (a `$schema` URI for documents that declare none).
pub const MANIFEST_FILE: &str = "manifest.tsv";

/// Most schemas sent in one call (the server takes up to 1,000).
const BATCH_ITEMS: usize = 500;
/// Most bytes of schema content in one call, well under the request limit.
const BATCH_BYTES: usize = 16 << 20;

/// What to import, and where to.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportConfig {
    /// The folder of schema documents.
    pub dir: PathBuf,

    /// The registry to load into.
    #[arg(long, env = "OVSR_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,

    /// Namespace for every schema (else the first folder below DIR names it).
    #[arg(long)]
    pub namespace: Option<String>,

    /// Show no progress bar (it is hidden anyway when stderr is not a terminal).
    #[arg(long)]
    pub quiet: bool,
}

/// How an import went.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Files found.
    pub files: usize,
    /// New versions stored.
    pub created: usize,
    /// Files whose content was already registered under that name.
    pub unchanged: usize,
    /// Files refused, with the reason: `(file, reason)`.
    pub failed: Vec<(String, String)>,
    /// Batch calls made.
    pub calls: usize,
    /// Time taken.
    pub elapsed: Duration,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} files: {} registered, {} already present, {} failed ({} calls, {:.1?})",
            self.files,
            self.created,
            self.unchanged,
            self.failed.len(),
            self.calls,
            self.elapsed
        )?;
        for (file, reason) in &self.failed {
            writeln!(f, "  failed: {file}: {reason}")?;
        }
        Ok(())
    }
}

/// One file, ready to send.
#[derive(Debug)]
struct Pending {
    file: String,
    request: RegisterSchemaRequest,
}

/// Reads the folder and registers everything in it.
pub async fn run(config: &ImportConfig) -> anyhow::Result<ImportSummary> {
    let started = Instant::now();
    let (mut pending, mut failed) = read_folder(&config.dir, config.namespace.as_deref())?;
    let files = pending.len() + failed.len();
    let channel = Endpoint::from_shared(config.server.clone())
        .with_context(|| format!("--server {}", config.server))?
        .connect()
        .await
        .with_context(|| format!("connecting to {}", config.server))?;
    let mut client = SchemaServiceClient::new(channel)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);

    let progress = progress_bar(files as u64, config.quiet);
    progress.inc(failed.len() as u64);
    let mut summary = ImportSummary {
        files,
        ..ImportSummary::default()
    };
    // Items refused in the last round that a later round may still register, and why.
    let mut waiting: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let mut retry = Vec::new();
        let before = pending.len();
        for batch in batches(pending) {
            let outcome = send(&mut client, batch, &mut summary).await?;
            for (item, result) in outcome {
                match result {
                    Ok(()) => {
                        waiting.remove(&item.file);
                        progress.inc(1);
                    }
                    // A reference may name a schema (or an alias) that a later file
                    // of this import provides; retry while rounds make progress.
                    Err((Code::FailedPrecondition | Code::InvalidArgument, reason)) => {
                        waiting.insert(item.file.clone(), reason);
                        retry.push(item);
                    }
                    Err((_, reason)) => {
                        failed.push((item.file, reason));
                        progress.inc(1);
                    }
                }
            }
        }
        if retry.is_empty() || retry.len() == before {
            failed.extend(waiting);
            break;
        }
        pending = retry;
    }
    progress.finish_and_clear();
    failed.sort();
    summary.failed = failed;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

type ItemOutcome = Result<(), (Code, String)>;

/// Files refused, each with its reason.
type Refusals = Vec<(String, String)>;

/// Sends one batch; a failed call fails the import (the server or the network is at
/// fault, not one file).
async fn send(
    client: &mut SchemaServiceClient<Channel>,
    batch: Vec<Pending>,
    summary: &mut ImportSummary,
) -> anyhow::Result<Vec<(Pending, ItemOutcome)>> {
    let requests = batch.iter().map(|item| item.request.clone()).collect();
    let response = client
        .batch_register_schemas(BatchRegisterSchemasRequest { requests })
        .await
        .context("BatchRegisterSchemas")?;
    summary.calls += 1;
    let results = response.into_inner().results;
    if results.len() != batch.len() {
        bail!(
            "the server answered {} results for {} schemas",
            results.len(),
            batch.len()
        );
    }
    let mut outcome = Vec::with_capacity(batch.len());
    for (item, result) in batch.into_iter().zip(results) {
        let answer = match result.result {
            Some(Item::Registered(registered)) => {
                if registered.created {
                    summary.created += 1;
                } else {
                    summary.unchanged += 1;
                }
                Ok(())
            }
            Some(Item::Error(error)) => Err((Code::from(error.code), error.message)),
            None => Err((Code::Internal, "the server answered nothing".to_owned())),
        };
        outcome.push((item, answer));
    }
    Ok(outcome)
}

/// Splits items into calls of at most [`BATCH_ITEMS`] items and [`BATCH_BYTES`] bytes
/// (a single larger item goes alone).
fn batches(items: Vec<Pending>) -> Vec<Vec<Pending>> {
    let mut batches: Vec<Vec<Pending>> = Vec::new();
    let mut bytes = 0;
    for item in items {
        let size = item.request.content.len();
        let full = batches
            .last()
            .is_none_or(|last| last.len() == BATCH_ITEMS || bytes + size > BATCH_BYTES);
        if full {
            batches.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(last) = batches.last_mut() {
            last.push(item);
        }
    }
    batches
}

fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} schemas  {per_sec}  eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// Per-file settings from the manifest.
#[derive(Debug, Default)]
struct Entry {
    namespace: Option<String>,
    name: Option<String>,
    aliases: Vec<String>,
    tags: Vec<String>,
    dialect: Option<String>,
}

/// Every schema file under `dir` as a request, and the files refused before sending.
fn read_folder(dir: &Path, namespace: Option<&str>) -> anyhow::Result<(Vec<Pending>, Refusals)> {
    let manifest = read_manifest(dir)?;
    let mut files = Vec::new();
    collect_json_files(dir, &mut files).with_context(|| format!("reading {}", dir.display()))?;
    files.sort();

    let mut pending = Vec::new();
    let mut refused = Vec::new();
    for path in files {
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        let file = relative.to_string_lossy().replace('\\', "/");
        let entry = manifest.get(&file);
        let entry_namespace = entry.and_then(|e| e.namespace.as_deref());
        let Some(namespace) = entry_namespace
            .or(namespace)
            .map(str::to_owned)
            .or_else(|| folder_namespace(relative))
        else {
            let reason = "no namespace: put the file in a folder named after it, \
                          pass --namespace, or give one in the manifest";
            refused.push((file, reason.to_owned()));
            continue;
        };
        let name = match entry.and_then(|e| e.name.clone()) {
            Some(name) => name,
            None => name_from_file(&path),
        };
        let content = match std::fs::read_to_string(&path) {
            Ok(content) => content,
            Err(err) => {
                refused.push((file, format!("cannot read: {err}")));
                continue;
            }
        };
        if let Err(err) = serde_json::from_str::<serde::de::IgnoredAny>(&content) {
            refused.push((file, format!("not valid JSON: {err}")));
            continue;
        }
        let request = RegisterSchemaRequest {
            namespace,
            name,
            content,
            tags: entry.map(|e| e.tags.clone()).unwrap_or_default(),
            aliases: entry.map(|e| e.aliases.clone()).unwrap_or_default(),
            dialect: entry.and_then(|e| e.dialect.clone()).unwrap_or_default(),
        };
        pending.push(Pending { file, request });
    }
    Ok((pending, refused))
}

fn collect_json_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_json_files(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    Ok(())
}

/// The first folder of a path relative to the import folder, if it has one.
fn folder_namespace(relative: &Path) -> Option<String> {
    let mut components = relative.components();
    let first = components.next()?;
    components.next()?;
    Some(first.as_os_str().to_string_lossy().to_lowercase())
}

/// `Package.Schema.json` → `package`; `GitHub Workflow.json` → `github-workflow`.
fn name_from_file(path: &Path) -> String {
    let stem = path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .to_ascii_lowercase();
    let stem = stem.strip_suffix(".schema").unwrap_or(&stem);
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    // Names start and end with a letter or digit.
    let trimmed = name.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    name = trimmed.to_owned();
    name
}

fn read_manifest(dir: &Path) -> anyhow::Result<BTreeMap<String, Entry>> {
    let path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .map(|line| line.split('\t').map(str::trim).collect())
        .unwrap_or_default();
    let column = |name: &str| header.iter().position(|c| *c == name);
    let Some(file_column) = column("file") else {
        bail!("{}: the header has no `file` column", path.display());
    };
    let columns = ["namespace", "name", "aliases", "tags", "dialect"].map(column);
    let mut entries = BTreeMap::new();
    for line in lines {
        let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
        let cell = |index: Option<usize>| {
            index
                .and_then(|i| cells.get(i))
                .filter(|cell| !cell.is_empty())
                .map(|cell| (*cell).to_owned())
        };
        let Some(file) = cell(Some(file_column)) else {
            continue;
        };
        let split = |index: Option<usize>, separator: char| -> Vec<String> {
            cell(index)
                .map(|text| {
                    text.split(separator)
                        .map(str::trim)
                        .filter(|part| !part.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let entry = Entry {
            namespace: cell(columns[0]),
            name: cell(columns[1]),
            aliases: split(columns[2], ' '),
            tags: split(columns[3], ','),
            dialect: cell(columns[4]),
        };
        entries.insert(file, entry);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_schema_names() {
        assert_eq!(
            name_from_file(Path::new("a/Package.Schema.json")),
            "package"
        );
        assert_eq!(
            name_from_file(Path::new("GitHub Workflow.json")),
            "github-workflow"
        );
        assert_eq!(name_from_file(Path::new("_draft-07_.json")), "draft-07");
    }

    #[test]
    fn the_first_folder_names_the_namespace() {
        assert_eq!(
            folder_namespace(Path::new("Acme/orders/order.json")).as_deref(),
            Some("acme")
        );
        assert_eq!(folder_namespace(Path::new("order.json")), None);
    }

    #[test]
    fn batches_respect_both_bounds() {
        let item = |bytes: usize| Pending {
            file: String::new(),
            request: RegisterSchemaRequest {
                content: "x".repeat(bytes),
                ..RegisterSchemaRequest::default()
            },
        };
        let many: Vec<Pending> = (0..BATCH_ITEMS + 1).map(|_| item(1)).collect();
        let sizes: Vec<usize> = batches(many).iter().map(Vec::len).collect();
        assert_eq!(sizes, [BATCH_ITEMS, 1]);

        let big = vec![
            item(BATCH_BYTES / 2 + 1),
            item(BATCH_BYTES / 2 + 1),
            item(1),
        ];
        let sizes: Vec<usize> = batches(big).iter().map(Vec::len).collect();
        assert_eq!(sizes, [1, 2]);
    }
}
