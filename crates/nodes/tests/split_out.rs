//! Split Out: lists and objects into items, with the include modes and options.

mod common;

use common::{node_error, node_json};
use serde_json::json;

const SPLIT_OUT: &str = "n8n-nodes-base.splitOut";

fn input() -> serde_json::Value {
    json!([{"list": [{"a": 1}, {"a": 2}], "tags": ["x", "y"], "obj": {"k1": 1, "k2": 2}, "keep": "me", "n": null}])
}

#[tokio::test]
async fn objects_become_items_without_other_fields() {
    let out = node_json(SPLIT_OUT, 1.0, json!({"fieldToSplitOut": "list"}), input()).await;
    assert_eq!(out, vec![json!({"a": 1}), json!({"a": 2})]);
    let out = node_json(SPLIT_OUT, 1.0, json!({"fieldToSplitOut": "tags"}), input()).await;
    assert_eq!(out, vec![json!({"tags": "x"}), json!({"tags": "y"})]);
}

#[tokio::test]
async fn object_values_are_split() {
    let out = node_json(SPLIT_OUT, 1.0, json!({"fieldToSplitOut": "obj"}), input()).await;
    assert_eq!(out, vec![json!({"obj": 1}), json!({"obj": 2})]);
}

#[tokio::test]
async fn include_modes_and_destination() {
    let all = node_json(
        SPLIT_OUT,
        1.0,
        json!({"fieldToSplitOut": "tags", "include": "allOtherFields", "options": {"destinationFieldName": "tag"}}),
        json!([{"tags": ["x"], "keep": "me"}]),
    )
    .await;
    assert_eq!(all, vec![json!({"keep": "me", "tag": "x"})]);
    let selected = node_json(
        SPLIT_OUT,
        1.0,
        json!({"fieldToSplitOut": "tags", "include": "selectedOtherFields", "fieldsToInclude": "keep"}),
        input(),
    )
    .await;
    assert_eq!(
        selected,
        vec![
            json!({"keep": "me", "tags": "x"}),
            json!({"keep": "me", "tags": "y"})
        ]
    );
}

#[tokio::test]
async fn several_fields_split_side_by_side() {
    let out = node_json(
        SPLIT_OUT,
        1.0,
        json!({"fieldToSplitOut": "tags, keep"}),
        input(),
    )
    .await;
    assert_eq!(
        out,
        vec![json!({"tags": "x", "keep": "me"}), json!({"tags": "y"})]
    );
}

#[tokio::test]
async fn dot_notation_reads_nested_lists() {
    let input = json!([{"a": {"b": [1, 2]}}]);
    let nested = node_json(
        SPLIT_OUT,
        1.0,
        json!({"fieldToSplitOut": "a.b", "options": {"destinationFieldName": "v"}}),
        input.clone(),
    )
    .await;
    assert_eq!(nested, vec![json!({"v": 1}), json!({"v": 2})]);
    let flat = node_json(
        SPLIT_OUT,
        1.0,
        json!({"fieldToSplitOut": "a.b", "options": {"disableDotNotation": true, "destinationFieldName": "v"}}),
        json!([{"a.b": [9]}]),
    )
    .await;
    assert_eq!(flat, vec![json!({"v": 9})]);
}

#[tokio::test]
async fn missing_field_yields_nothing_and_scalars_one_item() {
    let out = node_json(SPLIT_OUT, 1.0, json!({"fieldToSplitOut": "nope"}), input()).await;
    assert!(out.is_empty());
    let out = node_json(SPLIT_OUT, 1.0, json!({"fieldToSplitOut": "keep"}), input()).await;
    assert_eq!(out, vec![json!({"keep": "me"})]);
}

#[tokio::test]
async fn item_lists_v1_fails_on_missing_field() {
    let err = node_error(
        "n8n-nodes-base.itemLists",
        1.0,
        json!({"fieldToSplitOut": "nope"}),
        input(),
    )
    .await;
    assert!(err.contains("'nope'"), "{err}");
    let err = node_error(
        "n8n-nodes-base.itemLists",
        2.0,
        json!({"fieldToSplitOut": "n"}),
        input(),
    )
    .await;
    assert!(err.contains("not an array"), "{err}");
}

#[tokio::test]
async fn output_items_pair_with_their_input_item() {
    let outcome = common::run_node(
        SPLIT_OUT,
        1.0,
        json!({"fieldToSplitOut": "tags"}),
        json!([{"tags": [1]}, {"tags": [2, 3]}]),
    )
    .await;
    let paired: Vec<usize> = outcome.run_data.runs("Node")[0]
        .output(0)
        .iter()
        .map(|i| i.paired_item.first().unwrap().item)
        .collect();
    assert_eq!(paired, vec![0, 1, 1]);
}
