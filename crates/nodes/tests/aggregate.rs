//! Aggregate: individual fields into lists, or whole items into one list.

mod common;

use common::{node_error, node_json};
use serde_json::json;

const AGGREGATE: &str = "n8n-nodes-base.aggregate";

fn input() -> serde_json::Value {
    json!([{"id": 1, "tags": ["a"], "p": {"q": 1}}, {"id": 2, "tags": ["b", "c"]}, {"tags": []}])
}

fn fields(list: serde_json::Value) -> serde_json::Value {
    json!({"fieldsToAggregate": {"fieldToAggregate": list}, "options": {}})
}

#[tokio::test]
async fn individual_fields_with_rename() {
    let params = fields(
        json!([{"fieldToAggregate": "id"}, {"fieldToAggregate": "tags", "renameField": true, "outputFieldName": "allTags"}]),
    );
    let out = node_json(AGGREGATE, 1.0, params, input()).await;
    assert_eq!(
        out,
        vec![json!({"id": [1, 2], "allTags": [["a"], ["b", "c"], []]})]
    );
}

#[tokio::test]
async fn merge_lists_keep_missing_and_dot_notation() {
    let mut params = fields(
        json!([{"fieldToAggregate": "tags"}, {"fieldToAggregate": "id"}, {"fieldToAggregate": "p.q"}]),
    );
    params["options"] = json!({"mergeLists": true, "keepMissing": true});
    let out = node_json(AGGREGATE, 1.0, params, input()).await;
    assert_eq!(
        out,
        vec![json!({"tags": ["a", "b", "c"], "id": [1, 2, null], "p": {"q": [1, null, null]}})]
    );
}

#[tokio::test]
async fn all_item_data_with_include_modes() {
    let input = json!([{"a": 1, "b": 2}, {"a": 3, "b": 4}]);
    let all = node_json(
        AGGREGATE,
        1.0,
        json!({"aggregate": "aggregateAllItemData"}),
        input.clone(),
    )
    .await;
    assert_eq!(
        all,
        vec![json!({"data": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]})]
    );
    let only = node_json(AGGREGATE, 1.0, json!({"aggregate": "aggregateAllItemData", "include": "specifiedFields", "fieldsToInclude": "a", "destinationFieldName": "out"}), input.clone()).await;
    assert_eq!(only, vec![json!({"out": [{"a": 1}, {"a": 3}]})]);
    let except = node_json(AGGREGATE, 1.0, json!({"aggregate": "aggregateAllItemData", "include": "allFieldsExcept", "fieldsToExclude": ["a"]}), input).await;
    assert_eq!(except, vec![json!({"data": [{"b": 2}, {"b": 4}]})]);
}

#[tokio::test]
async fn missing_field_gives_an_empty_list_except_in_old_item_lists() {
    let params = fields(json!([{"fieldToAggregate": "nope"}]));
    assert_eq!(
        node_json(AGGREGATE, 1.0, params.clone(), input()).await,
        vec![json!({"nope": []})]
    );
    let mut old = params;
    old["operation"] = json!("aggregateItems");
    let err = node_error("n8n-nodes-base.itemLists", 2.0, old, input()).await;
    assert!(err.contains("'nope'"), "{err}");
}

#[tokio::test]
async fn output_pairs_with_every_input_item() {
    let outcome = common::run_node(
        AGGREGATE,
        1.0,
        json!({"aggregate": "aggregateAllItemData"}),
        input(),
    )
    .await;
    let item = &outcome.run_data.runs("Node")[0].output(0)[0];
    assert_eq!(
        item.paired_item.iter().map(|p| p.item).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
}
