//! Counting namespaces and tags over every hit of a query.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::fields::{NAMESPACE, TAG};
use crate::{Facet, FacetValue};

/// Values returned per facet; the long tail is not worth the bytes.
const MAX_FACET_VALUES: usize = 50;

/// Counts per value, for the namespace and the tags of the matching documents.
#[derive(Debug, Default)]
pub(super) struct FacetCounts {
    namespace: HashMap<String, u64>,
    tags: HashMap<String, u64>,
}

impl FacetCounts {
    /// The facets as answered to clients: most frequent first, ties in value order.
    pub(super) fn into_facets(self) -> Vec<Facet> {
        vec![
            ranked("namespace", self.namespace),
            ranked("tags", self.tags),
        ]
    }
}

fn ranked(field: &str, counts: HashMap<String, u64>) -> Facet {
    let mut values: Vec<FacetValue> = counts
        .into_iter()
        .map(|(value, count)| FacetValue { value, count })
        .collect();
    values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    values.truncate(MAX_FACET_VALUES);
    Facet {
        field: field.to_owned(),
        values,
    }
}

/// Collects [`FacetCounts`] from the fast columns of the facet fields.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FacetCollector;

impl Collector for FacetCollector {
    type Fruit = FacetCounts;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let fast = reader.fast_fields();
        Ok(SegmentFacets {
            namespace: OrdCounts::new(fast.str(NAMESPACE)?),
            tags: OrdCounts::new(fast.str(TAG)?),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<FacetCounts>) -> tantivy::Result<FacetCounts> {
        let mut total = FacetCounts::default();
        for segment in segments {
            for (value, count) in segment.namespace {
                *total.namespace.entry(value).or_default() += count;
            }
            for (value, count) in segment.tags {
                *total.tags.entry(value).or_default() += count;
            }
        }
        Ok(total)
    }
}

/// The counts of one segment, by term ordinal until harvest.
pub(super) struct SegmentFacets {
    namespace: OrdCounts,
    tags: OrdCounts,
}

impl SegmentCollector for SegmentFacets {
    type Fruit = FacetCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.namespace.count(doc);
        self.tags.count(doc);
    }

    fn harvest(self) -> FacetCounts {
        FacetCounts {
            namespace: self.namespace.into_values(),
            tags: self.tags.into_values(),
        }
    }
}

/// Counts of one string column's term ordinals. A segment without the column (no
/// document has a value) counts nothing.
struct OrdCounts {
    column: Option<StrColumn>,
    counts: HashMap<u64, u64>,
}

impl OrdCounts {
    fn new(column: Option<StrColumn>) -> Self {
        Self {
            column,
            counts: HashMap::new(),
        }
    }

    fn count(&mut self, doc: DocId) {
        let Some(column) = &self.column else {
            return;
        };
        for ord in column.term_ords(doc) {
            *self.counts.entry(ord).or_default() += 1;
        }
    }

    fn into_values(self) -> HashMap<String, u64> {
        let Some(column) = self.column else {
            return HashMap::new();
        };
        let mut values = HashMap::with_capacity(self.counts.len());
        for (ord, count) in self.counts {
            let mut value = String::new();
            // An ordinal read from this column is in its dictionary; a failed read
            // would only drop one facet value, never a hit.
            if matches!(column.ord_to_str(ord, &mut value), Ok(true)) {
                values.insert(value, count);
            }
        }
        values
    }
}
