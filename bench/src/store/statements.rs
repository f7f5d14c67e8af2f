//! The SQL the PostgreSQL store runs for each measured call, written out as the store
//! sends it (`crates/store/src/postgres/{reads,register,writes}.rs`), so pgbench and
//! `EXPLAIN` see the very statements the server prepares. A test checks the store's
//! sources still hold them.

/// The version columns every store read selects (the store's `version_columns!`).
macro_rules! version_columns {
    () => {
        "v.namespace, v.name, v.version, v.digest, v.state, octet_length(v.content), \
         v.title, v.description, v.dialect, v.tags, v.created_at_ms, v.aliases, \
         v.reference_locks::text"
    };
}

/// Milliseconds since the epoch at transaction start (the store's `now_ms!`).
macro_rules! now_ms {
    () => {
        "floor(extract(epoch FROM now()) * 1000)::bigint"
    };
}

/// GetSchema by name and exact version: namespace, name, version, include_deleted.
pub const GET_EXACT: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", v.content FROM schema_versions v \
     WHERE v.namespace = $1 AND v.name = $2 AND v.version = $3 \
     AND ($4 OR v.state <> 'deleted')"
);

/// GetSchema by name, latest version: namespace, name.
pub const GET_LATEST: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", v.content FROM schemas s JOIN schema_versions v ON v.namespace = s.namespace \
     AND v.name = s.name AND v.version = s.latest_version \
     WHERE s.namespace = $1 AND s.name = $2"
);

/// GetSchema by digest: digest, include_deleted.
pub const GET_BY_DIGEST: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", v.content FROM schema_versions v \
     WHERE v.digest = $1 AND ($2 OR v.state <> 'deleted') \
     ORDER BY v.created_at_ms, v.namespace, v.name, v.version LIMIT 1"
);

/// ListSchemas over every namespace: cursor namespace, cursor name, include_deleted,
/// limit (the page size plus one, to see whether a next page exists).
pub const LIST_SCHEMAS_EVERYWHERE: &str = concat!(
    "SELECT s.namespace, s.name, s.updated_at_ms, ",
    version_columns!(),
    " FROM schemas s LEFT JOIN schema_versions v ON v.namespace = s.namespace \
     AND v.name = s.name AND v.version = s.latest_version \
     WHERE (s.namespace, s.name) > ($1, $2) \
     AND ($3 OR s.latest_version > 0) ORDER BY s.namespace, s.name LIMIT $4"
);

/// RegisterSchema, first step: lock the schema's row. Namespace, name.
pub const LOCK_SCHEMA: &str = "SELECT 1 FROM schemas WHERE namespace = $1 AND name = $2 FOR UPDATE";

/// RegisterSchema, on a schema's first version only: create its row.
pub const CREATE_SCHEMA: &str = concat!(
    "INSERT INTO schemas (namespace, name, max_version, latest_version, created_at_ms, \
     updated_at_ms) VALUES ($1, $2, 0, 0, ",
    now_ms!(),
    ", ",
    now_ms!(),
    ") ON CONFLICT (namespace, name) DO NOTHING"
);

/// RegisterSchema, second step: a live version with the same digest. Namespace, name,
/// digest.
pub const FIND_LIVE_DIGEST: &str = concat!(
    "SELECT ",
    version_columns!(),
    ", v.content FROM schema_versions v \
     WHERE v.namespace = $1 AND v.name = $2 AND v.digest = $3 AND v.state <> 'deleted' \
     ORDER BY v.version LIMIT 1"
);

/// RegisterSchema, last step: allocate the number, store the version, log the change.
/// Namespace, name, digest, content, title, description, dialect, tags, aliases,
/// reference locks.
pub const INSERT_VERSION: &str = concat!(
    "WITH allocated AS ( \
       UPDATE schemas SET max_version = max_version + 1, latest_version = max_version + 1, \
         updated_at_ms = ",
    now_ms!(),
    " WHERE namespace = $1 AND name = $2 RETURNING max_version, updated_at_ms), \
     stored AS ( \
       INSERT INTO schema_versions (namespace, name, version, digest, state, content, title, \
         description, dialect, tags, aliases, reference_locks, created_at_ms) \
       SELECT $1, $2, max_version, $3::text, 'active', $4::text, $5::text, $6::text, \
         $7::text, $8::text[], $9::text[], $10::text::jsonb, updated_at_ms \
       FROM allocated RETURNING version, created_at_ms), \
     logged AS ( \
       INSERT INTO outbox (namespace, name, version, kind, created_at_ms) \
       SELECT $1, $2, version, 'registered', created_at_ms FROM stored) \
     SELECT version, created_at_ms FROM stored"
);

/// `sql` with each `$n` replaced by `args[n - 1]`, highest first so `$1` never eats
/// the start of `$10`.
pub fn bind(sql: &str, args: &[&str]) -> String {
    let mut bound = sql.to_owned();
    for (index, arg) in args.iter().enumerate().rev() {
        bound = bound.replace(&format!("${}", index + 1), arg);
    }
    bound
}

/// A string as an SQL literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store's statements, as its sources spell them (string continuations and
    /// macro calls removed), so a change there shows up here.
    fn store_sources() -> String {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/store/src/postgres/");
        ["reads.rs", "register.rs", "writes.rs", "rows.rs"]
            .iter()
            .map(|file| std::fs::read_to_string(format!("{dir}{file}")).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Collapses the source's spelling of a statement and ours to comparable words.
    fn words(text: &str) -> String {
        text.replace("\\\n", " ")
            .replace(['"', ','], " ")
            .split_whitespace()
            .filter(|word| !word.starts_with("concat!") && !word.ends_with("!()"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn mirrored_statements_still_appear_in_the_store() {
        let sources = words(&store_sources());
        let fragments = [
            "WHERE v.namespace = $1 AND v.name = $2 AND v.version = $3",
            "AND v.version = s.latest_version WHERE s.namespace = $1 AND s.name = $2",
            "WHERE v.digest = $1 AND ($2 OR v.state <> 'deleted') ORDER BY v.created_at_ms",
            "WHERE (s.namespace s.name) > ($1 $2) AND ($3 OR s.latest_version > 0)",
            "SELECT 1 FROM schemas WHERE namespace = $1 AND name = $2 FOR UPDATE",
            "AND v.digest = $3 AND v.state <> 'deleted' ORDER BY v.version LIMIT 1",
            "$7::text $8::text[] $9::text[] $10::text::jsonb updated_at_ms",
            "SELECT $1 $2 version 'registered' created_at_ms FROM stored",
            "v.tags v.created_at_ms v.aliases v.reference_locks::text",
        ];
        for fragment in fragments {
            let fragment = words(fragment);
            assert!(
                sources.contains(&fragment),
                "store no longer runs: {fragment}"
            );
        }
        for ours in [
            GET_EXACT,
            GET_LATEST,
            GET_BY_DIGEST,
            LIST_SCHEMAS_EVERYWHERE,
        ] {
            assert!(ours.contains("v.reference_locks::text"));
        }
    }

    #[test]
    fn binding_replaces_high_numbers_first() {
        let bound = bind(
            "$1 $10 $2",
            &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
        );
        assert_eq!(bound, "a j b");
        assert_eq!(literal("it's"), "'it''s'");
    }
}
