//! Shared helpers for the node integration tests: build a tiny workflow around one node, run it
//! on a virtual clock and read a node's output.
#![allow(dead_code)] // each test binary uses a different subset

pub mod databases;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use sluice_engine::{
    CompiledWorkflow, ExecutionOptions, Registry, RunOutcome, StreamMode, Streaming,
};
use sluice_model::Workflow;
use sluice_runtime::Clock;

/// The virtual clock's start: 2025-01-01T00:00:00Z, as in n8n's node tests.
pub fn test_clock() -> Clock {
    Clock::virtual_at(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap())
}

/// Run workflow JSON on the test clock (UTC, pinned data ignored).
pub async fn run_workflow(workflow: Value) -> RunOutcome {
    let workflow: Workflow = serde_json::from_value(workflow).expect("workflow JSON");
    run_with(&workflow, ExecutionOptions::default()).await
}

/// Run `workflow` with `options` on the test clock, pinned data ignored; the run may fail.
pub async fn run_with(workflow: &Workflow, options: ExecutionOptions) -> RunOutcome {
    run_on(&sluice_nodes::registry(), workflow, options).await
}

/// `run_with` on the nodes of `registry`.
pub async fn run_on(
    registry: &Registry,
    workflow: &Workflow,
    options: ExecutionOptions,
) -> RunOutcome {
    CompiledWorkflow::build(workflow.clone(), registry)
        .expect("workflow builds")
        .run(ExecutionOptions {
            clock: test_clock(),
            use_pin_data: false,
            ..options
        })
        .await
        .expect("workflow runs")
}

/// Manual Trigger → Test Data (`input`, one item per element) → the node under test ("Node").
pub fn single_node_workflow(
    node_type: &str,
    version: f64,
    parameters: Value,
    input: Value,
) -> Value {
    json!({
        "nodes": [
            {"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
             "position": [0, 0], "parameters": {}},
            {"name": "Input", "type": "n8n-nodes-testing.testData", "typeVersion": 1,
             "position": [200, 0], "parameters": {"data": input}},
            {"name": "Node", "type": node_type, "typeVersion": version,
             "position": [400, 0], "parameters": parameters}
        ],
        "connections": {
            "Trigger": {"main": [[{"node": "Input", "type": "main", "index": 0}]]},
            "Input": {"main": [[{"node": "Node", "type": "main", "index": 0}]]}
        },
        "settings": {"executionOrder": "v1"}
    })
}

/// Run one node on `input` items and return the whole outcome.
pub async fn run_node(
    node_type: &str,
    version: f64,
    parameters: Value,
    input: Value,
) -> RunOutcome {
    run_workflow(single_node_workflow(node_type, version, parameters, input)).await
}

/// Output 0 of the first run of `node`, as `{json, binary?}` values without pairedItem.
pub fn output(outcome: &RunOutcome, node: &str) -> Vec<Value> {
    let runs = outcome.run_data.runs(node);
    assert!(
        !runs.is_empty(),
        "node '{node}' did not run (error: {:?})",
        outcome.error
    );
    runs[0]
        .output(0)
        .iter()
        .map(|item| {
            let mut value = serde_json::to_value(item).expect("item serialises");
            value.as_object_mut().unwrap().remove("pairedItem");
            value
        })
        .collect()
}

/// The `json` of every output-0 item of "Node"; panics with the run error if it failed.
pub async fn node_json(
    node_type: &str,
    version: f64,
    parameters: Value,
    input: Value,
) -> Vec<Value> {
    let outcome = run_node(node_type, version, parameters, input).await;
    assert!(outcome.error.is_none(), "run failed: {:?}", outcome.error);
    output(&outcome, "Node")
        .into_iter()
        .map(|mut item| item["json"].take())
        .collect()
}

/// The error "Node" failed with (panics if it succeeded).
pub async fn node_error(node_type: &str, version: f64, parameters: Value, input: Value) -> String {
    let outcome = run_node(node_type, version, parameters, input).await;
    outcome.error.expect("the node should fail").message
}

/// Streaming always on, in chunks of `chunk_items`.
pub fn streamed(chunk_items: usize) -> Streaming {
    Streaming {
        mode: StreamMode::On,
        chunk_items,
        sort_memory_bytes: Streaming::DEFAULT_SORT_MEMORY_BYTES,
    }
}

/// Streaming off: every node runs once on all of its input.
pub const OFF: Streaming = Streaming {
    mode: StreamMode::Off,
    chunk_items: 1000,
    sort_memory_bytes: Streaming::DEFAULT_SORT_MEMORY_BYTES,
};

/// Serve `router` on a free local port from the test's runtime; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}")
}

/// Options for a run on the system clock with the credentials of an `n8n export:credentials`
/// list (`[{id, name, type, data}]`).
pub fn with_credentials(list: Value) -> ExecutionOptions {
    let set = sluice_runtime::CredentialSet::from_export_json(&list.to_string()).unwrap();
    ExecutionOptions {
        clock: sluice_runtime::Clock::system(),
        credentials: Some(sluice_engine::Credentials(std::sync::Arc::new(set))),
        ..Default::default()
    }
}

/// A self-signed certificate for `localhost` and 127.0.0.1 written by `openssl` into `dir`:
/// the paths of its PEM certificate and key.
pub fn self_signed_certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    (cert, key)
}
