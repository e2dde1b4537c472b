//! XML v1: JSON to XML and back, with xml2js's options.

mod common;

use common::*;
use serde_json::{json, Value};

const XML: &str = "n8n-nodes-base.xml";

async fn to_xml(options: Value, input: Value) -> String {
    let out = node_json(
        XML,
        1.0,
        json!({"mode": "jsonToxml", "options": options}),
        input,
    )
    .await;
    out[0]["data"].as_str().unwrap().to_string()
}

async fn to_json(options: Value, xml: &str) -> Value {
    node_json(
        XML,
        1.0,
        json!({"options": options}),
        json!({"data": xml, "other": 1}),
    )
    .await
    .remove(0)
}

#[tokio::test]
async fn single_key_names_the_root() {
    let xml = to_xml(json!({}), json!({"data": {"id": 1, "name": "Adam"}})).await;
    assert_eq!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<data>\n  <id>1</id>\n  <name>Adam</name>\n</data>"
    );
}

#[tokio::test]
async fn builder_options() {
    let input =
        json!({"a": 1, "b": {"$": {"x": "y\""}, "_": "t & u"}, "list": [1, 2], "empty": null});
    let xml = to_xml(json!({"headless": true}), input.clone()).await;
    assert_eq!(
        xml,
        "<root>\n  <a>1</a>\n  <b x=\"y&quot;\">t &amp; u</b>\n  <list>1</list>\n  <list>2</list>\n  <empty/>\n</root>"
    );
    let xml = to_xml(
        json!({"headless": true, "rootName": "doc", "cdata": true}),
        json!({"b": "1 < 2"}),
    )
    .await;
    assert_eq!(xml, "<doc>\n  <b><![CDATA[1 < 2]]></b>\n</doc>");
    let xml = to_xml(
        json!({"headless": true, "attrkey": "@", "charkey": "#"}),
        json!({"e": {"@": {"k": 1}, "#": "v", "c": true}}),
    )
    .await;
    assert_eq!(xml, "<e k=\"1\">\n  v\n  <c>true</c>\n</e>");
}

#[tokio::test]
async fn parses_with_default_options() {
    let xml = "<?xml version=\"1.0\"?> <data> <id>1</id> <tag a=\"x\">text</tag> <item>1</item><item>2</item> <empty/> </data>";
    assert_eq!(
        to_json(json!({}), xml).await,
        json!({"data": {"id": "1", "tag": {"_": "text", "a": "x"}, "item": ["1", "2"], "empty": ""}})
    );
}

#[tokio::test]
async fn parser_options() {
    let xml = "<Root><Tag a=\"x\">  some   text  </Tag></Root>";
    assert_eq!(
        to_json(json!({"explicitRoot": false, "mergeAttrs": false, "normalize": true, "normalizeTags": true}), xml).await,
        json!({"tag": {"_": "some text", "$": {"a": "x"}}})
    );
    assert_eq!(
        to_json(
            json!({"explicitArray": true, "ignoreAttrs": true, "trim": true}),
            xml
        )
        .await,
        json!({"Root": {"Tag": ["some   text"]}})
    );
    assert_eq!(
        to_json(
            json!({"attrkey": "@", "charkey": "#", "mergeAttrs": false}),
            "<r k=\"1\">t<![CDATA[<b>]]></r>"
        )
        .await,
        json!({"r": {"#": "t<b>", "@": {"k": "1"}}})
    );
}

#[tokio::test]
async fn round_trip_keeps_values_as_strings() {
    let xml = to_xml(json!({}), json!({"a": {"b": {"c": 1}}})).await;
    assert_eq!(
        to_json(json!({}), &xml).await,
        json!({"a": {"b": {"c": "1"}}})
    );
}

#[tokio::test]
async fn errors_name_the_problem() {
    let error = node_error(XML, 1.0, json!({}), json!({"other": 1})).await;
    assert!(error.contains("'data'"), "{error}");
    let error = node_error(XML, 1.0, json!({}), json!({"data": "<a><b></a>"})).await;
    assert!(error.contains("invalid XML"), "{error}");
}
