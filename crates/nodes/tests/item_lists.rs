//! Item Lists: each operation runs through the standalone node that replaced it.

mod common;

use common::node_json;
use serde_json::json;

const ITEM_LISTS: &str = "n8n-nodes-base.itemLists";

fn input() -> serde_json::Value {
    json!([{"id": 3, "tags": ["a"]}, {"id": 1, "tags": ["b"]}, {"id": 3, "tags": ["a"]}])
}

#[tokio::test]
async fn split_out_is_the_default_operation() {
    let out = node_json(ITEM_LISTS, 3.1, json!({"fieldToSplitOut": "tags"}), input()).await;
    assert_eq!(
        out,
        vec![
            json!({"tags": "a"}),
            json!({"tags": "b"}),
            json!({"tags": "a"})
        ]
    );
}

#[tokio::test]
async fn every_operation() {
    let concat = node_json(ITEM_LISTS, 3.0, json!({"operation": "concatenateItems", "fieldsToAggregate": {"fieldToAggregate": [{"fieldToAggregate": "id"}]}}), input()).await;
    assert_eq!(concat, vec![json!({"id": [3, 1, 3]})]);
    let aggregate = node_json(ITEM_LISTS, 1.0, json!({"operation": "aggregateItems", "aggregate": "aggregateAllItemData", "include": "specifiedFields", "fieldsToInclude": {"fields": [{"fieldName": "id"}]}}), input()).await;
    assert_eq!(
        aggregate,
        vec![json!({"data": [{"id": 3}, {"id": 1}, {"id": 3}]})]
    );
    let limit = node_json(
        ITEM_LISTS,
        2.2,
        json!({"operation": "limit", "maxItems": 2}),
        input(),
    )
    .await;
    assert_eq!(limit.len(), 2);
    let dedupe = node_json(ITEM_LISTS, 1.0, json!({"operation": "removeDuplicates", "compare": "selectedFields", "fieldsToCompare": {"fields": [{"fieldName": "id"}]}}), input()).await;
    assert_eq!(dedupe.len(), 2);
    let sort = node_json(
        ITEM_LISTS,
        3.1,
        json!({"operation": "sort", "sortFieldsUi": {"sortField": [{"fieldName": "id"}]}}),
        input(),
    )
    .await;
    assert_eq!(sort[0]["id"], json!(1));
    let summarize = node_json(ITEM_LISTS, 2.1, json!({"operation": "summarize", "fieldsToSummarize": {"values": [{"aggregation": "sum", "field": "id"}]}, "fieldsToSplitBy": "id"}), input()).await;
    assert_eq!(
        summarize,
        vec![
            json!({"id": "1", "sum_id": 1}),
            json!({"id": "3", "sum_id": 6})
        ]
    );
}
