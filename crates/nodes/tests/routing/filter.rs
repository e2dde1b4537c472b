//! Filter: v1 legacy conditions and the filter-parameter versions up to 2.3.

use super::{condition, filter, route, route_with};
use serde_json::json;

const FILTER: &str = "n8n-nodes-base.filter";

fn rows() -> serde_json::Value {
    json!([
        {"id": 1, "name": "Adam", "notes": null},
        {"id": 2, "name": "Victor", "notes": "some notes"},
        {"id": 3, "name": "Sam", "notes": "other notes"}
    ])
}

#[tokio::test]
async fn keeps_matching_items_and_records_the_rest() {
    let params = json!({
        "conditions": filter(json!([condition("notes", "string", "contains", json!("notes"))]), "and", json!({})),
        "options": {}
    });
    let out = route(FILTER, 2.3, params, rows()).await;
    assert_eq!(out.len(), 2, "kept and discarded");
    assert_eq!(out[0], [rows()[1].clone(), rows()[2].clone()]);
    assert_eq!(out[1], [rows()[0].clone()]);
}

#[tokio::test]
async fn error_output_replaces_the_discarded_slot() {
    let params = json!({
        "conditions": filter(json!([condition("id", "number", "gt", json!(1))]), "and", json!({})),
        "options": {}
    });
    let out = route_with(
        FILTER,
        2.3,
        params,
        rows(),
        json!({"onError": "continueErrorOutput"}),
    )
    .await;
    assert_eq!(out.len(), 2, "kept and error output");
    assert_eq!(out[0].len(), 2);
    assert!(out[1].is_empty());
}

#[tokio::test]
async fn loose_validation_and_ignore_case_options() {
    let conditions = json!([
        condition("id", "string", "equals", json!("2")),
        condition("name", "string", "startsWith", json!("v"))
    ]);
    let params = json!({
        "conditions": filter(conditions, "and", json!({})),
        "options": {"looseTypeValidation": true, "ignoreCase": true}
    });
    let out = route(FILTER, 2.3, params, rows()).await;
    assert_eq!(out[0], [rows()[1].clone()]);
}

#[tokio::test]
async fn continue_on_fail_discards_failing_items() {
    let params = json!({
        "conditions": filter(json!([condition("notes", "string", "notEmpty", json!(""))]), "and", json!({})),
        "options": {}
    });
    let input = json!([{"notes": "x"}, {"notes": 5}]);
    let out = route_with(FILTER, 2.3, params, input, json!({"continueOnFail": true})).await;
    assert_eq!(out[0], [json!({"notes": "x"})]);
    assert_eq!(out[1], [json!({"notes": 5})]);
}

#[tokio::test]
async fn v1_legacy_conditions_with_or() {
    let params = json!({
        "conditions": {
            "number": [{"value1": "={{ $json.id }}", "operation": "equal", "value2": 3}],
            "string": [{"value1": "={{ $json.name }}", "operation": "startsWith", "value2": "A"}]
        },
        "combineConditions": "OR"
    });
    let out = route(FILTER, 1.0, params, rows()).await;
    assert_eq!(out.len(), 1, "v1 has no discarded output");
    assert_eq!(out[0], [rows()[0].clone(), rows()[2].clone()]);
}
