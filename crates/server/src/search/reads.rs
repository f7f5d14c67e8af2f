//! How often each schema is read, for the popularity sort: sampled on the read path,
//! handed to the index by the indexer from time to time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ovsr_core::SchemaName;

/// One read in this many is recorded, counting for this many.
const SAMPLE: u64 = 16;

/// Sampled read counts since they were last taken.
#[derive(Debug, Default)]
pub struct ReadCounter {
    reads: AtomicU64,
    counts: Mutex<HashMap<SchemaName, u64>>,
}

impl ReadCounter {
    /// Counts a read of `schema`. Costs one atomic add, and for a sampled read a map
    /// update, skipped when another thread holds the map: counts are estimates.
    pub fn record(&self, schema: &SchemaName) {
        if !self
            .reads
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SAMPLE)
        {
            return;
        }
        if let Ok(mut counts) = self.counts.try_lock() {
            *counts.entry(schema.clone()).or_default() += SAMPLE;
        }
    }

    /// The counts recorded since the last call, emptied.
    pub fn take(&self) -> Vec<(SchemaName, u64)> {
        let taken = match self.counts.lock() {
            Ok(mut counts) => std::mem::take(&mut *counts),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        taken.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_reads_add_up_to_about_what_was_read() {
        let counter = ReadCounter::default();
        let often = SchemaName::parse("acme/often", "schema").unwrap();
        let rarely = SchemaName::parse("acme/rarely", "schema").unwrap();
        for i in 0..1_600 {
            counter.record(if i % 10 == 0 { &rarely } else { &often });
        }
        let counts: HashMap<_, _> = counter.take().into_iter().collect();
        let total: u64 = counts.values().sum();
        assert_eq!(total, 1_600);
        assert!(counts[&often] > counts.get(&rarely).copied().unwrap_or(0));
        assert!(counter.take().is_empty(), "taking empties the counts");
    }
}
