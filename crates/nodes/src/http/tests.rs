//! Unit tests of the parts that need no server: parameters of each typeVersion, response
//! formats, error shapes. Requests against a local server are in `tests/http_request.rs`.

use super::config::{HttpConfig, LimitScope, ResponseFormat};
use super::errors::Failure;
use super::response::{to_items, Reply};
use serde_json::json;
use sluice_engine::Param;
use sluice_model::NodeDef;

fn config(
    version: f64,
    parameters: serde_json::Value,
) -> Result<HttpConfig, sluice_engine::NodeError> {
    let def: NodeDef = serde_json::from_value(json!({
        "name": "HTTP", "type": "n8n-nodes-base.httpRequest", "typeVersion": version,
        "position": [0, 0], "parameters": parameters
    }))
    .unwrap();
    let params = Param::compile(&def.parameters, "");
    HttpConfig::build(&def, &params)
}

fn reply(content_type: Option<&str>, body: &[u8]) -> Reply {
    Reply {
        status: 200,
        headers: content_type
            .map(|ct| vec![("content-type".to_string(), ct.to_string())])
            .unwrap_or_default(),
        body: body.to_vec(),
        url: "https://example.com/files/report.pdf".into(),
    }
}

fn jsons(items: Vec<sluice_model::Item>) -> Vec<serde_json::Value> {
    items.into_iter().map(|i| i.json.to_value()).collect()
}

#[test]
fn every_version_reads_into_one_shape() {
    let v1 = config(
        1.0,
        json!({"url": "https://x", "responseFormat": "file", "dataPropertyName": "pdf"}),
    )
    .unwrap();
    assert_eq!(v1.method_path, "requestMethod");
    assert_eq!(v1.response.format, ResponseFormat::File);
    assert_eq!(v1.response.property.literal_str(), Some("pdf"));
    let v4 = config(
        4.2,
        json!({"url": "https://x", "options": {
            "response": {"response": {"responseFormat": "text", "fullResponse": true}},
            "maxConcurrency": 4,
            "rateLimit": {"requests": 10, "per": 1000, "scope": "host"},
            "retry": {"maxRetries": 2}
        }}),
    )
    .unwrap();
    assert_eq!(v4.response.format, ResponseFormat::Text);
    assert!(v4.response.full);
    assert_eq!(v4.max_concurrency, 4);
    assert_eq!(v4.rate_limit.unwrap().scope, LimitScope::Host);
    assert_eq!(v4.retry.unwrap().max_retries, 2);
    assert!(v4.follow_redirects);
    let default = config(4.4, json!({"url": "https://x"})).unwrap();
    assert_eq!(default.max_concurrency, 16);
    assert_eq!(default.response.format, ResponseFormat::Autodetect);
}

#[test]
fn bad_options_name_the_parameter() {
    let err = config(4.2, json!({"options": {"maxConcurrency": 0}})).unwrap_err();
    assert_eq!(err.parameter.as_deref(), Some("options.maxConcurrency"));
    let err = config(
        4.2,
        json!({"authentication": "genericCredentialType", "genericAuthType": "httpDigestAuth"}),
    )
    .unwrap_err();
    assert_eq!(err.parameter.as_deref(), Some("genericAuthType"));
    let err = config(4.2, json!({"options": {"rateLimit": {"requests": 0}}})).unwrap_err();
    assert_eq!(err.parameter.as_deref(), Some("options.rateLimit"));
    let err = config(
        4.2,
        json!({"options": {"response": {"response": {"outputPropertyName": 5}}}}),
    )
    .unwrap_err();
    assert_eq!(
        err.parameter.as_deref(),
        Some("options.response.response.outputPropertyName")
    );
}

#[test]
fn autodetect_reads_json_text_and_files() {
    let auto = config(4.2, json!({})).unwrap().response;
    let items = to_items(
        &auto,
        &reply(Some("application/json"), br#"[{"a":1},{"b":2}]"#),
        3,
        "data",
    )
    .unwrap();
    assert_eq!(jsons(items.clone()), vec![json!({"a": 1}), json!({"b": 2})]);
    assert_eq!(items[1].paired_item.first().unwrap().item, 3);
    let text = to_items(&auto, &reply(Some("text/plain"), b"hello"), 0, "data").unwrap();
    assert_eq!(jsons(text), vec![json!({"data": "hello"})]);
    let file = to_items(&auto, &reply(Some("application/pdf"), b"%PDF"), 0, "data").unwrap();
    let binary = file[0].binary.as_ref().unwrap();
    assert_eq!(
        serde_json::Value::Object((**binary).clone())["data"],
        json!({"data": "JVBERg==", "mimeType": "application/pdf", "fileType": "pdf",
               "fileExtension": "pdf", "fileName": "report.pdf", "fileSize": "4 B"})
    );
}

#[test]
fn text_is_decoded_by_its_charset_and_json_read_as_text_is_compact() {
    let text = config(
        4.2,
        json!({"options": {"response": {"response": {"responseFormat": "text"}}}}),
    )
    .unwrap()
    .response;
    let latin1 = to_items(
        &text,
        &reply(Some("text/plain; charset=\"latin1\""), b"caf\xe9"),
        0,
        "data",
    )
    .unwrap();
    assert_eq!(jsons(latin1), vec![json!({"data": "café"})]);
    let compact = to_items(
        &text,
        &reply(Some("application/json"), b"{ \"a\" : 1 }"),
        0,
        "data",
    )
    .unwrap();
    assert_eq!(jsons(compact), vec![json!({"data": "{\"a\":1}"})]);
}

#[test]
fn forced_json_on_html_is_n8ns_error() {
    let json_format = config(
        4.2,
        json!({"options": {"response": {"response": {"responseFormat": "json"}}}}),
    )
    .unwrap()
    .response;
    let failure = to_items(&json_format, &reply(None, b"<html></html>"), 0, "data").unwrap_err();
    assert_eq!(
        failure.error_value(),
        json!("Response body is not valid JSON. Change \"Response Format\" to \"Text\"")
    );
}

#[test]
fn full_response_and_status_errors_have_n8ns_shapes() {
    let full = config(
        4.2,
        json!({"options": {"response": {"response": {"fullResponse": true}}}}),
    )
    .unwrap()
    .response;
    let items = to_items(
        &full,
        &reply(Some("application/json"), br#"{"ok":true}"#),
        0,
        "data",
    )
    .unwrap();
    assert_eq!(
        jsons(items),
        vec![
            json!({"body": {"ok": true}, "headers": {"content-type": "application/json"},
                    "statusCode": 200, "statusMessage": "OK"})
        ]
    );
    let failure = Failure::status(404, "not here");
    assert_eq!(
        failure.error.message,
        "The resource you are requesting could not be found"
    );
    assert_eq!(failure.error.description.as_deref(), Some("not here"));
    let object = failure.error_value();
    assert_eq!(object["statusCode"], 404);
    assert_eq!(object["isAxiosError"], true);
    let too_many = Failure::status(429, "");
    assert_eq!(
        too_many.error.description.as_deref(),
        Some("Try spacing your requests out using the batching settings under 'Options'")
    );
}
