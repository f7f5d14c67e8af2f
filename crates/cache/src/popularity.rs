//! Read counts per schema, kept cheaply: one read in [`SAMPLE_EVERY`] tries a lock,
//! and is not counted if another thread holds it; the rest cost one atomic add. Counts are flushed to Redis periodically and read
//! back at start-up to warm the cache with the most-read schemas.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, TryLockError};

use ovsr_core::SchemaName;

/// One read in this many is counted, with this weight.
pub const SAMPLE_EVERY: u64 = 32;

/// Sampled read counts since the last flush.
#[derive(Debug, Default)]
pub struct Popularity {
    reads: AtomicU64,
    counts: Mutex<HashMap<String, u64>>,
}

impl Popularity {
    /// Notes one read of `schema`.
    pub fn record(&self, schema: &SchemaName) {
        if !self
            .reads
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SAMPLE_EVERY)
        {
            return;
        }
        // Counts only order schemas for warming: a sample lost to contention is
        // cheaper than a reader waiting.
        let mut counts = match self.counts.try_lock() {
            Ok(counts) => counts,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        *counts.entry(schema.to_string()).or_default() += SAMPLE_EVERY;
    }

    /// The counts gathered since the last call, which start again from zero.
    pub fn take(&self) -> Vec<(String, u64)> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.drain().collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn sampled_counts_add_up_to_the_reads() {
        let popularity = Popularity::default();
        let hot = SchemaName::new("acme", "hot", "schema").unwrap();
        for _ in 0..SAMPLE_EVERY * 10 {
            popularity.record(&hot);
        }
        let taken = popularity.take();
        assert_eq!(taken, vec![("acme/hot".to_owned(), SAMPLE_EVERY * 10)]);
        assert!(popularity.take().is_empty());
    }
}
