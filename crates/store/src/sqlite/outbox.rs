//! Draining the outbox with leased claims.
//!
//! Every write goes through the one writer connection, so a claim cannot race another
//! claim here; the lease columns exist for consumers that vanish mid-batch.

use std::time::Duration;

use rusqlite::{Connection, params};

use crate::{ChangeEvent, ChangeId, StoreError};

/// Leases up to `limit` unclaimed (or lease-expired) changes to `consumer`.
pub(super) fn claim_changes(
    conn: &Connection,
    consumer: &str,
    limit: usize,
    lease: Duration,
    now_ms: i64,
) -> Result<Vec<ChangeEvent>, StoreError> {
    let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    let claimed_until = now_ms.saturating_add(lease_ms);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);

    let mut stmt = conn.prepare_cached(
        "UPDATE outbox SET claimed_by = ?1, claimed_until_ms = ?2 WHERE id IN ( \
         SELECT id FROM outbox WHERE claimed_until_ms IS NULL OR claimed_until_ms <= ?3 \
         ORDER BY id LIMIT ?4) \
         RETURNING id, namespace, name, version, kind, created_at_ms",
    )?;
    let rows = stmt.query_map(params![consumer, claimed_until, now_ms, limit], |row| {
        let namespace: String = row.get(1)?;
        let name: String = row.get(2)?;
        let kind: String = row.get(4)?;
        Ok(ChangeEvent::from_stored(
            row.get(0)?,
            &namespace,
            &name,
            row.get(3)?,
            &kind,
            row.get(5)?,
        ))
    })?;
    let mut events = rows
        .map(|row| row?)
        .collect::<Result<Vec<_>, StoreError>>()?;
    // RETURNING promises no order.
    events.sort_by_key(|event| event.id);
    Ok(events)
}

/// Deletes completed changes, returning how many existed.
pub(super) fn complete_changes(conn: &mut Connection, ids: &[ChangeId]) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    let mut removed = 0;
    {
        let mut stmt = tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
        for id in ids {
            removed += stmt.execute(params![id.0])? as u64;
        }
    }
    tx.commit()?;
    Ok(removed)
}

/// When the oldest change still in the outbox was recorded.
pub(super) fn oldest_pending_change_ms(conn: &Connection) -> Result<Option<i64>, StoreError> {
    let oldest = conn
        .prepare_cached("SELECT MIN(created_at_ms) FROM outbox")?
        .query_row([], |row| row.get(0))?;
    Ok(oldest)
}
