//! Ranking on a real catalog: every schema of the SchemaStore corpus is indexed, and
//! each query of `relevance_queries.tsv` must find its schema in the top 3.
//!
//! The corpus lives outside the repository (`../../../shared/corpora/schemastore` from
//! this crate); when it is absent the test says so and checks nothing. The same
//! queries run on Meilisearch when a binary is at hand.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ovsr_core::{Digest, SchemaName, Version, canonical_json};
use ovsr_search::{
    EmbeddedIndex, MeiliConfig, MeiliIndex, SearchDocument, SearchIndex, SearchQuery,
};
use serde_json::Value;

#[path = "support/meili.rs"]
mod meili;

const NAMESPACE: &str = "schemastore";
const TOP: usize = 3;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/schemastore")
}

/// The catalog's title and description for a schema file name, when it lists one.
fn catalog(dir: &Path) -> anyhow::Result<HashMap<String, (String, String)>> {
    let raw = std::fs::read_to_string(dir.join("catalog_by_name.json"))?;
    let entries: HashMap<String, Value> = serde_json::from_str(&raw)?;
    let text = |entry: &Value, key: &str| {
        entry
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(entries
        .into_iter()
        .map(|(name, entry)| {
            let described = (text(&entry, "catalog_name"), text(&entry, "description"));
            (name, described)
        })
        .collect())
}

fn load_documents(dir: &Path) -> anyhow::Result<Vec<SearchDocument>> {
    let catalog = catalog(dir)?;
    let mut documents = Vec::new();
    for entry in std::fs::read_dir(dir.join("schemas"))? {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let raw = std::fs::read_to_string(&path)?;
        let schema_json: Value =
            serde_json::from_str(&raw).with_context(|| path.display().to_string())?;
        let name = SchemaName::new(NAMESPACE, &stem.to_lowercase(), "")?;
        let digest = Digest::of_canonical(canonical_json(&schema_json).as_bytes());
        let mut document = SearchDocument::from_schema(name, Version::FIRST, digest, &schema_json);
        if let Some((title, description)) = catalog.get(stem) {
            if !title.is_empty() {
                document.title = title.clone();
            }
            if !description.is_empty() {
                document.description = description.clone();
            }
        }
        documents.push(document);
    }
    Ok(documents)
}

fn queries() -> anyhow::Result<Vec<(String, String)>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/relevance_queries.tsv");
    let raw = std::fs::read_to_string(path)?;
    let mut queries = Vec::new();
    for line in raw.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let (query, expected) = line.split_once('\t').context("a line without a tab")?;
        queries.push((query.to_owned(), expected.to_owned()));
    }
    Ok(queries)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_queries_find_their_schema_in_the_top_three() -> anyhow::Result<()> {
    let index: Arc<dyn SearchIndex> = Arc::new(EmbeddedIndex::in_memory()?);
    check_relevance(index).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_queries_find_their_schema_in_the_top_three_on_meilisearch() -> anyhow::Result<()> {
    let Some(binary) = meili::binary() else {
        meili::say_skipped("catalog_queries_find_their_schema_in_the_top_three_on_meilisearch");
        return Ok(());
    };
    let server = meili::MeiliServer::start(binary);
    let index = MeiliIndex::new(MeiliConfig {
        api_key: Some(meili::MASTER_KEY.to_owned()),
        // The whole catalog is one write.
        task_timeout: Duration::from_secs(300),
        ..MeiliConfig::new(server.url())
    })?;
    index.apply_settings().await?;
    check_relevance(Arc::new(index)).await
}

/// Indexes the catalog into `index` and runs every query against it.
async fn check_relevance(index: Arc<dyn SearchIndex>) -> anyhow::Result<()> {
    let dir = corpus_dir();
    if !dir.join("schemas").is_dir() {
        eprintln!("no corpus at {}; relevance not checked", dir.display());
        return Ok(());
    }
    let documents = load_documents(&dir)?;
    let count = documents.len();
    index.upsert(documents).await?;
    assert_eq!(index.stats().await?.documents, u64::try_from(count)?);

    let queries = queries()?;
    assert!(queries.len() >= 25, "only {} queries", queries.len());
    let mut misses = Vec::new();
    for (text, expected) in &queries {
        let query = SearchQuery {
            page_size: Some(10),
            ..SearchQuery::for_text(text.as_str())
        };
        let page = index.search(&query).await?;
        let found: Vec<&str> = page.hits.iter().map(|hit| hit.schema.name()).collect();
        let rank = found
            .iter()
            .position(|name| name == expected)
            .map(|at| at + 1);
        let shown = rank.map_or("-".to_owned(), |rank| rank.to_string());
        println!(
            "{shown:>2}  {text:<36} {expected:<28} top: {:?}",
            &found[..found.len().min(3)]
        );
        if rank.is_none_or(|rank| rank > TOP) {
            misses.push(format!(
                "{text:?} ranks {expected} at {shown}; top {found:?}"
            ));
        }
    }
    assert!(
        misses.is_empty(),
        "queries missing their schema:\n{}",
        misses.join("\n")
    );
    Ok(())
}
