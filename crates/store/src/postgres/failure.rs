//! Every PostgreSQL failure is classified here, once: what may be retried inside the
//! store, what marks a server unreachable, and what callers see.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::StoreError;

/// Attempts of one transaction before contention is reported as unavailable.
const MAX_ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(5);

/// Why one attempt failed, before it is turned into a [`StoreError`].
#[derive(Debug)]
pub(super) enum Failure {
    /// Serialization failure or deadlock: running the transaction again may succeed.
    Contention(String),
    /// A unique index refused a row: a concurrent writer won a race that a retry will
    /// observe (as when two registers of the same content meet).
    Duplicate(String),
    /// This server cannot be talked to: refused, closed, shutting down, or no
    /// connection could be opened before the acquire timeout.
    Unreachable(String),
    /// Anything else, already classified for callers.
    Store(StoreError),
}

/// The class of a SQLSTATE, decided by [`classify_sqlstate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SqlStateClass {
    Contention,
    Duplicate,
    Unreachable,
    Unavailable,
    Internal,
}

impl Failure {
    /// What the caller is told once retrying is over.
    pub(super) fn into_store(self) -> StoreError {
        match self {
            Self::Contention(reason) => {
                StoreError::Unavailable(format!("contention persisted: {reason}"))
            }
            Self::Duplicate(reason) => StoreError::Internal(reason),
            Self::Unreachable(reason) => StoreError::Unavailable(reason),
            Self::Store(err) => err,
        }
    }

    /// The reason alone, without the caller-facing prefix.
    pub(super) fn into_reason(self) -> String {
        match self {
            Self::Contention(reason) | Self::Duplicate(reason) | Self::Unreachable(reason) => {
                reason
            }
            Self::Store(
                StoreError::NotFound(reason)
                | StoreError::Conflict(reason)
                | StoreError::Unavailable(reason)
                | StoreError::Internal(reason),
            ) => reason,
        }
    }

    /// Whether the answer means "nothing here", which on a lagging replica may be wrong.
    pub(super) fn is_not_found(&self) -> bool {
        matches!(self, Self::Store(StoreError::NotFound(_)))
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(err: tokio_postgres::Error) -> Self {
        let Some(db) = err.as_db_error() else {
            return classify_client_error(&err);
        };
        let reason = format!("{} ({})", db.message(), db.code().code());
        match classify_sqlstate(db.code().code()) {
            SqlStateClass::Contention => Self::Contention(reason),
            SqlStateClass::Duplicate => Self::Duplicate(reason),
            SqlStateClass::Unreachable => Self::Unreachable(reason),
            SqlStateClass::Unavailable => Self::Store(StoreError::Unavailable(reason)),
            SqlStateClass::Internal => Self::Store(StoreError::Internal(reason)),
        }
    }
}

/// Classifies a five-character SQLSTATE.
pub(super) fn classify_sqlstate(code: &str) -> SqlStateClass {
    match code {
        // serialization_failure (also a hot standby's recovery conflict), deadlock_detected
        "40001" | "40P01" => SqlStateClass::Contention,
        "23505" => SqlStateClass::Duplicate,
        // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections,
        // invalid_catalog_name (no such database)
        "57P01" | "57P02" | "57P03" | "53300" | "3D000" => SqlStateClass::Unreachable,
        // query_canceled (statement_timeout), lock_not_available,
        // read_only_sql_transaction (a primary that became a standby), idle session timeout
        "57014" | "55P03" | "25006" | "57P05" => SqlStateClass::Unavailable,
        // connection_exception, invalid_authorization_specification
        _ if code.starts_with("08") || code.starts_with("28") => SqlStateClass::Unreachable,
        // insufficient_resources, system_error
        _ if code.starts_with("53") || code.starts_with("58") => SqlStateClass::Unavailable,
        _ => SqlStateClass::Internal,
    }
}

/// Errors raised by the client library itself rather than by the server.
fn classify_client_error(err: &tokio_postgres::Error) -> Failure {
    let source = std::error::Error::source(err);
    let io_failure = source.is_some_and(|cause| cause.is::<std::io::Error>());
    let reason = match source {
        Some(cause) => format!("{err}: {cause}"),
        None => err.to_string(),
    };
    // tokio-postgres exposes no kind for its connect timeout beyond its message.
    if err.is_closed() || io_failure || reason.starts_with("timeout") {
        Failure::Unreachable(reason)
    } else {
        Failure::Store(StoreError::Internal(reason))
    }
}

/// Runs `attempt` until it succeeds or fails for a reason retrying cannot fix.
/// Contention and unique violations are retried a few times with jittered back-off;
/// connection failures are not, since a write may have committed before the failure.
pub(super) async fn retry_transient<T, F, Fut>(mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(Failure::Contention(_) | Failure::Duplicate(_)) if attempts < MAX_ATTEMPTS => {
                tokio::time::sleep(backoff(attempts)).await;
            }
            Err(failure) => return Err(failure.into_store()),
        }
    }
}

fn backoff(attempts: u32) -> Duration {
    let exponential = FIRST_BACKOFF * 2u32.saturating_pow(attempts.saturating_sub(1));
    // Jitter keeps colliding writers from colliding again; clock nanos are random enough.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    exponential + Duration::from_micros(u64::from(nanos % 5_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contention_and_deadlocks_are_retried() {
        assert_eq!(classify_sqlstate("40001"), SqlStateClass::Contention);
        assert_eq!(classify_sqlstate("40P01"), SqlStateClass::Contention);
    }

    #[test]
    fn statement_timeouts_are_unavailable_not_internal() {
        assert_eq!(classify_sqlstate("57014"), SqlStateClass::Unavailable);
        assert_eq!(classify_sqlstate("53100"), SqlStateClass::Unavailable);
    }

    #[test]
    fn connection_failures_mark_the_server_unreachable() {
        for code in [
            "08006", "08001", "57P01", "57P03", "53300", "28P01", "3D000",
        ] {
            assert_eq!(
                classify_sqlstate(code),
                SqlStateClass::Unreachable,
                "{code}"
            );
        }
    }

    #[test]
    fn unique_violations_are_duplicates_and_the_rest_internal() {
        assert_eq!(classify_sqlstate("23505"), SqlStateClass::Duplicate);
        assert_eq!(classify_sqlstate("42P01"), SqlStateClass::Internal);
        assert_eq!(classify_sqlstate("23503"), SqlStateClass::Internal);
    }

    #[test]
    fn persistent_contention_is_unavailable() {
        let err = Failure::Contention("x".to_owned()).into_store();
        assert!(matches!(err, StoreError::Unavailable(_)));
    }
}
