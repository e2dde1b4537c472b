//! Compare Datasets: matching, the four outputs, resolve modes, fuzzy compare, skipped fields.

mod common;

use common::run_workflow;
use serde_json::{json, Value};

/// Trigger → A and B (test data) → Compare (inputs 0 and 1).
fn compare(version: f64, parameters: Value, a: Value, b: Value) -> Value {
    json!({
        "nodes": [
            {"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
            {"name": "A", "type": "n8n-nodes-testing.testData", "typeVersion": 1, "position": [200, -100], "parameters": {"data": a}},
            {"name": "B", "type": "n8n-nodes-testing.testData", "typeVersion": 1, "position": [200, 100], "parameters": {"data": b}},
            {"name": "Compare", "type": "n8n-nodes-base.compareDatasets", "typeVersion": version, "position": [400, 0], "parameters": parameters}
        ],
        "connections": {
            "Trigger": {"main": [[{"node": "A", "type": "main", "index": 0}, {"node": "B", "type": "main", "index": 0}]]},
            "A": {"main": [[{"node": "Compare", "type": "main", "index": 0}]]},
            "B": {"main": [[{"node": "Compare", "type": "main", "index": 1}]]}
        },
        "settings": {"executionOrder": "v1"}
    })
}

fn by_id(extra: Value) -> Value {
    let mut params =
        json!({"mergeByFields": {"values": [{"field1": "id", "field2": "id"}]}, "options": {}});
    params
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    params
}

async fn outputs(version: f64, parameters: Value, a: Value, b: Value) -> Vec<Vec<Value>> {
    let outcome = run_workflow(compare(version, parameters, a, b)).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let run = &outcome.run_data.runs("Compare")[0];
    (0..4)
        .map(|o| run.output(o).iter().map(|i| i.json.to_value()).collect())
        .collect()
}

#[tokio::test]
async fn sorts_items_into_four_outputs() {
    let a = json!([{"id": 1, "v": "x"}, {"id": 2, "v": "y"}, {"id": 3}]);
    let b = json!([{"id": 2, "v": "z"}, {"id": 1, "v": "x"}, {"id": 4}]);
    let out = outputs(2.3, by_id(json!({})), a, b).await;
    assert_eq!(out[0], vec![json!({"id": 3})]);
    assert_eq!(out[1], vec![json!({"id": 1, "v": "x"})]);
    assert_eq!(
        out[2],
        vec![
            json!({"keys": {"id": 2}, "same": {"id": 2}, "different": {"v": {"inputA": "y", "inputB": "z"}}})
        ]
    );
    assert_eq!(out[3], vec![json!({"id": 4})]);
}

#[tokio::test]
async fn resolve_modes() {
    let a = json!([{"id": 1, "v": "a", "w": 1, "only": true}]);
    let b = json!([{"id": 1, "v": "b", "w": 0}]);
    let prefer_a = outputs(
        2.3,
        by_id(json!({"resolve": "preferInput1"})),
        a.clone(),
        b.clone(),
    )
    .await;
    assert_eq!(
        prefer_a[2],
        vec![json!({"id": 1, "v": "a", "w": 1, "only": true})]
    );
    let prefer_b = outputs(
        2.3,
        by_id(json!({"resolve": "preferInput2"})),
        a.clone(),
        b.clone(),
    )
    .await;
    assert_eq!(prefer_b[2], vec![json!({"id": 1, "v": "b", "w": 0})]);
    let mix = outputs(
        2.3,
        by_id(json!({"resolve": "mix", "preferWhenMix": "input1", "exceptWhenMix": "w"})),
        a.clone(),
        b.clone(),
    )
    .await;
    assert_eq!(
        mix[2],
        vec![json!({"id": 1, "v": "a", "w": 0, "only": true})]
    );
    // Before 2.3 falsy values of the excepted fields were not taken.
    let old_mix = outputs(
        2.2,
        by_id(json!({"resolve": "mix", "preferWhenMix": "input1", "exceptWhenMix": "w"})),
        a,
        b,
    )
    .await;
    assert_eq!(old_mix[2][0]["w"], json!(1));
}

#[tokio::test]
async fn v1_labels_and_default_prefers_input_b() {
    let a = json!([{"id": 1, "v": 1}, {"id": 2, "v": 2}]);
    let b = json!([{"id": 1, "v": "1"}, {"id": 2, "v": 3}]);
    let out = outputs(
        1.0,
        by_id(json!({"options": {"fuzzyCompare": true}})),
        a.clone(),
        b.clone(),
    )
    .await;
    assert_eq!(out[1], vec![json!({"id": 1, "v": "1"})]);
    assert_eq!(out[2], vec![json!({"id": 2, "v": 3})]);
    let both = outputs(1.0, by_id(json!({"resolve": "includeBoth"})), a, b).await;
    assert_eq!(
        both[2][0]["different"]["v"],
        json!({"input1": 1, "input2": "1"})
    );
}

#[tokio::test]
async fn fuzzy_compare_matches_keys_and_values() {
    let a = json!([{"id": "1", "v": [1, 2]}, {"id": 2, "v": null}, {"id": 3, "v": "TRUE"}]);
    let b = json!([{"id": 1, "v": "[1,2]"}, {"id": "2", "v": ""}, {"id": 3, "v": 1}]);
    let out = outputs(
        2.3,
        by_id(json!({"fuzzyCompare": true})),
        a.clone(),
        b.clone(),
    )
    .await;
    assert_eq!(out[1].len(), 3);
    let exact = outputs(2.3, by_id(json!({})), a, b).await;
    assert_eq!((exact[0].len(), exact[2].len(), exact[3].len()), (2, 1, 2));
}

#[tokio::test]
async fn missing_fields_differ_before_2_1_only() {
    let a = json!([{"id": 1, "x": []}]);
    let b = json!([{"id": 1}]);
    let old = outputs(
        2.0,
        by_id(json!({"fuzzyCompare": true})),
        a.clone(),
        b.clone(),
    )
    .await;
    assert_eq!(
        old[2][0]["different"]["x"],
        json!({"inputA": [], "inputB": null})
    );
    let new = outputs(2.1, by_id(json!({"fuzzyCompare": true})), a, b).await;
    assert_eq!(new[1].len(), 1);
}

#[tokio::test]
async fn skipped_fields_are_ignored_and_reported() {
    let a = json!([{"id": 1, "d": {"age": 31, "name": "J"}, "c": "x"}]);
    let b = json!([{"id": 1, "d": {"age": 30, "name": "J"}, "c": "y"}]);
    let skip_all = outputs(
        2.1,
        by_id(json!({"options": {"skipFields": "d.age, c"}})),
        a.clone(),
        b.clone(),
    )
    .await;
    assert_eq!(skip_all[1].len(), 1);
    let skip_some = outputs(
        2.1,
        by_id(json!({"options": {"skipFields": "d.age"}})),
        a,
        b,
    )
    .await;
    assert_eq!(
        skip_some[2],
        vec![json!({
            "keys": {"id": 1}, "same": {"id": 1},
            "different": {"d": {"inputA": {"name": "J"}, "inputB": {"name": "J"}}, "c": {"inputA": "x", "inputB": "y"}},
            "skipped": {"d": {"inputA": {"age": 31}, "inputB": {"age": 30}}}
        })]
    );
}

#[tokio::test]
async fn items_without_a_match_field_match_nothing() {
    let a = json!([{"x": 1}]);
    let b = json!([{"id": 1}]);
    for version in [1.0, 2.1, 2.3] {
        let out = outputs(version, by_id(json!({})), a.clone(), b.clone()).await;
        assert_eq!((out[0].len(), out[3].len()), (1, 1), "version {version}");
    }
}

#[tokio::test]
async fn first_match_only_leaves_other_matches_in_b_only() {
    let a = json!([{"id": 1, "v": "a"}]);
    let b = json!([{"id": 1, "v": "b"}, {"id": 1, "v": "c"}]);
    let first = outputs(
        1.0,
        by_id(json!({"resolve": "includeBoth", "options": {"multipleMatches": "first"}})),
        a.clone(),
        b.clone(),
    )
    .await;
    assert_eq!((first[2].len(), first[3].len()), (1, 1));
    let all = outputs(
        1.0,
        by_id(json!({"resolve": "includeBoth", "options": {"multipleMatches": "all"}})),
        a,
        b,
    )
    .await;
    assert_eq!((all[2].len(), all[3].len()), (2, 0));
}

#[tokio::test]
async fn runs_when_one_input_is_empty() {
    let out = outputs(2.3, by_id(json!({})), json!([{"id": 1}]), json!([])).await;
    assert_eq!(out[0], vec![json!({"id": 1})]);
}
