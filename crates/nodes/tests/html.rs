//! HTML v1-1.2: extracting content, templates and tables; the legacy HTML Extract v1.

mod common;

use common::*;
use serde_json::{json, Value};

const HTML: &str = "n8n-nodes-base.html";

const PAGE: &str = "<html><head><title>T</title></head><body>\
<h1>Title</h1><p class='intro'>Hello   <b>big</b>\n world</p>\
<ul><li>one</li><li>two</li></ul>\
<a href='https://x.test' id='link'>link</a>\
<select name='s'><option value='1'>One</option><option value='2' selected>Two</option></select>\
<textarea>typed</textarea></body></html>";

async fn extract(version: f64, values: Value, options: Value) -> Value {
    let params = json!({"operation": "extractHtmlContent", "extractionValues": {"values": values}, "options": options});
    node_json(HTML, version, params, json!({"data": PAGE}))
        .await
        .remove(0)
}

#[tokio::test]
async fn extracts_readable_text_in_v1_2() {
    let out = extract(
        1.2,
        json!([{"key": "all", "cssSelector": "html", "skipSelectors": "select, textarea"}]),
        json!({}),
    )
    .await;
    assert_eq!(
        out["all"],
        "TITLE\n\nHello big world\n\n * one\n * two\n\nlink [https://x.test]"
    );
    let out = extract(
        1.2,
        json!([{"key": "all", "cssSelector": "body", "skipSelectors": "ul, select, textarea"}]),
        json!({"cleanUpText": true}),
    )
    .await;
    assert_eq!(out["all"], "TITLEHello big worldlink [https://x.test]");
}

#[tokio::test]
async fn extracts_raw_text_in_older_versions() {
    let out = extract(
        1.0,
        json!([{"key": "items", "cssSelector": "li"}, {"key": "p", "cssSelector": "p"}]),
        json!({}),
    )
    .await;
    assert_eq!(out, json!({"items": "onetwo", "p": "Hello   big\n world"}));
    let out = extract(
        1.1,
        json!([{"key": "p", "cssSelector": "p"}]),
        json!({"cleanUpText": true}),
    )
    .await;
    assert_eq!(out["p"], "Hello big world");
}

#[tokio::test]
async fn returns_html_attributes_values_and_arrays() {
    let out = extract(
        1.2,
        json!([
            {"key": "html", "cssSelector": "p", "returnValue": "html"},
            {"key": "href", "cssSelector": "a", "returnValue": "attribute", "attribute": "href"},
            {"key": "attrs", "cssSelector": "a", "returnValue": "attribute"},
            {"key": "missing", "cssSelector": "a", "returnValue": "attribute", "attribute": "title"},
            {"key": "select", "cssSelector": "select", "returnValue": "value"},
            {"key": "textarea", "cssSelector": "textarea", "returnValue": "value"},
            {"key": "list", "cssSelector": "li", "returnArray": true},
            {"key": "none", "cssSelector": "table"}
        ]),
        json!({"trimValues": true}),
    )
    .await;
    assert_eq!(
        out,
        json!({
            "html": "Hello   <b>big</b>\n world",
            "href": "https://x.test",
            "attrs": {"href": "https://x.test", "id": "link"},
            "select": "2",
            "textarea": "typed",
            "list": ["one", "two"],
            "none": ""
        })
    );
}

/// One item with `<h1>Hi</h1>` in binary property `property`, through `node_type` with `params`.
async fn extract_from_binary(
    node_type: &str,
    version: f64,
    params: Value,
    property: &str,
) -> Value {
    let workflow = json!({
        "nodes": [
            {"name": "Trigger", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {}},
            {"name": "Node", "type": node_type, "typeVersion": version, "position": [200, 0],
             "parameters": params}
        ],
        "connections": {"Trigger": {"main": [[{"node": "Node", "type": "main", "index": 0}]]}}
    });
    let workflow: sluice_model::Workflow = serde_json::from_value(workflow).unwrap();
    let compiled =
        sluice_engine::CompiledWorkflow::build(workflow, &sluice_nodes::registry()).unwrap();
    let item: sluice_model::Item = serde_json::from_value(json!({
        "json": {}, "binary": {property: {"data": "PGgxPkhpPC9oMT4=", "mimeType": "text/html"}}
    }))
    .unwrap();
    let outcome = compiled
        .run(sluice_engine::ExecutionOptions {
            clock: test_clock(),
            trigger_items: Some(vec![item]),
            ..Default::default()
        })
        .await
        .unwrap();
    output(&outcome, "Node")[0]["json"].clone()
}

#[tokio::test]
async fn reads_html_from_binary_data() {
    let params = json!({"operation": "extractHtmlContent", "sourceData": "binary",
        "extractionValues": {"values": [{"key": "h", "cssSelector": "h1"}]}});
    let out = extract_from_binary(HTML, 1.2, params, "data").await;
    assert_eq!(out, json!({"h": "HI"}));
}

const HTML_EXTRACT: &str = "n8n-nodes-base.htmlExtract";

#[tokio::test]
async fn legacy_html_extract_takes_the_html_nodes_v1_extraction_parameters() {
    let params = json!({"extractionValues": {"values": [
        {"key": "items", "cssSelector": "li"},
        {"key": "list", "cssSelector": "li", "returnArray": true},
        {"key": "href", "cssSelector": "#link", "returnValue": "attribute", "attribute": "href"},
        {"key": "p", "cssSelector": "p", "returnValue": "html"},
        {"key": "choice", "cssSelector": "select", "returnValue": "value"},
    ]}, "options": {"trimValues": true}});
    let out = node_json(HTML_EXTRACT, 1.0, params, json!({"data": PAGE})).await;
    assert_eq!(
        out[0],
        json!({"items": "onetwo", "list": ["one", "two"], "href": "https://x.test",
               "p": "Hello   <b>big</b>\n world", "choice": "2"})
    );
    // From a binary property, named by `dataPropertyName` as in n8n's HTML Extract.
    let params = json!({"sourceData": "binary", "dataPropertyName": "page",
        "extractionValues": {"values": [{"key": "h", "cssSelector": "h1"}]}});
    let out = extract_from_binary(HTML_EXTRACT, 1.0, params, "page").await;
    assert_eq!(out, json!({"h": "Hi"}));
    let error = node_error(
        HTML_EXTRACT,
        1.0,
        json!({"dataPropertyName": "body", "extractionValues": {"values": [{"key": "k", "cssSelector": "p"}]}}),
        json!({"data": PAGE}),
    )
    .await;
    assert!(
        error.contains("No property named 'body' exists!"),
        "{error}"
    );
}

#[tokio::test]
async fn bad_selector_is_a_build_error() {
    let params = json!({"operation": "extractHtmlContent", "extractionValues": {"values": [{"key": "k", "cssSelector": "p[["}]}});
    let workflow = single_node_workflow(HTML, 1.2, params, json!({}));
    let workflow: sluice_model::Workflow = serde_json::from_value(workflow).unwrap();
    let error = sluice_engine::CompiledWorkflow::build(workflow, &sluice_nodes::registry())
        .err()
        .expect("invalid selector")
        .to_string();
    assert!(error.contains("invalid CSS selector 'p[['"), "{error}");
}

#[tokio::test]
async fn generates_templates_and_tables() {
    let out = node_json(
        HTML,
        1.2,
        json!({"html": "<p>fixed</p>"}),
        json!([{"a": 1}, {"a": 2}]),
    )
    .await;
    assert_eq!(
        out,
        vec![
            json!({"html": "<p>fixed</p>"}),
            json!({"html": "<p>fixed</p>"})
        ]
    );
    let out = node_json(
        HTML,
        1.2,
        json!({"operation": "convertToHtmlTable", "options": {"capitalize": true, "caption": "Rows", "tableAttributes": "class=\"t\""}}),
        json!([{"name": "a<b", "n": 1}, {"name": "c", "n": {"x": 1}}]),
    )
    .await;
    assert_eq!(
        out,
        vec![
            json!({"table": "<table class=\"t\"><caption>Rows</caption><thead><tr><th>Name</th><th>N</th></tr></thead><tbody><tr><td>a&lt;b</td><td>1</td></tr><tr><td>c</td><td>{&quot;x&quot;:1}</td></tr></tbody></table>"})
        ]
    );
}
