//! Edit Fields (Set) v1–v3.4: value lists, typed fields and assignments, include modes, dot
//! notation, type conversion and its errors, raw JSON mode and item duplication.

mod common;

use common::{node_error, node_json, output, run_workflow, single_node_workflow};
use serde_json::{json, Value};

const SET: &str = "n8n-nodes-base.set";

fn people() -> Value {
    json!([
        {"name": "Ada", "age": 36, "address": {"city": "London", "zip": "N1"}},
        {"name": "Grace", "age": 85, "address": {"city": "New York", "zip": "10001"}}
    ])
}

#[tokio::test]
async fn v1_sets_typed_values_through_dot_notation() {
    let params = json!({
        "values": {
            "string": [{"name": "tags[1]", "value": "b"}, {"name": "meta.kind", "value": "person"}],
            "number": [{"name": "score", "value": 7}],
            "boolean": [{"name": "active", "value": true}]
        },
        "options": {}
    });
    let out = node_json(
        SET,
        1.0,
        params,
        json!([{"tags": ["a"], "meta": {"id": 1}}]),
    )
    .await;
    assert_eq!(
        out,
        [
            json!({"tags": ["a", "b"], "meta": {"id": 1, "kind": "person"}, "score": 7, "active": true})
        ]
    );
}

#[tokio::test]
async fn v1_keep_only_set_and_literal_dotted_names() {
    let params = json!({
        "keepOnlySet": true,
        "values": {"string": [{"name": "a.b", "value": "x"}]},
        "options": {"dotNotation": false}
    });
    let out = node_json(SET, 1.0, params, json!([{"other": 1}])).await;
    assert_eq!(out, [json!({"a.b": "x"})]);
}

#[tokio::test]
async fn v2_casts_number_values() {
    let params = json!({
        "keepOnlySet": true,
        "values": {"number": [{"name": "n", "value": "123456"}, {"name": "bad", "value": "x1"}]},
        "options": {}
    });
    let out = node_json(SET, 2.0, params, json!([{}])).await;
    assert_eq!(out, [json!({"n": 123456, "bad": null})]);
}

fn v3_fields(include: &str, extra: Value) -> Value {
    let mut params = json!({
        "fields": {"values": [{"name": "test", "stringValue": "foo"}]},
        "include": include,
        "options": {}
    });
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    params
}

#[tokio::test]
async fn v3_include_modes() {
    let all = node_json(SET, 3.0, v3_fields("all", json!({})), people()).await;
    assert_eq!(
        all[0],
        json!({"name": "Ada", "age": 36, "address": {"city": "London", "zip": "N1"}, "test": "foo"})
    );
    let none = node_json(SET, 3.0, v3_fields("none", json!({})), people()).await;
    assert_eq!(none, [json!({"test": "foo"}), json!({"test": "foo"})]);
    let selected = node_json(
        SET,
        3.1,
        v3_fields("selected", json!({"includeFields": "name, address.city"})),
        people(),
    )
    .await;
    assert_eq!(
        selected[1],
        json!({"name": "Grace", "address": {"city": "New York"}, "test": "foo"})
    );
    let except = node_json(
        SET,
        3.2,
        v3_fields("except", json!({"excludeFields": "age,address.zip"})),
        people(),
    )
    .await;
    assert_eq!(
        except[0],
        json!({"name": "Ada", "address": {"city": "London"}, "test": "foo"})
    );
}

/// One v3.0–3.2 field of `kind` holding `value`, with `options`.
fn v3_typed(kind: &str, value: Value, options: Value) -> Value {
    json!({
        "fields": {"values": [{"name": "x", "type": format!("{kind}Value"), format!("{kind}Value"): value}]},
        "include": "none",
        "options": options
    })
}

async fn convert(kind: &str, value: Value) -> Value {
    let out = node_json(SET, 3.0, v3_typed(kind, value, json!({})), json!([{}])).await;
    out[0]["x"].clone()
}

#[tokio::test]
async fn v3_converts_values_to_their_type() {
    assert_eq!(convert("number", json!("2.75")).await, json!(2.75));
    assert_eq!(convert("number", json!(" ")).await, json!(0));
    assert_eq!(convert("number", json!(true)).await, json!(1));
    assert_eq!(convert("boolean", json!("TRUE")).await, json!(true));
    assert_eq!(convert("boolean", json!("0")).await, json!(false));
    assert_eq!(convert("boolean", json!(1)).await, json!(true));
    assert_eq!(convert("array", json!("[1, 2]")).await, json!([1, 2]));
    assert_eq!(
        convert("object", json!("{\"a\": {\"b\": 1}}")).await,
        json!({"a": {"b": 1}})
    );
    assert_eq!(convert("string", json!(1.5)).await, json!("1.5"));
    assert_eq!(
        convert("string", json!({"a": [1, true]})).await,
        json!("{\"a\":[1,true]}")
    );
    assert_eq!(convert("string", Value::Null).await, Value::Null);
}

#[tokio::test]
async fn v3_wrong_type_fails_with_field_and_item() {
    let error = node_error(
        SET,
        3.0,
        v3_typed("number", json!("abc"), json!({})),
        json!([{}]),
    )
    .await;
    assert_eq!(error, "'x' expects a number but we got 'abc' [item 0]");
    let error = node_error(
        SET,
        3.0,
        v3_typed("object", json!("[1]"), json!({})),
        json!([{}]),
    )
    .await;
    assert_eq!(error, "'x' expects a object but we got '[1]' [item 0]");
}

#[tokio::test]
async fn v3_ignore_conversion_errors_keeps_the_value() {
    let params = v3_typed(
        "boolean",
        json!("3,14"),
        json!({"ignoreConversionErrors": true}),
    );
    assert_eq!(
        node_json(SET, 3.0, params, json!([{}])).await,
        [json!({"x": "3,14"})]
    );
}

#[tokio::test]
async fn continue_on_fail_turns_a_conversion_error_into_an_error_item() {
    let mut workflow = single_node_workflow(
        SET,
        3.0,
        v3_typed("array", json!("nope"), json!({})),
        json!([{}, {}]),
    );
    workflow["nodes"][2]["onError"] = json!("continueRegularOutput");
    let outcome = run_workflow(workflow).await;
    assert!(outcome.error.is_none());
    let out = output(&outcome, "Node");
    assert_eq!(
        out[1]["json"],
        json!({"error": "'x' expects a array but we got 'nope' [item 1]"})
    );
}

fn assignments(list: Value, extra: Value) -> Value {
    let mut params = json!({"assignments": {"assignments": list}, "options": {}});
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    params
}

#[tokio::test]
async fn v3_4_assignments_replace_input_fields_by_default() {
    let list = json!([
        {"id": "1", "name": "person.name", "value": "Ada", "type": "string"},
        {"id": "2", "name": "amount", "value": "42", "type": "number"},
        {"id": "3", "name": "flags", "value": "[\"a\"]", "type": "array"}
    ]);
    let out = node_json(SET, 3.4, assignments(list, json!({})), json!([{"old": 1}])).await;
    assert_eq!(
        out,
        [json!({"person": {"name": "Ada"}, "amount": 42, "flags": ["a"]})]
    );
}

#[tokio::test]
async fn v3_4_include_other_fields() {
    let list = json!([{"id": "1", "name": "test", "value": "foo", "type": "string"}]);
    let all = node_json(
        SET,
        3.4,
        assignments(list.clone(), json!({"includeOtherFields": true})),
        people(),
    )
    .await;
    assert_eq!(all[1]["age"], json!(85));
    assert_eq!(all[1]["test"], json!("foo"));
    let selected = node_json(
        SET,
        3.4,
        assignments(
            list.clone(),
            json!({"includeOtherFields": true, "include": "selected", "includeFields": "age"}),
        ),
        people(),
    )
    .await;
    assert_eq!(selected[0], json!({"age": 36, "test": "foo"}));
    let except = node_json(
        SET,
        3.3,
        assignments(list, json!({"includeOtherFields": true, "include": "except", "excludeFields": "address, name"})),
        people(),
    )
    .await;
    assert_eq!(except[0], json!({"age": 36, "test": "foo"}));
}

#[tokio::test]
async fn an_empty_expression_is_empty_text_so_a_switch_set_to_it_is_off() {
    // n8n resolves `=` to "", which JavaScript takes as false: only the assigned field stays.
    // A setting that cannot be an expression accepts it, and a value set to it is "".
    let list = json!([
        {"id": "1", "name": "test", "value": "foo", "type": "string"},
        {"id": "2", "name": "blank", "value": "=", "type": "string"}
    ]);
    let out = node_json(
        SET,
        3.4,
        assignments(list, json!({"includeOtherFields": "="})),
        people(),
    )
    .await;
    assert_eq!(out[0], json!({"test": "foo", "blank": ""}));
}

#[tokio::test]
async fn v3_4_expression_names_values_and_field_lists_are_resolved_per_item() {
    // Literal names, lists and values are parsed once when the node is built; expressions
    // beside them still change from item to item.
    let list = json!([
        {"id": "1", "name": "={{ 'by_' + $json.name }}.age", "value": "={{ $json.age }}", "type": "number"},
        {"id": "2", "name": "fixed.path", "value": "7", "type": "number"}
    ]);
    let extra = json!({"includeOtherFields": true, "include": "selected",
                       "includeFields": "={{ $json.name == 'Ada' ? 'address.city' : 'age' }}"});
    let out = node_json(SET, 3.4, assignments(list, extra), people()).await;
    assert_eq!(
        out,
        [
            json!({"address": {"city": "London"}, "by_Ada": {"age": 36}, "fixed": {"path": 7}}),
            json!({"age": 85, "by_Grace": {"age": 85}, "fixed": {"path": 7}})
        ]
    );
}

#[tokio::test]
async fn v3_4_dot_notation_can_be_disabled() {
    let list = json!([{"id": "1", "name": "a.b", "value": "1", "type": "number"}]);
    let out = node_json(
        SET,
        3.4,
        assignments(list, json!({"options": {"dotNotation": false}})),
        json!([{}]),
    )
    .await;
    assert_eq!(out, [json!({"a.b": 1})]);
}

#[tokio::test]
async fn v3_4_raw_mode_writes_the_json_object() {
    let params = json!({
        "mode": "raw",
        "jsonOutput": "{\"a\": {\"b\": [1, 2]}, \"c.d\": true}",
        "includeOtherFields": true,
        "options": {}
    });
    let out = node_json(SET, 3.4, params, json!([{"keep": "me"}])).await;
    assert_eq!(
        out,
        [json!({"keep": "me", "a": {"b": [1, 2]}, "c": {"d": true}})]
    );
}

#[tokio::test]
async fn v3_4_raw_mode_rejects_invalid_json() {
    let params = json!({"mode": "raw", "jsonOutput": "{not json", "options": {}});
    let error = node_error(SET, 3.4, params, json!([{}])).await;
    assert!(
        error.starts_with("The 'JSON Output' in item 0 contains invalid JSON"),
        "{error}"
    );
}

#[tokio::test]
async fn v3_4_duplicates_items_in_manual_runs() {
    let list = json!([{"id": "1", "name": "x", "value": "1", "type": "string"}]);
    let params = assignments(list, json!({"duplicateItem": true, "duplicateCount": 2}));
    let out = node_json(SET, 3.4, params, json!([{}, {}])).await;
    assert_eq!(out.len(), 6);
}

#[tokio::test]
async fn unknown_mode_is_a_build_error() {
    let workflow = single_node_workflow(SET, 3.4, json!({"mode": "magic"}), json!([{}]));
    let workflow: sluice_model::Workflow = serde_json::from_value(workflow).unwrap();
    let error = sluice_engine::CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .err()
        .expect("build fails")
        .to_string();
    assert_eq!(
        error,
        "node 'Node': unsupported value 'magic' [parameter 'mode']"
    );
}
