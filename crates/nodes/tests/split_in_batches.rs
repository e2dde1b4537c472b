//! Loop Over Items / Split In Batches: batches per run, the done output, v1/v2 output layouts and
//! paired items that lead back across loop iterations.

mod common;

use common::{output, run_workflow};
use serde_json::{json, Value};

/// Trigger → Input (5 items) → Loop; the loop output feeds Body, which wires back into Loop.
fn loop_workflow(version: f64, loop_output: usize) -> Value {
    let done_output = 1 - loop_output;
    let mut outputs = vec![Value::Null, Value::Null];
    outputs[loop_output] = json!([{"node": "Body", "type": "main", "index": 0}]);
    outputs[done_output] = json!([{"node": "Done", "type": "main", "index": 0}]);
    if version == 1.0 {
        outputs.truncate(1);
    }
    json!({
        "nodes": [
            {"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
            {"name": "Input", "type": "n8n-nodes-testing.testData", "typeVersion": 1, "position": [200, 0],
             "parameters": {"data": [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]}},
            {"name": "Loop", "type": "n8n-nodes-base.splitInBatches", "typeVersion": version, "position": [400, 0],
             "parameters": {"batchSize": 2, "options": {}}},
            {"name": "Body", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [600, 100], "parameters": {}},
            {"name": "Done", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [600, -100], "parameters": {}}
        ],
        "connections": {
            "Trigger": {"main": [[{"node": "Input", "type": "main", "index": 0}]]},
            "Input": {"main": [[{"node": "Loop", "type": "main", "index": 0}]]},
            "Loop": {"main": outputs},
            "Body": {"main": [[{"node": "Loop", "type": "main", "index": 0}]]}
        },
        "settings": {"executionOrder": "v1"}
    })
}

fn batch_sizes(outcome: &sluice_engine::RunOutcome) -> Vec<usize> {
    outcome
        .run_data
        .runs("Body")
        .iter()
        .map(|r| r.output(0).len())
        .collect()
}

#[tokio::test]
async fn v3_loops_in_batches_then_emits_done() {
    let outcome = run_workflow(loop_workflow(3.0, 1)).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(batch_sizes(&outcome), vec![2, 2, 1]);
    assert_eq!(outcome.run_data.runs("Loop").len(), 4);
    let done: Vec<Value> = output(&outcome, "Done")
        .into_iter()
        .map(|i| i["json"]["n"].clone())
        .collect();
    assert_eq!(done, vec![json!(0), json!(1), json!(2), json!(3), json!(4)]);
}

#[tokio::test]
async fn later_batches_pair_back_to_the_node_that_fed_the_loop() {
    let outcome = run_workflow(loop_workflow(3.0, 1)).await;
    let second = &outcome.run_data.runs("Loop")[1];
    let paired: Vec<(usize, String)> = second
        .output(1)
        .iter()
        .map(|item| {
            let p = item.paired_item.first().expect("paired");
            (
                p.item,
                p.source_overwrite
                    .as_ref()
                    .expect("sourceOverwrite")
                    .previous_node
                    .clone(),
            )
        })
        .collect();
    assert_eq!(
        paired,
        vec![(2, "Input".to_string()), (3, "Input".to_string())]
    );
}

#[tokio::test]
async fn v2_has_loop_first_then_done() {
    let outcome = run_workflow(loop_workflow(2.0, 0)).await;
    assert_eq!(batch_sizes(&outcome), vec![2, 2, 1]);
    assert_eq!(output(&outcome, "Done").len(), 5);
}

#[tokio::test]
async fn v1_has_one_output_and_stops_when_empty() {
    let outcome = run_workflow(loop_workflow(1.0, 0)).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(batch_sizes(&outcome), vec![2, 2, 1]);
    let last = outcome
        .run_data
        .runs("Loop")
        .last()
        .unwrap()
        .output(0)
        .len();
    assert_eq!(last, 0);
    assert!(outcome.run_data.runs("Done").is_empty());
}
