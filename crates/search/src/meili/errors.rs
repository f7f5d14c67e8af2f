//! Meilisearch's failures, sorted into the kinds callers act on.

use meilisearch_sdk::errors::{Error, ErrorCode, MeilisearchError};

use crate::SearchError;

/// Classifies a failed call; `what` names it in messages.
pub(super) fn classify(what: &str, err: Error) -> SearchError {
    match err {
        Error::Meilisearch(err) => from_meilisearch(what, &err),
        Error::MeilisearchCommunication(err) => {
            let reason = format!("{what}: Meilisearch answered HTTP {}", err.status_code);
            match err.status_code {
                429 | 503 => SearchError::Overloaded(reason),
                500.. => SearchError::Unavailable(reason),
                _ => SearchError::Internal(reason),
            }
        }
        // Connection refused or reset, DNS, TLS: nothing answered.
        Error::HttpError(err) => {
            SearchError::Unavailable(format!("{what}: Meilisearch unreachable: {err}"))
        }
        Error::Timeout => SearchError::Unavailable(format!(
            "{what}: Meilisearch did not finish the task in time"
        )),
        other => SearchError::Internal(format!("{what}: {other}")),
    }
}

fn from_meilisearch(what: &str, err: &MeilisearchError) -> SearchError {
    let reason = format!("{what}: {}", err.error_message);
    match err.error_code {
        // `too_many_search_requests` (a full search queue) is a code this client does
        // not name: the message tells it.
        ErrorCode::Unknown if err.error_message.to_lowercase().contains("too many") => {
            SearchError::Overloaded(reason)
        }
        // The index is made when settings are first applied; until then, and while
        // Meilisearch is not ready, searching cannot succeed.
        ErrorCode::IndexNotFound => {
            SearchError::Unavailable(format!("{what}: the Meilisearch index does not exist yet"))
        }
        ErrorCode::InvalidApiKey | ErrorCode::MissingAuthorizationHeader => {
            SearchError::Unavailable(format!("{what}: Meilisearch refused the API key"))
        }
        _ => SearchError::Internal(reason),
    }
}

/// Whether a failure says the document or index looked for is absent.
pub(super) fn is_absent(err: &Error) -> bool {
    matches!(
        err,
        Error::Meilisearch(MeilisearchError {
            error_code: ErrorCode::DocumentNotFound | ErrorCode::IndexNotFound,
            ..
        })
    )
}

/// Whether creating an index failed only because it exists.
pub(super) fn already_exists(err: &MeilisearchError) -> bool {
    err.error_code == ErrorCode::IndexAlreadyExists
}
