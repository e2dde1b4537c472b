//! The Postgres node with `SLUICE_POSTGRES_GROUP_COMMIT=true`, against the machine's Postgres
//! (127.0.0.1:5432, database `test`): the lone writes of concurrent executions share
//! transactions, each execution gets its own rows, and a failing write fails alone. (Its own
//! test binary: the setting is read once per process.)

mod common;

use common::databases::{
    fresh_schema, postgres_credential, run_with_credential, scalar, unreachable_postgres_error,
};
use common::output;
use futures_util::future::join_all;
use serde_json::{json, Value};
use sluice_engine::RunOutcome;

fn group_commit_on() {
    std::env::set_var("SLUICE_POSTGRES_GROUP_COMMIT", "true");
}

/// One execution of executeQuery `query` with `$1` = `n`.
async fn execute_query(query: &str, n: i64) -> RunOutcome {
    run_with_credential(
        "n8n-nodes-base.postgres",
        2.5,
        json!({
            "operation": "executeQuery",
            "query": query,
            "options": {"queryReplacement": "={{ $json.n }}"}
        }),
        json!([{ "n": n }]),
        "postgres",
        postgres_credential(),
        json!({}),
    )
    .await
}

/// How many rows `schema.t` holds.
async fn rows_in(schema: &str) -> i64 {
    scalar(&format!("SELECT count(*) FROM {schema}.t")).await
}

/// Asserts that run `n` output one row, its own (`n` = n); how many transactions (`tx`) the
/// rows were written in.
fn own_rows_and_transactions(runs: &[RunOutcome]) -> usize {
    let mut transactions = std::collections::HashSet::new();
    for (n, outcome) in runs.iter().enumerate() {
        assert!(
            outcome.error.is_none(),
            "run {n} failed: {:?}",
            outcome.error
        );
        let out = json_of(outcome);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(
            out[0]["n"],
            json!(n.to_string()),
            "each run gets its own row"
        );
        transactions.insert(out[0]["tx"].as_str().unwrap().to_string());
    }
    transactions.len()
}

fn json_of(outcome: &RunOutcome) -> Vec<Value> {
    output(outcome, "Node")
        .into_iter()
        .map(|mut item| item["json"].take())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lone_writes_share_transactions_and_each_gets_its_own_row() {
    group_commit_on();
    let schema = fresh_schema("CREATE TABLE t (n bigint PRIMARY KEY)").await;
    let query =
        format!("INSERT INTO {schema}.t (n) VALUES ($1) RETURNING n, txid_current()::text AS tx");
    let runs = join_all((0..40).map(|n| execute_query(&query, n))).await;
    let transactions = own_rows_and_transactions(&runs);
    let stored = rows_in(&schema).await;
    assert_eq!(stored, 40);
    assert!(
        transactions < 40,
        "40 writes made at once took {transactions} transactions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_write_fails_alone_and_the_others_are_kept() {
    group_commit_on();
    let schema = fresh_schema("CREATE TABLE t (n bigint PRIMARY KEY)").await;
    let query = format!("INSERT INTO {schema}.t (n) VALUES ($1)");
    // Twenty writes at once, two of them of the same key: one of those two fails.
    let keys: Vec<i64> = (0..19).chain([7]).collect();
    let runs = join_all(keys.iter().map(|&n| execute_query(&query, n))).await;
    let failed: Vec<String> = runs
        .iter()
        .filter_map(|outcome| outcome.error.as_ref().map(|e| e.to_string()))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].contains("duplicate key value violates unique constraint"),
        "{}",
        failed[0]
    );
    for outcome in runs.iter().filter(|outcome| outcome.error.is_none()) {
        assert_eq!(json_of(outcome), vec![json!({"success": true})]);
    }
    let stored = rows_in(&schema).await;
    assert_eq!(stored, 19);
}

/// Writes whose text differs (values written into the SQL), one of which does not parse: it
/// alone fails, the others are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_does_not_parse_fails_alone() {
    group_commit_on();
    let schema = fresh_schema("CREATE TABLE t (n bigint PRIMARY KEY)").await;
    let runs = join_all((0..12).map(|n| {
        let values = if n == 5 {
            "(oops".to_string()
        } else {
            format!("({n})")
        };
        let query = format!("INSERT INTO {schema}.t (n) VALUES {values}");
        async move { execute_query(&query, n).await }
    }))
    .await;
    let failed: Vec<String> = runs
        .iter()
        .filter_map(|outcome| outcome.error.as_ref().map(|e| e.to_string()))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("syntax error"), "{}", failed[0]);
    assert!(runs[5].error.is_some());
    assert_eq!(rows_in(&schema).await, 11);
}

/// The insert operation of one item is one plain write too: concurrent runs share transactions,
/// each outputs its own row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_single_item_inserts_share_transactions() {
    group_commit_on();
    let schema =
        fresh_schema("CREATE TABLE t (n bigint PRIMARY KEY, tx text DEFAULT txid_current()::text)")
            .await;
    let insert = |n: i64| {
        run_with_credential(
            "n8n-nodes-base.postgres",
            2.5,
            json!({
                "operation": "insert",
                "schema": {"__rl": true, "mode": "list", "value": schema},
                "table": {"__rl": true, "mode": "list", "value": "t"},
                "columns": {"mappingMode": "autoMapInputData", "value": {}, "matchingColumns": []},
                "options": {}
            }),
            json!([{ "n": n }]),
            "postgres",
            postgres_credential(),
            json!({}),
        )
    };
    let runs = join_all((0..30).map(insert)).await;
    let transactions = own_rows_and_transactions(&runs);
    assert_eq!(rows_in(&schema).await, 30);
    assert!(
        transactions < 30,
        "30 inserts made at once took {transactions} transactions"
    );
}

/// A grouped write to a server that cannot be reached fails with the same one-line error as an
/// ungrouped one: the node, the server, not the password.
#[tokio::test]
async fn a_grouped_write_to_an_unreachable_server_is_a_clear_error() {
    group_commit_on();
    let text = unreachable_postgres_error(json!({
        "operation": "executeQuery",
        "query": "INSERT INTO t (n) VALUES (1)"
    }))
    .await;
    assert!(text.contains("item 0"), "{text}");
}

/// Reads and statements that cannot run in a transaction block are not grouped.
#[tokio::test]
async fn a_lone_vacuum_still_runs_outside_a_transaction() {
    group_commit_on();
    let schema = fresh_schema("CREATE TABLE t (n bigint)").await;
    let outcome = execute_query(&format!("VACUUM {schema}.t"), 0).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(json_of(&outcome), vec![json!({"success": true})]);
}
