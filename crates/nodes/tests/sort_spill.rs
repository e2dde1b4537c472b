//! Sort in a streamed chain (issue 12): a budget small enough to spill several sorted runs to
//! disk still gives, item for item and with the same paired items, what Sort run once on all
//! items gives: ties in input order, several fields, ascending and descending, missing fields;
//! and the chain streams on after it (an item-wise node, Convert to File, bounded run data).

mod common;

use common::{run_with, streamed, OFF};
use serde_json::{json, Value};
use sluice_engine::{ExecutionOptions, RunOutcome, Streaming};
use sluice_model::Workflow;

/// Items with many ties: `g` missing, `null`, text or a small number; `nested.k` and `h` from
/// few values.
fn items(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let mut item =
                json!({"i": i, "h": format!("h{}", (i * 7) % 5), "nested": {"k": (i * 5) % 3}});
            match i % 6 {
                0 => {}
                1 => item["g"] = Value::Null,
                2 => item["g"] = json!(format!("s{}", i % 3)),
                _ => item["g"] = json!((i * 13) % 4),
            }
            item
        })
        .collect()
}

/// Trigger → Input (`items`) → Set `b` → Sort (`g` ascending, `nested.k` descending, `h`
/// ascending) → `after` (a node type, or nothing).
fn workflow(items: &[Value], after: Option<Value>) -> Workflow {
    let mut nodes = vec![
        json!({"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
               "position": [0, 0], "parameters": {}}),
        json!({"name": "Input", "type": "n8n-nodes-testing.testData", "typeVersion": 1,
               "position": [100, 0], "parameters": {"data": items}}),
        json!({"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
               "position": [200, 0], "parameters": {
                   "assignments": {"assignments": [
                       {"id": "b", "name": "b", "value": "={{ $json.i * 2 }}", "type": "number"}]},
                   "includeOtherFields": true, "options": {}}}),
        json!({"name": "Sort", "type": "n8n-nodes-base.sort", "typeVersion": 1,
               "position": [300, 0], "parameters": {"sortFieldsUi": {"sortField": [
                   {"fieldName": "g"},
                   {"fieldName": "nested.k", "order": "descending"},
                   {"fieldName": "h", "order": "ascending"}]}, "options": {}}}),
    ];
    let mut connections = json!({
        "Trigger": {"main": [[{"node": "Input", "type": "main", "index": 0}]]},
        "Input": {"main": [[{"node": "Set", "type": "main", "index": 0}]]},
        "Set": {"main": [[{"node": "Sort", "type": "main", "index": 0}]]}
    });
    if let Some(mut after) = after {
        after["name"] = json!("After");
        after["position"] = json!([400, 0]);
        nodes.push(after);
        connections["Sort"] = json!({"main": [[{"node": "After", "type": "main", "index": 0}]]});
    }
    serde_json::from_value(
        json!({"nodes": nodes, "connections": connections, "settings": {"executionOrder": "v1"}}),
    )
    .expect("workflow JSON")
}

fn no_op() -> Value {
    json!({"type": "n8n-nodes-base.noOp", "typeVersion": 1, "parameters": {}})
}

fn convert_to_csv() -> Value {
    json!({"type": "n8n-nodes-base.convertToFile", "typeVersion": 1.1,
           "parameters": {"operation": "csv", "options": {}}})
}

/// Run `workflow` on the test clock; the run may fail.
async fn outcome(
    workflow: &Workflow,
    streaming: Streaming,
    max_items: Option<usize>,
) -> RunOutcome {
    let options = ExecutionOptions {
        streaming,
        run_data_max_items: max_items,
        ..Default::default()
    };
    run_with(workflow, options).await
}

/// Run `workflow` on the test clock; the run must succeed.
async fn run(workflow: &Workflow, streaming: Streaming, max_items: Option<usize>) -> RunOutcome {
    let outcome = outcome(workflow, streaming, max_items).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    outcome
}

/// Per node run: its outputs (json, binary, pairedItem), items in and out, source.
fn summary(outcome: &RunOutcome) -> Vec<(String, Value)> {
    outcome
        .run_data
        .nodes
        .iter()
        .flat_map(|(name, runs)| {
            runs.iter().map(move |run| {
                let value = json!({"data": run.data, "in": run.profile.items_in,
                                   "out": run.profile.items_out, "source": run.source});
                (name.clone(), value)
            })
        })
        .collect()
}

/// Streamed in chunks of 25, spilling past a few kilobytes.
fn spilling() -> Streaming {
    Streaming {
        sort_memory_bytes: 20_000,
        ..streamed(25)
    }
}

fn spilled_runs(outcome: &RunOutcome) -> u64 {
    let sort = &outcome.run_data.runs("Sort")[0];
    sort.profile
        .counters
        .get("spilledRuns")
        .copied()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_sort_spilling_sorted_runs_equals_the_sort_of_all_items() {
    let items = items(700);
    for after in [None, Some(no_op()), Some(convert_to_csv())] {
        let workflow = workflow(&items, after.clone());
        let whole = run(&workflow, OFF, None).await;
        let spilled = run(&workflow, spilling(), None).await;
        let runs = spilled_runs(&spilled);
        assert!(runs >= 3, "{after:?}: {runs} runs spilled");
        assert_eq!(whole.node_order, spilled.node_order, "{after:?}");
        assert_eq!(summary(&whole), summary(&spilled), "{after:?}");
        // Held in memory (the default budget), it streams the same.
        let held = run(&workflow, streamed(25), None).await;
        assert_eq!(spilled_runs(&held), 0);
        assert_eq!(summary(&whole), summary(&held), "{after:?}");
    }
    // The order itself: first `g` = 0, `nested.k` = 2, `h` = "h0" (`i` = 40 mod 60), ties in
    // their input order.
    let whole = run(&workflow(&items, None), OFF, None).await;
    let sorted = whole.run_data.runs("Sort")[0].output(0);
    let first: Vec<&Value> = sorted.iter().take(4).map(|item| &item.json["i"]).collect();
    assert_eq!(first, [&json!(40), &json!(100), &json!(160), &json!(220)]);
}

#[tokio::test]
async fn the_chain_after_a_spilling_sort_streams_with_bounded_run_data() {
    let items = items(500);
    let workflow = workflow(&items, Some(no_op()));
    let whole = run(&workflow, OFF, None).await;
    let spilled = run(&workflow, spilling(), Some(10)).await;
    assert!(spilled_runs(&spilled) >= 3);
    for node in ["Sort", "After"] {
        let (all, kept) = (
            &whole.run_data.runs(node)[0],
            &spilled.run_data.runs(node)[0],
        );
        assert_eq!(kept.profile.items_out, 500, "{node}");
        assert!(kept.profile.sampled, "{node}");
        assert_eq!(kept.output(0), &all.output(0)[..10], "{node}");
        assert!(kept.profile.chunks > 1, "{node}");
    }
}

/// A node after a spilling Sort failing on one item names the same item index (counted over the
/// sorted items) as in a run on all items.
#[tokio::test]
async fn a_failure_after_a_spilling_sort_names_the_same_item() {
    let code = json!({"type": "n8n-nodes-base.code", "typeVersion": 2, "parameters": {
        "mode": "runOnceForEachItem",
        "jsCode": "if ($json.i === 333) { throw new Error('item 333'); }\nreturn $json;"}});
    let workflow = workflow(&items(500), Some(code));
    let whole = outcome(&workflow, OFF, None).await;
    let spilled = outcome(&workflow, spilling(), None).await;
    assert!(spilled_runs(&spilled) >= 3);
    let (expected, error) = (whole.error.expect("fails"), spilled.error.expect("fails"));
    assert_eq!(expected.node.as_deref(), Some("After"));
    assert!(expected.item_index.is_some_and(|i| i > 0));
    // (The Code node's message names the item within its chunk, `[line 1, for item N]`, in any
    // streamed chain: the engine corrects `item_index` only.)
    assert_eq!(
        (&expected.node, expected.item_index),
        (&error.node, error.item_index)
    );
}
