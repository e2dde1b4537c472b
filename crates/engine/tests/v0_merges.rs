//! Legacy (v0) order around multi-input nodes: branches of unequal length into a Merge, in both
//! input orders and both connection orders, nested merges, and the forced run of a branch no
//! data reaches. Every node runs as often as in n8n: once here.

mod support;

use serde_json::json;
use support::*;

fn pass(name: &str, y: i32) -> serde_json::Value {
    node(name, "pass", [200, y], json!({}))
}

/// The node names in run order, after checking that none ran twice.
async fn order(wf: sluice_model::Workflow) -> Vec<String> {
    let outcome = run(wf).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let mut seen = std::collections::HashSet::new();
    for name in &outcome.node_order {
        assert!(
            seen.insert(name),
            "'{name}' ran twice: {:?}",
            outcome.node_order
        );
    }
    outcome.node_order
}

/// Start -> Short -> Merge and Start -> Long 1 -> Long 2 -> Long 3 -> Merge, Merge -> End;
/// `short_input` is the Merge input Short feeds, `short_first` whether Start connects to Short
/// before Long 1.
fn short_and_long(short_input: usize, short_first: bool) -> sluice_model::Workflow {
    let mut edges = vec![
        ("Short", 0, "Merge", short_input),
        ("Long 1", 0, "Long 2", 0),
        ("Long 2", 0, "Long 3", 0),
        ("Long 3", 0, "Merge", 1 - short_input),
        ("Merge", 0, "End", 0),
    ];
    let starts = [("Start", 0, "Short", 0), ("Start", 0, "Long 1", 0)];
    if short_first {
        edges.splice(0..0, starts);
    } else {
        edges.splice(0..0, starts.into_iter().rev());
    }
    workflow(
        None,
        vec![
            node("Start", "start", [0, 0], json!({})),
            pass("Short", 0),
            pass("Long 1", 200),
            pass("Long 2", 200),
            pass("Long 3", 200),
            node("Merge", "concat", [800, 100], json!({})),
            pass("End", 100),
        ],
        &edges,
    )
}

#[tokio::test]
async fn a_short_and_a_long_branch_into_a_merge_run_each_node_once() {
    // n8n 2.8.4's order for this workflow (Short on input 0, connected first).
    let expected = [
        "Start", "Short", "Long 1", "Long 2", "Long 3", "Merge", "End",
    ];
    assert_eq!(order(short_and_long(0, true)).await, expected);
    assert_eq!(order(short_and_long(1, true)).await, expected);
}

#[tokio::test]
async fn the_long_branch_connected_first_still_runs_each_node_once() {
    let expected = [
        "Start", "Long 1", "Short", "Long 2", "Long 3", "Merge", "End",
    ];
    assert_eq!(order(short_and_long(0, false)).await, expected);
    assert_eq!(order(short_and_long(1, false)).await, expected);
}

#[tokio::test]
async fn the_merge_gets_each_branch_on_its_own_input() {
    for short_input in [0, 1] {
        let outcome = run(short_and_long(short_input, true)).await;
        let merged = output(&outcome, "Merge", 0, 0);
        let (short, long) = (json!({"via": "Short"}), json!({"via": "Long 3"}));
        let expected = if short_input == 0 {
            vec![short, long]
        } else {
            vec![long, short]
        };
        assert_eq!(merged, expected, "Short on input {short_input}");
    }
}

#[tokio::test]
async fn a_merge_waiting_upstream_is_not_forced_by_the_merge_below_it() {
    // A and B 1 -> B 2 meet in Inner; Inner and C meet in Outer.
    let wf = workflow(
        None,
        vec![
            node("Start", "start", [0, 0], json!({})),
            pass("A", 0),
            pass("B 1", 100),
            pass("B 2", 100),
            pass("C", 200),
            node("Inner", "concat", [600, 50], json!({})),
            node("Outer", "concat", [800, 100], json!({})),
            pass("End", 100),
        ],
        &[
            ("Start", 0, "A", 0),
            ("Start", 0, "B 1", 0),
            ("Start", 0, "C", 0),
            ("A", 0, "Inner", 0),
            ("B 1", 0, "B 2", 0),
            ("B 2", 0, "Inner", 1),
            ("Inner", 0, "Outer", 0),
            ("C", 0, "Outer", 1),
            ("Outer", 0, "End", 0),
        ],
    );
    assert_eq!(
        order(wf).await,
        ["Start", "A", "B 1", "C", "B 2", "Inner", "Outer", "End"]
    );
}

#[tokio::test]
async fn a_nested_merge_with_a_long_branch_on_the_outer_merge_runs_each_node_once() {
    // A and B meet in Inner, which feeds Outer's input 1; C 1 -> C 2 -> C 3 feeds input 0.
    let wf = workflow(
        None,
        vec![
            node("Start", "start", [0, 0], json!({})),
            pass("A", 0),
            pass("B", 100),
            pass("C 1", 200),
            pass("C 2", 200),
            pass("C 3", 200),
            node("Inner", "concat", [600, 50], json!({})),
            node("Outer", "concat", [800, 100], json!({})),
            pass("End", 100),
        ],
        &[
            ("Start", 0, "A", 0),
            ("Start", 0, "B", 0),
            ("Start", 0, "C 1", 0),
            ("A", 0, "Inner", 0),
            ("B", 0, "Inner", 1),
            ("C 1", 0, "C 2", 0),
            ("C 2", 0, "C 3", 0),
            ("C 3", 0, "Outer", 0),
            ("Inner", 0, "Outer", 1),
            ("Outer", 0, "End", 0),
        ],
    );
    let outcome = run(wf.clone()).await;
    assert_eq!(
        output(&outcome, "Outer", 0, 0),
        vec![
            json!({"via": "C 3"}),
            json!({"via": "A"}),
            json!({"via": "B"})
        ]
    );
    assert_eq!(
        order(wf).await,
        ["Start", "A", "B", "C 1", "Inner", "C 2", "C 3", "Outer", "End"]
    );
}

#[tokio::test]
async fn an_unfed_branch_is_forced_from_its_top_most_node() {
    // Route sends everything to output 1: nothing reaches A 1 -> A 2, so v0 runs A 1 with one
    // empty item, and A 2 after it, for Merge's input 0.
    let wf = workflow(
        None,
        vec![
            node("Start", "start", [0, 0], json!({})),
            node("Data", "emit", [100, 0], json!({"items": [{"route": 1}]})),
            node("Route", "route", [200, 0], json!({})),
            pass("A 1", 0),
            pass("A 2", 0),
            pass("B", 200),
            node("Merge", "concat", [600, 100], json!({})),
        ],
        &[
            ("Start", 0, "Data", 0),
            ("Data", 0, "Route", 0),
            ("Route", 0, "A 1", 0),
            ("Route", 1, "B", 0),
            ("A 1", 0, "A 2", 0),
            ("A 2", 0, "Merge", 0),
            ("B", 0, "Merge", 1),
        ],
    );
    let outcome = run(wf.clone()).await;
    assert_eq!(
        output(&outcome, "Merge", 0, 0),
        vec![json!({"via": "A 2"}), json!({"route": 1, "via": "B"})]
    );
    assert_eq!(
        order(wf).await,
        ["Start", "Data", "Route", "B", "A 1", "A 2", "Merge"]
    );
}
