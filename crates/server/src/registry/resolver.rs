//! What a schema's references name, looked up in the registry and nowhere else.
//!
//! A reference resolves, in order, through: the version's reference lock (the digests
//! it was pinned to at registration), the registry's own URLs, documents registered
//! earlier in the same batch, and the aliases of the schema's namespace. What it
//! resolves to is recorded, so registration can store the lock.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ovsr_core::{Digest, Namespace, RegistryLocation, RegistryUrls, VersionSelector};
use ovsr_store::{SchemaStore, StoredVersion};
use ovsr_validate::{RegistryResolver, Resolution};
use serde_json::Value;

use super::Registry;

/// A document registered earlier in the same batch, not yet committed.
#[derive(Debug, Clone)]
pub(super) struct PendingDocument {
    pub(super) namespace: Namespace,
    pub(super) aliases: Vec<String>,
    pub(super) digest: Digest,
    pub(super) value: Value,
}

/// Resolves references through the store for the compiler.
pub(super) struct StoreResolver<'a> {
    store: &'a Arc<dyn SchemaStore>,
    urls: &'a RegistryUrls,
    namespace: Option<&'a Namespace>,
    pinned: Option<&'a BTreeMap<String, Digest>>,
    pending: &'a [PendingDocument],
    resolved: Mutex<BTreeMap<String, Digest>>,
}

impl<'a> StoreResolver<'a> {
    /// Resolves for a schema being registered into `namespace` (if known), seeing the
    /// `pending` documents of its batch.
    pub(super) fn for_registration(
        registry: &'a Registry,
        namespace: Option<&'a Namespace>,
        pending: &'a [PendingDocument],
    ) -> Self {
        Self {
            store: &registry.store,
            urls: &registry.urls,
            namespace,
            pinned: None,
            pending,
            resolved: Mutex::new(BTreeMap::new()),
        }
    }

    /// Resolves for a stored version, honouring its reference lock.
    pub(super) fn for_version(registry: &'a Registry, version: &'a StoredVersion) -> Self {
        Self {
            store: &registry.store,
            urls: &registry.urls,
            namespace: Some(version.schema.namespace()),
            pinned: Some(&version.references),
            pending: &[],
            resolved: Mutex::new(BTreeMap::new()),
        }
    }

    /// Every URL resolved so far and the digest it resolved to.
    pub(super) fn into_resolved(self) -> BTreeMap<String, Digest> {
        self.resolved.into_inner().unwrap_or_default()
    }

    fn record(&self, url: &str, digest: Digest) {
        if let Ok(mut resolved) = self.resolved.lock() {
            resolved.insert(url.to_owned(), digest);
        }
    }

    async fn through_store(&self, url: &str) -> Lookup {
        if let Some(digest) = self.pinned.and_then(|pinned| pinned.get(url)) {
            // A pinned document stays resolvable even once its version is deleted:
            // the referring version's meaning must not change.
            return Lookup::from(self.store.get_by_digest(digest, true).await);
        }
        match self.urls.locate(url) {
            Some(RegistryLocation::Version {
                selector: VersionSelector::Latest,
                ..
            }) => Lookup::Settled(Resolution::Unpinned),
            Some(RegistryLocation::Version { schema, selector }) => {
                Lookup::from(self.store.get_version(&schema, selector, false).await)
            }
            Some(RegistryLocation::Digest(digest)) => {
                Lookup::from(self.store.get_by_digest(&digest, false).await)
            }
            None => self.through_alias(url).await,
        }
    }

    async fn through_alias(&self, url: &str) -> Lookup {
        let Some(namespace) = self.namespace else {
            return Lookup::Settled(Resolution::Outside);
        };
        let schema = match self.store.resolve_alias(namespace, url).await {
            Ok(Some(schema)) => schema,
            Ok(None) => return Lookup::Settled(Resolution::Outside),
            Err(err) => return Lookup::Failed(err.to_string()),
        };
        let latest = self
            .store
            .get_version(&schema, VersionSelector::Latest, false)
            .await;
        Lookup::from(latest)
    }

    fn pending_alias(&self, url: &str) -> Option<&PendingDocument> {
        let namespace = self.namespace?;
        self.pending.iter().rev().find(|pending| {
            &pending.namespace == namespace && pending.aliases.iter().any(|alias| alias == url)
        })
    }
}

#[async_trait]
impl RegistryResolver for StoreResolver<'_> {
    async fn resolve(&self, url: &str) -> Result<Resolution, String> {
        if let Some(pending) = self.pending_alias(url) {
            self.record(url, pending.digest);
            return Ok(Resolution::Found(pending.value.clone()));
        }
        let version = match self.through_store(url).await {
            Lookup::Version(version) => version,
            Lookup::Settled(resolution) => return Ok(resolution),
            Lookup::Failed(reason) => return Err(reason),
        };
        let content = version.content.as_deref().unwrap_or("null");
        let value = serde_json::from_str(content).map_err(|err| err.to_string())?;
        self.record(url, version.digest);
        Ok(Resolution::Found(value))
    }
}

/// The outcome of looking a URL up in the store.
enum Lookup {
    /// A stored version, with content.
    Version(Box<StoredVersion>),
    /// An answer that needs no document.
    Settled(Resolution),
    /// The store could not answer.
    Failed(String),
}

impl From<Result<Option<StoredVersion>, ovsr_store::StoreError>> for Lookup {
    fn from(found: Result<Option<StoredVersion>, ovsr_store::StoreError>) -> Self {
        match found {
            Ok(Some(version)) => Lookup::Version(Box::new(version)),
            Ok(None) => Lookup::Settled(Resolution::Missing),
            Err(err) => Lookup::Failed(err.to_string()),
        }
    }
}
