//! Search's parts shared by the search and load benchmarks: the SchemaStore corpus
//! registered into a server, the relevance catalog's queries, and Meilisearch queried
//! directly with the very request OVSR's backend sends it.

#[path = "../../crates/search/tests/support/meili.rs"]
pub mod meili;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use ovsr_proto::v1::batch_register_schemas_result::Result as Registered;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::search_service_client::SearchServiceClient;
use ovsr_proto::v1::{BatchRegisterSchemasRequest, RegisterSchemaRequest, SearchRequest};
use ovsr_server::{Secret, ServeConfig};
use serde_json::{Value, json};
use tonic::transport::Channel;

use crate::load::record::CallError;
use crate::load::target::{Target, UnaryCall, classify};

/// The namespace the corpus is registered in.
pub const NAMESPACE: &str = "schemastore";
/// Hits per query, as a first page shows.
pub const PAGE_SIZE: usize = 10;
/// Schemas per registration call.
const REGISTER_BATCH: usize = 100;
/// How long indexing may take before the run gives up.
const INDEXING_LIMIT: Duration = Duration::from_secs(60);

/// A server's configuration for measuring its index: no page cache, so every call
/// reaches the index as it does on the direct side; `concurrency` searches at once.
pub fn server_config(dir: &Path, concurrency: usize) -> ServeConfig {
    let mut config = ServeConfig::new(dir);
    config.search_cache_pages = 0;
    config.max_concurrent_searches = Some(concurrency * 2);
    config
}

/// [`server_config`] on the Meilisearch at `meili`.
pub fn meili_config(dir: &Path, concurrency: usize, meili: &meili::MeiliServer) -> ServeConfig {
    let mut config = server_config(dir, concurrency);
    config.meili_url = Some(meili.url());
    config.meili_key = Some(Secret::new(meili::MASTER_KEY));
    config
}

/// `Search` calls for each query in turn.
pub fn search_calls(queries: &[String]) -> Vec<UnaryCall> {
    queries
        .iter()
        .map(|query| UnaryCall::Search(grpc_request(query)))
        .collect()
}

/// The direct side: Meilisearch's search endpoint and the bodies to post.
#[derive(Debug)]
pub struct MeiliDirect {
    http: reqwest::Client,
    url: String,
    bodies: Vec<bytes::Bytes>,
}

impl MeiliDirect {
    /// Searches of `queries` in turn, against OVSR's index on `meili`.
    pub fn new(meili: &meili::MeiliServer, queries: &[String]) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: format!("{}/indexes/ovsr-schemas/search", meili.url()),
            bodies: queries.iter().map(|q| direct_body(q)).collect(),
        }
    }
}

impl Target for MeiliDirect {
    async fn call(&self, index: u64) -> Result<(), CallError> {
        let body = self.bodies[index as usize % self.bodies.len()].clone();
        let answer = self
            .http
            .post(&self.url)
            .bearer_auth(meili::MASTER_KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(classify)?;
        if !answer.status().is_success() {
            return Err(CallError::Http(answer.status().as_u16()));
        }
        // A client reads the hits, as the OVSR side's client decodes its answer.
        let bytes = answer.bytes().await.map_err(classify)?;
        let hits: Value = serde_json::from_slice(&bytes)
            .map_err(|_| CallError::Unexpected("Meilisearch answered no JSON"))?;
        std::hint::black_box(hits);
        Ok(())
    }
}

/// The schema files of the corpus, by lower-cased file stem.
pub fn load_schemas(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut schemas = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}; is the shared corpus there?", dir.display()))?;
    for entry in entries {
        let path: PathBuf = entry?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let content = std::fs::read_to_string(&path)?;
        schemas.push((stem.to_lowercase(), content));
    }
    schemas.sort();
    Ok(schemas)
}

/// The query column of the relevance queries.
pub fn load_queries(path: &Path) -> Result<Vec<String>> {
    let raw = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let queries: Vec<String> = raw
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once('\t').map(|(query, _)| query.to_owned()))
        .collect();
    if queries.is_empty() {
        bail!("no queries in {}", path.display());
    }
    Ok(queries)
}

/// Registers every schema; returns how many the registry took.
pub async fn register_all(channel: &Channel, schemas: &[(String, String)]) -> Result<usize> {
    let mut registered = 0;
    let mut client = SchemaServiceClient::new(channel.clone())
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    for chunk in schemas.chunks(REGISTER_BATCH) {
        let requests = chunk
            .iter()
            .map(|(name, content)| RegisterSchemaRequest {
                namespace: NAMESPACE.to_owned(),
                name: name.clone(),
                content: content.clone(),
                ..Default::default()
            })
            .collect();
        let answer = client
            .batch_register_schemas(BatchRegisterSchemasRequest { requests })
            .await?
            .into_inner();
        // Schemas the registry refuses (invalid for their dialect) are left out of
        // both indexes alike.
        registered += answer
            .results
            .iter()
            .filter(|item| matches!(item.result, Some(Registered::Registered(_))))
            .count();
    }
    Ok(registered)
}

/// Waits until an empty query counts every registered schema.
pub async fn wait_indexed(channel: &Channel, registered: usize) -> Result<()> {
    let mut client = SearchServiceClient::new(channel.clone());
    let deadline = Instant::now() + INDEXING_LIMIT;
    loop {
        let request = SearchRequest {
            namespaces: vec![NAMESPACE.to_owned()],
            page_size: 1,
            ..Default::default()
        };
        let answer = client.search(request).await;
        if let Ok(answer) = &answer {
            let total = answer.get_ref().estimated_total_hits;
            if total == registered as u64 {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            let last = answer.map(|a| a.into_inner().estimated_total_hits);
            bail!("indexing did not finish within {INDEXING_LIMIT:?}; last count {last:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub fn grpc_request(query: &str) -> SearchRequest {
    SearchRequest {
        query: query.to_owned(),
        page_size: PAGE_SIZE as i32,
        ..Default::default()
    }
}

/// The body OVSR's Meilisearch backend posts for `query`'s first page.
pub fn direct_body(query: &str) -> bytes::Bytes {
    let body = json!({
        "q": query,
        "offset": 0,
        "limit": PAGE_SIZE,
        "filter": "state IN [\"active\"]",
        "facets": ["namespace", "tags"],
        "matchingStrategy": "last",
        "attributesToHighlight": ["title", "description", "properties"],
        "highlightPreTag": "\u{e000}",
        "highlightPostTag": "\u{e001}",
        "attributesToCrop": ["description:30"],
        "cropMarker": "…",
    });
    body.to_string().into()
}
