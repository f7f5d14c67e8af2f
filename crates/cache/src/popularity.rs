//! Read counts per schema, kept cheaply: one read in [`SAMPLE_EVERY`] tries a lock,
//! and is not counted if another thread holds it; the rest cost one atomic add. The
//! cache flushes its counts to Redis periodically and reads them back at start-up to
//! warm the most-read schemas; the search indexer hands its own to the index.

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
    counts: Mutex<HashMap<SchemaName, u64>>,
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
        // Counts only order schemas: a sample lost to contention is cheaper than a
        // reader waiting.
        let mut counts = match self.counts.try_lock() {
            Ok(counts) => counts,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        *counts.entry(schema.clone()).or_default() += SAMPLE_EVERY;
    }

    /// The counts gathered since the last call, which start again from zero.
    pub fn take(&self) -> Vec<(SchemaName, u64)> {
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
        assert_eq!(taken, vec![(hot, SAMPLE_EVERY * 10)]);
        assert!(popularity.take().is_empty());
    }

    #[test]
    fn a_schema_read_more_often_counts_more() {
        let popularity = Popularity::default();
        let often = SchemaName::parse("acme/often", "schema").unwrap();
        let rarely = SchemaName::parse("acme/rarely", "schema").unwrap();
        for i in 0..1_600 {
            popularity.record(if i % 10 == 0 { &rarely } else { &often });
        }
        let counts: HashMap<_, _> = popularity.take().into_iter().collect();
        let total: u64 = counts.values().sum();
        assert_eq!(total, 1_600);
        assert!(counts[&often] > counts.get(&rarely).copied().unwrap_or(0));
        assert!(popularity.take().is_empty(), "taking empties the counts");
    }
}
