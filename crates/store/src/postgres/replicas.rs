//! Routing reads: replicas round robin, the primary as the fallback and the authority.
//!
//! A replica that cannot be reached is marked down and skipped until a back-off passes,
//! then tried again by the next read (which falls back to the primary if it is still
//! down). A replica that answers "nothing" may simply lag behind the primary, so the
//! primary is asked before the store answers none or not found.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use super::failure::Failure;
use super::pool::{PgConn, PgPool};
use crate::StoreError;

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The replicas reads are spread over.
#[derive(Debug)]
pub(super) struct Replicas {
    members: Vec<Replica>,
    next: AtomicUsize,
}

#[derive(Debug)]
struct Replica {
    pool: PgPool,
    health: Mutex<Health>,
}

#[derive(Debug, Default)]
struct Health {
    /// Failures in a row; zero while up.
    failures: u32,
    /// Skipped until then.
    down_until: Option<Instant>,
}

impl Replicas {
    pub(super) fn new(pools: Vec<PgPool>) -> Self {
        let members = pools
            .into_iter()
            .map(|pool| Replica {
                pool,
                health: Mutex::new(Health::default()),
            })
            .collect();
        Self {
            members,
            next: AtomicUsize::new(0),
        }
    }

    /// Runs a read on a replica when one answers with something, else on the primary.
    ///
    /// `found` says whether an answer is final; an answer that is not, or a not-found
    /// error, is asked again of the primary.
    pub(super) async fn read<T, F, Fut>(
        &self,
        primary: &PgPool,
        query: F,
        found: fn(&T) -> bool,
    ) -> Result<T, StoreError>
    where
        F: Fn(PgConn) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        // Replicas share half the acquire timeout and the primary has the rest, so one
        // read never waits longer than the acquire timeout for connections.
        let acquire_timeout = primary.acquire_timeout();
        let mut replica_budget = acquire_timeout / 2;
        let mut waited = Duration::ZERO;
        for replica in self.in_turn() {
            if replica_budget.is_zero() {
                break;
            }
            let started = Instant::now();
            let acquired = replica.pool.get_within(replica_budget).await;
            let spent = started.elapsed();
            replica_budget = replica_budget.saturating_sub(spent);
            waited += spent;

            let outcome = match acquired {
                Ok(conn) => query(conn).await,
                Err(failure) => Err(failure),
            };
            match outcome {
                Ok(value) if found(&value) => {
                    replica.answered();
                    return Ok(value);
                }
                Ok(_) => {
                    replica.answered();
                    break;
                }
                Err(failure) if failure.is_not_found() => {
                    replica.answered();
                    break;
                }
                Err(Failure::Unreachable(reason)) => replica.failed(&reason),
                // A recovery conflict, a timeout, a saturated pool: this read goes to
                // the next server, but the replica stays in rotation.
                Err(failure) => {
                    debug!(
                        target = replica.pool.target(),
                        ?failure,
                        "replica read failed"
                    );
                }
            }
        }

        let remaining = acquire_timeout.saturating_sub(waited);
        let conn = primary
            .get_within(remaining)
            .await
            .map_err(Failure::into_store)?;
        query(conn).await.map_err(Failure::into_store)
    }

    /// The replicas to try for one read: round robin from the next one, skipping those
    /// still in back-off.
    fn in_turn(&self) -> impl Iterator<Item = &Replica> {
        let count = self.members.len();
        let start = match count {
            0 => 0,
            _ => self.next.fetch_add(1, Ordering::Relaxed) % count,
        };
        let now = Instant::now();
        (0..count)
            .map(move |offset| &self.members[(start + offset) % count])
            .filter(move |replica| replica.is_due(now))
    }
}

impl Replica {
    fn is_due(&self, now: Instant) -> bool {
        match self.health.lock() {
            Ok(health) => health.down_until.is_none_or(|until| until <= now),
            Err(_) => true,
        }
    }

    fn answered(&self) {
        let Ok(mut health) = self.health.lock() else {
            return;
        };
        if health.failures > 0 {
            info!(target = self.pool.target(), "replica back up");
        }
        *health = Health::default();
    }

    fn failed(&self, reason: &str) {
        let Ok(mut health) = self.health.lock() else {
            return;
        };
        health.failures = health.failures.saturating_add(1);
        let backoff = FIRST_BACKOFF
            .saturating_mul(2u32.saturating_pow(health.failures - 1))
            .min(MAX_BACKOFF);
        health.down_until = Some(Instant::now() + backoff);
        if health.failures == 1 {
            warn!(
                target = self.pool.target(),
                reason,
                ?backoff,
                "replica marked down"
            );
        } else {
            debug!(
                target = self.pool.target(),
                reason,
                ?backoff,
                "replica still down"
            );
        }
    }
}
