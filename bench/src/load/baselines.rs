//! The pairs the load benchmark measures OVSR against, each built from what the run
//! prepared: the tonic no-op for cached `GetSchema`, nginx for raw documents, pgbench
//! for uncached `GetSchema`, the in-process loop for streaming validation, and
//! direct Meilisearch queries for `Search`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use ovsr_proto::v1::schema_selector::Target as Selected;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::{GetSchemaRequest, GetSchemaResponse};
use reqwest::header::{ACCEPT_ENCODING, ETAG, HeaderValue};
use reqwest::{StatusCode, Url};
use tokio::runtime::Handle;
use tonic::transport::Channel;

use super::cold::ColdStore;
use super::pairs::{Goals, Pair, Side};
use super::schemas::ACCEPT_COMPRESSED;
use super::target::{GrpcGetSchema, GrpcUnary, HttpGet, HttpRequest};
use crate::cache::metrics;
use crate::cache::noop::AnswerKey;
use crate::cache::redis_benchmark::RedisBenchmark;
use crate::search::{self, MeiliDirect, meili};
use crate::validation::{self, Item};

/// The pairs' keys, in the order they run.
pub const HOT: &str = "get-schema-hot";
/// See [`HOT`].
pub const HTTP_200: &str = "http-get-200";
/// See [`HOT`].
pub const HTTP_304: &str = "http-get-304";
/// See [`HOT`].
pub const COLD: &str = "get-schema-cold";
/// See [`HOT`].
pub const STREAM: &str = "validate-stream";
/// See [`HOT`].
pub const SEARCH: &str = "search-meili";
/// See [`HOT`].
pub const REDIS: &str = "get-schema-redis";
/// Every pair.
pub const ALL: [&str; 7] = [HOT, HTTP_200, HTTP_304, COLD, STREAM, SEARCH, REDIS];

/// The goals the first full run reports against.
pub const HOT_GOALS: Goals = Goals {
    throughput_at_least: Some(0.85),
    p99_at_most: Some(1.25),
};
/// HTTP 200 against nginx.
pub const HTTP_200_GOALS: Goals = Goals {
    throughput_at_least: Some(0.75),
    p99_at_most: None,
};
/// HTTP 304 against nginx.
pub const HTTP_304_GOALS: Goals = Goals {
    throughput_at_least: Some(0.90),
    p99_at_most: None,
};
/// Uncached `GetSchema` against pgbench.
pub const COLD_GOALS: Goals = Goals {
    throughput_at_least: Some(0.40),
    p99_at_most: None,
};
/// Streaming validation against the in-process loop.
pub const STREAM_GOALS: Goals = Goals {
    throughput_at_least: Some(0.50),
    p99_at_most: None,
};
/// `Search` against direct Meilisearch.
pub const SEARCH_GOALS: Goals = Goals {
    throughput_at_least: Some(0.80),
    p99_at_most: None,
};

/// Every request's answer from the server behind `channel`, keyed as the no-op keys
/// them; reading them also fills the server's cache.
pub async fn noop_answers(
    channel: &Channel,
    requests: &[GetSchemaRequest],
) -> Result<HashMap<AnswerKey, GetSchemaResponse>> {
    let mut client = SchemaServiceClient::new(channel.clone());
    let mut answers = HashMap::with_capacity(requests.len());
    for request in requests {
        let Some(Selected::VersionRef(reference)) =
            request.schema.as_ref().and_then(|s| s.target.clone())
        else {
            bail!("the no-op answers version references only");
        };
        let answer = client.get_schema(request.clone()).await?.into_inner();
        let key = (reference.namespace, reference.name, reference.version);
        answers.insert(key, answer);
    }
    Ok(answers)
}

/// Cached `GetSchema` through OVSR against the no-op answering the same bytes.
pub fn hot_pair<'a>(
    runtime: &'a Handle,
    ovsr: &[Channel],
    noop: &[Channel],
    requests: &[GetSchemaRequest],
    callers: usize,
) -> Pair<'a> {
    let ovsr_target = GrpcGetSchema::new(ovsr, requests.to_vec());
    let noop_target = GrpcGetSchema::new(noop, requests.to_vec());
    Pair {
        id: HOT,
        description: "gRPC GetSchema by name + pinned version, answered from memory".to_owned(),
        concurrency: callers,
        ovsr: Side::closed_loop("OVSR, cached", runtime, Arc::new(ovsr_target), callers),
        baseline: Side::closed_loop(
            "tonic no-op, same answers",
            runtime,
            Arc::new(noop_target),
            callers,
        ),
        goals: HOT_GOALS,
    }
}

/// The bytes OVSR serves at each of `requests`' URLs, asked for without encoding:
/// what nginx is given to serve.
pub async fn served_documents(requests: &[HttpRequest]) -> Result<Vec<(String, Vec<u8>)>> {
    let client = reqwest::Client::builder().no_gzip().no_brotli().build()?;
    let mut documents = Vec::with_capacity(requests.len());
    for request in requests {
        let response = client.get(request.url.clone()).send().await?;
        if response.status() != StatusCode::OK {
            bail!("GET {} answered {}", request.url, response.status());
        }
        let body = response.bytes().await?;
        documents.push((request.url.path().to_owned(), body.to_vec()));
    }
    Ok(documents)
}

/// The same GETs against nginx at `base`, accepting br or gzip; `conditional` ones
/// carry the ETag nginx gave each (it differs from OVSR's, which is the digest).
pub async fn nginx_requests(
    base: &Url,
    documents: &[(String, Vec<u8>)],
    conditional: bool,
) -> Result<Vec<HttpRequest>> {
    let client = reqwest::Client::builder().no_gzip().no_brotli().build()?;
    let accept = HeaderValue::from_static(ACCEPT_COMPRESSED);
    let mut requests = Vec::with_capacity(documents.len());
    for (path, _) in documents {
        let url = base.join(path).with_context(|| format!("joining {path}"))?;
        let if_none_match = if conditional {
            let response = client
                .get(url.clone())
                .header(ACCEPT_ENCODING, accept.clone())
                .send()
                .await?;
            if response.status() != StatusCode::OK {
                bail!("nginx GET {url} answered {}", response.status());
            }
            let etag = response.headers().get(ETAG).cloned();
            Some(etag.with_context(|| format!("nginx gave {url} no ETag"))?)
        } else {
            None
        };
        requests.push(HttpRequest {
            url,
            if_none_match,
            accept_encoding: Some(accept.clone()),
        });
    }
    Ok(requests)
}

/// An HTTP GET pair: `ovsr` against `nginx`, both expecting `expected`.
pub fn http_pair<'a>(
    runtime: &'a Handle,
    ovsr: Vec<HttpRequest>,
    nginx: Vec<HttpRequest>,
    expected: StatusCode,
    connections: usize,
) -> Result<Pair<'a>> {
    let (id, description, goals) = if expected == StatusCode::NOT_MODIFIED {
        (
            HTTP_304,
            "HTTP GET of a document with If-None-Match, 304",
            HTTP_304_GOALS,
        )
    } else {
        (
            HTTP_200,
            "HTTP GET of a document, Accept-Encoding br, gzip, 200",
            HTTP_200_GOALS,
        )
    };
    let ovsr = HttpGet::new(ovsr, expected, connections)?;
    let nginx = HttpGet::new(nginx, expected, connections)?;
    Ok(Pair {
        id,
        description: description.to_owned(),
        concurrency: connections,
        ovsr: Side::closed_loop("OVSR", runtime, Arc::new(ovsr), connections),
        baseline: Side::closed_loop(
            "nginx static, precompressed",
            runtime,
            Arc::new(nginx),
            connections,
        ),
        goals,
    })
}

/// Uncached `GetSchema` against pgbench running the store's statement.
pub fn cold_pair<'a>(runtime: &'a Handle, cold: &'a ColdStore, callers: usize) -> Pair<'a> {
    let target = GrpcGetSchema::new(&cold.channels, cold.requests.clone());
    let description = format!(
        "GetSchema of a random version of {} in PostgreSQL, cache off",
        cold.shape.versions
    );
    Pair {
        id: COLD,
        description,
        concurrency: callers,
        ovsr: Side::closed_loop("OVSR on PostgreSQL", runtime, Arc::new(target), callers),
        baseline: Side::new("pgbench, the store's SQL, prepared", move |round| {
            cold.pgbench.run(&cold.script, round)
        }),
        goals: COLD_GOALS,
    }
}

/// One `ValidateStream` against parse-and-validate in process on one thread, the
/// same engine, schemas and documents.
pub fn stream_pair<'a>(runtime: &'a Handle, channel: &'a Channel, items: &'a [Item]) -> Pair<'a> {
    Pair {
        id: STREAM,
        description: format!(
            "{} SchemaStore documents over {} schemas, documents per second",
            items.len(),
            validation::schema_count(items)
        ),
        concurrency: 1,
        ovsr: Side::new("OVSR ValidateStream, one stream", move |round| {
            let per_sec = runtime.block_on(validation::stream(channel, items, round))?;
            Ok(rate_only(per_sec))
        }),
        baseline: Side::new("in-process parse + validate, one thread", move |round| {
            Ok(rate_only(validation::in_process(items, round)))
        }),
        goals: STREAM_GOALS,
    }
}

/// `Search` through OVSR over Meilisearch against the same searches sent to
/// Meilisearch directly, both with the page cache out of the way.
pub fn search_pair<'a>(
    runtime: &'a Handle,
    channel: &Channel,
    meili: &meili::MeiliServer,
    queries: &[String],
    callers: usize,
) -> Pair<'a> {
    let ovsr = GrpcUnary::new(std::slice::from_ref(channel), search::search_calls(queries));
    let direct = MeiliDirect::new(meili, queries);
    Pair {
        id: SEARCH,
        description: format!(
            "{} relevance-catalog queries over the SchemaStore corpus, first page of {}",
            queries.len(),
            search::PAGE_SIZE
        ),
        concurrency: callers,
        ovsr: Side::closed_loop(
            "OVSR Search over Meilisearch, no page cache",
            runtime,
            Arc::new(ovsr),
            callers,
        ),
        baseline: Side::closed_loop(
            "Meilisearch HTTP search, direct",
            runtime,
            Arc::new(direct),
            callers,
        ),
        goals: SEARCH_GOALS,
    }
}

/// redis-benchmark's first run, before a rate sizes its rounds.
const CALIBRATION_REQUESTS: u64 = 10_000;

/// `GetSchema` by version through a server whose only cache is Redis, against
/// redis-benchmark GETs of values of the same size at the same concurrency. The
/// OVSR side's rate is the Redis GETs it made per second, read from its metrics
/// around each round (a call costs a few GETs), so both sides count Redis round
/// trips; latencies are not compared, a call being several GETs.
pub fn redis_pair<'a>(
    runtime: &'a Handle,
    channels: &[Channel],
    metrics_addr: std::net::SocketAddr,
    requests: Vec<GetSchemaRequest>,
    tool: RedisBenchmark,
    callers: usize,
) -> Pair<'a> {
    let mut calls = Side::closed_loop(
        "OVSR",
        runtime,
        Arc::new(GrpcGetSchema::new(channels, requests)),
        callers,
    );
    let ovsr = Side::new("OVSR GetSchema through Redis, Redis GETs", move |round| {
        let before = runtime.block_on(metrics::scrape(metrics_addr))?;
        let started = Instant::now();
        calls.run_round(round)?;
        let elapsed = started.elapsed().as_secs_f64();
        let after = runtime.block_on(metrics::scrape(metrics_addr))?;
        let gets = after.redis_gets().saturating_sub(before.redis_gets());
        if gets == 0 {
            bail!("the Redis path made no Redis GET");
        }
        // A call's latency spans several GETs and gRPC: it has no counterpart on
        // the other side, so only the rates compare.
        Ok(rate_only(gets as f64 / elapsed))
    });
    let mut rate = 0.0;
    let baseline = Side::new("redis-benchmark GET, same value size", move |round| {
        let requests = if rate > 0.0 {
            ((rate * round.as_secs_f64()) as u64).max(1000)
        } else {
            CALIBRATION_REQUESTS
        };
        let sample = tool.run(requests)?;
        rate = sample.per_sec;
        Ok(sample)
    });
    Pair {
        id: REDIS,
        description: "GetSchema by version with no memory cache: Redis GETs per second".to_owned(),
        concurrency: callers,
        ovsr,
        baseline,
        goals: Goals::default(),
    }
}

/// A sample with a rate and no latencies.
pub fn rate_only(per_sec: f64) -> crate::store::RoundSample {
    crate::store::RoundSample {
        per_sec,
        p50_us: 0.0,
        p99_us: 0.0,
    }
}
