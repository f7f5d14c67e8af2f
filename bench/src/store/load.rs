//! Loading the data set through `BatchRegisterSchemas`, the path `ovsr import` takes:
//! batches of whole schemas (every version in order, so numbers come out 1, 2, …),
//! several in flight so the server's threads and PostgreSQL's backends all work.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use futures::{StreamExt as _, TryStreamExt as _};
use ovsr_proto::v1::batch_register_schemas_result::Result as Item;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::{BatchRegisterSchemasRequest, RegisterSchemaRequest};
use serde::Serialize;
use tokio_postgres::Client;
use tonic::transport::Channel;

use super::database;
use super::dataset::{Shape, name_of, namespace_of, schema_document};

/// Schemas per call: 100 schemas of 5 versions is `ovsr import`'s 500 items.
const SCHEMAS_PER_BATCH: u64 = 100;
/// Calls in flight at once.
pub const BATCHES_IN_FLIGHT: usize = 4;
/// How often progress is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// How the load went.
#[derive(Debug, Clone, Serialize)]
pub struct LoadSummary {
    /// False when the database already held the data set.
    pub loaded: bool,
    /// Versions stored by this load.
    pub created: u64,
    /// Versions found already present (a resumed load).
    pub unchanged: u64,
    /// Seconds taken.
    pub seconds: f64,
    /// Versions sent per second.
    pub versions_per_sec: f64,
    /// Items per call.
    pub batch_items: u64,
    /// Calls in flight.
    pub batches_in_flight: usize,
}

impl LoadSummary {
    /// The summary of a load skipped because the data set was there.
    pub fn skipped() -> Self {
        Self {
            loaded: false,
            created: 0,
            unchanged: 0,
            seconds: 0.0,
            versions_per_sec: 0.0,
            batch_items: SCHEMAS_PER_BATCH * Shape::new(0).versions_per_schema,
            batches_in_flight: BATCHES_IN_FLIGHT,
        }
    }
}

/// What one call stored.
#[derive(Debug, Clone, Copy, Default)]
struct BatchOutcome {
    versions: u64,
    created: u64,
}

/// Loads the data set unless the database holds exactly it; empties a database that
/// holds another one first.
pub async fn ensure_data_set(
    admin: &Client,
    channel: &Channel,
    shape: &Shape,
    seed: u64,
) -> Result<LoadSummary> {
    let state = database::dataset_state(admin).await?;
    let wanted = Some((shape.versions, seed));
    if state.recorded == wanted && state.loaded_versions == shape.versions {
        eprintln!(
            "database holds the {} versions: loading skipped",
            shape.versions
        );
        database::build_digest_keys(admin, shape).await?;
        return Ok(LoadSummary::skipped());
    }
    if state.recorded != wanted && (state.recorded.is_some() || state.loaded_versions > 0) {
        let held = state.loaded_versions;
        eprintln!("database holds another data set ({held} versions): emptying it");
        database::empty(admin).await?;
    }

    database::record_dataset(admin, shape, seed).await?;
    eprintln!(
        "loading {} versions through BatchRegisterSchemas",
        shape.versions
    );
    let summary = load(channel, shape, seed).await?;
    let present = database::count_loaded(admin).await?;
    if present != shape.versions {
        bail!(
            "after loading, the database holds {present} versions, not {}",
            shape.versions
        );
    }
    eprintln!(
        "loaded {} versions in {:.1} s: {:.0} versions/s",
        shape.versions, summary.seconds, summary.versions_per_sec
    );
    database::vacuum_analyze(admin).await?;
    database::build_digest_keys(admin, shape).await?;
    Ok(summary)
}

/// Registers every version of `shape`, printing progress; fails on the first item the
/// server refuses.
pub async fn load(channel: &Channel, shape: &Shape, seed: u64) -> Result<LoadSummary> {
    let client = SchemaServiceClient::new(channel.clone())
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    let batches = shape.schemas.div_ceil(SCHEMAS_PER_BATCH);
    let started = Instant::now();
    let mut last_report = started;
    let mut sent = 0u64;
    let mut created = 0u64;

    let calls = futures::stream::iter(0..batches)
        .map(|batch| {
            let mut client = client.clone();
            let request = batch_request(shape, seed, batch);
            async move { send(&mut client, request).await }
        })
        .buffer_unordered(BATCHES_IN_FLIGHT);
    let mut calls = std::pin::pin!(calls.into_stream());
    while let Some(outcome) = calls.try_next().await? {
        sent += outcome.versions;
        created += outcome.created;
        if last_report.elapsed() >= PROGRESS_EVERY {
            last_report = Instant::now();
            let rate = sent as f64 / started.elapsed().as_secs_f64();
            eprintln!(
                "loaded {sent}/{} versions ({rate:.0} versions/s)",
                shape.versions
            );
        }
    }

    let seconds = started.elapsed().as_secs_f64();
    Ok(LoadSummary {
        loaded: true,
        created,
        unchanged: sent - created,
        seconds,
        versions_per_sec: sent as f64 / seconds,
        batch_items: SCHEMAS_PER_BATCH * shape.versions_per_schema,
        batches_in_flight: BATCHES_IN_FLIGHT,
    })
}

/// Every version of the schemas of batch `batch`, schema by schema.
fn batch_request(shape: &Shape, seed: u64, batch: u64) -> BatchRegisterSchemasRequest {
    let first = batch * SCHEMAS_PER_BATCH;
    let last = (first + SCHEMAS_PER_BATCH).min(shape.schemas);
    let mut requests = Vec::new();
    for schema in first..last {
        let (namespace, name) = (namespace_of(schema), name_of(schema));
        for version in 1..=shape.versions_of(schema) {
            let version = u32::try_from(version).unwrap_or(u32::MAX);
            requests.push(RegisterSchemaRequest {
                namespace: namespace.clone(),
                name: name.clone(),
                content: schema_document(seed, schema, version),
                ..RegisterSchemaRequest::default()
            });
        }
    }
    BatchRegisterSchemasRequest { requests }
}

async fn send(
    client: &mut SchemaServiceClient<Channel>,
    request: BatchRegisterSchemasRequest,
) -> Result<BatchOutcome> {
    let first = request
        .requests
        .first()
        .map(|r| format!("{}/{}", r.namespace, r.name))
        .unwrap_or_default();
    let versions = request.requests.len() as u64;
    let response = client
        .batch_register_schemas(request)
        .await
        .with_context(|| format!("BatchRegisterSchemas from {first}"))?;

    let mut created = 0;
    for (index, result) in response.into_inner().results.into_iter().enumerate() {
        match result.result {
            Some(Item::Registered(registered)) => created += u64::from(registered.created),
            Some(Item::Error(err)) => {
                bail!(
                    "item {index} of the batch from {first} refused: {}",
                    err.message
                )
            }
            None => bail!("item {index} of the batch from {first} has no result"),
        }
    }
    Ok(BatchOutcome { versions, created })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_whole_schemas_in_version_order() {
        let shape = Shape::new(1003);
        let last = batch_request(&shape, 1, 2);
        assert_eq!(last.requests.len(), 3);
        assert_eq!(last.requests[0].name, "schema-0200");
        let first = batch_request(&shape, 1, 0);
        assert_eq!(first.requests.len(), 500);
        assert_eq!(first.requests[4].name, first.requests[0].name);
        assert_ne!(first.requests[5].name, first.requests[0].name);
    }
}
