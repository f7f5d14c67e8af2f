//! The pgbench script of each workload: the store's statement with its parameters
//! drawn as the OVSR side draws them. Names are rebuilt from a random key with the
//! data set's arithmetic (`'team-' || lpad(…)`, evaluated once per execution); digests
//! come from `bench_digest_keys` in a subquery, one primary-key probe more than the
//! store does, since pgbench cannot draw a random string.

use std::fmt::Write as _;

use super::StoreWorkload;
use super::dataset::{
    INDEX_DIGITS, NAME_PREFIX, NAMESPACE_PREFIX, SCHEMAS_PER_NAMESPACE, Shape, VERSIONS_PER_SCHEMA,
    WRITES_NAMESPACE, written_document,
};
use super::statements::{
    FIND_LIVE_DIGEST, GET_BY_DIGEST, GET_EXACT, GET_LATEST, INSERT_VERSION,
    LIST_SCHEMAS_EVERYWHERE, LOCK_SCHEMA, bind,
};

/// Schemas per listing page, as the OVSR side asks.
pub const PAGE_SIZE: u32 = 100;

/// Precedes each cursor value given to pgbench (see [`script_for`]).
const CURSOR_MARKER: char = '>';

/// pgbench's writers register into `pgbench-<client_id>`.
pub const PGBENCH_WRITER_PREFIX: &str = "pgbench-";

/// Where a keyset page starts: after this schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PageCursor {
    /// The page number, from 1.
    pub page: u64,
    /// Namespace of the last schema of the page before (empty for page 1).
    pub after_namespace: String,
    /// Name of the last schema of the page before (empty for page 1).
    pub after_name: String,
}

/// A script's text and its `-D` variables.
#[derive(Debug, Clone)]
pub struct ScriptSource {
    /// The script.
    pub text: String,
    /// `-D name=value` pairs.
    pub defines: Vec<(String, String)>,
}

/// The script for `workload` over `shape`; `deep` is the deep page's cursor.
pub fn script_for(workload: StoreWorkload, shape: &Shape, deep: &PageCursor) -> ScriptSource {
    let mut text = String::new();
    let mut defines = vec![define("include_deleted", "false")];
    let last_key = shape.versions.saturating_sub(1);
    let statement = match workload {
        StoreWorkload::GetExact => {
            let _ = writeln!(text, "\\set k random(0, {last_key})");
            let _ = writeln!(text, "\\set schema :k / {VERSIONS_PER_SCHEMA}");
            let _ = writeln!(text, "\\set v :k % {VERSIONS_PER_SCHEMA} + 1");
            split_schema(&mut text);
            let (ns, name) = (namespace_expr(), name_expr());
            bind(GET_EXACT, &[&ns, &name, ":v", ":include_deleted"])
        }
        StoreWorkload::GetLatest => {
            let last_schema = shape.schemas.saturating_sub(1);
            let _ = writeln!(text, "\\set schema random(0, {last_schema})");
            split_schema(&mut text);
            bind(GET_LATEST, &[&namespace_expr(), &name_expr()])
        }
        StoreWorkload::GetByDigest => {
            let _ = writeln!(text, "\\set k random(0, {last_key})");
            let digest = "(SELECT digest FROM bench_digest_keys WHERE k = :k)";
            bind(GET_BY_DIGEST, &[digest, ":include_deleted"])
        }
        StoreWorkload::ListFirstPage | StoreWorkload::ListDeepPage => {
            let cursor = match workload {
                StoreWorkload::ListDeepPage => deep.clone(),
                _ => PageCursor::default(),
            };
            // pgbench refuses an empty `-D` value, and page 1's cursor is empty, so
            // cursors travel behind a marker the statement strips.
            let marked = |text: &str| format!("{CURSOR_MARKER}{text}");
            defines.push(define("after_ns", &marked(&cursor.after_namespace)));
            defines.push(define("after_name", &marked(&cursor.after_name)));
            defines.push(define("page_limit", &(PAGE_SIZE + 1).to_string()));
            let (after_ns, after_name) = (unmarked(":after_ns"), unmarked(":after_name"));
            let args = [&after_ns, &after_name, ":include_deleted", ":page_limit"];
            bind(LIST_SCHEMAS_EVERYWHERE, &args)
        }
        StoreWorkload::Register => return register_script(),
    };
    let _ = writeln!(text, "{statement};");
    ScriptSource { text, defines }
}

/// The store's register transaction for a schema that exists: lock its row, look for
/// the digest, insert. Client `n` writes `pgbench-<n>`; the digest is random.
fn register_script() -> ScriptSource {
    let writer = format!("('{PGBENCH_WRITER_PREFIX}' || :client_id)");
    let digest = "('sha256:' || lpad(to_hex(:r::bigint), 64, '0'))";
    let title = "('pgbench ' || :r)";
    let insert_args = [
        ":writes",
        &writer,
        digest,
        ":content",
        title,
        "NULL",
        ":dialect",
        ":no_items",
        ":no_items",
        ":no_references",
    ];
    let mut text = String::new();
    let _ = writeln!(text, "\\set r random(1, 9223372036854775806)");
    let _ = writeln!(text, "BEGIN;");
    let _ = writeln!(text, "{};", bind(LOCK_SCHEMA, &[":writes", &writer]));
    let find = bind(FIND_LIVE_DIGEST, &[":writes", &writer, digest]);
    let _ = writeln!(text, "{find};");
    let _ = writeln!(text, "{};", bind(INSERT_VERSION, &insert_args));
    let _ = writeln!(text, "COMMIT;");
    let defines = vec![
        define("writes", WRITES_NAMESPACE),
        define("content", &written_document("pgbench", "sample-0")),
        define("dialect", "https://json-schema.org/draft/2020-12/schema"),
        define("no_items", "{}"),
        define("no_references", "{}"),
    ];
    ScriptSource { text, defines }
}

/// The schema-row names pgbench's `clients` writers need.
pub fn pgbench_writer_names(clients: usize) -> Vec<String> {
    (0..clients)
        .map(|client| format!("{PGBENCH_WRITER_PREFIX}{client}"))
        .collect()
}

/// `:schema` into `:ns` (namespace index) and `:nm` (name index).
fn split_schema(text: &mut String) {
    let _ = writeln!(text, "\\set ns :schema / {SCHEMAS_PER_NAMESPACE}");
    let _ = writeln!(text, "\\set nm :schema % {SCHEMAS_PER_NAMESPACE}");
}

fn namespace_expr() -> String {
    format!("('{NAMESPACE_PREFIX}' || lpad(:ns::text, {INDEX_DIGITS}, '0'))")
}

fn name_expr() -> String {
    format!("('{NAME_PREFIX}' || lpad(:nm::text, {INDEX_DIGITS}, '0'))")
}

/// A marked cursor variable with its marker stripped.
fn unmarked(variable: &str) -> String {
    format!("ltrim({variable}, '{CURSOR_MARKER}')")
}

fn define(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_lookups_rebuild_names_from_the_key() {
        let script = script_for(
            StoreWorkload::GetExact,
            &Shape::new(20),
            &PageCursor::default(),
        );
        assert!(script.text.starts_with("\\set k random(0, 19)\n"));
        assert!(
            script
                .text
                .contains("v.namespace = ('team-' || lpad(:ns::text, 4, '0'))")
        );
        assert!(
            script
                .text
                .contains("AND v.version = :v AND (:include_deleted OR")
        );
        assert!(!script.text.contains('$'));
    }

    #[test]
    fn deep_pages_start_after_the_cursor() {
        let cursor = PageCursor {
            page: 3,
            after_namespace: "team-0000".into(),
            after_name: "schema-0199".into(),
        };
        let script = script_for(StoreWorkload::ListDeepPage, &Shape::new(2000), &cursor);
        let cursor_sql = "> (ltrim(:after_ns, '>'), ltrim(:after_name, '>'))";
        assert!(script.text.contains(cursor_sql));
        let defines = &script.defines;
        assert!(defines.contains(&define("after_name", ">schema-0199")));
        let first = script_for(StoreWorkload::ListFirstPage, &Shape::new(2000), &cursor);
        assert!(first.defines.contains(&define("after_ns", ">")));
        assert!(script.defines.contains(&define("page_limit", "101")));
    }

    #[test]
    fn the_register_script_is_one_transaction_of_the_store_steps() {
        let script = script_for(
            StoreWorkload::Register,
            &Shape::new(20),
            &PageCursor::default(),
        );
        let lines: Vec<&str> = script.text.lines().collect();
        assert_eq!(lines.len(), 6);
        assert_eq!((lines[1], lines[5]), ("BEGIN;", "COMMIT;"));
        assert!(lines[2].ends_with("FOR UPDATE;"));
        assert!(lines[4].contains("NULL::text"));
        assert!(!script.text.contains('$'));
    }
}
