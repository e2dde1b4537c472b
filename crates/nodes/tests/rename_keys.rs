//! Rename Keys: plain and nested renames, and regex renames with depth.

mod common;

use common::node_json;
use serde_json::json;

const RENAME: &str = "n8n-nodes-base.renameKeys";

fn keys(pairs: serde_json::Value) -> serde_json::Value {
    json!({"keys": {"key": pairs}, "additionalOptions": {}})
}

#[tokio::test]
async fn renames_plain_and_nested_keys() {
    let params = keys(json!([
        {"currentKey": "a", "newKey": "b"},
        {"currentKey": "=p.q", "newKey": "x.y"},
        {"currentKey": "missing", "newKey": "m"},
        {"currentKey": "c"}
    ]));
    let out = node_json(
        RENAME,
        1.0,
        params,
        json!([{"a": 1, "p": {"q": 2}, "c": 3}]),
    )
    .await;
    assert_eq!(out, vec![json!({"b": 1, "p": {}, "x": {"y": 2}, "c": 3})]);
}

#[tokio::test]
async fn regex_renames_respect_case_and_depth() {
    let params = json!({"additionalOptions": {"regexReplacement": {"replacements": [
        {"searchRegex": "^reg(\\w)", "replaceRegex": "new$1", "options": {"caseInsensitive": true, "depth": 0}}
    ]}}});
    let out = node_json(
        RENAME,
        1.0,
        params,
        json!([{"Regex": 1, "regal": {"regex": 2}}]),
    )
    .await;
    assert_eq!(out, vec![json!({"newex": 1, "newal": {"regex": 2}})]);
    let deep = json!({"additionalOptions": {"regexReplacement": {"replacements": [
        {"searchRegex": "x", "replaceRegex": "y"}
    ]}}});
    let out = node_json(RENAME, 1.0, deep, json!([{"x": {"xx": {"x": 1}}}])).await;
    assert_eq!(out, vec![json!({"y": {"yy": {"y": 1}}})]);
}
