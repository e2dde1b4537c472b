//! Switch: v1/v2 legacy rules, v3–3.4 filter rules, expression mode and fallbacks.

use super::{condition, filter, route, route_with};
use crate::common;
use serde_json::{json, Value};

const SWITCH: &str = "n8n-nodes-base.switch";

fn items() -> Value {
    json!([{"n": 1}, {"n": 5}, {"n": 12}, {"n": -3}])
}

/// A v3 rule routing items where `$json.n` `operation` `right`.
fn rule(operation: &str, right: i64) -> Value {
    json!({
        "conditions": filter(json!([condition("n", "number", operation, json!(right))]), "and", json!({})),
        "renameOutput": true,
        "outputKey": format!("{operation} {right}")
    })
}

fn ns(items: &[Value]) -> Vec<i64> {
    items.iter().map(|i| i["n"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn rules_route_to_the_first_match_and_extra_fallback() {
    let params = json!({
        "rules": {"values": [rule("gt", 0), rule("gt", 4)]},
        "options": {"fallbackOutput": "extra"}
    });
    let out = route(SWITCH, 3.4, params, items()).await;
    assert_eq!(out.len(), 3);
    assert_eq!(ns(&out[0]), [1, 5, 12]);
    assert!(out[1].is_empty());
    assert_eq!(ns(&out[2]), [-3]);
}

#[tokio::test]
async fn all_matching_outputs_and_index_fallback() {
    let params = json!({
        "rules": {"values": [rule("gt", 0), rule("gt", 4)]},
        "options": {"allMatchingOutputs": true, "fallbackOutput": 1}
    });
    let out = route(SWITCH, 3.4, params, items()).await;
    assert_eq!(out.len(), 2);
    assert_eq!(ns(&out[0]), [1, 5, 12]);
    assert_eq!(ns(&out[1]), [5, 12, -3]);
}

#[tokio::test]
async fn unmatched_items_are_dropped_without_fallback() {
    let params = json!({"rules": {"values": [rule("lt", 0)]}, "options": {}});
    let out = route(SWITCH, 3.4, params, items()).await;
    assert_eq!(out.len(), 1);
    assert_eq!(ns(&out[0]), [-3]);
}

#[tokio::test]
async fn expression_mode_picks_the_output() {
    let params = json!({
        "mode": "expression",
        "numberOutputs": 3,
        "output": "={{ $json.n > 4 ? 2 : 0 }}"
    });
    let out = route(SWITCH, 3.4, params, items()).await;
    assert_eq!(out.len(), 3);
    assert_eq!(ns(&out[0]), [1, -3]);
    assert_eq!(ns(&out[2]), [5, 12]);
}

#[tokio::test]
async fn expression_output_out_of_range_fails() {
    let params = json!({"mode": "expression", "numberOutputs": 2, "output": "={{ $json.n }}"});
    let error = common::node_error(SWITCH, 3.4, params, items()).await;
    assert_eq!(
        error,
        "The output 5 is not allowed. It has to be between 0 and 1!"
    );
}

#[tokio::test]
async fn continue_on_fail_puts_error_items_on_output_0() {
    let params = json!({"mode": "expression", "numberOutputs": 2, "output": "={{ $json.n }}"});
    let out = route_with(
        SWITCH,
        3.4,
        params,
        json!([{"n": 1}, {"n": 9}]),
        json!({"onError": "continueRegularOutput"}),
    )
    .await;
    assert_eq!(
        out[0],
        [json!({"error": "The output 9 is not allowed. It has to be between 0 and 1!"})]
    );
    assert_eq!(ns(&out[1]), [1]);
}

#[tokio::test]
async fn v2_string_rules_with_fallback_index() {
    let params = json!({
        "dataType": "string",
        "value1": "={{ $json.output }}",
        "rules": {"rules": [
            {"value2": "first", "outputKey": "First"},
            {"operation": "startsWith", "value2": "sec", "outputKey": "Second"}
        ]},
        "fallbackOutput": 0
    });
    let input = json!([{"output": "second"}, {"output": "other"}, {"output": "first"}]);
    let out = route(SWITCH, 2.0, params, input).await;
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0],
        [json!({"output": "other"}), json!({"output": "first"})]
    );
    assert_eq!(out[1], [json!({"output": "second"})]);
}

#[tokio::test]
async fn v1_number_rules_use_their_output_and_fallback() {
    let params = json!({
        "value1": "={{ $json.n }}",
        "rules": {"rules": [
            {"operation": "larger", "value2": 10, "output": 2},
            {"operation": "smaller", "value2": 0, "output": 1}
        ]},
        "fallbackOutput": 3
    });
    let out = route(SWITCH, 1.0, params, items()).await;
    assert_eq!(out.len(), 4);
    assert!(out[0].is_empty());
    assert_eq!(ns(&out[1]), [-3]);
    assert_eq!(ns(&out[2]), [12]);
    assert_eq!(ns(&out[3]), [1, 5]);
}

#[tokio::test]
async fn v1_expression_mode_has_four_outputs() {
    let params = json!({"mode": "expression", "output": "={{ $json.n }}"});
    let out = route(SWITCH, 1.0, params, json!([{"n": 3}, {"n": 0}])).await;
    assert_eq!(out.len(), 4);
    assert_eq!(ns(&out[3]), [3]);
    assert_eq!(ns(&out[0]), [0]);
}
