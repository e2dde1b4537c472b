//! Execute Workflow and Execute Workflow Trigger with in-process sub-workflows (`source:
//! parameter`): declared inputs mapped and type-checked by the caller and filtered by the
//! trigger, once/each modes, paired items, not waiting, per-item failures, the caller's memory
//! budget.

mod common;

use common::*;
use serde_json::{json, Value};
use sluice_engine::CompiledWorkflow;

const EXECUTE: &str = "n8n-nodes-base.executeWorkflow";

fn trigger(version: f64, parameters: Value) -> Value {
    json!({"name": "In", "type": "n8n-nodes-base.executeWorkflowTrigger", "typeVersion": version,
           "position": [0, 0], "parameters": parameters})
}

/// A sub-workflow: `nodes` chained one after the other (the first is the trigger).
fn sub_workflow(nodes: Vec<Value>) -> Value {
    let mut connections = serde_json::Map::new();
    for pair in nodes.windows(2) {
        connections.insert(
            pair[0]["name"].as_str().unwrap().into(),
            json!({"main": [[{"node": pair[1]["name"], "type": "main", "index": 0}]]}),
        );
    }
    json!({"name": "sub", "nodes": nodes, "connections": connections,
           "settings": {"executionOrder": "v1"}})
}

/// Execute Workflow parameters running `sub` from the `workflowJson` parameter.
fn calling(sub: Value, extra: Value) -> Value {
    let mut params = json!({"source": "parameter", "workflowJson": sub.to_string(), "options": {}});
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    params
}

/// A `workflowInputs` resource mapper: `fields` are (name, type, value expression).
fn mapping(fields: &[(&str, &str, &str)], attempt_to_convert: bool) -> Value {
    let value: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(name, _, expr)| (name.to_string(), json!(expr)))
        .collect();
    let schema: Vec<Value> = fields
        .iter()
        .map(|(name, ty, _)| {
            json!({"id": name, "displayName": name, "required": false, "defaultMatch": false,
                   "display": true, "canBeUsedToMatch": true, "type": ty, "removed": false})
        })
        .collect();
    json!({"mappingMode": "defineBelow", "value": value, "matchingColumns": [], "schema": schema,
           "attemptToConvertTypes": attempt_to_convert, "convertFieldsToString": true})
}

fn declared_sub() -> Value {
    sub_workflow(vec![trigger(
        1.1,
        json!({"workflowInputs": {"values": [
            {"name": "name"}, {"name": "age", "type": "number"}, {"name": "tags", "type": "array"}
        ]}}),
    )])
}

#[tokio::test]
async fn declared_inputs_are_mapped_from_each_item_and_filtered_by_the_trigger() {
    let params = calling(
        declared_sub(),
        json!({"workflowInputs": mapping(&[
            ("name", "string", "={{ $json.first }}"),
            ("age", "number", "={{ $json.age }}"),
            ("tags", "array", "={{ $json.tags }}")
        ], false)}),
    );
    let out = node_json(
        EXECUTE,
        1.3,
        params,
        json!([{"first": "Ada", "age": 36, "extra": 1}, {"first": "Bob", "age": 41, "tags": ["x"]}]),
    )
    .await;
    assert_eq!(
        out,
        vec![
            json!({"name": "Ada", "age": 36, "tags": null}),
            json!({"name": "Bob", "age": 41, "tags": ["x"]})
        ]
    );
}

#[tokio::test]
async fn types_are_checked_strictly_unless_conversion_is_on() {
    let fields = [
        ("name", "string", "={{ $json.name }}"),
        ("age", "number", "={{ $json.age }}"),
    ];
    let input = json!([{"name": "Ada", "age": 36}, {"name": "Bob", "age": "41"}]);
    let strict = calling(
        declared_sub(),
        json!({"workflowInputs": mapping(&fields, false)}),
    );
    let outcome = run_node(EXECUTE, 1.3, strict, input.clone()).await;
    let error = outcome.error.expect("a string for a number field fails");
    assert_eq!(
        error.message,
        "Invalid input for 'age': 'age' expects a number but we got '41'"
    );
    assert_eq!(error.item_index, Some(1));
    assert_eq!(error.parameter.as_deref(), Some("workflowInputs.value.age"));

    let converting = calling(
        declared_sub(),
        json!({"workflowInputs": mapping(&fields, true)}),
    );
    let out = node_json(EXECUTE, 1.3, converting.clone(), input).await;
    assert_eq!(out[1], json!({"name": "Bob", "age": 41, "tags": null}));

    let message = node_error(
        EXECUTE,
        1.3,
        converting,
        json!([{"name": "Ada", "age": "forty"}]),
    )
    .await;
    assert_eq!(
        message,
        "Invalid input for 'age': 'age' expects a number but we got 'forty'"
    );

    // A number for a string field: rejected only while strings are checked.
    let number_name = json!([{"name": 7, "age": 1}]);
    let message = node_error(
        EXECUTE,
        1.3,
        calling(
            declared_sub(),
            json!({"workflowInputs": mapping(&fields, false)}),
        ),
        number_name.clone(),
    )
    .await;
    assert_eq!(
        message,
        "Invalid input for 'name': 'name' expects a string but we got '7'"
    );
    let mut unchecked = mapping(&fields, false);
    unchecked["convertFieldsToString"] = json!(false);
    let out = node_json(
        EXECUTE,
        1.3,
        calling(declared_sub(), json!({"workflowInputs": unchecked})),
        number_name,
    )
    .await;
    assert_eq!(out, vec![json!({"name": 7, "age": 1, "tags": null})]);
}

#[tokio::test]
async fn only_mapped_fields_are_passed_and_removed_ones_are_left_out() {
    // A passthrough trigger shows exactly what the caller sends.
    let sub = sub_workflow(vec![trigger(1.1, json!({"inputSource": "passthrough"}))]);
    let mut inputs = mapping(
        &[
            ("name", "string", "={{ $json.name }}"),
            ("age", "number", "={{ $json.age }}"),
        ],
        false,
    );
    inputs["schema"][1]["removed"] = json!(true);
    let out = node_json(
        EXECUTE,
        1.2,
        calling(sub.clone(), json!({"workflowInputs": inputs})),
        json!([{"name": "Ada", "age": 36, "other": true}]),
    )
    .await;
    assert_eq!(out, vec![json!({"name": "Ada"})]);

    // Before v1.2 the mapping does not exist: the items go as they are.
    let out = node_json(
        EXECUTE,
        1.1,
        calling(
            sub,
            json!({"workflowInputs": mapping(&[("name", "string", "x")], false)}),
        ),
        json!([{"name": "Ada", "other": true}]),
    )
    .await;
    assert_eq!(out, vec![json!({"name": "Ada", "other": true})]);
}

#[tokio::test]
async fn the_trigger_keeps_what_its_input_source_declares() {
    let input = json!([{"b": 1, "a": "x", "c": [true]}]);
    let through = |trigger_version: f64, parameters: Value| {
        let sub = sub_workflow(vec![trigger(trigger_version, parameters)]);
        node_json(EXECUTE, 1.1, calling(sub, json!({})), input.clone())
    };
    assert_eq!(
        through(1.1, json!({"inputSource": "passthrough"})).await,
        vec![json!({"b": 1, "a": "x", "c": [true]})]
    );
    assert_eq!(
        through(1.0, json!({})).await,
        vec![json!({"b": 1, "a": "x", "c": [true]})],
        "v1 passes everything"
    );
    assert_eq!(
        through(
            1.1,
            json!({"workflowInputs": {"values": [{"name": "a"}, {"name": "z", "type": "any"}]}})
        )
        .await,
        vec![json!({"a": "x", "z": null})]
    );
    let kept = through(
        1.1,
        json!({"inputSource": "jsonExample", "jsonExample": "{\"c\": [], \"b\": 0, \"d\": null}"}),
    )
    .await;
    assert_eq!(kept, vec![json!({"c": [true], "b": 1, "d": null})]);
    assert_eq!(
        serde_json::to_string(&kept[0]).unwrap(),
        r#"{"c":[true],"b":1,"d":null}"#,
        "declared order"
    );
    let default_example = through(1.1, json!({"inputSource": "jsonExample"})).await;
    assert_eq!(
        default_example,
        vec![
            json!({"aField": null, "aNumber": null, "thisFieldAcceptsAnyType": null, "anArray": null})
        ]
    );

    let message = node_error(
        EXECUTE,
        1.1,
        calling(
            sub_workflow(vec![trigger(
                1.1,
                json!({"inputSource": "jsonExample", "jsonExample": "{oops"}),
            )]),
            json!({}),
        ),
        input.clone(),
    )
    .await;
    assert!(
        message.contains("node 'In': the JSON example is not valid JSON"),
        "{message}"
    );
}

/// Trigger → Input (`input`) → Call (Execute Workflow `params`) → Tag (reads the Input item
/// each output item is paired with).
fn call_then_tag(version: f64, params: Value, input: Value) -> Value {
    let mut workflow = single_node_workflow(EXECUTE, version, params, input);
    workflow["nodes"].as_array_mut().unwrap().push(json!({
        "name": "Tag", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [600, 0],
        "parameters": {"assignments": {"assignments": [
            {"id": "1", "name": "from", "value": "={{ $('Input').item.json.tag }}", "type": "string"}
        ]}, "includeOtherFields": true, "options": {}}
    }));
    workflow["connections"]["Node"] =
        json!({"main": [[{"node": "Tag", "type": "main", "index": 0}]]});
    workflow
}

/// The `json` of `node`'s output items; panics with the run error if the run failed.
fn jsons(outcome: &sluice_engine::RunOutcome, node: &str) -> Vec<Value> {
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    output(outcome, node)
        .into_iter()
        .map(|i| i["json"].clone())
        .collect()
}

/// A sub-workflow that makes one item per element of each item's `list`.
fn splitting_sub() -> Value {
    sub_workflow(vec![
        trigger(1.1, json!({"inputSource": "passthrough"})),
        json!({"name": "Split", "type": "n8n-nodes-base.splitOut", "typeVersion": 1,
               "position": [200, 0], "parameters": {"fieldToSplitOut": "list"}}),
    ])
}

#[tokio::test]
async fn each_mode_pairs_every_result_with_the_item_that_ran_it() {
    let sub = splitting_sub();
    let outcome = run_workflow(call_then_tag(
        1.3,
        calling(sub, json!({"mode": "each"})),
        json!([{"tag": "a", "list": [1, 2]}, {"tag": "b", "list": [3]}]),
    ))
    .await;
    assert_eq!(
        jsons(&outcome, "Tag"),
        vec![
            json!({"list": 1, "from": "a"}),
            json!({"list": 2, "from": "a"}),
            json!({"list": 3, "from": "b"})
        ]
    );
}

#[tokio::test]
async fn once_mode_traces_results_back_to_the_items_they_came_from() {
    // Sort reverses the items, Limit keeps the first: its item 0 comes from input item 1.
    let sub = sub_workflow(vec![
        trigger(1.1, json!({"inputSource": "passthrough"})),
        json!({"name": "Sort", "type": "n8n-nodes-base.sort", "typeVersion": 1,
               "position": [200, 0], "parameters": {"sortFieldsUi": {"sortField": [
                   {"fieldName": "n", "order": "descending"}]}, "options": {}}}),
        json!({"name": "Limit", "type": "n8n-nodes-base.limit", "typeVersion": 1,
               "position": [400, 0], "parameters": {"maxItems": 1}}),
    ]);
    let outcome = run_workflow(call_then_tag(
        1.3,
        calling(sub, json!({})),
        json!([{"tag": "a", "n": 1}, {"tag": "b", "n": 2}]),
    ))
    .await;
    assert_eq!(
        jsons(&outcome, "Tag"),
        vec![json!({"tag": "b", "n": 2, "from": "b"})]
    );
}

#[tokio::test]
async fn without_waiting_the_input_items_come_out() {
    let sub = splitting_sub();
    let input = json!([{"tag": "a", "list": [1, 2]}, {"tag": "b", "list": [3]}]);
    for mode in ["once", "each"] {
        let outcome = run_workflow(call_then_tag(
            1.3,
            calling(
                sub.clone(),
                json!({"mode": mode, "options": {"waitForSubWorkflow": false}}),
            ),
            input.clone(),
        ))
        .await;
        assert_eq!(
            jsons(&outcome, "Tag"),
            vec![
                json!({"tag": "a", "list": [1, 2], "from": "a"}),
                json!({"tag": "b", "list": [3], "from": "b"})
            ],
            "mode {mode}"
        );
    }
}

#[tokio::test]
async fn each_mode_with_continue_on_fail_turns_a_failing_item_into_an_error_item() {
    let mut workflow = single_node_workflow(
        EXECUTE,
        1.3,
        calling(
            declared_sub(),
            json!({"mode": "each", "workflowInputs": mapping(&[("age", "number", "={{ $json.age }}")], false)}),
        ),
        json!([{"age": 1}, {"age": "two"}, {"age": 3}]),
    );
    workflow["nodes"][2]["onError"] = json!("continueRegularOutput");
    let outcome = run_workflow(workflow).await;
    assert_eq!(
        jsons(&outcome, "Node"),
        vec![
            json!({"name": null, "age": 1, "tags": null}),
            json!({"error": "Invalid input for 'age': 'age' expects a number but we got 'two'"}),
            json!({"name": null, "age": 3, "tags": null})
        ]
    );
}

#[tokio::test]
async fn bad_parameters_name_the_node_and_parameter() {
    let input = json!([{"a": 1}]);
    let workflow = single_node_workflow(EXECUTE, 1.3, json!({"source": "ftp"}), input.clone());
    let built = CompiledWorkflow::build(
        serde_json::from_value(workflow).unwrap(),
        &sluice_nodes::registry(),
    );
    assert_eq!(
        built.err().map(|e| e.to_string()).as_deref(),
        Some("node 'Node': unsupported value 'ftp' [parameter 'source']")
    );
    let outcome = run_node(
        EXECUTE,
        1.3,
        json!({"source": "url", "workflowUrl": "={{ $json.nothing }}"}),
        input.clone(),
    )
    .await;
    let error = outcome.error.expect("no URL");
    assert_eq!(
        error.to_string(),
        "node 'Node': No workflow URL given [parameter 'workflowUrl', item 0]"
    );
    let outcome = run_node(
        EXECUTE,
        1.3,
        json!({"source": "parameter", "workflowJson": "{not json"}),
        input,
    )
    .await;
    let error = outcome.error.expect("bad JSON");
    assert!(
        error
            .to_string()
            .starts_with("node 'Node': the workflow in the parameter is not valid JSON"),
        "{error}"
    );
    assert_eq!(error.parameter.as_deref(), Some("workflowJson"));
}

/// A node type only the test's registry knows: it marks every item `{"stamped": true}`.
struct Stamp;

#[async_trait::async_trait]
impl sluice_engine::Node for Stamp {
    async fn execute(
        &self,
        ctx: &sluice_engine::ExecuteContext<'_>,
    ) -> Result<sluice_engine::NodeOutputs, sluice_engine::NodeError> {
        Ok(vec![ctx
            .main_input()
            .iter()
            .map(|item| {
                let mut item = item.clone();
                item.json_mut().insert("stamped", true.into());
                item
            })
            .collect()])
    }
}

#[tokio::test]
async fn an_in_process_sub_workflow_is_built_with_the_callers_registry() {
    let mut registry = sluice_nodes::registry();
    registry.register(sluice_engine::NodeSpec {
        node_type: "test.stamp",
        versions: &[1.0],
        kind: sluice_engine::NodeKind::Regular,
        factory: |_, _| Ok(Box::new(Stamp)),
    });
    let sub = sub_workflow(vec![
        trigger(1.1, json!({"inputSource": "passthrough"})),
        json!({"name": "Stamp", "type": "test.stamp", "typeVersion": 1,
               "position": [200, 0], "parameters": {}}),
    ]);
    let workflow = single_node_workflow(EXECUTE, 1.3, calling(sub, json!({})), json!([{"a": 1}]));
    let compiled = CompiledWorkflow::build(serde_json::from_value(workflow).unwrap(), &registry)
        .expect("workflow builds");
    let outcome = compiled
        .run(sluice_engine::ExecutionOptions {
            clock: test_clock(),
            ..Default::default()
        })
        .await
        .expect("workflow runs");
    assert_eq!(
        jsons(&outcome, "Node"),
        vec![json!({"a": 1, "stamped": true})]
    );
}

#[tokio::test]
async fn an_in_process_sub_workflow_gets_a_memory_budget_of_the_callers_size() {
    let sub = sub_workflow(vec![
        trigger(1.1, json!({"inputSource": "passthrough"})),
        json!({"name": "Pad", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
               "position": [200, 0], "parameters": {"assignments": {"assignments": [
                   {"id": "1", "name": "pad", "value": "={{ 'x'.repeat(2000000) }}",
                    "type": "string"}]}, "options": {}}}),
    ]);
    let workflow = single_node_workflow(EXECUTE, 1.3, calling(sub, json!({})), json!([{"a": 1}]));
    let compiled = CompiledWorkflow::build(
        serde_json::from_value(workflow).unwrap(),
        &sluice_nodes::registry(),
    )
    .expect("workflow builds");
    let outcome = compiled
        .run(sluice_engine::ExecutionOptions {
            clock: test_clock(),
            memory_budget_mb: Some(1),
            ..Default::default()
        })
        .await
        .expect("workflow runs");
    let error = outcome.error.expect("the call fails").to_string();
    assert!(
        error.starts_with(
            "node 'Node': node 'Pad': execution memory budget of 1 MB exceeded (its items take \
             about 2 MB"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_url_source_builds_its_https_client_on_the_ring_provider() {
    // Nothing listens on 127.0.0.1:9: the request fails to connect, after the TLS client (rustls
    // on ring, with no provider compiled in by default) was built.
    let outcome = run_node(
        EXECUTE,
        1.3,
        json!({"source": "url", "workflowUrl": "https://127.0.0.1:9/sub.json"}),
        json!([{"a": 1}]),
    )
    .await;
    let error = outcome.error.expect("nothing listens").to_string();
    assert!(
        error.starts_with(
            "node 'Node': cannot load the workflow from 'https://127.0.0.1:9/sub.json': error sending request"
        ),
        "{error}"
    );
}
