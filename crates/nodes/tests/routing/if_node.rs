//! IF: v1 legacy conditions and the filter-parameter versions up to 2.3.

use super::{condition, filter, route, route_with};
use crate::common;
use serde_json::json;

const IF: &str = "n8n-nodes-base.if";

fn people() -> serde_json::Value {
    json!([
        {"name": "Ada", "age": 36, "tags": ["admin"], "joined": "2020-01-05T10:00:00Z"},
        {"name": "bob", "age": 17, "tags": [], "joined": "2023-06-01"},
        {"name": "Cy", "age": 52, "tags": ["x", "y"], "joined": "2019-12-31T23:59:59Z"}
    ])
}

#[tokio::test]
async fn routes_items_to_true_and_false() {
    let params = json!({
        "conditions": filter(json!([condition("age", "number", "gte", json!(18))]), "and", json!({})),
        "looseTypeValidation": false,
        "options": {}
    });
    let out = route(IF, 2.3, params, people()).await;
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0].iter().map(|p| &p["name"]).collect::<Vec<_>>(),
        [&json!("Ada"), &json!("Cy")]
    );
    assert_eq!(out[1], [people()[1].clone()]);
}

#[tokio::test]
async fn combinator_or_and_ignore_case() {
    let conditions = json!([
        condition("name", "string", "startsWith", json!("B")),
        condition("joined", "dateTime", "before", json!("2020-01-01"))
    ]);
    let params = json!({
        "conditions": filter(conditions, "or", json!({"caseSensitive": false})),
        "options": {"ignoreCase": true}
    });
    let out = route(IF, 2.3, params, people()).await;
    let names: Vec<_> = out[0].iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, [json!("bob"), json!("Cy")]);
}

#[tokio::test]
async fn array_length_needs_a_number_right_type() {
    let mut length = condition("tags", "array", "lengthGt", json!(0));
    length["operator"]["rightType"] = json!("number");
    let params = json!({"conditions": filter(json!([length]), "and", json!({})), "options": {}});
    let out = route(IF, 2.3, params, people()).await;
    assert_eq!(out[0].len(), 2);

    let without = condition("tags", "array", "lengthGt", json!(0));
    let params = json!({"conditions": filter(json!([without]), "and", json!({})), "options": {}});
    let error = common::node_error(IF, 2.3, params, people()).await;
    assert_eq!(
        error,
        "Wrong type: '0' is a number but was expecting an array [condition 0, item 0]"
    );
}

#[tokio::test]
async fn strict_type_mismatch_fails_with_n8ns_message() {
    let params = json!({
        "conditions": filter(json!([condition("n", "number", "gt", json!(1))]), "and", json!({})),
        "options": {}
    });
    let input = json!([{"n": 5}, {"n": "12"}]);
    let error = common::node_error(IF, 2.3, params, input).await;
    assert_eq!(
        error,
        "Wrong type: '12' is a string but was expecting a number [condition 0, item 1]"
    );
}

#[tokio::test]
async fn loose_type_validation_converts() {
    let params = json!({
        "conditions": filter(json!([condition("n", "number", "gt", json!("10"))]), "and", json!({})),
        "looseTypeValidation": true,
        "options": {}
    });
    let out = route(IF, 2.3, params, json!([{"n": "12"}, {"n": 3}, {"n": ""}])).await;
    assert_eq!(out[0], [json!({"n": "12"})]);
    assert_eq!(out[1], [json!({"n": 3}), json!({"n": ""})]);
}

#[tokio::test]
async fn continue_on_fail_sends_failing_items_to_false() {
    let params = json!({
        "conditions": filter(json!([condition("n", "number", "gt", json!(1))]), "and", json!({})),
        "options": {}
    });
    let input = json!([{"n": 5}, {"n": "12"}]);
    let out = route_with(
        IF,
        2.3,
        params,
        input,
        json!({"onError": "continueRegularOutput"}),
    )
    .await;
    assert_eq!(out[0], [json!({"n": 5})]);
    assert_eq!(out[1], [json!({"n": "12"})]);
}

#[tokio::test]
async fn exists_and_boolean_operators() {
    let conditions = json!([
        {"leftValue": "={{ $json.flag }}", "rightValue": "", "operator": {"type": "boolean", "operation": "true", "singleValue": true}},
        {"leftValue": "={{ $json.note }}", "rightValue": "", "operator": {"type": "any", "operation": "exists", "singleValue": true}}
    ]);
    let params = json!({"conditions": filter(conditions, "and", json!({})), "options": {}});
    let input = json!([{"flag": true, "note": "x"}, {"flag": true}, {"flag": false, "note": 1}]);
    let out = route(IF, 2.2, params, input).await;
    assert_eq!(out[0], [json!({"flag": true, "note": "x"})]);
    assert_eq!(out[1].len(), 2);
}

#[tokio::test]
async fn v1_legacy_conditions() {
    let params = json!({
        "conditions": {
            "number": [{"value1": "={{ $json.age }}", "operation": "larger", "value2": 40}],
            "string": [{"value1": "={{ $json.name }}", "operation": "regex", "value2": "/^a/i"}]
        },
        "combineOperation": "any"
    });
    let out = route(IF, 1.0, params, people()).await;
    let names: Vec<_> = out[0].iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, [json!("Ada"), json!("Cy")]);

    // Without an operation, number conditions default to "smaller" and need all to pass.
    let params = json!({"conditions": {"number": [{"value1": "={{ $json.age }}", "value2": 40}]}});
    let out = route(IF, 1.0, params, people()).await;
    assert_eq!(out[0].len(), 2);
}

#[tokio::test]
async fn unknown_operation_is_a_build_error() {
    let params = json!({
        "conditions": filter(json!([condition("n", "number", "contains", json!(1))]), "and", json!({})),
        "options": {}
    });
    let workflow: sluice_model::Workflow =
        serde_json::from_value(common::single_node_workflow(IF, 2.3, params, json!([]))).unwrap();
    let error = sluice_engine::CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .err()
        .expect("build fails")
        .to_string();
    assert!(
        error.contains("unknown operation 'contains' for operator type 'number'")
            && error.contains("conditions.conditions[0].operator.operation"),
        "{error}"
    );
}
