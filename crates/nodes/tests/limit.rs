//! Limit: first or last N items.

mod common;

use common::node_json;
use serde_json::json;

const LIMIT: &str = "n8n-nodes-base.limit";

fn input() -> serde_json::Value {
    json!([{"n": 1}, {"n": 2}, {"n": 3}])
}

#[tokio::test]
async fn keeps_first_items_by_default() {
    assert_eq!(
        node_json(LIMIT, 1.0, json!({}), input()).await,
        vec![json!({"n": 1})]
    );
    assert_eq!(
        node_json(LIMIT, 1.0, json!({"maxItems": 2}), input()).await,
        vec![json!({"n": 1}), json!({"n": 2})]
    );
}

#[tokio::test]
async fn keeps_last_items() {
    let out = node_json(
        LIMIT,
        1.0,
        json!({"maxItems": 2, "keep": "lastItems"}),
        input(),
    )
    .await;
    assert_eq!(out, vec![json!({"n": 2}), json!({"n": 3})]);
    let all = node_json(
        LIMIT,
        1.0,
        json!({"maxItems": 10, "keep": "lastItems"}),
        input(),
    )
    .await;
    assert_eq!(all.len(), 3);
}

#[tokio::test]
async fn unknown_keep_is_a_build_error() {
    let workflow = common::single_node_workflow(LIMIT, 1.0, json!({"keep": "middle"}), input());
    let workflow = serde_json::from_value(workflow).unwrap();
    let err = sluice_engine::CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .err()
        .expect("build fails");
    assert!(err.to_string().contains("keep"), "{err}");
}
