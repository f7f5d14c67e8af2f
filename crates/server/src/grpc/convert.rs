//! Conversions between store records and API messages.

use ovsr_core::{Digest, RegistryUrls, SchemaName, VersionState};
use ovsr_proto::v1 as pb;
use ovsr_store::{SchemaSummary, StoredVersion};
use ovsr_validate::{Outcome, OutputFormat};
use prost_types::Timestamp;

use crate::error::ApiError;
use crate::registry::{Target, selector_from_number};

/// Whether a version message carries its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Content {
    Include,
    Omit,
}

pub(super) fn version_message(
    version: StoredVersion,
    urls: &RegistryUrls,
    content: Content,
) -> pb::SchemaVersion {
    let url = urls.version_url(&version.schema, version.version);
    let text = match (content, version.content) {
        (Content::Include, Some(text)) => text.to_string(),
        _ => String::new(),
    };
    pb::SchemaVersion {
        namespace: version.schema.namespace().to_string(),
        name: version.schema.name().to_owned(),
        version: version.version.get(),
        digest: version.digest.to_string(),
        state: state_message(version.state) as i32,
        content: text,
        title: version.title.unwrap_or_default(),
        description: version.description.unwrap_or_default(),
        dialect: version.dialect,
        tags: version.tags,
        size_bytes: version.size_bytes,
        created_at: Some(timestamp(version.created_at_ms)),
        url,
        aliases: version.aliases,
        references: version
            .references
            .into_iter()
            .map(|(url, digest)| (url, digest.to_string()))
            .collect(),
    }
}

pub(super) fn summary_message(summary: SchemaSummary) -> pb::SchemaSummary {
    let mut message = pb::SchemaSummary {
        namespace: summary.schema.namespace().to_string(),
        name: summary.schema.name().to_owned(),
        updated_at: Some(timestamp(summary.updated_at_ms)),
        ..Default::default()
    };
    if let Some(latest) = summary.latest {
        message.latest_version = latest.version.get();
        message.latest_digest = latest.digest.to_string();
        message.latest_state = state_message(latest.state) as i32;
        message.title = latest.title.unwrap_or_default();
        message.description = latest.description.unwrap_or_default();
    }
    message
}

pub(super) fn state_message(state: VersionState) -> pb::VersionState {
    match state {
        VersionState::Active => pb::VersionState::Active,
        VersionState::Deprecated => pb::VersionState::Deprecated,
        VersionState::Deleted => pb::VersionState::Deleted,
    }
}

/// Reads a selector, naming `field` (and its members) in errors.
pub(super) fn target(
    selector: Option<pb::SchemaSelector>,
    field: &str,
) -> Result<Target, ApiError> {
    use pb::schema_selector::Target as Selected;
    match selector.and_then(|s| s.target) {
        None => Err(ApiError::invalid(field, "set version_ref or digest")),
        // Field names are built only on failure: this runs for every request.
        Some(Selected::VersionRef(reference)) => {
            let schema =
                SchemaName::new(&reference.namespace, &reference.name, "").map_err(|mut err| {
                    err.field = format!("{field}.version_ref.{}", err.field);
                    err
                })?;
            Ok(Target::Version(
                schema,
                selector_from_number(reference.version),
            ))
        }
        Some(Selected::Digest(digest)) => {
            let digest = Digest::parse(&digest, "digest").map_err(|mut err| {
                err.field = format!("{field}.digest");
                err
            })?;
            Ok(Target::Digest(digest))
        }
    }
}

pub(super) fn output_format(raw: i32) -> Result<OutputFormat, ApiError> {
    match pb::OutputFormat::try_from(raw) {
        Ok(pb::OutputFormat::Flag) => Ok(OutputFormat::Flag),
        Ok(pb::OutputFormat::Basic | pb::OutputFormat::Unspecified) => Ok(OutputFormat::Basic),
        Err(_) => Err(ApiError::invalid(
            "output_format",
            format!("unknown value {raw}"),
        )),
    }
}

pub(super) fn result_message(outcome: Outcome, schema_digest: Digest) -> pb::ValidationResult {
    pb::ValidationResult {
        valid: outcome.valid,
        errors: outcome
            .errors
            .into_iter()
            .map(|e| pb::ValidationError {
                instance_location: e.instance_location,
                keyword_location: e.keyword_location,
                absolute_keyword_location: e.absolute_keyword_location,
                message: e.message,
            })
            .collect(),
        schema_digest: schema_digest.to_string(),
    }
}

/// A failure of one item of a batch or stream, which does not fail the call.
pub(super) fn item_error(err: ApiError) -> pb::ItemError {
    let status = tonic::Status::from(err);
    pb::ItemError {
        code: status.code() as i32,
        message: status.message().to_owned(),
    }
}

/// Reads a page size: 0 means the default, larger than the maximum is clamped.
pub(super) fn page_size(raw: i32) -> Result<usize, ApiError> {
    const DEFAULT: usize = 100;
    const MAX: usize = 1000;
    match usize::try_from(raw) {
        Err(_) => Err(ApiError::invalid("page_size", "must not be negative")),
        Ok(0) => Ok(DEFAULT),
        Ok(size) => Ok(size.min(MAX)),
    }
}

pub(super) fn timestamp(ms: i64) -> Timestamp {
    Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    }
}
