//! Per-node engine rules: onError routing, retries, alwaysOutputData, executeOnce, pinData,
//! disabled nodes, paired items and the endless-loop guard.

mod support;

use serde_json::{json, Value};
use sluice_engine::{ExecutionOptions, RunStatus, StreamMode, Streaming};
use support::{node, output, run, run_with, workflow};

fn with(mut node: Value, fields: Value) -> Value {
    for (k, v) in fields.as_object().unwrap() {
        node[k] = v.clone();
    }
    node
}

fn failing_flow(on_error: Option<&str>) -> sluice_model::Workflow {
    let mut fail = node("Fail", "failItems", [200, 0], json!({}));
    if let Some(policy) = on_error {
        fail = with(fail, json!({"onError": policy}));
    }
    workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node(
                "Data",
                "emit",
                [100, 0],
                json!({"items": [{"n": 0}, {"n": 1, "fail": true}, {"n": 2}]}),
            ),
            fail,
            node("Ok", "pass", [400, 0], json!({})),
            node("Errors", "pass", [400, 200], json!({})),
        ],
        &[
            ("Start", 0, "Data", 0),
            ("Data", 0, "Fail", 0),
            ("Fail", 0, "Ok", 0),
            ("Fail", 1, "Errors", 0),
        ],
    )
}

#[tokio::test]
async fn stop_workflow_fails_the_run_naming_node_and_item() {
    let outcome = run(failing_flow(None)).await;
    assert_eq!(outcome.status, RunStatus::Error);
    let error = outcome.error.unwrap();
    assert_eq!(error.node.as_deref(), Some("Fail"));
    assert_eq!(error.item_index, Some(1));
    assert_eq!(error.to_string(), "node 'Fail': item 1 failed on purpose");
    let task = &outcome.run_data.runs("Fail")[0];
    assert!(!task.success);
    assert_eq!(
        task.error.as_ref().unwrap().message,
        "item 1 failed on purpose"
    );
    assert!(outcome.run_data.runs("Ok").is_empty());
}

#[tokio::test]
async fn continue_regular_output_keeps_an_error_item_in_place() {
    let outcome = run(failing_flow(Some("continueRegularOutput"))).await;
    assert_eq!(outcome.status, RunStatus::Success);
    assert_eq!(
        output(&outcome, "Fail", 0, 0),
        vec![
            json!({"n": 0}),
            json!({"error": "item 1 failed on purpose"}),
            json!({"n": 2})
        ]
    );
}

#[tokio::test]
async fn continue_error_output_moves_failed_items_with_their_input_fields() {
    let outcome = run(failing_flow(Some("continueErrorOutput"))).await;
    assert_eq!(
        output(&outcome, "Fail", 0, 0),
        vec![json!({"n": 0}), json!({"n": 2})]
    );
    assert_eq!(
        output(&outcome, "Fail", 0, 1),
        vec![json!({"n": 1, "fail": true, "error": "item 1 failed on purpose"})]
    );
    assert_eq!(output(&outcome, "Errors", 0, 0).len(), 1);
}

#[tokio::test]
async fn legacy_continue_on_fail_means_continue_regular_output() {
    let mut wf = failing_flow(None);
    wf.nodes
        .iter_mut()
        .find(|n| n.name == "Fail")
        .unwrap()
        .continue_on_fail = true;
    let outcome = run(wf).await;
    assert_eq!(outcome.status, RunStatus::Success);
    assert_eq!(output(&outcome, "Fail", 0, 0).len(), 3);
}

fn flaky_flow(failures: u64, retry: Value) -> sluice_model::Workflow {
    workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            with(
                node("Flaky", "flaky", [200, 0], json!({"failures": failures})),
                retry,
            ),
        ],
        &[("Start", 0, "Flaky", 0)],
    )
}

#[tokio::test]
async fn retry_on_fail_reruns_the_node_and_waits_between_tries() {
    let wf = flaky_flow(
        2,
        json!({"retryOnFail": true, "maxTries": 3, "waitBetweenTries": 2000}),
    );
    let outcome = run(wf).await;
    assert_eq!(outcome.status, RunStatus::Success);
    let task = &outcome.run_data.runs("Flaky")[0];
    assert_eq!(task.profile.retries, 2);
    // Two waits of 2 s on the virtual clock.
    assert!(task.execution_time >= 4000, "{}", task.execution_time);
}

#[tokio::test]
async fn retries_are_clamped_and_the_last_error_stops_the_run() {
    // maxTries 1 is clamped to 2: one retry, still failing.
    let wf = flaky_flow(
        5,
        json!({"retryOnFail": true, "maxTries": 1, "waitBetweenTries": 0}),
    );
    let outcome = run(wf).await;
    assert_eq!(outcome.status, RunStatus::Error);
    assert_eq!(outcome.error.unwrap().message, "flaky failure 2");
}

#[tokio::test]
async fn whole_node_failure_with_continue_passes_input_through() {
    let wf = flaky_flow(5, json!({"onError": "continueRegularOutput"}));
    let outcome = run(wf).await;
    assert_eq!(outcome.status, RunStatus::Success);
    assert_eq!(output(&outcome, "Flaky", 0, 0), vec![json!({})]);
}

#[tokio::test]
async fn always_output_data_emits_one_empty_item_paired_to_all_inputs() {
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node(
                "Data",
                "emit",
                [100, 0],
                json!({"items": [{"route": 1}, {"route": 1}]}),
            ),
            with(
                node("Route", "route", [200, 0], json!({})),
                json!({"alwaysOutputData": true}),
            ),
            node("Next", "pass", [400, 0], json!({})),
        ],
        &[
            ("Start", 0, "Data", 0),
            ("Data", 0, "Route", 0),
            ("Route", 0, "Next", 0),
        ],
    );
    let outcome = run(wf).await;
    assert_eq!(output(&outcome, "Route", 0, 0), vec![json!({})]);
    let item = &outcome.run_data.runs("Route")[0].output(0)[0];
    assert_eq!(item.paired_item.len(), 2);
    assert_eq!(outcome.node_order.last().unwrap(), "Next");
}

#[tokio::test]
async fn execute_once_uses_only_the_first_item() {
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node(
                "Data",
                "emit",
                [100, 0],
                json!({"items": [{"n": 1}, {"n": 2}]}),
            ),
            with(
                node("Once", "pass", [200, 0], json!({})),
                json!({"executeOnce": true}),
            ),
        ],
        &[("Start", 0, "Data", 0), ("Data", 0, "Once", 0)],
    );
    let outcome = run(wf).await;
    assert_eq!(
        output(&outcome, "Once", 0, 0),
        vec![json!({"n": 1, "via": "Once"})]
    );
}

#[tokio::test]
async fn disabled_nodes_pass_input_through_and_pinned_nodes_do_not_run() {
    let mut wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Data", "emit", [100, 0], json!({"items": [{"n": 1}]})),
            with(
                node("Off", "pass", [200, 0], json!({})),
                json!({"disabled": true}),
            ),
            node("Pinned", "failItems", [300, 0], json!({})),
        ],
        &[
            ("Start", 0, "Data", 0),
            ("Data", 0, "Off", 0),
            ("Off", 0, "Pinned", 0),
        ],
    );
    wf.pin_data = serde_json::from_value(json!({"Pinned": [{"json": {"pinned": true}}]})).unwrap();
    let outcome = run(wf.clone()).await;
    assert_eq!(output(&outcome, "Off", 0, 0), vec![json!({"n": 1})]);
    assert_eq!(
        output(&outcome, "Pinned", 0, 0),
        vec![json!({"pinned": true})]
    );
    assert_eq!(outcome.last_output().len(), 1);

    let unpinned = run_with(
        wf,
        ExecutionOptions {
            use_pin_data: false,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(output(&unpinned, "Pinned", 0, 0), vec![json!({"n": 1})]);
}

#[tokio::test]
async fn paired_items_follow_items_through_pass_through_nodes() {
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node(
                "Data",
                "emit",
                [100, 0],
                json!({"items": [{"route": 1}, {"route": 0}]}),
            ),
            node("Route", "route", [200, 0], json!({})),
            node("Zero", "pass", [400, 0], json!({})),
        ],
        &[
            ("Start", 0, "Data", 0),
            ("Data", 0, "Route", 0),
            ("Route", 0, "Zero", 0),
        ],
    );
    let outcome = run(wf).await;
    let routed = &outcome.run_data.runs("Route")[0].output(0)[0];
    assert_eq!(
        routed.paired_item.first().unwrap().item,
        1,
        "item 1 of Data went to output 0"
    );
}

#[tokio::test]
async fn a_node_that_passes_its_input_through_gets_its_items_moved_not_run() {
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node(
                "Data",
                "emit",
                [100, 0],
                json!({"items": [{"n": 1}, {"n": 2}, {"n": 3}]}),
            ),
            node("Through", "through", [200, 0], json!({})),
            with(
                node("Once", "through", [300, 0], json!({})),
                json!({"executeOnce": true}),
            ),
        ],
        &[
            ("Start", 0, "Data", 0),
            ("Data", 0, "Through", 0),
            ("Through", 0, "Once", 0),
        ],
    );
    for mode in [StreamMode::Off, StreamMode::On] {
        let streaming = Streaming {
            mode,
            chunk_items: 2,
            ..Streaming::default()
        };
        let options = ExecutionOptions {
            streaming,
            ..Default::default()
        };
        let outcome = run_with(wf.clone(), options).await;
        assert_eq!(
            output(&outcome, "Through", 0, 0),
            vec![json!({"n": 1}), json!({"n": 2}), json!({"n": 3})],
            "moved as they were, without running the node ({mode:?})"
        );
        let paired: Vec<_> = outcome.run_data.runs("Through")[0]
            .output(0)
            .iter()
            .map(|item| item.paired_item.first().unwrap().item)
            .collect();
        assert_eq!(paired, [0, 1, 2], "{mode:?}");
        assert_eq!(output(&outcome, "Once", 0, 0), vec![json!({"n": 1})]);
    }
}

#[tokio::test]
async fn the_endless_loop_guard_stops_a_cycle() {
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("A", "pass", [200, 0], json!({})),
            node("B", "pass", [400, 0], json!({})),
        ],
        &[("Start", 0, "A", 0), ("A", 0, "B", 0), ("B", 0, "A", 0)],
    );
    let outcome = run_with(
        wf,
        ExecutionOptions {
            max_node_runs: 50,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(outcome.status, RunStatus::Error);
    assert!(outcome.error.unwrap().message.contains("endless loop"));
}

#[tokio::test]
async fn run_data_has_n8n_shape_and_profile() {
    let outcome = run(failing_flow(Some("continueErrorOutput"))).await;
    let doc = outcome.to_n8n_json();
    assert_eq!(doc["status"], "success");
    let fail = &doc["resultData"]["runData"]["Fail"][0];
    assert_eq!(fail["executionStatus"], "success");
    assert_eq!(fail["source"][0]["previousNode"], "Data");
    assert_eq!(fail["data"]["main"][1][0]["json"]["n"], 1);
    assert_eq!(fail["profile"]["itemsIn"], 3);
    assert_eq!(fail["profile"]["itemsOut"], 3);
    assert_eq!(doc["resultData"]["lastNodeExecuted"], "Errors");
}
