//! Workflows around the database nodes, run against the machine's real Postgres and Redis with
//! credentials given as an n8n credentials export, and throwaway schemas / key prefixes per test.

use super::test_clock;
use serde_json::{json, Value};
use sluice_engine::{CompiledWorkflow, Credentials, ExecutionOptions, RunOutcome, Streaming};
use sluice_model::Workflow;
use sluice_runtime::CredentialSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The local test database (trust auth).
pub fn postgres_credential() -> Value {
    json!({"host": "127.0.0.1", "port": 5432, "database": "test", "user": "postgres",
           "password": "", "ssl": "disable"})
}

/// The error of a Postgres node run with `parameters` against a server that cannot be reached
/// (port 1), checked to be one clear line: the node, the server, not the password.
pub async fn unreachable_postgres_error(parameters: Value) -> String {
    let mut credential = postgres_credential();
    credential["port"] = json!(1);
    credential["password"] = json!("s3cret-value");
    let outcome = run_with_credential(
        "n8n-nodes-base.postgres",
        2.5,
        parameters,
        json!([{}]),
        "postgres",
        credential,
        json!({}),
    )
    .await;
    let text = outcome.error.expect("fails").to_string();
    assert!(
        text.starts_with("node 'Node': could not connect to Postgres postgres@127.0.0.1:1/test"),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
    text
}

pub fn redis_credential() -> Value {
    json!({"host": "127.0.0.1", "port": 6379, "database": 0})
}

/// Manual Trigger → Test Data (`input`) → the node ("Node") using credential `data` of `kind`,
/// with `node_extra` merged into the node (onError, ...).
pub async fn run_with_credential(
    node_type: &str,
    version: f64,
    parameters: Value,
    input: Value,
    kind: &str,
    data: Value,
    node_extra: Value,
) -> RunOutcome {
    let mut workflow = super::single_node_workflow(node_type, version, parameters, input);
    let node = &mut workflow["nodes"][2];
    node["credentials"] = json!({ kind: {"id": "cred-1", "name": "Test"} });
    if let Value::Object(extra) = node_extra {
        for (k, v) in extra {
            node[k] = v;
        }
    }
    run_workflow_with_credential(workflow, kind, data, Streaming::default()).await
}

/// Run `workflow`, whose nodes refer to credential `cred-1` ("Test"), with that credential
/// (`kind`, `data`) and `streaming`.
pub async fn run_workflow_with_credential(
    workflow: Value,
    kind: &str,
    data: Value,
    streaming: Streaming,
) -> RunOutcome {
    let workflow: Workflow = serde_json::from_value(workflow).expect("workflow JSON");
    // The shape `n8n export:credentials --decrypted` writes.
    let export = json!([{"id": "cred-1", "name": "Test", "type": kind, "data": data}]);
    let credentials = CredentialSet::from_export_json(&export.to_string()).expect("credentials");
    let compiled =
        CompiledWorkflow::build(workflow, &sluice_nodes::registry()).expect("workflow builds");
    compiled
        .run(ExecutionOptions {
            clock: test_clock(),
            use_pin_data: false,
            credentials: Some(Credentials(Arc::new(credentials))),
            streaming,
            ..Default::default()
        })
        .await
        .expect("workflow runs")
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A resource locator as the editor saves a pick from its list (`schema`, `table`).
pub fn rl(value: &str) -> Value {
    json!({"__rl": true, "mode": "list", "value": value})
}

/// The one value `sql` selects, read on a direct connection.
pub async fn scalar<T: for<'a> tokio_postgres::types::FromSql<'a>>(sql: &str) -> T {
    postgres().await.query_one(sql, &[]).await.unwrap().get(0)
}

/// A direct connection to the test database, for setting up and checking tables.
pub async fn postgres() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=test",
        tokio_postgres::NoTls,
    )
    .await
    .expect("the test Postgres on 127.0.0.1:5432 must be running");
    tokio::spawn(connection);
    client
}

/// A fresh schema with `setup` SQL run in it (search_path set); returns the schema name.
pub async fn fresh_schema(setup: &str) -> String {
    let schema = unique("sluice_test");
    postgres()
        .await
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema}; {setup}"
        ))
        .await
        .expect("schema setup");
    schema
}
