//! The documents the benchmark runs: SchemaStore schemas with their test documents, and a
//! few generated cases that stress one dimension each.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context as _, Result};
use async_trait::async_trait;
use ovsr_validate::{RegistryResolver, Resolution};
use serde_json::Value;

use crate::{Workload, generated};

/// The host SchemaStore schemas are published under.
const SCHEMASTORE_BASE: &str = "https://json.schemastore.org/";

/// One document and what it should validate to.
#[derive(Debug)]
pub struct Document {
    /// Where it was read from (or written to, for generated ones).
    pub path: PathBuf,
    /// Its size as a file.
    pub bytes: usize,
    /// Parsed, ready to validate.
    pub value: Value,
    /// The expected answer.
    pub expected_valid: bool,
    /// Its answer depends on format assertion, which the benchmark leaves off.
    pub format_dependent: bool,
}

/// A schema with the documents to validate against it.
#[derive(Debug)]
pub struct Case {
    /// SchemaStore's name, or `generated-…`.
    pub name: String,
    /// The URL it is compiled at.
    pub url: String,
    /// Its file.
    pub schema_path: PathBuf,
    /// Its size as a file (the root only).
    pub schema_bytes: usize,
    /// Parsed.
    pub schema: Value,
    /// Documents with trustworthy expectations.
    pub documents: Vec<Document>,
    /// The workload a generated case belongs to; real ones are sorted by size.
    pub workload: Option<Workload>,
}

/// Every case, and the documents their references may name.
#[derive(Debug)]
pub struct Corpus {
    /// Cases in a stable order: SchemaStore by name, then generated.
    pub cases: Vec<Case>,
    /// Resolves SchemaStore's URLs (every alias) and the generated ones to files.
    pub resolver: CorpusResolver,
    /// Documents left out because `excluded.tsv` lists them.
    pub excluded_documents: usize,
}

impl Corpus {
    /// Reads `schemastore` and writes the generated cases under `generated_dir`.
    pub fn load(schemastore: &Path, generated_dir: &Path) -> Result<Self> {
        let aliases = read_tsv(&schemastore.join("aliases.tsv"))?;
        let excluded: HashSet<String> = read_tsv(&schemastore.join("excluded.tsv"))?
            .into_iter()
            .filter_map(|row| row.get(1).cloned())
            .collect();
        let format_dependent: HashSet<String> =
            read_tsv(&schemastore.join("format_dependent.tsv"))?
                .into_iter()
                .filter_map(|row| row.get(1).cloned())
                .collect();

        let mut by_url = HashMap::new();
        for row in &aliases {
            let (Some(url), Some(name)) = (row.first(), row.get(1)) else {
                continue;
            };
            let path = schemastore.join("schemas").join(format!("{name}.json"));
            by_url.insert(url.trim_end_matches('#').to_owned(), path);
        }

        let mut cases = Vec::new();
        let mut excluded_documents = 0;
        for row in read_tsv(&schemastore.join("manifest.tsv"))? {
            let Some(name) = row.first() else { continue };
            let schema_path = schemastore.join("schemas").join(format!("{name}.json"));
            let url = format!("{SCHEMASTORE_BASE}{name}.json");
            by_url.insert(url.clone(), schema_path.clone());
            let mut documents = Vec::new();
            for (folder, expected_valid) in [("valid", true), ("invalid", false)] {
                for path in json_files(&schemastore.join(folder).join(name))? {
                    let relative = format!("{folder}/{name}/{}", file_name(&path));
                    if excluded.contains(&relative) {
                        excluded_documents += 1;
                        continue;
                    }
                    let format_dependent = format_dependent.contains(&relative);
                    documents.push(read_document(&path, expected_valid, format_dependent)?);
                }
            }
            if documents.is_empty() {
                continue;
            }
            let (schema, schema_bytes) = read_json(&schema_path)?;
            cases.push(Case {
                name: name.clone(),
                url,
                schema_path,
                schema_bytes,
                schema,
                documents,
                workload: None,
            });
        }

        for case in generated::write_cases(generated_dir)? {
            by_url.insert(case.url.clone(), case.schema_path.clone());
            cases.push(case);
        }
        let resolver = CorpusResolver {
            by_url,
            loaded: Mutex::default(),
        };
        Ok(Self {
            cases,
            resolver,
            excluded_documents,
        })
    }
}

/// Serves the corpus's files at their URLs; every other URL is outside.
#[derive(Debug)]
pub struct CorpusResolver {
    by_url: HashMap<String, PathBuf>,
    loaded: Mutex<HashMap<PathBuf, Value>>,
}

impl CorpusResolver {
    /// The file `url` names, if the corpus has it.
    pub fn path_of(&self, url: &str) -> Option<&Path> {
        self.by_url
            .get(url.trim_end_matches('#'))
            .map(PathBuf::as_path)
    }

    fn load(&self, path: &Path) -> Result<Value, String> {
        let mut loaded = self.loaded.lock().map_err(|err| err.to_string())?;
        if let Some(value) = loaded.get(path) {
            return Ok(value.clone());
        }
        let (value, _) = read_json(path).map_err(|err| format!("{err:#}"))?;
        loaded.insert(path.to_path_buf(), value.clone());
        Ok(value)
    }
}

#[async_trait]
impl RegistryResolver for CorpusResolver {
    async fn resolve(&self, url: &str) -> Result<Resolution, String> {
        match self.path_of(url) {
            Some(path) => Ok(Resolution::Found(self.load(path)?)),
            None if url.starts_with(SCHEMASTORE_BASE) => Ok(Resolution::Missing),
            None => Ok(Resolution::Outside),
        }
    }
}

/// Wraps a resolver and notes every URL it found, to hand the same documents to ajv.
#[derive(Debug)]
pub struct NotingResolver<'a> {
    inner: &'a CorpusResolver,
    found: Mutex<BTreeMap<String, PathBuf>>,
}

impl<'a> NotingResolver<'a> {
    /// Notes what `inner` finds.
    pub fn new(inner: &'a CorpusResolver) -> Self {
        Self {
            inner,
            found: Mutex::default(),
        }
    }

    /// The URLs found so far, with their files.
    pub fn found(&self) -> BTreeMap<String, PathBuf> {
        self.found
            .lock()
            .map(|found| found.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl RegistryResolver for NotingResolver<'_> {
    async fn resolve(&self, url: &str) -> Result<Resolution, String> {
        let resolution = self.inner.resolve(url).await?;
        if let (Resolution::Found(_), Some(path)) = (&resolution, self.inner.path_of(url))
            && let Ok(mut found) = self.found.lock()
        {
            found.insert(url.to_owned(), path.to_path_buf());
        }
        Ok(resolution)
    }
}

/// Reads a JSON file, with its size.
pub fn read_json(path: &Path) -> Result<(Value, usize)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path:?}"))?;
    let value = serde_json::from_str(&text).with_context(|| format!("parsing {path:?}"))?;
    Ok((value, text.len()))
}

fn read_document(path: &Path, expected_valid: bool, format_dependent: bool) -> Result<Document> {
    let (value, bytes) = read_json(path)?;
    Ok(Document {
        path: path.to_path_buf(),
        bytes,
        value,
        expected_valid,
        format_dependent,
    })
}

/// Rows of a tab-separated file, header skipped.
fn read_tsv(path: &Path) -> Result<Vec<Vec<String>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path:?}"))?;
    let rows = text
        .lines()
        .skip(1)
        .filter(|line| !line.is_empty())
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect();
    Ok(rows)
}

fn json_files(folder: &Path) -> Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
