//! Odd workflow files run the way n8n 2.8.4 runs them (its behaviour as observed, case by case):
//! connection keys that are no node's name, missing targets, other connection types, inputs a
//! node lacks, duplicated connections, nodes without optional fields, disabled triggers and
//! unknown execution orders. Each oddity is also reported as a warning.

mod support;

use serde_json::{json, Value};
use sluice_engine::{CompiledWorkflow, EngineError, ExecutionOptions, RunStatus};
use sluice_model::{LoadWarning, Loaded, NodeField, Workflow};
use support::{node, output, registry, run, run_with};

fn load(wf: Value) -> Loaded {
    Workflow::load_value(wf).expect("loads")
}

fn build(workflow: Workflow) -> CompiledWorkflow {
    CompiledWorkflow::build(workflow, &registry()).expect("builds")
}

fn conn(to: &str, input: usize) -> Value {
    json!({"node": to, "type": "main", "index": input})
}

fn three_nodes() -> Vec<Value> {
    vec![
        node("Start", "start", [0, 0], json!({})),
        node("A", "pass", [200, 0], json!({})),
        node("B", "pass", [400, 0], json!({})),
    ]
}

#[tokio::test]
async fn connections_keyed_by_node_id_are_ignored_with_a_warning() {
    let mut nodes = three_nodes();
    nodes[1]["id"] = json!("id-of-a");
    let wf = json!({"nodes": nodes, "connections": {
        "Start": {"main": [[conn("A", 0)]]},
        // The export shape of a bulk editing tool: keyed by id, to a node that does not exist.
        "id-of-a": {"main": [[conn("error-handler-id-of-a-1f2e", 0)]]},
        // A key naming no node that points at a real one: that node does not run.
        "Ghost": {"main": [[conn("B", 0)]]},
    }});
    let loaded = load(wf);
    assert!(loaded.warnings.contains(&LoadWarning::UnknownSource {
        key: "id-of-a".into(),
        id_of: Some("A".into())
    }));
    assert!(loaded.warnings.contains(&LoadWarning::UnknownSource {
        key: "Ghost".into(),
        id_of: None
    }));
    let outcome = run(loaded.workflow).await;
    assert_eq!(outcome.status, RunStatus::Success);
    assert_eq!(outcome.node_order, ["Start", "A"]);
}

#[tokio::test]
async fn a_missing_target_fails_the_run_right_after_its_source_ran() {
    let mut nodes = three_nodes();
    nodes.push(node("Route", "route", [200, 200], json!({"outputs": 2})));
    nodes.push(node("After", "pass", [400, 200], json!({})));
    let wf = json!({"settings": {"executionOrder": "v1"}, "nodes": nodes, "connections": {
        "Start": {"main": [[conn("A", 0)]]},
        // A real child listed before the missing one does not run either.
        "A": {"main": [[conn("B", 0), conn("Nowhere", 0)]]},
    }});
    let loaded = load(wf);
    assert!(loaded.warnings.contains(&LoadWarning::MissingTarget {
        source: "A".into(),
        output: 0,
        target: "Nowhere".into()
    }));
    let outcome = run(loaded.workflow).await;
    assert_eq!(outcome.status, RunStatus::Error);
    assert_eq!(outcome.node_order, ["Start", "A"]);
    let error = outcome.error.clone().expect("error");
    assert_eq!(error.node.as_deref(), Some("A"));
    assert!(
        error.message.starts_with("Destination node not found"),
        "{error}"
    );
    assert!(error.message.contains("'Nowhere'"), "{error}");
    // A's own run succeeded and is in the run data.
    assert_eq!(output(&outcome, "A", 0, 0), [json!({"via": "A"})]);

    // Also on an output that got no items (Route's output 1), and from the last node of a chain.
    let wf = json!({"settings": {"executionOrder": "v1"}, "nodes": [
        node("Start", "start", [0, 0], json!({})),
        node("Route", "route", [200, 0], json!({"outputs": 2})),
        node("After", "pass", [400, 0], json!({})),
    ], "connections": {
        "Start": {"main": [[conn("Route", 0)]]},
        "Route": {"main": [[conn("After", 0)], [conn("Nowhere", 0)]]},
    }});
    let outcome = run(load(wf).workflow).await;
    assert_eq!(outcome.node_order, ["Start", "Route"]);
    assert!(outcome.error.unwrap().message.contains("output 1"));
    let wf = json!({"nodes": [node("Start", "start", [0, 0], json!({}))], "connections": {
        "Start": {"main": [[conn("Nowhere", 0)]]},
    }});
    let outcome = run(load(wf).workflow).await;
    assert_eq!(outcome.status, RunStatus::Error);
    assert_eq!(outcome.node_order, ["Start"]);
}

#[tokio::test]
async fn connections_of_other_types_are_not_followed() {
    let wf = json!({"nodes": three_nodes(), "connections": {
        "Start": {"main": [[conn("A", 0)]], "ai_tool": [[
            {"node": "B", "type": "ai_tool", "index": 0},
            {"node": "No Such Tool", "type": "ai_tool", "index": 0},
        ]]},
    }});
    let loaded = load(wf);
    assert_eq!(
        loaded.warnings,
        [LoadWarning::OtherConnectionType {
            source: "Start".into(),
            kind: "ai_tool".into()
        }]
    );
    let outcome = run(loaded.workflow).await;
    assert_eq!(outcome.status, RunStatus::Success);
    assert_eq!(outcome.node_order, ["Start", "A"]);
}

#[tokio::test]
async fn data_sent_to_an_input_a_node_lacks_never_reaches_it() {
    let wf = json!({"settings": {"executionOrder": "v1"}, "nodes": three_nodes(), "connections": {
        "Start": {"main": [[conn("A", 3)]]},
        "A": {"main": [[conn("B", 0)]]},
    }});
    let loaded = load(wf);
    let compiled = build(loaded.workflow);
    assert_eq!(
        compiled.warnings(),
        [LoadWarning::MissingInput {
            source: "Start".into(),
            output: 0,
            target: "A".into(),
            input: 3,
            inputs: 1
        }]
    );
    let outcome = compiled
        .run(ExecutionOptions::default())
        .await
        .expect("runs");
    assert_eq!(outcome.status, RunStatus::Success);
    // A waits like a multi-input node, runs once with nothing on input 0, outputs nothing, and
    // its child does not run.
    assert_eq!(outcome.node_order, ["Start", "A"]);
    let a = &outcome.run_data.runs("A")[0];
    assert_eq!(a.data.as_deref(), Some(&[vec![]][..]));
    let sources = serde_json::to_value(&a.source).unwrap();
    assert_eq!(sources[0], Value::Null);
    assert_eq!(sources[2], Value::Null);
    assert_eq!(sources[3]["previousNode"], "Start");
}

#[tokio::test]
async fn a_connection_listed_twice_runs_its_target_twice_each_followed_by_its_child() {
    let wf = json!({"settings": {"executionOrder": "v1"}, "nodes": [
        node("Start", "start", [0, 0], json!({})),
        node("Twice", "pass", [200, 0], json!({})),
        node("After", "pass", [400, 0], json!({})),
    ], "connections": {
        "Start": {"main": [[conn("Twice", 0), conn("Twice", 0)]]},
        "Twice": {"main": [[conn("After", 0)]]},
    }});
    let loaded = load(wf);
    assert_eq!(
        loaded.warnings,
        [LoadWarning::DuplicateConnection {
            source: "Start".into(),
            output: 0,
            target: "Twice".into(),
            input: 0,
            times: 2
        }]
    );
    let outcome = run(loaded.workflow).await;
    assert_eq!(
        outcome.node_order,
        ["Start", "Twice", "After", "Twice", "After"]
    );
    assert_eq!(outcome.run_data.run_count("Twice"), 2);
}

#[tokio::test]
async fn empty_and_null_output_lists_are_harmless() {
    let wf = json!({"nodes": three_nodes(), "connections": {
        "Start": {"main": [[conn("A", 0)]]},
        "A": {"main": [null]},
        "B": {"main": [[]]},
        "Ghost": {"main": [null]},
        "Other ghost": {"main": null},
    }});
    let loaded = load(wf);
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    let outcome = run(loaded.workflow).await;
    assert_eq!(outcome.status, RunStatus::Success);
    assert_eq!(outcome.node_order, ["Start", "A"]);
}

#[test]
fn shapes_on_which_every_n8n_run_fails_are_refused_naming_node_and_connection() {
    let refused = |connections: Value| {
        Workflow::load_value(json!({"nodes": three_nodes(), "connections": connections}))
            .unwrap_err()
            .to_string()
    };
    let e = refused(json!({"Start": {"main": [[conn("A", 0), null]]}}));
    assert_eq!(
        e,
        "invalid workflow: node 'Start' output 0 (main) connection 1 is null (n8n fails every \
         run of such a file)"
    );
    let e = refused(json!({"A": null}));
    assert!(e.contains("the connections of 'A' are null"), "{e}");
    let e = refused(json!({"Ghost": null}));
    assert!(e.contains("'Ghost'"), "{e}");
    let e = refused(json!({"Start": {"main": null}}));
    assert!(
        e.contains("node 'Start': its main connections are null"),
        "{e}"
    );
    let e = refused(json!({"Start": {"main": [[{"type": "main", "index": 0}]]}}));
    assert!(e.contains("connection 0 has no target node name"), "{e}");
}

#[tokio::test]
async fn nodes_without_id_position_type_version_or_parameters_run() {
    let wf = json!({"settings": {"executionOrder": "v1"}, "nodes": [
        {"name": "Start", "type": "test.start"},
        {"id": "t", "name": "Top", "type": "test.pass", "typeVersion": 1,
         "position": [440, -200], "parameters": {}},
        {"id": "n", "name": "No Position", "type": "test.version", "parameters": null},
        {"id": "s", "name": "Same Row", "type": "test.pass", "typeVersion": 1,
         "position": [440, 0], "parameters": {}},
        {"id": "b", "name": "Bottom", "type": "test.pass", "typeVersion": 1,
         "position": [440, 200], "parameters": {}},
    ], "connections": {"Start": {"main": [[
        conn("Bottom", 0), conn("Same Row", 0), conn("No Position", 0), conn("Top", 0),
    ]]}}});
    let loaded = load(wf);
    let missing = |node: &str, field| LoadWarning::MissingNodeField {
        node: node.into(),
        field,
    };
    assert_eq!(
        loaded.warnings,
        [
            missing("Start", NodeField::Position),
            missing("Start", NodeField::Parameters),
            missing("No Position", NodeField::Position),
            missing("No Position", NodeField::Parameters),
        ]
    );
    let compiled = build(loaded.workflow);
    // Without typeVersion a node runs as its type's default (highest) version.
    assert_eq!(
        compiled.warnings(),
        [
            LoadWarning::DefaultTypeVersion {
                node: "Start".into(),
                version: 1.0
            },
            LoadWarning::DefaultTypeVersion {
                node: "No Position".into(),
                version: 2.0
            },
        ]
    );
    let outcome = compiled
        .run(ExecutionOptions::default())
        .await
        .expect("runs");
    // No position counts as [0, 0]: above Same Row's row at x 440, so it runs first of the two.
    assert_eq!(
        outcome.node_order,
        ["Start", "Top", "No Position", "Same Row", "Bottom"]
    );
    assert_eq!(
        output(&outcome, "No Position", 0, 0),
        [json!({"version": 2.0})]
    );
}

#[tokio::test]
async fn runs_start_at_the_first_enabled_trigger() {
    let mut first = node("Disabled", "start", [0, 0], json!({}));
    first["disabled"] = json!(true);
    let nodes = vec![
        first.clone(),
        node("From Disabled", "pass", [200, 0], json!({})),
        node("Enabled", "start", [0, 200], json!({})),
        node("From Enabled", "pass", [200, 200], json!({})),
    ];
    let connections = json!({
        "Disabled": {"main": [[conn("From Disabled", 0)]]},
        "Enabled": {"main": [[conn("From Enabled", 0)]]},
    });
    let compiled = build(load(json!({"nodes": nodes, "connections": connections})).workflow);
    assert_eq!(
        compiled.warnings(),
        [LoadWarning::DisabledTrigger {
            node: "Disabled".into()
        }]
    );
    assert_eq!(compiled.start_node(), Some("Enabled"));
    let outcome = compiled
        .run(ExecutionOptions::default())
        .await
        .expect("runs");
    assert_eq!(outcome.node_order, ["Enabled", "From Enabled"]);

    // With the only trigger disabled no node runs, not even one without inputs.
    let only = json!({"nodes": [first, node("Loose", "pass", [0, 400], json!({}))],
                      "connections": {}});
    let compiled = build(load(only).workflow);
    assert_eq!(compiled.start_node(), None);
    let err = compiled.run(ExecutionOptions::default()).await.unwrap_err();
    assert!(matches!(err, EngineError::NoStartNode));
    assert!(err
        .to_string()
        .starts_with("No node to start the workflow from could be found"));
}

#[test]
fn only_the_string_v1_means_v1_order() {
    // v1 runs High's branch to its end first; v0 runs siblings in connection order.
    let nodes = vec![
        node("Start", "start", [0, 0], json!({})),
        node("Low", "pass", [200, 300], json!({})),
        node("High", "pass", [200, -100], json!({})),
        node("After High", "pass", [400, -100], json!({})),
    ];
    let connections = json!({
        "Start": {"main": [[conn("Low", 0), conn("High", 0)]]},
        "High": {"main": [[conn("After High", 0)]]},
    });
    let order = |settings: Option<Value>| {
        let mut wf = json!({"nodes": nodes.clone(), "connections": connections.clone()});
        if let Some(settings) = settings {
            wf["settings"] = settings;
        }
        let loaded = load(wf);
        let warned = !loaded.warnings.is_empty();
        let outcome = block_on(run(loaded.workflow));
        (outcome.node_order[1].clone(), warned)
    };
    assert_eq!(
        order(Some(json!({"executionOrder": "v1"}))),
        ("High".into(), false)
    );
    for unknown in [json!("v2"), json!("V1"), json!(1), Value::Null] {
        assert_eq!(
            order(Some(json!({"executionOrder": unknown}))),
            ("Low".into(), true),
            "{unknown}"
        );
    }
    assert_eq!(
        order(Some(json!({"executionOrder": "v0"}))),
        ("Low".into(), false)
    );
    assert_eq!(order(Some(json!({}))), ("Low".into(), false));
    assert_eq!(order(Some(Value::Null)), ("Low".into(), false));
    assert_eq!(order(None), ("Low".into(), false));
}

/// Run a future to its end on a fresh current-thread runtime (for closures, which are not async).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[tokio::test]
async fn extra_fields_string_tags_and_numeric_ids_are_accepted() {
    let wf = json!({
        "id": 4711, "name": "t", "active": true, "tags": ["automation", {"name": "x", "id": "7"}],
        "meta": {"anything": 1}, "description": "d", "versionId": "v", "triggerCount": 0,
        "isArchived": false, "unknown": {"k": 1},
        "settings": {"executionOrder": "v1", "retryOnFail": true, "maxExecutions": 3},
        "nodes": [{"id": "s", "name": "Start", "type": "test.start", "typeVersion": 1,
                   "position": [0, 0], "parameters": {}, "notes": "n", "notesInFlow": true,
                   "color": 3, "whatever": [1]}],
        "connections": {},
    });
    let loaded = load(wf);
    assert_eq!(loaded.warnings, []);
    assert_eq!(loaded.workflow.id_string(), "4711");
    let back = serde_json::to_value(&loaded.workflow).unwrap();
    assert_eq!(back["tags"][0], "automation");
    assert_eq!(back["nodes"][0]["whatever"], json!([1]));
    let outcome = run_with(loaded.workflow, ExecutionOptions::default()).await;
    assert_eq!(outcome.status, RunStatus::Success);
}
