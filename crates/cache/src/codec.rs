//! How cached records look in Redis. Every key starts with `ovsr:v1:` so another
//! encoding can live beside this one during an upgrade.

use std::collections::BTreeMap;

use bytes::Bytes;
use ovsr_core::{Digest, SchemaName, Version, VersionState};
use ovsr_store::StoredVersion;
use serde::{Deserialize, Serialize};

use crate::CacheError;

/// The channel invalidations travel on.
pub const INVALIDATION_CHANNEL: &str = "ovsr:v1:invalidations";
/// The sorted set of read counts per schema, for warming.
pub const READ_COUNTS_KEY: &str = "ovsr:v1:reads";

/// Content by digest: immutable.
pub fn content_key(digest: &Digest) -> String {
    format!("ovsr:v1:content:{digest}")
}

/// A schema's latest version number.
pub fn latest_key(schema: &SchemaName) -> String {
    format!("ovsr:v1:latest:{schema}")
}

/// One version's record, without content.
pub fn version_key(schema: &SchemaName, version: Version) -> String {
    format!("ovsr:v1:version:{schema}/{version}")
}

/// The version a digest is found at; `include_deleted` lookups keep their own.
pub fn owner_key(digest: &Digest, include_deleted: bool) -> String {
    let scope = if include_deleted { "any" } else { "live" };
    format!("ovsr:v1:owner:{scope}:{digest}")
}

/// A version's record as stored in Redis. Strings are owned: serde cannot borrow a
/// string holding escapes, and titles and descriptions often do.
#[derive(Debug, Serialize, Deserialize)]
struct VersionRecord {
    schema: String,
    version: u32,
    digest: String,
    state: String,
    size_bytes: u64,
    title: Option<String>,
    description: Option<String>,
    dialect: String,
    tags: Vec<String>,
    aliases: Vec<String>,
    references: BTreeMap<String, String>,
    created_at_ms: i64,
}

/// Encodes a version's record; its content is not included.
pub fn encode_version(version: &StoredVersion) -> Bytes {
    let record = VersionRecord {
        schema: version.schema.to_string(),
        version: version.version.get(),
        digest: version.digest.to_string(),
        state: version.state.as_str().to_owned(),
        size_bytes: version.size_bytes,
        title: version.title.clone(),
        description: version.description.clone(),
        dialect: version.dialect.clone(),
        tags: version.tags.clone(),
        aliases: version.aliases.clone(),
        references: version
            .references
            .iter()
            .map(|(url, digest)| (url.clone(), digest.to_string()))
            .collect(),
        created_at_ms: version.created_at_ms,
    };
    // A struct of strings and numbers always serializes.
    Bytes::from(serde_json::to_vec(&record).unwrap_or_default())
}

/// Decodes a record written by [`encode_version`], without content.
pub fn decode_version(bytes: &[u8]) -> Result<StoredVersion, CacheError> {
    let record: VersionRecord = serde_json::from_slice(bytes).map_err(corrupt)?;
    let references = record
        .references
        .into_iter()
        .map(|(url, digest)| Ok((url, parse_digest(&digest)?)))
        .collect::<Result<_, CacheError>>()?;
    Ok(StoredVersion {
        schema: SchemaName::parse(&record.schema, "schema").map_err(corrupt)?,
        version: Version::new(record.version, "version").map_err(corrupt)?,
        digest: parse_digest(&record.digest)?,
        state: VersionState::from_stored(&record.state)
            .ok_or_else(|| CacheError::Corrupt(format!("state {}", record.state)))?,
        content: None,
        size_bytes: record.size_bytes,
        title: record.title,
        description: record.description,
        dialect: record.dialect,
        tags: record.tags,
        aliases: record.aliases,
        references,
        created_at_ms: record.created_at_ms,
    })
}

/// Encodes a version number.
pub fn encode_number(version: Version) -> Bytes {
    Bytes::from(version.get().to_string())
}

/// Decodes a version number written by [`encode_number`].
pub fn decode_number(bytes: &[u8]) -> Result<Version, CacheError> {
    let text = std::str::from_utf8(bytes).map_err(corrupt)?;
    let number = text.parse::<u32>().map_err(corrupt)?;
    Version::new(number, "version").map_err(corrupt)
}

/// Encodes where a digest lives: `namespace/name/version`.
pub fn encode_owner(schema: &SchemaName, version: Version) -> Bytes {
    Bytes::from(format!("{schema}/{version}"))
}

/// Decodes an owner written by [`encode_owner`].
pub fn decode_owner(bytes: &[u8]) -> Result<(SchemaName, Version), CacheError> {
    let text = std::str::from_utf8(bytes).map_err(corrupt)?;
    let (schema, version) = text
        .rsplit_once('/')
        .ok_or_else(|| CacheError::Corrupt(format!("owner {text}")))?;
    let schema = SchemaName::parse(schema, "schema").map_err(corrupt)?;
    Ok((schema, decode_number(version.as_bytes())?))
}

fn parse_digest(raw: &str) -> Result<Digest, CacheError> {
    Digest::parse(raw, "digest").map_err(corrupt)
}

fn corrupt(err: impl std::fmt::Display) -> CacheError {
    CacheError::Corrupt(err.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::*;

    fn sample() -> StoredVersion {
        let digest = Digest::of_canonical(b"{}");
        StoredVersion {
            schema: SchemaName::new("acme", "order", "schema").unwrap(),
            version: Version::new(3, "version").unwrap(),
            digest,
            state: VersionState::Deprecated,
            content: Some(Arc::from("{}")),
            size_bytes: 2,
            title: Some("Order \"v3\"".to_owned()),
            description: Some("Line one\nline two, with a \\ and a tab\t".to_owned()),
            dialect: "https://json-schema.org/draft/2020-12/schema".to_owned(),
            tags: vec!["shop".to_owned()],
            aliases: vec!["https://example.com/order.json".to_owned()],
            references: BTreeMap::from([("https://example.com/a".to_owned(), digest)]),
            created_at_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn a_version_record_round_trips_without_its_content_escapes_and_all() {
        let version = sample();
        let decoded = decode_version(&encode_version(&version)).unwrap();
        assert_eq!(decoded.content, None);
        assert_eq!(
            decoded,
            StoredVersion {
                content: None,
                ..version
            }
        );
    }

    #[test]
    fn owners_and_numbers_round_trip() {
        let version = sample();
        let owner = encode_owner(&version.schema, version.version);
        assert_eq!(
            decode_owner(&owner).unwrap(),
            (version.schema, version.version)
        );
        assert_eq!(
            decode_number(&encode_number(version.version)).unwrap(),
            version.version
        );
    }

    #[test]
    fn garbage_is_corrupt_not_a_panic() {
        assert!(matches!(decode_version(b"{"), Err(CacheError::Corrupt(_))));
        assert!(matches!(decode_owner(b"nope"), Err(CacheError::Corrupt(_))));
        assert!(matches!(decode_number(b"0"), Err(CacheError::Corrupt(_))));
    }
}
