//! Opaque cursors for keyset pagination.
//!
//! A token carries the last key a page ended on and the query it belongs to, so a token
//! replayed against another query is refused instead of silently skipping rows. Clients
//! must treat tokens as opaque; the encoding may change between releases.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::InvalidArgument;

const FORMAT: &str = "k1";

/// A decoded page token: the query it was issued for and the key to resume after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken {
    /// Identifies the query (kind and filters) the token was issued for.
    pub scope: String,
    /// The sort key of the last item of the previous page.
    pub after: Vec<String>,
}

impl PageToken {
    /// Builds the token that resumes `scope` after the key `after`.
    pub fn new(scope: impl Into<String>, after: Vec<String>) -> Self {
        Self {
            scope: scope.into(),
            after,
        }
    }

    /// The opaque text handed to clients.
    pub fn encode(&self) -> String {
        let fields: Vec<&str> = std::iter::once(FORMAT)
            .chain(std::iter::once(self.scope.as_str()))
            .chain(self.after.iter().map(String::as_str))
            .collect();
        let json = serde_json::to_vec(&fields).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Decodes a client's token and checks it was issued for `scope`. An empty token
    /// means "first page" and yields `None`.
    pub fn decode(raw: &str, scope: &str) -> Result<Option<Self>, InvalidArgument> {
        if raw.is_empty() {
            return Ok(None);
        }
        let bad = || InvalidArgument::new("page_token", "is not a token this query issued");
        let json = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let fields: Vec<String> = serde_json::from_slice(&json).map_err(|_| bad())?;
        let mut fields = fields.into_iter();
        if fields.next().as_deref() != Some(FORMAT) {
            return Err(bad());
        }
        if fields.next().as_deref() != Some(scope) {
            return Err(InvalidArgument::new(
                "page_token",
                "was issued for a different query; restart from the first page",
            ));
        }
        Ok(Some(Self::new(scope, fields.collect())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_within_their_scope() {
        let token = PageToken::new("schemas:acme", vec!["acme".into(), "order".into()]);
        let decoded = PageToken::decode(&token.encode(), "schemas:acme").unwrap();
        assert_eq!(decoded, Some(token));
        assert_eq!(PageToken::decode("", "schemas:acme").unwrap(), None);
    }

    #[test]
    fn tokens_from_another_query_or_garbage_are_refused() {
        let token = PageToken::new("schemas:acme", vec!["x".into()]).encode();
        let err = PageToken::decode(&token, "schemas:other").unwrap_err();
        assert_eq!(err.field, "page_token");
        assert!(PageToken::decode("not a token!", "schemas:acme").is_err());
        assert!(PageToken::decode("W10", "schemas:acme").is_err());
    }
}
