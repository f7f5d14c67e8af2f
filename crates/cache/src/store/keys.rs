//! What the in-process layer holds for the store: typed keys and values, so a hit
//! costs no decoding.

use std::sync::Arc;

use ovsr_core::{Digest, Namespace, SchemaName, Version};
use ovsr_store::{SchemaSummary, StoredVersion};

use crate::Weigh;

/// A pointer's key. List keys carry the list generation they were read in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PointerKey {
    /// A schema's latest version number.
    Latest(SchemaName),
    /// One version's record.
    Version(SchemaName, Version),
    /// The version a digest is found at, among live versions or all of them.
    Owner(Digest, bool),
    /// A page of `list_schemas`.
    Schemas {
        generation: u64,
        namespace: Option<Namespace>,
        after: Option<SchemaName>,
        limit: usize,
        include_deleted: bool,
    },
    /// A page of `list_versions`.
    Versions {
        generation: u64,
        schema: SchemaName,
        after: Option<Version>,
        limit: usize,
        include_deleted: bool,
    },
}

/// A pointer's value; `None` inside is a remembered "not found".
#[derive(Debug, Clone)]
pub enum Pointer {
    Latest(Option<Version>),
    Version(Option<Arc<StoredVersion>>),
    Owner(Option<(SchemaName, Version)>),
    Schemas(Arc<Vec<SchemaSummary>>),
    Versions(Arc<Vec<StoredVersion>>),
}

impl Pointer {
    /// Whether this is a remembered "not found", which lives for the negative TTL.
    pub fn is_negative(&self) -> bool {
        matches!(
            self,
            Pointer::Latest(None) | Pointer::Version(None) | Pointer::Owner(None)
        )
    }
}

impl Weigh for Digest {
    fn weigh(&self) -> usize {
        std::mem::size_of::<Digest>()
    }
}

impl Weigh for PointerKey {
    fn weigh(&self) -> usize {
        let names = match self {
            PointerKey::Latest(schema) | PointerKey::Version(schema, _) => name_bytes(schema),
            PointerKey::Owner(..) => 0,
            PointerKey::Schemas {
                namespace, after, ..
            } => {
                namespace.as_ref().map_or(0, |n| n.as_str().len())
                    + after.as_ref().map_or(0, name_bytes)
            }
            PointerKey::Versions { schema, .. } => name_bytes(schema),
        };
        std::mem::size_of::<PointerKey>() + names
    }
}

impl Weigh for Pointer {
    fn weigh(&self) -> usize {
        let held = match self {
            Pointer::Latest(_) => 0,
            Pointer::Version(version) => version.as_deref().map_or(0, version_bytes),
            Pointer::Owner(owner) => owner.as_ref().map_or(0, |(schema, _)| name_bytes(schema)),
            Pointer::Schemas(page) => page
                .iter()
                .map(|summary| {
                    name_bytes(&summary.schema) + summary.latest.as_ref().map_or(0, version_bytes)
                })
                .sum(),
            Pointer::Versions(page) => page.iter().map(version_bytes).sum(),
        };
        std::mem::size_of::<Pointer>() + held
    }
}

fn name_bytes(schema: &SchemaName) -> usize {
    schema.namespace().as_str().len() + schema.name().len()
}

/// What a version record holds, its content included when it carries it (the
/// content is shared with the content cache, so this counts it twice, erring on
/// the side of the bound).
fn version_bytes(version: &StoredVersion) -> usize {
    let strings = version.title.as_ref().map_or(0, String::len)
        + version.description.as_ref().map_or(0, String::len)
        + version.dialect.len()
        + version.tags.iter().map(String::len).sum::<usize>()
        + version.aliases.iter().map(String::len).sum::<usize>()
        + version
            .references
            .keys()
            .map(|url| url.len() + 64)
            .sum::<usize>();
    let content = version.content.as_ref().map_or(0, |content| content.len());
    std::mem::size_of::<StoredVersion>() + name_bytes(&version.schema) + strings + content
}
