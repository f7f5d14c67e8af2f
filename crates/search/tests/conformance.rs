//! The behaviour every `SearchIndex` backend must show, written once over
//! `Arc<dyn SearchIndex>` and instantiated per backend by `conformance!`.
//!
//! Each case works in namespaces of its own, so a backend shared between cases (a
//! Meilisearch server) gives the same answers as a fresh in-memory index.

// The cases are helpers the macro calls, not `#[test]`s, yet a panic is still how they fail.
#![allow(clippy::unwrap_used)]

mod conformance {
    pub mod cases;
    pub mod support;
}
#[path = "support/meili.rs"]
mod meili;

/// Instantiates every case for one backend. `fresh` yields a ready index; `reopenable`
/// yields a function that opens the same durable index each time it is called; a case
/// runs only when `runs` holds, and says it was skipped otherwise.
macro_rules! conformance {
    ($backend:ident, runs: $runs:expr, fresh: $fresh:expr, reopenable: $reopenable:expr, cases: [$($case:ident),* $(,)?]) => {
        mod $backend {
            use super::conformance::cases;

            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if !$runs {
                        super::meili::say_skipped(concat!(stringify!($backend), "::", stringify!($case)));
                        return;
                    }
                    cases::$case($fresh, $reopenable).await;
                }
            )*
        }
    };
    ($backend:ident, fresh: $fresh:expr, reopenable: $reopenable:expr, cases: $cases:tt) => {
        conformance!($backend, runs: true, fresh: $fresh, reopenable: $reopenable, cases: $cases);
    };
}

/// Every case, for each backend.
macro_rules! every_backend {
    ($($case:ident),* $(,)?) => {
        conformance!(
            embedded,
            fresh: super::conformance::support::embedded_in_memory(),
            reopenable: super::conformance::support::embedded_on_disk(),
            cases: [$($case),*]
        );
        // A Meilisearch server shared by the cases, each on an index of its own.
        conformance!(
            meilisearch,
            runs: super::meili::shared().is_some(),
            fresh: super::conformance::support::meili_fresh(),
            reopenable: super::conformance::support::meili_reopenable(),
            cases: [$($case),*]
        );
    };
}

every_backend!(
    finds_a_schema_by_each_searchable_field,
    tolerates_a_typo_in_a_long_word,
    matches_a_prefix_of_the_last_word,
    reupserting_the_same_document_changes_nothing,
    a_newer_version_replaces_the_older_and_a_stale_one_is_ignored,
    remove_takes_a_schema_out,
    filters_by_namespace,
    filters_by_tags_requiring_all_of_them,
    filters_by_dialect,
    deprecated_schemas_are_hidden_unless_asked_for,
    deleted_schemas_are_hidden_unless_asked_for,
    facets_count_namespaces_and_tags_most_frequent_first,
    sorts_by_relevance_recency_and_popularity,
    paging_returns_every_hit_exactly_once,
    a_cursor_reused_with_another_query_is_refused,
    a_page_size_out_of_range_is_refused_naming_the_field,
    highlights_mark_the_matched_words,
    checkpoint_persists_across_reopening,
    clear_removes_everything_and_resets_the_checkpoint,
    an_empty_query_lists_every_schema_most_read_first,
    concurrent_writes_and_searches_lose_nothing,
);
