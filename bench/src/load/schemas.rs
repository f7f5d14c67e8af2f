//! What the load benchmark reads: SchemaStore schemas of a few KB, registered into
//! one namespace, and the gRPC and HTTP requests prepared over them.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use ovsr_proto::v1::schema_selector::Target;
use ovsr_proto::v1::schema_service_client::SchemaServiceClient;
use ovsr_proto::v1::{
    GetSchemaRequest, ListSchemasRequest, RegisterSchemaRequest, SchemaSelector, SearchRequest,
    ValidateRequest, VersionRef,
};
use reqwest::Url;
use reqwest::header::HeaderValue;
use tonic::transport::Channel;

use super::target::{HttpRequest, UnaryCall};
use crate::store::calls::get_by_name;

/// Schema files of this many bytes are taken: the few KB most schemas weigh.
pub const SCHEMA_FILE_BYTES: RangeInclusive<u64> = 1024..=16 * 1024;

/// A schema as registered.
#[derive(Debug, Clone)]
pub struct Registered {
    /// Its name in the namespace.
    pub name: String,
    /// Its version number.
    pub version: u32,
    /// `sha256:…` of its canonical content, which is also its ETag.
    pub digest: String,
    /// Bytes of the canonical content served.
    pub served_bytes: usize,
}

/// The `.json` files of `dir` within [`SCHEMA_FILE_BYTES`], by file name.
pub fn candidate_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {dir:?}"))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let bytes = entry.metadata()?.len();
        let is_json = path.extension().is_some_and(|ext| ext == "json");
        if is_json && SCHEMA_FILE_BYTES.contains(&bytes) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Registers `files` in turn until `limit` are in; the ones the registry refuses
/// (references outside it, mostly) are passed over.
pub async fn register_first(
    channel: &Channel,
    namespace: &str,
    files: &[PathBuf],
    limit: usize,
) -> Result<Vec<Registered>> {
    let mut client = SchemaServiceClient::new(channel.clone());
    let mut registered = Vec::with_capacity(limit);
    for file in files {
        if registered.len() == limit {
            break;
        }
        let content = std::fs::read_to_string(file).with_context(|| format!("reading {file:?}"))?;
        let name = format!("schema-{:03}", registered.len());
        let request = RegisterSchemaRequest {
            namespace: namespace.to_owned(),
            name: name.clone(),
            content,
            ..RegisterSchemaRequest::default()
        };
        let Ok(response) = client.register_schema(request).await else {
            continue;
        };
        let version = response
            .into_inner()
            .schema_version
            .with_context(|| format!("registering {file:?} answered no version"))?;
        registered.push(Registered {
            name,
            version: version.version,
            digest: version.digest,
            served_bytes: version.content.len(),
        });
    }
    Ok(registered)
}

/// GetSchema requests by name and pinned version, one per schema.
pub fn grpc_requests(namespace: &str, registered: &[Registered]) -> Vec<GetSchemaRequest> {
    registered
        .iter()
        .map(|schema| get_by_name(namespace.to_owned(), schema.name.clone(), schema.version))
        .collect()
}

/// What HTTP clients ask for: the encodings a browser or an SDK accepts.
pub const ACCEPT_COMPRESSED: &str = "br, gzip";

/// `GET {base}/schemas/{namespace}/{name}/{version}`, one per schema, accepting
/// br or gzip; with `conditional`, each carries its document's ETag as
/// `If-None-Match`.
pub fn http_requests(
    base: &Url,
    namespace: &str,
    registered: &[Registered],
    conditional: bool,
) -> Result<Vec<HttpRequest>> {
    let accept_encoding = Some(HeaderValue::from_static(ACCEPT_COMPRESSED));
    registered
        .iter()
        .map(|schema| {
            let path = format!("schemas/{namespace}/{}/{}", schema.name, schema.version);
            let url = base
                .join(&path)
                .with_context(|| format!("joining {path}"))?;
            let if_none_match = if conditional {
                let etag = format!("\"{}\"", schema.digest);
                Some(HeaderValue::from_str(&etag).context("an ETag of the digest")?)
            } else {
                None
            };
            Ok(HttpRequest {
                url,
                if_none_match,
                accept_encoding: accept_encoding.clone(),
            })
        })
        .collect()
}

/// The mean size of the documents served, in bytes.
pub fn mean_served_bytes(registered: &[Registered]) -> usize {
    let total: usize = registered.iter().map(|schema| schema.served_bytes).sum();
    total / registered.len().max(1)
}

/// One `ListSchemas` first page of `namespace`.
pub fn list_calls(namespace: &str) -> Vec<UnaryCall> {
    vec![UnaryCall::List(ListSchemasRequest {
        namespace: namespace.to_owned(),
        page_size: 20,
        ..Default::default()
    })]
}

/// A `Search` per registered schema, for its name's first word.
pub fn search_calls(namespace: &str, registered: &[Registered]) -> Vec<UnaryCall> {
    registered
        .iter()
        .map(|schema| {
            let word = schema
                .name
                .split(['-', '.', '_'])
                .next()
                .unwrap_or(&schema.name);
            UnaryCall::Search(SearchRequest {
                query: word.to_owned(),
                namespaces: vec![namespace.to_owned()],
                page_size: 10,
                ..Default::default()
            })
        })
        .collect()
}

/// A `Validate` of `{}` per registered schema: valid or not, each is one result.
pub fn validate_calls(namespace: &str, registered: &[Registered]) -> Vec<UnaryCall> {
    registered
        .iter()
        .map(|schema| {
            UnaryCall::Validate(ValidateRequest {
                schema: Some(SchemaSelector {
                    target: Some(Target::VersionRef(VersionRef {
                        namespace: namespace.to_owned(),
                        name: schema.name.clone(),
                        version: schema.version,
                    })),
                }),
                document: "{}".to_owned(),
                ..Default::default()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered(name: &str, version: u32) -> Registered {
        Registered {
            name: name.to_owned(),
            version,
            digest: format!("sha256:{name}"),
            served_bytes: 10,
        }
    }

    #[test]
    fn http_requests_address_pinned_versions_and_carry_etags_when_conditional() {
        let base = Url::parse("http://127.0.0.1:8080/").expect("a valid URL");
        let set = [registered("a", 1), registered("b", 3)];
        let plain = http_requests(&base, "load", &set, false).expect("requests");
        let conditional = http_requests(&base, "load", &set, true).expect("requests");
        assert_eq!(
            plain[1].url.as_str(),
            "http://127.0.0.1:8080/schemas/load/b/3"
        );
        assert!(plain.iter().all(|request| request.if_none_match.is_none()));
        let etag = conditional[0].if_none_match.as_ref().expect("an ETag");
        assert_eq!(etag, "\"sha256:a\"");
        assert_eq!(mean_served_bytes(&set), 10);
    }
}
