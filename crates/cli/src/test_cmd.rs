//! `sluice test`: workflow files with pinned data as tests, judged like n8n's node test harness.
//!
//! For each file: pinData is removed and becomes the expectation; the workflow runs from its start
//! node on a virtual clock (UTC); each pinned node must have run exactly once with output 0 equal
//! to its pins (pairedItem and binary dropped, key order ignored); `nodeExecutionOrder` and
//! `expectedError`, when given, must match; otherwise the run must succeed. Like n8n's harness it
//! provides the test-only nodes and the fake file `/test/binary.data`.

use crate::compare::first_difference;
use crate::input::{load_credentials, read_text, workflow_files, BAD_INPUT};
use chrono::{TimeZone, Utc};
use serde_json::Value;
use sluice_engine::{CompiledWorkflow, Credentials, ExecutionOptions, RunStatus};
use sluice_model::{Item, Workflow};
use sluice_runtime::{Clock, Files};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub async fn test(paths: &[PathBuf], credentials: Option<&Path>) -> u8 {
    let loaded = workflow_files(paths).and_then(|files| {
        let credentials = credentials
            .map(|path| load_credentials(path).map(|set| Credentials(Arc::new(set))))
            .transpose()?;
        Ok((files, credentials))
    });
    let (files, credentials) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return BAD_INPUT;
        }
    };
    let registry = sluice_nodes::registry();
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in &files {
        match run_one(file, &registry, credentials.as_ref()).await {
            Ok(()) => {
                passed += 1;
                println!("PASS {}", file.display());
            }
            Err(why) => {
                failed += 1;
                println!("FAIL {}: {why}", file.display());
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    u8::from(failed > 0)
}

/// The expectations a test file carries besides its pins.
struct Expectations {
    pins: Vec<(String, Vec<Item>)>,
    node_order: Option<Vec<String>>,
    error: Option<String>,
    trigger_items: Option<Vec<Item>>,
}

fn expectations(workflow: &mut Workflow) -> Result<Expectations, String> {
    let pins: Vec<(String, Vec<Item>)> = workflow
        .pin_data
        .take()
        .ok_or("no pinData: nothing to compare")?
        .into_iter()
        .collect();
    let extra = &workflow.extra;
    let output = extra.get("output");
    let field = |name: &str| extra.get(name).or_else(|| output.and_then(|o| o.get(name)));
    let node_order = field("nodeExecutionOrder")
        .map(|v| serde_json::from_value(v.clone()))
        .transpose()
        .map_err(|e| format!("nodeExecutionOrder: {e}"))?;
    let error = field("expectedError")
        .or_else(|| output.and_then(|o| o.get("error")))
        .and_then(Value::as_str)
        .map(str::to_string);
    let trigger_items = extra
        .get("trigger")
        .and_then(|t| t.get("input"))
        .map(|input| sluice_model::items_from_value(input.clone()))
        .transpose()?;
    Ok(Expectations {
        pins,
        node_order,
        error,
        trigger_items,
    })
}

async fn run_one(
    file: &Path,
    registry: &sluice_engine::Registry,
    credentials: Option<&Credentials>,
) -> Result<(), String> {
    let text = read_text(file)?;
    let mut workflow = Workflow::from_json_str(&text).map_err(|e| e.to_string())?;
    let expect = expectations(&mut workflow)?;
    let compiled = CompiledWorkflow::build(workflow, registry).map_err(|e| e.to_string())?;
    compiled
        .check_credentials(credentials)
        .await
        .map_err(|e| e.to_string())?;
    let options = ExecutionOptions {
        clock: Clock::virtual_at(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()),
        use_pin_data: false,
        trigger_items: expect.trigger_items,
        files: harness_files(),
        credentials: credentials.cloned(),
        ..ExecutionOptions::default()
    };
    let outcome = compiled.run(options).await.map_err(|e| e.to_string())?;
    match (&expect.error, &outcome.error) {
        (Some(want), Some(got))
            if got.message == *want || got.description.as_deref() == Some(want) => {}
        (Some(want), Some(got)) => {
            return Err(format!("expected error {want:?}, got {:?}", got.message))
        }
        (Some(want), None) => {
            return Err(format!("expected error {want:?}, but the run succeeded"))
        }
        (None, Some(got)) => return Err(format!("run failed: {got}")),
        (None, None) => {}
    }
    if expect.error.is_none() && outcome.status != RunStatus::Success {
        return Err(format!("status {}", outcome.status.as_str()));
    }
    if let Some(order) = &expect.node_order {
        if *order != outcome.node_order {
            return Err(format!(
                "node execution order: expected {order:?}, got {:?}",
                outcome.node_order
            ));
        }
    }
    for (node, pinned) in &expect.pins {
        let runs = outcome.run_data.runs(node);
        if runs.is_empty() {
            return Err(format!("node '{node}' did not run"));
        }
        let actual = Value::Array(
            runs.iter()
                .map(|run| Value::Array(run.output(0).iter().map(normalize).collect()))
                .collect(),
        );
        let expected = Value::Array(vec![Value::Array(pinned.iter().map(normalize).collect())]);
        if let Some(diff) = first_difference(&expected, &actual, &format!("$['{node}']")) {
            return Err(diff);
        }
    }
    Ok(())
}

/// The file n8n's harness fakes for its Crypto fixture: `/test/binary.data` holding `test`.
fn harness_files() -> Files {
    Files::with_virtual([(PathBuf::from("/test/binary.data"), b"test".to_vec())])
}

/// An item as the harness compares it: `json` only (pairedItem and binary dropped).
fn normalize(item: &Item) -> Value {
    serde_json::json!({ "json": &*item.json })
}
