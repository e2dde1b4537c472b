//! Execution order rules: v1 depth-first with position-sorted siblings, v0 breadth-first, empty
//! outputs, multi-input waiting and partial release, one run per incoming run.

mod support;

use serde_json::json;
use support::{node, output, run, workflow};

fn two_items() -> serde_json::Value {
    json!({"items": [{"route": 0}, {"route": 1}]})
}

#[tokio::test]
async fn v1_runs_a_branch_to_its_end_top_most_child_first() {
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Low", "pass", [200, 300], json!({})),
            node("High", "pass", [200, -100], json!({})),
            node("After High", "pass", [400, -100], json!({})),
        ],
        &[
            ("Start", 0, "Low", 0),
            ("Start", 0, "High", 0),
            ("High", 0, "After High", 0),
        ],
    );
    let outcome = run(wf).await;
    assert_eq!(outcome.node_order, ["Start", "High", "After High", "Low"]);
}

#[tokio::test]
async fn v0_runs_breadth_first_in_connection_order() {
    let wf = workflow(
        None,
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Low", "pass", [200, 300], json!({})),
            node("High", "pass", [200, -100], json!({})),
            node("After High", "pass", [400, -100], json!({})),
        ],
        &[
            ("Start", 0, "Low", 0),
            ("Start", 0, "High", 0),
            ("High", 0, "After High", 0),
        ],
    );
    let outcome = run(wf).await;
    assert_eq!(outcome.node_order, ["Start", "Low", "High", "After High"]);
}

#[tokio::test]
async fn a_node_fed_twice_on_one_input_runs_once_per_incoming_run() {
    // n8n's "should run node twice when it has two input connections" case.
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Set1", "pass", [200, 250], json!({})),
            node("Set2", "pass", [400, 400], json!({})),
        ],
        &[
            ("Start", 0, "Set1", 0),
            ("Start", 0, "Set2", 0),
            ("Set1", 0, "Set2", 0),
        ],
    );
    let outcome = run(wf).await;
    assert_eq!(outcome.node_order, ["Start", "Set1", "Set2", "Set2"]);
    let runs = outcome.run_data.runs("Set2");
    assert_eq!(runs[0].source[0].as_ref().unwrap().previous_node, "Set1");
    assert_eq!(runs[1].source[0].as_ref().unwrap().previous_node, "Start");
}

#[tokio::test]
async fn empty_outputs_schedule_nothing_in_v1() {
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Data", "emit", [100, 0], json!({"items": [{"route": 0}]})),
            node("Route", "route", [200, 0], json!({})),
            node("Zero", "pass", [400, 0], json!({})),
            node("One", "pass", [400, 200], json!({})),
        ],
        &[
            ("Start", 0, "Data", 0),
            ("Data", 0, "Route", 0),
            ("Route", 0, "Zero", 0),
            ("Route", 1, "One", 0),
        ],
    );
    let outcome = run(wf).await;
    assert_eq!(outcome.node_order, ["Start", "Data", "Route", "Zero"]);
}

#[tokio::test]
async fn multi_input_node_waits_for_both_inputs() {
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("A", "emit", [200, 0], json!({"items": [{"a": 1}]})),
            node("B", "emit", [200, 200], json!({"items": [{"b": 1}]})),
            node("Merge", "concat", [400, 100], json!({})),
        ],
        &[
            ("Start", 0, "A", 0),
            ("Start", 0, "B", 0),
            ("A", 0, "Merge", 0),
            ("B", 0, "Merge", 1),
        ],
    );
    let outcome = run(wf).await;
    assert_eq!(outcome.node_order, ["Start", "A", "B", "Merge"]);
    assert_eq!(
        output(&outcome, "Merge", 0, 0),
        vec![json!({"a": 1}), json!({"b": 1})]
    );
}

#[tokio::test]
async fn v1_releases_a_waiting_merge_with_partial_data_when_idle() {
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Data", "emit", [100, 0], json!({"items": [{"route": 0}]})),
            node("Route", "route", [200, 0], json!({})),
            node("Merge", "concat", [400, 100], json!({})),
            node("After", "pass", [600, 100], json!({})),
        ],
        &[
            ("Start", 0, "Data", 0),
            ("Data", 0, "Route", 0),
            ("Route", 0, "Merge", 0),
            ("Route", 1, "Merge", 1),
            ("Merge", 0, "After", 0),
        ],
    );
    let outcome = run(wf).await;
    assert_eq!(
        outcome.node_order,
        ["Start", "Data", "Route", "Merge", "After"]
    );
    assert_eq!(
        output(&outcome, "After", 0, 0),
        vec![json!({"route": 0, "via": "After"})]
    );
}

#[tokio::test]
async fn v0_delivers_empty_data_to_second_inputs() {
    let wf = workflow(
        None,
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Data", "emit", [100, 0], json!({"items": [{"route": 0}]})),
            node("Route", "route", [200, 0], json!({})),
            node("Merge", "concat", [400, 100], json!({})),
        ],
        &[
            ("Start", 0, "Data", 0),
            ("Data", 0, "Route", 0),
            ("Route", 0, "Merge", 0),
            ("Route", 1, "Merge", 1),
        ],
    );
    let outcome = run(wf).await;
    assert_eq!(outcome.node_order, ["Start", "Data", "Route", "Merge"]);
    assert_eq!(output(&outcome, "Merge", 0, 0), vec![json!({"route": 0})]);
}

#[tokio::test]
async fn v0_starts_a_parentless_branch_a_merge_waits_on() {
    let wf = workflow(
        None,
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("A", "emit", [200, 0], json!({"items": [{"a": 1}]})),
            node("Orphan", "emit", [200, 300], json!({"items": [{"o": 1}]})),
            node("Merge", "concat", [400, 100], json!({})),
        ],
        &[
            ("Start", 0, "A", 0),
            ("A", 0, "Merge", 0),
            ("Orphan", 0, "Merge", 1),
        ],
    );
    let outcome = run(wf).await;
    assert_eq!(outcome.node_order, ["Start", "A", "Orphan", "Merge"]);
    assert_eq!(
        output(&outcome, "Merge", 0, 0),
        vec![json!({"a": 1}), json!({"o": 1})]
    );
}

#[tokio::test]
async fn two_items_fan_out_by_route() {
    let wf = workflow(
        Some("v1"),
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Data", "emit", [100, 0], two_items()),
            node("Route", "route", [200, 0], json!({})),
            node("Zero", "pass", [400, 0], json!({})),
            node("One", "pass", [400, -200], json!({})),
        ],
        &[
            ("Start", 0, "Data", 0),
            ("Data", 0, "Route", 0),
            ("Route", 0, "Zero", 0),
            ("Route", 1, "One", 0),
        ],
    );
    let outcome = run(wf).await;
    // "One" sits higher on the canvas, so it runs first although it hangs off output 1.
    assert_eq!(
        outcome.node_order,
        ["Start", "Data", "Route", "One", "Zero"]
    );
}

#[tokio::test]
async fn v0_runs_an_unfed_merge_parent_with_one_empty_item() {
    // Route sends everything to output 1, so "A" gets nothing; the legacy order still runs "A"
    // (with one empty item) so that "Merge" receives both inputs, as n8n's v0 does.
    let wf = workflow(
        None,
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Data", "emit", [100, 0], json!({"items": [{"route": 1}]})),
            node("Route", "route", [200, 0], json!({})),
            node("A", "pass", [400, 0], json!({})),
            node("B", "pass", [400, 200], json!({})),
            node("Merge", "concat", [600, 100], json!({})),
        ],
        &[
            ("Start", 0, "Data", 0),
            ("Data", 0, "Route", 0),
            ("Route", 0, "A", 0),
            ("Route", 1, "B", 0),
            ("A", 0, "Merge", 0),
            ("B", 0, "Merge", 1),
        ],
    );
    let outcome = run(wf).await;
    assert_eq!(
        outcome.node_order,
        ["Start", "Data", "Route", "B", "A", "Merge"]
    );
    assert_eq!(
        output(&outcome, "Merge", 0, 0),
        vec![json!({"via": "A"}), json!({"route": 1, "via": "B"})]
    );
}
