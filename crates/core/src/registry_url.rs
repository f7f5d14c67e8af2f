//! The registry's own URLs, which are also the only `$ref` targets it resolves.
//!
//! A schema version lives at `{base}/schemas/{namespace}/{name}/{version}` and its
//! content at `{base}/digests/sha256:{hex}`. Relative references inside a schema
//! resolve against the first form, so `../customer/3` names version 3 of `customer` in
//! the same namespace.

use crate::{Digest, SchemaName, Version, VersionSelector};

/// What a registry URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryLocation {
    /// A version (or the moving `latest`) of a named schema.
    Version {
        schema: SchemaName,
        selector: VersionSelector,
    },
    /// Content by digest.
    Digest(Digest),
}

/// Builds and recognizes URLs under the registry's public base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryUrls {
    base: String,
}

impl RegistryUrls {
    /// `base` is the public URL clients reach the registry at, such as
    /// `https://schemas.example.com`; a trailing slash is ignored.
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The public base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The URL of one version of a schema.
    pub fn version_url(&self, schema: &SchemaName, version: Version) -> String {
        format!("{}/schemas/{schema}/{version}", self.base)
    }

    /// The URL of content by digest.
    pub fn digest_url(&self, digest: &Digest) -> String {
        format!("{}/digests/{digest}", self.base)
    }

    /// Recognizes a URL under this registry. `None` means the URL is elsewhere (or is
    /// not a schema URL at all) and must never be fetched.
    pub fn locate(&self, url: &str) -> Option<RegistryLocation> {
        let url = url.split_once('#').map_or(url, |(head, _)| head);
        let path = url.strip_prefix(&self.base)?;
        locate_path(path)
    }
}

/// Recognizes the path part of a registry URL: `/schemas/{ns}/{name}/{version}` or
/// `/digests/{digest}`.
pub fn locate_path(path: &str) -> Option<RegistryLocation> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    match segments.as_slice() {
        ["schemas", namespace, name, version] => {
            let schema = SchemaName::new(namespace, name, "$ref").ok()?;
            let selector = VersionSelector::parse(version, "$ref").ok()?;
            Some(RegistryLocation::Version { schema, selector })
        }
        ["digests", digest] => Digest::parse(digest, "$ref")
            .ok()
            .map(RegistryLocation::Digest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_urls_round_trip() {
        let urls = RegistryUrls::new("http://reg.example/");
        let schema = SchemaName::parse("acme/order", "s").unwrap();
        let url = urls.version_url(&schema, Version::new(3, "v").unwrap());
        assert_eq!(url, "http://reg.example/schemas/acme/order/3");
        let located = urls.locate(&format!("{url}#/$defs/line")).unwrap();
        let expected = RegistryLocation::Version {
            schema,
            selector: VersionSelector::Exact(Version::new(3, "v").unwrap()),
        };
        assert_eq!(located, expected);
    }

    #[test]
    fn digest_urls_are_recognized() {
        let urls = RegistryUrls::new("http://reg.example");
        let digest = Digest::of_canonical(b"{}");
        let located = urls.locate(&urls.digest_url(&digest));
        assert_eq!(located, Some(RegistryLocation::Digest(digest)));
    }

    #[test]
    fn foreign_and_malformed_urls_are_not_registry_urls() {
        let urls = RegistryUrls::new("http://reg.example");
        assert_eq!(urls.locate("https://evil.example/schemas/a/b/1"), None);
        assert_eq!(urls.locate("http://reg.example.evil/schemas/a/b/1"), None);
        assert_eq!(urls.locate("http://reg.example/schemas/a/b"), None);
        assert_eq!(urls.locate("http://reg.example/schemas/A/b/1"), None);
    }
}
