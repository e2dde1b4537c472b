//! Sort: by fields (ascending/descending, nulls last), random, and the unsupported code type.

mod common;

use common::node_json;
use serde_json::json;

const SORT: &str = "n8n-nodes-base.sort";

fn by(fields: serde_json::Value) -> serde_json::Value {
    json!({"sortFieldsUi": {"sortField": fields}, "options": {}})
}

#[tokio::test]
async fn sorts_by_several_fields() {
    let input = json!([{"c": "US", "n": 2}, {"c": "CO", "n": 1}, {"c": "US", "n": 1}, {"c": null, "n": 0}, {"n": 5}]);
    let asc = node_json(
        SORT,
        1.0,
        by(json!([{"fieldName": "c"}, {"fieldName": "n", "order": "descending"}])),
        input.clone(),
    )
    .await;
    assert_eq!(
        asc,
        vec![
            json!({"c": "CO", "n": 1}),
            json!({"c": "US", "n": 2}),
            json!({"c": "US", "n": 1}),
            json!({"c": null, "n": 0}),
            json!({"n": 5})
        ]
    );
    let desc = node_json(
        SORT,
        1.0,
        by(json!([{"fieldName": "c", "order": "descending"}])),
        input,
    )
    .await;
    assert_eq!(desc[0], json!({"n": 5}));
    assert_eq!(desc[4], json!({"c": "CO", "n": 1}));
}

#[tokio::test]
async fn numbers_sort_numerically_and_dot_notation_reads_nested() {
    let input = json!([{"p": {"v": 10}}, {"p": {"v": 9}}, {"p": {"v": 100}}]);
    let out = node_json(SORT, 1.0, by(json!([{"fieldName": "p.v"}])), input).await;
    assert_eq!(
        out,
        vec![
            json!({"p": {"v": 9}}),
            json!({"p": {"v": 10}}),
            json!({"p": {"v": 100}})
        ]
    );
}

#[tokio::test]
async fn random_keeps_every_item() {
    let input = json!([{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]);
    let mut out = node_json(SORT, 1.0, json!({"type": "random"}), input).await;
    out.sort_by_key(|v| v["n"].as_i64());
    assert_eq!(
        out,
        vec![
            json!({"n": 1}),
            json!({"n": 2}),
            json!({"n": 3}),
            json!({"n": 4})
        ]
    );
}

#[test]
fn code_type_needs_the_code_node() {
    let workflow = common::single_node_workflow(SORT, 1.0, json!({"type": "code"}), json!([{}]));
    let err = sluice_engine::CompiledWorkflow::build(
        serde_json::from_value(workflow).unwrap(),
        &sluice_nodes::registry(),
    )
    .err()
    .expect("build fails");
    assert!(err.to_string().contains("needs the Code node"), "{err}");
}
