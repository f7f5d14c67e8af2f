//! Opaque page cursors: an offset into the hits of one query.
//!
//! A cursor carries the offset of the next page and the fingerprint of the query that
//! issued it, so a cursor replayed with other text, filters or order is refused instead
//! of silently skipping or repeating hits. The encoding is the registry's page token
//! (base64url JSON); clients must treat it as opaque.

use ovsr_core::PageToken;
use sha2::{Digest as _, Sha256};

use crate::{SearchError, SearchQuery};

/// Field name under which cursor faults are reported.
const FIELD: &str = "page_token";

/// The offset a query's cursor resumes at: 0 for the first page.
pub(crate) fn offset_of(query: &SearchQuery) -> Result<usize, SearchError> {
    let Some(raw) = query.cursor.as_deref() else {
        return Ok(0);
    };
    let Some(token) = PageToken::decode(raw, &scope_of(query))? else {
        return Ok(0);
    };
    let bad = || SearchError::invalid_query(FIELD, "is not a token this query issued");
    let [offset] = token.after.as_slice() else {
        return Err(bad());
    };
    offset.parse().map_err(|_| bad())
}

/// The cursor that resumes `query` at `offset`.
pub(crate) fn cursor_at(query: &SearchQuery, offset: usize) -> String {
    PageToken::new(scope_of(query), vec![offset.to_string()]).encode()
}

/// A short digest of the query's fingerprint, so cursors stay small and do not echo
/// the query text back.
fn scope_of(query: &SearchQuery) -> String {
    let digest = Sha256::digest(query.fingerprint().as_bytes());
    let hex: String = digest[..12]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("search:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchSort;

    #[test]
    fn a_cursor_resumes_its_own_query() {
        let query = SearchQuery::for_text("docker");
        let next = SearchQuery {
            cursor: Some(cursor_at(&query, 40)),
            page_size: Some(7),
            ..query
        };
        assert_eq!(offset_of(&next).unwrap(), 40);
    }

    #[test]
    fn a_cursor_is_refused_for_another_order() {
        let query = SearchQuery::for_text("docker");
        let other = SearchQuery {
            sort: SearchSort::Recency,
            cursor: Some(cursor_at(&query, 20)),
            ..query
        };
        let err = offset_of(&other).unwrap_err();
        assert!(matches!(err, SearchError::InvalidQuery { field, .. } if field == FIELD));
    }

    #[test]
    fn garbage_is_refused_naming_the_field() {
        let query = SearchQuery {
            cursor: Some("not a cursor".into()),
            ..SearchQuery::default()
        };
        let err = offset_of(&query).unwrap_err();
        assert!(matches!(err, SearchError::InvalidQuery { field, .. } if field == FIELD));
    }
}
