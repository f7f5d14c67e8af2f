//! Draining the outbox on PostgreSQL.
//!
//! A claim is one statement: it picks due rows with `FOR UPDATE SKIP LOCKED`, so a
//! concurrent claim passes over rows another claim is taking instead of waiting for or
//! duplicating them, and stamps them with a lease. A row whose lease has run out is due
//! again, which is how an abandoned claim is re-claimed.

use std::time::Duration;

use super::failure::Failure;
use super::pool::PgPool;
use super::rows::{SqlArg, column, now_ms, read_change};
use crate::{ChangeEvent, ChangeId};

const CLAIM: &str = concat!(
    "WITH due AS ( \
       SELECT namespace, id FROM outbox \
       WHERE claimed_until_ms IS NULL OR claimed_until_ms <= ",
    now_ms!(),
    " ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) \
     UPDATE outbox o SET claimed_by = $1, claimed_until_ms = ",
    now_ms!(),
    " + $3 FROM due WHERE o.namespace = due.namespace AND o.id = due.id \
     RETURNING o.id, o.namespace, o.name, o.version, o.kind, o.created_at_ms"
);

const COMPLETE: &str = "DELETE FROM outbox WHERE id = ANY($1)";

const OLDEST_PENDING_AGE_MS: &str =
    concat!("SELECT ", now_ms!(), " - min(created_at_ms) FROM outbox");

/// Leases up to `limit` due changes to `consumer`, oldest first.
pub(super) async fn claim_changes(
    primary: &PgPool,
    consumer: &str,
    limit: usize,
    lease: Duration,
) -> Result<Vec<ChangeEvent>, Failure> {
    let mut conn = primary.get().await?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
    let statement = conn.prepare_cached(CLAIM).await?;
    let args: [SqlArg<'_>; 3] = [&consumer, &limit, &lease_ms];
    let rows = conn.client().query(&statement, &args).await?;

    let mut events = rows
        .iter()
        .map(read_change)
        .collect::<Result<Vec<_>, _>>()?;
    // RETURNING promises no order.
    events.sort_by_key(|event| event.id);
    Ok(events)
}

/// Deletes completed changes, returning how many were still there.
pub(super) async fn complete_changes(primary: &PgPool, ids: &[ChangeId]) -> Result<u64, Failure> {
    let mut conn = primary.get().await?;
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let statement = conn.prepare_cached(COMPLETE).await?;
    Ok(conn.client().execute(&statement, &[&ids]).await?)
}

/// How long the oldest change still in the outbox has waited, by the database's clock.
pub(super) async fn oldest_pending_change_age(
    primary: &PgPool,
) -> Result<Option<Duration>, Failure> {
    let mut conn = primary.get().await?;
    let statement = conn.prepare_cached(OLDEST_PENDING_AGE_MS).await?;
    let row = conn.client().query_one(&statement, &[]).await?;
    let age_ms: Option<i64> = column(&row, 0)?;
    Ok(age_ms.map(|ms| Duration::from_millis(ms.max(0).unsigned_abs())))
}
