//! Summarize: every aggregation, empty values, split-by groups, output formats, versions.

mod common;

use common::{node_error, node_json};
use serde_json::json;

const SUMMARIZE: &str = "n8n-nodes-base.summarize";

fn input() -> serde_json::Value {
    json!([
        {"g": "b", "v": 1, "s": "x"},
        {"g": "a", "v": 4, "s": ""},
        {"g": "b", "v": 2.5, "s": "y"},
        {"g": 2, "v": 3},
        {"g": 1, "v": null, "s": "x"}
    ])
}

fn summaries(values: serde_json::Value) -> serde_json::Value {
    json!({"fieldsToSummarize": {"values": values}, "options": {}})
}

#[tokio::test]
async fn every_aggregation_without_groups() {
    let params = summaries(json!([
        {"aggregation": "append", "field": "s"},
        {"aggregation": "average", "field": "v"},
        {"aggregation": "concatenate", "field": "s", "separateBy": "other", "customSeparator": "|"},
        {"field": "s"},
        {"aggregation": "countUnique", "field": "s"},
        {"aggregation": "max", "field": "v"},
        {"aggregation": "min", "field": "v"},
        {"aggregation": "sum", "field": "v"}
    ]));
    let out = node_json(SUMMARIZE, 1.1, params, input()).await;
    assert_eq!(
        out,
        vec![json!({
            "appended_s": ["x", "y", "x"], "average_v": 2.625, "concatenated_s": "x|y|x",
            "count_s": 3, "unique_count_s": 2, "max_v": 4, "min_v": 1, "sum_v": 10.5
        })]
    );
}

#[tokio::test]
async fn include_empty_counts_missing_null_and_blank() {
    let params = summaries(
        json!([{"field": "s", "includeEmpty": true}, {"aggregation": "countUnique", "field": "s", "includeEmpty": true}]),
    );
    assert_eq!(
        node_json(SUMMARIZE, 1.1, params, input()).await,
        vec![json!({"count_s": 5, "unique_count_s": 4})]
    );
}

#[tokio::test]
async fn groups_in_javascript_key_order_with_typed_values_from_1_1() {
    let mut params = summaries(json!([{"aggregation": "sum", "field": "v"}]));
    params["fieldsToSplitBy"] = json!("g");
    let typed = node_json(SUMMARIZE, 1.1, params.clone(), input()).await;
    assert_eq!(
        typed,
        vec![
            json!({"g": 1, "sum_v": 0}),
            json!({"g": 2, "sum_v": 3}),
            json!({"g": "b", "sum_v": 3.5}),
            json!({"g": "a", "sum_v": 4})
        ]
    );
    let text = node_json(SUMMARIZE, 1.0, params, input()).await;
    assert_eq!(text[0], json!({"g": "1", "sum_v": 0}));
}

#[tokio::test]
async fn single_item_nests_groups() {
    let mut params = summaries(json!([{"field": "v"}]));
    params["fieldsToSplitBy"] = json!("g, s");
    params["options"] = json!({"outputFormat": "singleItem", "skipEmptySplitFields": true});
    let out = node_json(SUMMARIZE, 1.1, params, input()).await;
    assert_eq!(
        out,
        vec![json!({"1": {"x": {"count_v": 0}}, "b": {"x": {"count_v": 1}, "y": {"count_v": 1}}})]
    );
}

#[tokio::test]
async fn dot_notation_and_output_names() {
    // As with lodash paths, a key spelt exactly like the path wins over the nested field.
    let input = json!([{"p": {"q": 1}}, {"p": {"q": 2}}, {"p.q": 5}]);
    let nested = node_json(
        SUMMARIZE,
        1.1,
        summaries(json!([{"aggregation": "sum", "field": "p.q"}])),
        input.clone(),
    )
    .await;
    assert_eq!(nested, vec![json!({"sum_p_q": 8})]);
    let mut flat = summaries(json!([{"aggregation": "sum", "field": "p.q"}]));
    flat["options"] = json!({"disableDotNotation": true});
    assert_eq!(
        node_json(SUMMARIZE, 1.1, flat, input).await,
        vec![json!({"sum_p_q": 5})]
    );
}

#[tokio::test]
async fn missing_fields_count_zero_but_fail_old_item_lists() {
    let params = summaries(json!([{"field": "nope"}]));
    assert_eq!(
        node_json(SUMMARIZE, 1.0, params.clone(), input()).await,
        vec![json!({"count_nope": 0})]
    );
    let mut old = params;
    old["operation"] = json!("summarize");
    let err = node_error("n8n-nodes-base.itemLists", 1.0, old.clone(), input()).await;
    assert!(err.contains("'nope'"), "{err}");
    old["options"] = json!({"continueIfFieldNotFound": true});
    assert_eq!(
        node_json("n8n-nodes-base.itemLists", 1.0, old, input()).await,
        vec![json!({"count_nope": 0})]
    );
}
