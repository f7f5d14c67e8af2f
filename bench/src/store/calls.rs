//! The OVSR side: store calls through gRPC, closed loop, a fixed number in flight over
//! one HTTP/2 connection. Requests are built before the clock starts; each call only
//! clones its prepared request (tonic takes ownership) and records its latency.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use ovsr_proto::v1::schema_selector::Target;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::{
    GetSchemaRequest, ListSchemasRequest, RegisterSchemaRequest, SchemaSelector, VersionRef,
};
use tokio_postgres::Client;
use tonic::transport::Channel;

use super::dataset::{SeededRng, Shape, WRITES_NAMESPACE, name_of, namespace_of, written_document};
use super::scripts::{PAGE_SIZE, PageCursor};
use super::{RoundSample, StoreWorkload, database};

/// Latencies each caller expects to record per round, to size its buffer once.
const EXPECTED_CALLS_PER_CALLER: usize = 16 * 1024;
/// Random keys drawn for each read workload; callers take them in turn.
const KEYS_PER_WORKLOAD: usize = 65_536;
/// Mixed into the seed so the keys drawn do not follow the data set's own stream
/// ("keys" in ASCII).
const KEY_STREAM: u64 = 0x6b65_7973;

/// What one workload sends.
#[derive(Debug)]
pub enum OvsrCalls {
    /// GetSchema requests, taken in turn.
    Get(Vec<GetSchemaRequest>),
    /// The same ListSchemas request every time.
    List(ListSchemasRequest),
    /// RegisterSchema of fresh content: caller `c` writes schema `writers[c]`, and the
    /// content carries `unique` (one per round) and the call number.
    Register {
        /// One schema name per caller, in the writes namespace.
        writers: Vec<String>,
        /// Makes this round's documents differ from every other round's.
        unique: String,
    },
}

impl OvsrCalls {
    /// Register calls for `callers` callers, unique by `unique`.
    pub fn register(callers: usize, unique: String) -> Self {
        Self::Register {
            writers: writer_names(callers),
            unique,
        }
    }

    /// Sends call number `call` of `caller`, of `callers`, and checks the answer.
    async fn send(
        &self,
        client: &mut SchemaServiceClient<Channel>,
        caller: usize,
        callers: usize,
        call: usize,
    ) -> Result<()> {
        match self {
            Self::Get(requests) => {
                let request = requests[(call * callers + caller) % requests.len()].clone();
                let found = client.get_schema(request).await?.into_inner();
                if found.schema_version.is_none() {
                    bail!("GetSchema answered without a version");
                }
            }
            Self::List(request) => {
                let page = client.list_schemas(request.clone()).await?.into_inner();
                if page.schemas.is_empty() {
                    bail!("ListSchemas answered an empty page");
                }
            }
            Self::Register { writers, unique } => {
                let writer = &writers[caller];
                let request = RegisterSchemaRequest {
                    namespace: WRITES_NAMESPACE.to_owned(),
                    name: writer.clone(),
                    content: written_document(writer, &format!("{unique}-{call}")),
                    ..RegisterSchemaRequest::default()
                };
                let registered = client.register_schema(request).await?.into_inner();
                if !registered.created {
                    bail!("RegisterSchema found the content already there");
                }
            }
        }
        Ok(())
    }
}

/// The schema each writer registers into: `ovsr-00`, `ovsr-01`, …
pub fn writer_names(callers: usize) -> Vec<String> {
    (0..callers)
        .map(|caller| format!("ovsr-{caller:02}"))
        .collect()
}

/// A GetSchema request for a named version (`version` 0: latest).
pub fn get_by_name(namespace: String, name: String, version: u32) -> GetSchemaRequest {
    let reference = VersionRef {
        namespace,
        name,
        version,
    };
    get_request(Target::VersionRef(reference))
}

/// A GetSchema request for a digest.
pub fn get_by_digest(digest: String) -> GetSchemaRequest {
    get_request(Target::Digest(digest))
}

fn get_request(target: Target) -> GetSchemaRequest {
    GetSchemaRequest {
        schema: Some(SchemaSelector {
            target: Some(target),
        }),
        ..GetSchemaRequest::default()
    }
}

/// The first page of the listing over every namespace.
pub fn first_page() -> ListSchemasRequest {
    ListSchemasRequest {
        page_size: PAGE_SIZE as i32,
        ..ListSchemasRequest::default()
    }
}

/// Walks the listing over every namespace by its cursor to page `page` (or to the
/// last page, when there are fewer): the request for that page, and where it starts.
pub async fn walk_to_page(
    channel: &Channel,
    page: u64,
) -> Result<(ListSchemasRequest, PageCursor)> {
    let mut client = SchemaServiceClient::new(channel.clone());
    let mut request = first_page();
    let mut cursor = PageCursor {
        page: 1,
        ..PageCursor::default()
    };
    while cursor.page < page {
        let listed = client.list_schemas(request.clone()).await?.into_inner();
        let Some(last) = listed.schemas.last() else {
            bail!("ListSchemas answered an empty page {}", cursor.page);
        };
        if listed.next_page_token.is_empty() {
            break;
        }
        cursor = PageCursor {
            page: cursor.page + 1,
            after_namespace: last.namespace.clone(),
            after_name: last.name.clone(),
        };
        request.page_token = listed.next_page_token;
    }
    Ok((request, cursor))
}

/// `count` GetSchema requests of random versions of `shape`, by name and version.
pub fn exact_requests(shape: &Shape, rng: &mut SeededRng, count: usize) -> Vec<GetSchemaRequest> {
    (0..count)
        .map(|_| {
            let key = shape.version_key(rng.below(shape.versions));
            let (ns, name) = (namespace_of(key.schema), name_of(key.schema));
            get_by_name(ns, name, key.version)
        })
        .collect()
}

/// The read workloads' prepared calls, keys drawn from the seed.
pub async fn read_calls(
    admin: &Client,
    shape: &Shape,
    seed: u64,
    deep_request: ListSchemasRequest,
) -> Result<BTreeMap<StoreWorkload, Arc<OvsrCalls>>> {
    let mut rng = SeededRng::new(seed ^ KEY_STREAM);
    let exact = exact_requests(shape, &mut rng, KEYS_PER_WORKLOAD);
    let latest: Vec<_> = (0..KEYS_PER_WORKLOAD)
        .map(|_| {
            let schema = rng.below(shape.schemas);
            get_by_name(namespace_of(schema), name_of(schema), 0)
        })
        .collect();
    let digest_keys: Vec<u64> = (0..KEYS_PER_WORKLOAD)
        .map(|_| rng.below(shape.versions))
        .collect();
    let digests = database::digests_of(admin, &digest_keys).await?;
    let by_digest = digests.into_iter().map(get_by_digest).collect();

    let reads = [
        (StoreWorkload::GetExact, OvsrCalls::Get(exact)),
        (StoreWorkload::GetLatest, OvsrCalls::Get(latest)),
        (StoreWorkload::GetByDigest, OvsrCalls::Get(by_digest)),
        (StoreWorkload::ListFirstPage, OvsrCalls::List(first_page())),
        (StoreWorkload::ListDeepPage, OvsrCalls::List(deep_request)),
    ];
    Ok(reads
        .into_iter()
        .map(|(workload, calls)| (workload, Arc::new(calls)))
        .collect())
}

/// `callers` callers sending `calls` back to back for `duration`; calls per second
/// and latency percentiles. The first failed call fails the round.
pub async fn closed_loop(
    channel: &Channel,
    calls: Arc<OvsrCalls>,
    callers: usize,
    duration: Duration,
) -> Result<RoundSample> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(callers);
    for caller in 0..callers {
        let mut client = SchemaServiceClient::new(channel.clone());
        let calls = Arc::clone(&calls);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(EXPECTED_CALLS_PER_CALLER);
            let mut call = 0;
            while Instant::now() < deadline {
                let sent = Instant::now();
                calls.send(&mut client, caller, callers, call).await?;
                latencies.push(sent.elapsed().as_micros() as u64);
                call += 1;
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }

    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.context("a caller panicked")??);
    }
    let per_sec = latencies.len() as f64 / started.elapsed().as_secs_f64();
    Ok(RoundSample::from_latencies(per_sec, &mut latencies))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_are_numbered_per_caller() {
        assert_eq!(writer_names(2), vec!["ovsr-00", "ovsr-01"]);
    }

    #[test]
    fn name_lookups_carry_their_version() {
        let request = get_by_name("team-0000".into(), "schema-0001".into(), 3);
        let Some(Target::VersionRef(reference)) = request.schema.and_then(|s| s.target) else {
            panic!("not a version reference");
        };
        assert_eq!(
            (reference.name.as_str(), reference.version),
            ("schema-0001", 3)
        );
    }
}
