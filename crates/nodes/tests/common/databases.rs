//! Workflows around the database nodes, run against the machine's real Postgres and Redis with
//! credentials handed out by a test host, and throwaway schemas / key prefixes per test.

use super::test_clock;
use serde_json::{json, Value};
use sluice_engine::{
    CompiledWorkflow, ExecutionHost, ExecutionOptions, Host, NodeError, RunOutcome,
    SubWorkflowRequest, WebhookResponse,
};
use sluice_model::{Item, Workflow};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The local test database (trust auth).
pub fn postgres_credential() -> Value {
    json!({"host": "127.0.0.1", "port": 5432, "database": "test", "user": "postgres",
           "password": "", "ssl": "disable"})
}

pub fn redis_credential() -> Value {
    json!({"host": "127.0.0.1", "port": 6379, "database": 0})
}

/// Hands out credentials by id, like `sluice serve`'s store.
struct Credentials(Vec<(String, Value)>);

#[async_trait::async_trait]
impl ExecutionHost for Credentials {
    fn respond(&self, _response: WebhookResponse) -> bool {
        false
    }

    async fn credential(&self, _kind: &str, id: &str) -> Result<Value, NodeError> {
        self.0
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, data)| data.clone())
            .ok_or_else(|| NodeError::new(format!("no credential '{id}'")))
    }

    async fn execute_workflow(&self, _request: SubWorkflowRequest) -> Result<Vec<Item>, NodeError> {
        Err(NodeError::new("no sub-workflows here"))
    }
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
    let workflow: Workflow = serde_json::from_value(workflow).expect("workflow JSON");
    let compiled =
        CompiledWorkflow::build(workflow, &sluice_nodes::registry()).expect("workflow builds");
    compiled
        .run(ExecutionOptions {
            clock: test_clock(),
            use_pin_data: false,
            host: Some(Host(Arc::new(Credentials(vec![("cred-1".into(), data)])))),
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
