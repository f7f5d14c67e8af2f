//! The JSON Schema dialects the registry compiles.

use std::fmt;

/// A JSON Schema draft, as named by its metaschema URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// Draft 4.
    Draft4,
    /// Draft 6.
    Draft6,
    /// Draft 7.
    Draft7,
    /// Draft 2019-09.
    Draft2019_09,
    /// Draft 2020-12, the default for documents that declare no `$schema`.
    #[default]
    Draft2020_12,
}

impl Dialect {
    /// Every dialect, oldest first.
    pub const ALL: [Dialect; 5] = [
        Dialect::Draft4,
        Dialect::Draft6,
        Dialect::Draft7,
        Dialect::Draft2019_09,
        Dialect::Draft2020_12,
    ];

    /// The canonical metaschema URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Draft4 => "http://json-schema.org/draft-04/schema#",
            Self::Draft6 => "http://json-schema.org/draft-06/schema#",
            Self::Draft7 => "http://json-schema.org/draft-07/schema#",
            Self::Draft2019_09 => "https://json-schema.org/draft/2019-09/schema",
            Self::Draft2020_12 => "https://json-schema.org/draft/2020-12/schema",
        }
    }

    /// Recognizes a metaschema URI, with or without the empty fragment and with
    /// either scheme, as `$schema` values are written in the wild.
    pub fn from_uri(uri: &str) -> Option<Self> {
        let trimmed = uri.trim_end_matches('#');
        let path = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"))?;
        match path {
            "json-schema.org/draft-04/schema" => Some(Self::Draft4),
            "json-schema.org/draft-06/schema" => Some(Self::Draft6),
            "json-schema.org/draft-07/schema" => Some(Self::Draft7),
            "json-schema.org/draft/2019-09/schema" => Some(Self::Draft2019_09),
            "json-schema.org/draft/2020-12/schema" => Some(Self::Draft2020_12),
            _ => None,
        }
    }

    /// The dialect a document declares in `$schema`, else `fallback`. A `$schema`
    /// naming an unknown metaschema also yields `fallback`; the compiler then resolves
    /// that metaschema like any other reference.
    pub fn of_document(document: &serde_json::Value, fallback: Dialect) -> Dialect {
        document
            .get("$schema")
            .and_then(serde_json::Value::as_str)
            .and_then(Dialect::from_uri)
            .unwrap_or(fallback)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.uri())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_and_tolerate_common_spellings() {
        for dialect in Dialect::ALL {
            assert_eq!(Dialect::from_uri(dialect.uri()), Some(dialect));
        }
        let loose = "https://json-schema.org/draft-07/schema";
        assert_eq!(Dialect::from_uri(loose), Some(Dialect::Draft7));
        assert_eq!(Dialect::from_uri("https://example.com/meta"), None);
    }

    #[test]
    fn documents_without_dollar_schema_take_the_fallback() {
        let doc = serde_json::json!({"type": "string"});
        assert_eq!(Dialect::of_document(&doc, Dialect::Draft6), Dialect::Draft6);
        let doc = serde_json::json!({"$schema": "http://json-schema.org/draft-04/schema#"});
        assert_eq!(Dialect::of_document(&doc, Dialect::Draft6), Dialect::Draft4);
    }
}
