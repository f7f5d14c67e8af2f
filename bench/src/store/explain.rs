//! The plans PostgreSQL runs for the store's statements. Each statement is prepared,
//! executed five times (after which PostgreSQL's plan cache settles on a generic or a
//! custom plan, as it does for the store's own prepared statements), then explained
//! with `EXPLAIN (ANALYZE, BUFFERS) EXECUTE`. Writes run in a transaction rolled back.

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::{Client, SimpleQueryMessage};

use super::StoreWorkload;
use super::dataset::WRITES_NAMESPACE;
use super::statements::{
    CREATE_SCHEMA, FIND_LIVE_DIGEST, GET_BY_DIGEST, GET_EXACT, GET_LATEST, INSERT_VERSION,
    LIST_SCHEMAS_EVERYWHERE, LOCK_SCHEMA, bind, literal,
};

/// Executions before the explained one: PostgreSQL plans the first five custom.
const WARM_UP_EXECUTIONS: usize = 5;
/// The tables a keyed lookup or keyset page must reach through an index.
const INDEXED_TABLES: [&str; 2] = ["schema_versions", "schemas"];
/// The writer schema the plans of register write into, rolled back.
const EXPLAIN_WRITER: &str = "explain-plan";

/// Representative parameters, as the OVSR side sends them.
#[derive(Debug, Clone)]
pub struct PlanInputs {
    /// A loaded version: namespace, name, version.
    pub version: (String, String, u32),
    /// The digest of a loaded version.
    pub digest: String,
    /// The deep page's cursor: namespace, name.
    pub deep_after: (String, String),
    /// Rows a listing asks for (page size + 1).
    pub page_limit: u32,
    /// A document like those the register workload sends.
    pub content: String,
}

/// One statement's plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The workload whose call runs the statement.
    pub workload: StoreWorkload,
    /// Which statement of the call.
    pub statement: &'static str,
    /// `generic` (planned once for any parameters) or `custom` (planned per call).
    pub kind: &'static str,
    /// Indexes the plan reads.
    pub indexes: Vec<String>,
    /// Tables the plan reads in full.
    pub seq_scans: Vec<String>,
    /// `EXPLAIN (ANALYZE, BUFFERS)` output.
    pub text: String,
}

impl Plan {
    /// Whether it reads `schema_versions` or `schemas` in full.
    pub fn scans_an_indexed_table(&self) -> bool {
        self.seq_scans
            .iter()
            .any(|table| INDEXED_TABLES.contains(&table.as_str()))
    }
}

/// A statement to explain and the literals of each execution.
struct Case {
    workload: StoreWorkload,
    statement: &'static str,
    sql: &'static str,
    literals: Box<dyn Fn(usize) -> Vec<String>>,
}

/// Explains every statement of every workload.
pub async fn explain_all(client: &Client, inputs: &PlanInputs) -> Result<Vec<Plan>> {
    let mut plans = Vec::new();
    for case in read_cases(inputs) {
        plans.push(explain(client, &case).await?);
    }

    client.batch_execute("BEGIN").await?;
    let writer = [literal(WRITES_NAMESPACE), literal(EXPLAIN_WRITER)];
    let create = bind(CREATE_SCHEMA, &[&writer[0], &writer[1]]);
    client.batch_execute(&create).await?;
    for case in register_cases(inputs) {
        match explain(client, &case).await {
            Ok(plan) => plans.push(plan),
            Err(err) => {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(err);
            }
        }
    }
    client.batch_execute("ROLLBACK").await?;
    Ok(plans)
}

async fn explain(client: &Client, case: &Case) -> Result<Plan> {
    let prepare = format!("PREPARE bench_plan AS {}", case.sql);
    client
        .batch_execute(&prepare)
        .await
        .with_context(|| format!("preparing {}", case.statement))?;
    for execution in 0..WARM_UP_EXECUTIONS {
        let args = (case.literals)(execution).join(", ");
        client
            .batch_execute(&format!("EXECUTE bench_plan({args})"))
            .await
            .with_context(|| format!("executing {}", case.statement))?;
    }
    let args = (case.literals)(WARM_UP_EXECUTIONS).join(", ");
    let explain = format!("EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_plan({args})");
    let lines = client.simple_query(&explain).await;
    client.batch_execute("DEALLOCATE bench_plan").await?;
    let text = plan_text(lines.with_context(|| format!("explaining {}", case.statement))?);
    Ok(Plan {
        workload: case.workload,
        statement: case.statement,
        kind: if text.contains("$1") {
            "generic"
        } else {
            "custom"
        },
        indexes: indexes_in(&text),
        seq_scans: seq_scans_in(&text),
        text,
    })
}

fn read_cases(inputs: &PlanInputs) -> Vec<Case> {
    let (ns, name, version) = inputs.version.clone();
    let (ns, name) = (literal(&ns), literal(&name));
    let digest = literal(&inputs.digest);
    let limit = inputs.page_limit.to_string();
    let deep = (literal(&inputs.deep_after.0), literal(&inputs.deep_after.1));
    let first_limit = limit.clone();
    let (exact_ns, exact_name) = (ns.clone(), name.clone());
    vec![
        Case {
            workload: StoreWorkload::GetExact,
            statement: "get exact version",
            sql: GET_EXACT,
            literals: Box::new(move |_| {
                let version = version.to_string();
                vec![
                    exact_ns.clone(),
                    exact_name.clone(),
                    version,
                    "false".into(),
                ]
            }),
        },
        Case {
            workload: StoreWorkload::GetLatest,
            statement: "get latest version",
            sql: GET_LATEST,
            literals: Box::new(move |_| vec![ns.clone(), name.clone()]),
        },
        Case {
            workload: StoreWorkload::GetByDigest,
            statement: "get by digest",
            sql: GET_BY_DIGEST,
            literals: Box::new(move |_| vec![digest.clone(), "false".into()]),
        },
        Case {
            workload: StoreWorkload::ListFirstPage,
            statement: "list schemas",
            sql: LIST_SCHEMAS_EVERYWHERE,
            literals: Box::new(move |_| {
                let empty = literal("");
                vec![empty.clone(), empty, "false".into(), first_limit.clone()]
            }),
        },
        Case {
            workload: StoreWorkload::ListDeepPage,
            statement: "list schemas",
            sql: LIST_SCHEMAS_EVERYWHERE,
            literals: Box::new(move |_| {
                vec![
                    deep.0.clone(),
                    deep.1.clone(),
                    "false".into(),
                    limit.clone(),
                ]
            }),
        },
    ]
}

fn register_cases(inputs: &PlanInputs) -> Vec<Case> {
    let (ns, name) = (literal(WRITES_NAMESPACE), literal(EXPLAIN_WRITER));
    let (lock_ns, lock_name) = (ns.clone(), name.clone());
    let (find_ns, find_name) = (ns.clone(), name.clone());
    let content = literal(&inputs.content);
    let digest_of = |execution: usize| literal(&format!("sha256:{execution:064x}"));
    vec![
        Case {
            workload: StoreWorkload::Register,
            statement: "lock schema row",
            sql: LOCK_SCHEMA,
            literals: Box::new(move |_| vec![lock_ns.clone(), lock_name.clone()]),
        },
        Case {
            workload: StoreWorkload::Register,
            statement: "find live digest",
            sql: FIND_LIVE_DIGEST,
            literals: Box::new(move |execution| {
                vec![find_ns.clone(), find_name.clone(), digest_of(execution)]
            }),
        },
        Case {
            workload: StoreWorkload::Register,
            statement: "insert version",
            sql: INSERT_VERSION,
            literals: Box::new(move |execution| {
                let empty = literal("{}");
                vec![
                    ns.clone(),
                    name.clone(),
                    digest_of(execution),
                    content.clone(),
                    literal(&format!("explain {execution}")),
                    "NULL".into(),
                    literal("https://json-schema.org/draft/2020-12/schema"),
                    empty.clone(),
                    empty.clone(),
                    empty,
                ]
            }),
        },
    ]
}

fn plan_text(messages: Vec<SimpleQueryMessage>) -> String {
    let lines: Vec<String> = messages
        .into_iter()
        .filter_map(|message| match message {
            SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .collect();
    lines.join("\n")
}

/// Index names after `using` (index scans) or `Bitmap Index Scan on`.
fn indexes_in(plan: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in plan.lines() {
        let after = line
            .split_once(" using ")
            .or_else(|| line.split_once("Bitmap Index Scan on "))
            .map(|(_, rest)| rest);
        if let Some(name) = after.and_then(|rest| rest.split_whitespace().next())
            && !found.iter().any(|seen| seen == name)
        {
            found.push(name.to_owned());
        }
    }
    found
}

/// Tables after `Seq Scan on`.
fn seq_scans_in(plan: &str) -> Vec<String> {
    plan.lines()
        .filter_map(|line| line.split_once("Seq Scan on ").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "\
Limit  (cost=0.84..42.10 rows=101 width=400) (actual time=0.03..0.41 rows=101 loops=1)
  ->  Nested Loop Left Join  (cost=0.84..81234.00 rows=200000 width=400)
        ->  Index Scan using schemas_pkey on schemas s  (cost=0.42..9000.00 rows=200000)
              Index Cond: (ROW(namespace, name) > ROW($1, $2))
        ->  Index Scan using schema_versions_pkey on schema_versions v  (cost=0.42..0.5)
  ->  Seq Scan on outbox  (cost=0.00..1.00 rows=1 width=4)";

    #[test]
    fn plans_name_their_indexes_and_full_scans() {
        assert_eq!(
            indexes_in(PLAN),
            vec!["schemas_pkey", "schema_versions_pkey"]
        );
        assert_eq!(seq_scans_in(PLAN), vec!["outbox"]);
    }

    #[test]
    fn only_full_scans_of_the_keyed_tables_count_against_a_plan() {
        let plan = |seq_scans: Vec<String>| Plan {
            workload: StoreWorkload::GetExact,
            statement: "get exact version",
            kind: "generic",
            indexes: Vec::new(),
            seq_scans,
            text: String::new(),
        };
        assert!(!plan(vec!["outbox".into()]).scans_an_indexed_table());
        assert!(plan(vec!["schema_versions".into()]).scans_an_indexed_table());
    }
}
