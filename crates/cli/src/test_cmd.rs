//! `sluice test`: workflow files with pinned data as tests, judged like n8n's node test harness.
//!
//! For each file: pinData is removed and becomes the expectation; the workflow runs from its start
//! node on a virtual clock (UTC); each pinned node must have run exactly once with output 0 equal
//! to its pins (pairedItem and binary dropped, key order ignored); `nodeExecutionOrder` and
//! `expectedError`, when given, must match; otherwise the run must succeed. Like n8n's harness it
//! provides the test-only nodes and the fake file `/test/binary.data`.
//!
//! n8n's file-node tests keep their expectations beside the workflow instead: `X.json` with
//! `X.expected.json` (see `fixture`) sets parameters to paths in the fixture's folder and a fresh
//! temporary folder, and may compare binary data too. A JSON file under a folder that is not a
//! workflow (an input file of such a test) is skipped; a workflow with nothing to compare passes
//! when it runs successfully.

use crate::compare::first_difference;
use crate::fixture;
use crate::input::{load_credentials, read_text, workflow_files, BAD_INPUT};
use chrono::{TimeZone, Utc};
use serde_json::Value;
use sluice_engine::{CompiledWorkflow, Credentials, ExecutionOptions, RunStatus, Streaming};
use sluice_model::{Item, Workflow};
use sluice_runtime::{Clock, Files};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub async fn test(paths: &[PathBuf], credentials: Option<&Path>) -> u8 {
    let loaded = workflow_files(paths).and_then(|files| {
        let credentials = credentials
            .map(|path| load_credentials(path).map(|set| Credentials(Arc::new(set))))
            .transpose()?;
        Ok((files, credentials, Streaming::from_env()?))
    });
    let (files, credentials, streaming) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return BAD_INPUT;
        }
    };
    let registry = sluice_nodes::registry();
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in files.iter().filter(|f| !fixture::is_expectation_file(f)) {
        match run_one(file, &registry, credentials.as_ref(), streaming).await {
            Ok(()) => {
                passed += 1;
                println!("PASS {}", file.display());
            }
            Err(Failure::NotAWorkflow) => {}
            Err(Failure::Mismatch(why)) => {
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
    /// Compare binary data too (n8n's `assertBinaryData`); otherwise only `json`.
    compare_binary: bool,
    /// Nodes whose binary `data` and `fileSize` are not compared.
    bytes_not_compared: Vec<String>,
    node_order: Option<Vec<String>>,
    error: Option<String>,
    trigger_items: Option<Vec<Item>>,
}

fn expectations(workflow: &mut Workflow) -> Result<Expectations, String> {
    let pins: Vec<(String, Vec<Item>)> = workflow
        .pin_data
        .take()
        .unwrap_or_default()
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
        compare_binary: false,
        bytes_not_compared: Vec::new(),
        node_order,
        error,
        trigger_items,
    })
}

/// Why a file did not pass.
enum Failure {
    /// A JSON file found in a folder that is not a workflow (an input file): not a test.
    NotAWorkflow,
    Mismatch(String),
}

impl From<String> for Failure {
    fn from(why: String) -> Self {
        Failure::Mismatch(why)
    }
}

async fn run_one(
    file: &Path,
    registry: &sluice_engine::Registry,
    credentials: Option<&Credentials>,
    streaming: Streaming,
) -> Result<(), Failure> {
    let text = read_text(file)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if value.get("nodes").is_none() {
        return Err(Failure::NotAWorkflow);
    }
    let mut workflow = Workflow::from_json_str(&text).map_err(|e| e.to_string())?;
    let fixture = fixture::Fixture::beside(file)?;
    let mut expect = expectations(&mut workflow)?;
    if let Some(fixture) = &fixture {
        fixture.apply(&mut workflow, &mut expect.pins)?;
        expect.compare_binary = fixture.compare_binary;
        expect.bytes_not_compared = fixture.bytes_not_compared.clone();
    }
    // `fixture` (and its temporary folder) lives until the run is judged.
    judge(workflow, expect, registry, credentials, streaming)
        .await
        .map_err(Failure::Mismatch)
}

async fn judge(
    workflow: Workflow,
    expect: Expectations,
    registry: &sluice_engine::Registry,
    credentials: Option<&Credentials>,
    streaming: Streaming,
) -> Result<(), String> {
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
        streaming,
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
        let binary = match expect.compare_binary {
            false => Binary::Dropped,
            true if expect.bytes_not_compared.contains(node) => Binary::WithoutBytes,
            true => Binary::Compared,
        };
        let runs = outcome.run_data.runs(node);
        if runs.is_empty() {
            return Err(format!("node '{node}' did not run"));
        }
        let actual = Value::Array(
            runs.iter()
                .map(|run| {
                    Value::Array(
                        run.output(0)
                            .iter()
                            .map(|item| normalize(item, binary))
                            .collect(),
                    )
                })
                .collect(),
        );
        let expected = Value::Array(vec![Value::Array(
            pinned.iter().map(|item| normalize(item, binary)).collect(),
        )]);
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

/// How much of an item's binary data is compared.
#[derive(Clone, Copy, PartialEq)]
enum Binary {
    Dropped,
    Compared,
    /// Everything but the bytes (`data`) and their size.
    WithoutBytes,
}

/// An item as the harness compares it: `json`, and the binary properties as `binary` says,
/// without the `directory` and `bytes` n8n's harness removes (pairedItem and an empty binary
/// dropped).
fn normalize(item: &Item, binary: Binary) -> Value {
    let mut out = serde_json::json!({ "json": &*item.json });
    let compared = binary != Binary::Dropped;
    if let Some(map) = item.binary.as_deref().filter(|m| compared && !m.is_empty()) {
        let entries = map
            .iter()
            .map(|(name, entry)| {
                let mut entry = entry.clone();
                if let Some(fields) = entry.as_object_mut() {
                    fields.remove("directory");
                    fields.remove("bytes");
                    if binary == Binary::WithoutBytes {
                        fields.remove("data");
                        fields.remove("fileSize");
                    }
                }
                (name.clone(), entry)
            })
            .collect();
        out["binary"] = Value::Object(entries);
    }
    out
}
