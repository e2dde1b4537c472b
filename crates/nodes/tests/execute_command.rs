//! Execute Command: once or per item, `{exitCode, stderr, stdout}` with the output trimmed, a
//! non-zero exit failing the node with its stderr (or an error item with `continueOnFail`), and
//! the node left out of a deployment unless `NODES_EXCLUDE` allows it. n8n's own test workflow
//! (ExecuteCommand/test/workflow.json) is the first case.

mod common;

use common::*;
use serde_json::{json, Value};
use sluice_engine::{CompiledWorkflow, ExecutionOptions, RunOutcome};
use sluice_model::Workflow;
use sluice_nodes::{registry_with, NodeFilter};

const TYPE: &str = "n8n-nodes-base.executeCommand";

/// Run Execute Command with `parameters` (and node settings merged from `settings`) on `input`,
/// with every node allowed.
async fn run(parameters: Value, settings: Value, input: Value) -> RunOutcome {
    let mut workflow = single_node_workflow(TYPE, 1.0, parameters, input);
    for (key, value) in settings.as_object().unwrap() {
        workflow["nodes"][2][key] = value.clone();
    }
    let workflow: Workflow = serde_json::from_value(workflow).unwrap();
    run_on(
        &registry_with(&NodeFilter::all()),
        &workflow,
        ExecutionOptions::default(),
    )
    .await
}

fn json_of(outcome: &RunOutcome) -> Vec<Value> {
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    output(outcome, "Node")
        .into_iter()
        .map(|mut item| item["json"].take())
        .collect()
}

fn words() -> Value {
    json!([{"data": "n8n"}, {"data": "test"}])
}

#[tokio::test]
async fn runs_once_by_default_or_once_per_item() {
    let echo = "=echo {{ $json.data }}";
    let once = run(json!({"command": echo}), json!({}), words()).await;
    assert_eq!(
        json_of(&once),
        [json!({"exitCode": 0, "stderr": "", "stdout": "n8n"})]
    );
    let each = run(
        json!({"executeOnce": false, "command": echo}),
        json!({}),
        words(),
    )
    .await;
    assert_eq!(
        json_of(&each),
        [
            json!({"exitCode": 0, "stderr": "", "stdout": "n8n"}),
            json!({"exitCode": 0, "stderr": "", "stdout": "test"})
        ]
    );
}

#[tokio::test]
async fn output_and_errors_of_the_shell() {
    let script = "printf '  a\\nb  \\n\\n'; echo warned >&2";
    let outcome = run(json!({"command": script}), json!({}), words()).await;
    assert_eq!(
        json_of(&outcome),
        [json!({"exitCode": 0, "stderr": "warned", "stdout": "a\nb"})]
    );

    let failing = json!({"executeOnce": false, "command": "=echo no {{ $json.data }} >&2; exit 3"});
    let outcome = run(failing.clone(), json!({}), words()).await;
    let error = outcome.error.expect("a non-zero exit fails the node");
    assert_eq!(
        error.message,
        "Command failed with exit code 3: echo no n8n >&2; exit 3"
    );
    assert_eq!(error.description.as_deref(), Some("no n8n"));
    assert_eq!(error.item_index, Some(0));

    let outcome = run(failing, json!({"continueOnFail": true}), words()).await;
    assert_eq!(
        json_of(&outcome),
        [
            json!({"error": "Command failed with exit code 3: echo no n8n >&2; exit 3"}),
            json!({"error": "Command failed with exit code 3: echo no test >&2; exit 3"})
        ]
    );

    let empty = run(json!({"command": " "}), json!({}), words()).await;
    let error = empty.error.expect("an empty command fails");
    assert_eq!(error.message, "no command to execute");
    assert_eq!(error.parameter.as_deref(), Some("command"));
}

/// A run dropped while its command runs (a stopped execution) kills the shell and what it
/// started: the background `sleep`, whose pid the command wrote down, is gone.
#[tokio::test]
async fn a_dropped_run_kills_the_command_and_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("sleep.pid");
    let command = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
    let run = run(json!({"command": command}), json!({}), words());
    let dropped = tokio::time::timeout(std::time::Duration::from_millis(500), run).await;
    assert!(dropped.is_err(), "the command was still running");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let proc_dir = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
    for _ in 0..50 {
        if !proc_dir.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the command's child {} is still running", pid.trim());
}

#[test]
fn left_out_unless_the_deployment_allows_it() {
    let workflow: Workflow = serde_json::from_value(single_node_workflow(
        TYPE,
        1.0,
        json!({"command": "echo hi"}),
        words(),
    ))
    .unwrap();
    let refused =
        CompiledWorkflow::build(workflow.clone(), &registry_with(&NodeFilter::n8n_default()))
            .err()
            .expect("excluded by default");
    assert_eq!(
        refused.to_string(),
        "node 'Node': node type 'n8n-nodes-base.executeCommand' is disabled on this deployment: \
         NODES_EXCLUDE lists it (by default Execute Command is excluded, as in n8n 2.x; \
         NODES_EXCLUDE=[] allows every node)"
    );
    assert!(CompiledWorkflow::build(workflow, &registry_with(&NodeFilter::all())).is_ok());
}
