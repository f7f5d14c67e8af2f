//! What the cache benchmark serves: SchemaStore's schemas of a few KB, registered into
//! a namespace of the run, and the GetSchema requests drawn over them.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use anyhow::{Context as _, Result, bail};
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::{GetSchemaRequest, GetSchemaResponse, RegisterSchemaRequest};
use serde_json::Value;
use tonic::transport::Channel;

use super::Lookup;
use super::noop::AnswerKey;
use crate::corpus::Corpus;
use crate::store::calls::get_by_name;
use crate::store::dataset::SeededRng;

/// Schema files of this many bytes are taken: the few KB most schemas weigh.
pub const SCHEMA_FILE_BYTES: RangeInclusive<usize> = 1024..=16 * 1024;
/// The keyword that makes each run's content (and digests) its own.
const RUN_KEYWORD: &str = "x-ovsr-cache-bench-run";

/// A schema to register.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Its SchemaStore name.
    pub source: String,
    /// Its JSON text, marked with the run.
    pub content: String,
}

/// A schema as registered and served.
#[derive(Debug, Clone)]
pub struct Served {
    /// Its name in the run's namespace.
    pub name: String,
    /// The text registered.
    pub content: String,
    /// Its version number.
    pub version: u32,
    /// `sha256:…` of its canonical content.
    pub digest: String,
    /// Bytes of the canonical content the server answers with.
    pub served_bytes: usize,
}

/// SchemaStore's schemas within [`SCHEMA_FILE_BYTES`], by name. Each carries `run`
/// under a keyword of its own, so its digest differs from every other run's and the
/// Redis keys this run writes are its alone.
pub fn candidates(corpus: &Corpus, run: &str) -> Result<Vec<Candidate>> {
    let mut picked = Vec::new();
    for case in &corpus.cases {
        if case.workload.is_some() || !SCHEMA_FILE_BYTES.contains(&case.schema_bytes) {
            continue;
        }
        let Value::Object(mut schema) = case.schema.clone() else {
            continue;
        };
        schema.insert(RUN_KEYWORD.to_owned(), Value::String(run.to_owned()));
        picked.push(Candidate {
            source: case.name.clone(),
            content: serde_json::to_string(&schema)?,
        });
    }
    Ok(picked)
}

/// Registers candidates in turn until `limit` are in; the ones the registry refuses
/// (references outside it, mostly) are passed over.
pub async fn register_first(
    channel: &Channel,
    namespace: &str,
    candidates: &[Candidate],
    limit: usize,
) -> Result<Vec<Served>> {
    let mut client = SchemaServiceClient::new(channel.clone());
    let mut served = Vec::new();
    for candidate in candidates {
        if served.len() == limit {
            break;
        }
        let name = format!("schema-{:04}", served.len());
        let request = registration(namespace, &name, &candidate.content);
        let Ok(response) = client.register_schema(request).await else {
            continue;
        };
        let version = response
            .into_inner()
            .schema_version
            .with_context(|| format!("registering {} answered no version", candidate.source))?;
        served.push(Served {
            name,
            content: candidate.content.clone(),
            version: version.version,
            digest: version.digest,
            served_bytes: version.content.len(),
        });
    }
    Ok(served)
}

/// Registers `served` into a second server, which must store each the same way.
pub async fn register_again(channel: &Channel, namespace: &str, served: &[Served]) -> Result<()> {
    let mut client = SchemaServiceClient::new(channel.clone());
    for schema in served {
        let request = registration(namespace, &schema.name, &schema.content);
        let response = client.register_schema(request).await?.into_inner();
        let version = response
            .schema_version
            .context("registration answered no version")?;
        if (version.version, version.digest.as_str()) != (schema.version, schema.digest.as_str()) {
            bail!(
                "{} registered differently on the second server",
                schema.name
            );
        }
    }
    Ok(())
}

/// `count` requests for random schemas of `served`, by `lookup`.
pub fn requests(
    namespace: &str,
    served: &[Served],
    lookup: Lookup,
    seed: u64,
    count: usize,
) -> Vec<GetSchemaRequest> {
    let mut rng = SeededRng::new(seed);
    let bound = served.len() as u64;
    (0..count)
        .map(|_| {
            let schema = &served[rng.below(bound) as usize];
            let version = match lookup {
                Lookup::Exact => schema.version,
                Lookup::Latest => 0,
            };
            get_by_name(namespace.to_owned(), schema.name.clone(), version)
        })
        .collect()
}

/// Every key's answer from the server behind `channel`, by exact version and by
/// latest; reading them also fills the server's cache.
pub async fn answers(
    channel: &Channel,
    namespace: &str,
    served: &[Served],
) -> Result<HashMap<AnswerKey, GetSchemaResponse>> {
    let mut client = SchemaServiceClient::new(channel.clone());
    let mut answers = HashMap::with_capacity(served.len() * 2);
    for schema in served {
        for version in [schema.version, 0] {
            let request = get_by_name(namespace.to_owned(), schema.name.clone(), version);
            let answer = client.get_schema(request).await?.into_inner();
            let found = answer.schema_version.as_ref();
            if found.is_none_or(|found| found.content.len() != schema.served_bytes) {
                bail!("GetSchema of {} answered other content", schema.name);
            }
            let key = (namespace.to_owned(), schema.name.clone(), version);
            answers.insert(key, answer);
        }
    }
    Ok(answers)
}

/// The mean size of the content served, in bytes.
pub fn mean_served_bytes(served: &[Served]) -> usize {
    let total: usize = served.iter().map(|schema| schema.served_bytes).sum();
    total / served.len().max(1)
}

fn registration(namespace: &str, name: &str, content: &str) -> RegisterSchemaRequest {
    RegisterSchemaRequest {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        content: content.to_owned(),
        ..RegisterSchemaRequest::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(name: &str, version: u32) -> Served {
        Served {
            name: name.to_owned(),
            content: "{}".to_owned(),
            version,
            digest: String::new(),
            served_bytes: 2,
        }
    }

    #[test]
    fn requests_name_exact_versions_or_latest() {
        let set = [served("a", 3), served("b", 5)];
        let exact = requests("ns", &set, Lookup::Exact, 7, 16);
        let latest = requests("ns", &set, Lookup::Latest, 7, 16);
        let version_of = |request: &GetSchemaRequest| match request
            .schema
            .as_ref()
            .and_then(|s| s.target.as_ref())
        {
            Some(ovsr_proto::v1::schema_selector::Target::VersionRef(r)) => r.version,
            _ => u32::MAX,
        };
        assert!(exact.iter().all(|r| [3, 5].contains(&version_of(r))));
        assert!(latest.iter().all(|r| version_of(r) == 0));
        assert_eq!(mean_served_bytes(&set), 2);
    }
}
