//! Meilisearch's failures, sorted into the kinds callers act on.

use std::time::Duration;

use meilisearch_sdk::errors::{Error, ErrorCode, MeilisearchError};

use crate::SearchError;

/// Classifies a failed call; `what` names it in messages.
fn classify(what: &str, err: Error) -> SearchError {
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

/// A call that failed, kept as it came until the caller has looked at it.
#[derive(Debug)]
pub(super) enum Failure {
    /// Meilisearch, or the way to it, answered with an error; a task it refused is
    /// its [`Error::Meilisearch`].
    Meili(Error),
    /// No answer to a request within this long.
    Silent(Duration),
    /// A task not finished within this long.
    Unfinished(Duration),
}

impl Failure {
    /// Whether it says the document or index looked for is absent.
    pub(super) fn is_absent(&self) -> bool {
        self.code().is_some_and(|code| {
            matches!(code, ErrorCode::DocumentNotFound | ErrorCode::IndexNotFound)
        })
    }

    /// Whether creating an index failed only because it exists.
    pub(super) fn already_exists(&self) -> bool {
        self.code() == Some(&ErrorCode::IndexAlreadyExists)
    }

    fn code(&self) -> Option<&ErrorCode> {
        match self {
            Self::Meili(Error::Meilisearch(err)) => Some(&err.error_code),
            _ => None,
        }
    }

    /// The failure for the caller; `what` names the call.
    pub(super) fn classify(self, what: &str) -> SearchError {
        match self {
            Self::Meili(err) => classify(what, err),
            Self::Silent(waited) => SearchError::Unavailable(format!(
                "{what}: Meilisearch gave no answer within {waited:?}"
            )),
            Self::Unfinished(waited) => SearchError::Unavailable(format!(
                "{what}: Meilisearch did not finish within {waited:?}"
            )),
        }
    }
}
