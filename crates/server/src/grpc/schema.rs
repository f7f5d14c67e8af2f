//! `ovsr.v1.SchemaService`.

use std::pin::Pin;

use futures::Stream;
use ovsr_core::{Namespace, PageToken, SchemaName, Version};
use ovsr_proto::v1 as pb;
use ovsr_proto::v1::schema_service_server::SchemaService;
use tonic::{Request, Response, Status};

use super::convert::{Content, item_error, page_size, summary_message, target, version_message};
use crate::error::ApiError;
use crate::registry::{Registration, Registry};

/// The most lookups one BatchGetSchemas call may carry.
const MAX_BATCH_GET: usize = 100;

/// Serves `SchemaService` over the registry.
#[derive(Debug, Clone)]
pub struct SchemaApi {
    registry: Registry,
}

impl SchemaApi {
    /// Serves the given registry.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }

    async fn get_one(
        &self,
        request: pb::GetSchemaRequest,
    ) -> Result<pb::GetSchemaResponse, ApiError> {
        let target = target(request.schema, "schema")?;
        let found = self.registry.get(&target, request.include_deleted).await?;
        let not_modified = !request.if_none_match.is_empty()
            && request.if_none_match.trim_matches('"') == found.digest.to_string();
        let content = if not_modified {
            Content::Omit
        } else {
            Content::Include
        };
        Ok(pb::GetSchemaResponse {
            schema_version: Some(version_message(found, self.registry.urls(), content)),
            not_modified,
        })
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchSchemasResponse, Status>> + Send>>;

#[tonic::async_trait]
impl SchemaService for SchemaApi {
    async fn register_schema(
        &self,
        request: Request<pb::RegisterSchemaRequest>,
    ) -> Result<Response<pb::RegisterSchemaResponse>, Status> {
        let registration = registration(request.into_inner())?;
        let registered = self.registry.register(registration).await?;
        let version = version_message(registered.version, self.registry.urls(), Content::Include);
        Ok(Response::new(pb::RegisterSchemaResponse {
            schema_version: Some(version),
            created: registered.created,
        }))
    }

    async fn batch_register_schemas(
        &self,
        request: Request<pb::BatchRegisterSchemasRequest>,
    ) -> Result<Response<pb::BatchRegisterSchemasResponse>, Status> {
        use pb::batch_register_schemas_result::Result as Item;
        let requests = request.into_inner().requests;

        // Items with bad names fail alone, like any other item error.
        let mut registrations = Vec::with_capacity(requests.len());
        let mut refused = Vec::new();
        for (i, item) in requests.into_iter().enumerate() {
            match registration(item) {
                Ok(registration) => registrations.push(registration),
                Err(err) => refused.push((i, err.in_item(&format!("requests[{i}]")))),
            }
        }
        let mut outcomes = self
            .registry
            .register_batch(registrations)
            .await?
            .into_iter();

        let urls = self.registry.urls();
        let total = outcomes.len() + refused.len();
        let mut refused = refused.into_iter().peekable();
        let mut results = Vec::with_capacity(total);
        for i in 0..total {
            let outcome = match refused.next_if(|(at, _)| *at == i) {
                Some((_, err)) => Err(err),
                None => outcomes
                    .next()
                    .unwrap_or_else(|| Err(ApiError::Internal("batch outcome missing".to_owned()))),
            };
            let result = match outcome {
                Ok(registered) => Item::Registered(pb::RegisterSchemaResponse {
                    schema_version: Some(version_message(registered.version, urls, Content::Omit)),
                    created: registered.created,
                }),
                Err(err) => Item::Error(item_error(err)),
            };
            results.push(pb::BatchRegisterSchemasResult {
                result: Some(result),
            });
        }
        Ok(Response::new(pb::BatchRegisterSchemasResponse { results }))
    }

    async fn get_schema(
        &self,
        request: Request<pb::GetSchemaRequest>,
    ) -> Result<Response<pb::GetSchemaResponse>, Status> {
        Ok(Response::new(self.get_one(request.into_inner()).await?))
    }

    async fn batch_get_schemas(
        &self,
        request: Request<pb::BatchGetSchemasRequest>,
    ) -> Result<Response<pb::BatchGetSchemasResponse>, Status> {
        use pb::batch_get_schemas_result::Result as Item;
        let requests = request.into_inner().requests;
        if requests.len() > MAX_BATCH_GET {
            let reason = format!("at most {MAX_BATCH_GET} lookups per call");
            return Err(ApiError::invalid("requests", reason).into());
        }
        let mut results = Vec::with_capacity(requests.len());
        for item in requests {
            let result = match self.get_one(item).await {
                Ok(found) => Item::Found(found),
                Err(err) => Item::Error(item_error(err)),
            };
            results.push(pb::BatchGetSchemasResult {
                result: Some(result),
            });
        }
        Ok(Response::new(pb::BatchGetSchemasResponse { results }))
    }

    async fn list_schemas(
        &self,
        request: Request<pb::ListSchemasRequest>,
    ) -> Result<Response<pb::ListSchemasResponse>, Status> {
        let request = request.into_inner();
        let limit = page_size(request.page_size)?;
        let namespace = match request.namespace.as_str() {
            "" => None,
            raw => Some(Namespace::parse(raw, "namespace").map_err(ApiError::from)?),
        };
        let scope = format!("schemas:{}:{}", request.namespace, request.include_deleted);
        let after = match PageToken::decode(&request.page_token, &scope).map_err(ApiError::from)? {
            Some(token) => Some(schema_after(&token)?),
            None => None,
        };

        let mut page = self
            .registry
            .store()
            .list_schemas(
                namespace.as_ref(),
                after.as_ref(),
                limit + 1,
                request.include_deleted,
            )
            .await
            .map_err(ApiError::from)?;
        let next_page_token = next_token(&mut page, limit, |last| {
            let key = vec![
                last.schema.namespace().to_string(),
                last.schema.name().to_owned(),
            ];
            PageToken::new(scope.clone(), key)
        });
        Ok(Response::new(pb::ListSchemasResponse {
            schemas: page.into_iter().map(summary_message).collect(),
            next_page_token,
        }))
    }

    async fn list_versions(
        &self,
        request: Request<pb::ListVersionsRequest>,
    ) -> Result<Response<pb::ListVersionsResponse>, Status> {
        let request = request.into_inner();
        let schema =
            SchemaName::new(&request.namespace, &request.name, "").map_err(ApiError::from)?;
        let limit = page_size(request.page_size)?;
        let scope = format!("versions:{schema}:{}", request.include_deleted);
        let after = match PageToken::decode(&request.page_token, &scope).map_err(ApiError::from)? {
            Some(token) => Some(version_after(&token)?),
            None => None,
        };

        let mut page = self
            .registry
            .store()
            .list_versions(&schema, after, limit + 1, request.include_deleted)
            .await
            .map_err(ApiError::from)?;
        let next_page_token = next_token(&mut page, limit, |last| {
            PageToken::new(scope.clone(), vec![last.version.to_string()])
        });
        let urls = self.registry.urls();
        Ok(Response::new(pb::ListVersionsResponse {
            versions: page
                .into_iter()
                .map(|v| version_message(v, urls, Content::Omit))
                .collect(),
            next_page_token,
        }))
    }

    async fn deprecate_version(
        &self,
        request: Request<pb::DeprecateVersionRequest>,
    ) -> Result<Response<pb::DeprecateVersionResponse>, Status> {
        let reference = request
            .into_inner()
            .version_ref
            .ok_or_else(|| ApiError::invalid("version_ref", "is required"))?;
        let schema = SchemaName::new(&reference.namespace, &reference.name, "version_ref")
            .map_err(ApiError::from)?;
        let version = Version::new(reference.version, "version_ref.version").map_err(|_| {
            ApiError::invalid("version_ref.version", "name the version to deprecate")
        })?;
        let deprecated = self
            .registry
            .store()
            .deprecate(&schema, version)
            .await
            .map_err(ApiError::from)?;
        self.registry.wrote();
        let message = version_message(deprecated, self.registry.urls(), Content::Omit);
        Ok(Response::new(pb::DeprecateVersionResponse {
            schema_version: Some(message),
        }))
    }

    async fn delete_schema(
        &self,
        request: Request<pb::DeleteSchemaRequest>,
    ) -> Result<Response<pb::DeleteSchemaResponse>, Status> {
        let request = request.into_inner();
        let schema =
            SchemaName::new(&request.namespace, &request.name, "").map_err(ApiError::from)?;
        let version = match request.version {
            0 => None,
            n => Some(Version::new(n, "version").map_err(ApiError::from)?),
        };
        let deleted = self
            .registry
            .store()
            .delete(&schema, version)
            .await
            .map_err(ApiError::from)?;
        self.registry.wrote();
        Ok(Response::new(pb::DeleteSchemaResponse {
            deleted_versions: deleted.into_iter().map(Version::get).collect(),
        }))
    }

    type WatchSchemasStream = WatchStream;

    async fn watch_schemas(
        &self,
        _request: Request<pb::WatchSchemasRequest>,
    ) -> Result<Response<Self::WatchSchemasStream>, Status> {
        Err(Status::unimplemented(
            "the change feed (WatchSchemas) is not available yet",
        ))
    }
}

/// Reads a register request into a registration, naming the field at fault.
fn registration(request: pb::RegisterSchemaRequest) -> Result<Registration, ApiError> {
    let schema = SchemaName::new(&request.namespace, &request.name, "")?;
    Ok(Registration {
        schema,
        content: request.content,
        tags: request.tags,
        aliases: request.aliases,
        dialect: request.dialect,
    })
}

/// Trims the extra item fetched to detect a next page, and returns its token.
fn next_token<T>(page: &mut Vec<T>, limit: usize, token_after: impl Fn(&T) -> PageToken) -> String {
    if page.len() <= limit {
        return String::new();
    }
    page.truncate(limit);
    page.last()
        .map(|last| token_after(last).encode())
        .unwrap_or_default()
}

fn schema_after(token: &PageToken) -> Result<SchemaName, ApiError> {
    match token.after.as_slice() {
        [namespace, name] => {
            Ok(SchemaName::new(namespace, name, "page_token").map_err(ApiError::from)?)
        }
        _ => Err(ApiError::invalid(
            "page_token",
            "is not a token this query issued",
        )),
    }
}

fn version_after(token: &PageToken) -> Result<Version, ApiError> {
    let number = match token.after.as_slice() {
        [number] => number.parse::<u32>().ok(),
        _ => None,
    };
    number
        .and_then(|n| Version::new(n, "page_token").ok())
        .ok_or_else(|| ApiError::invalid("page_token", "is not a token this query issued"))
}
