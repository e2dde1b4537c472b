//! Webhook request decoding on any request: the path matched against a webhook with `:param`
//! segments, the query string, and a JSON, form, multipart, text, XML or raw body (chosen by the
//! first byte). An item or a 400 message, never a panic.
//!
//! Input: `<content type byte><path>\n<query>\n<header value>\n<body>`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use sluice_model::{JsonObject, NodeDef};
use sluice_nodes::trigger::webhook::WebhookConfig;
use std::sync::OnceLock;

const CONTENT_TYPES: [&str; 8] = [
    "application/json",
    "application/vnd.api+json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=X",
    "text/plain",
    "application/xml",
    "application/octet-stream",
    "",
];

fn config() -> &'static WebhookConfig {
    static CONFIG: OnceLock<WebhookConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let def: NodeDef = serde_json::from_value(json!({
            "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
            "position": [0, 0], "webhookId": "fuzz",
            "parameters": {"httpMethod": "POST", "path": "orders/:id/items/:item",
                           "options": {"rawBody": true}}}))
        .expect("node");
        WebhookConfig::from_node(&def).expect("webhook config")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(4, |&b| b == b'\n');
    let (Some(path), Some(query), Some(header), Some(body)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let path = String::from_utf8_lossy(path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut params = JsonObject::new();
    config().matches(&segments, &mut params);
    let uri = format!("/webhook/x?{}", String::from_utf8_lossy(query));
    let mut request = http::Request::builder().method("POST").header(
        "content-type",
        CONTENT_TYPES[kind as usize % CONTENT_TYPES.len()],
    );
    if let Ok(value) = http::HeaderValue::from_bytes(header) {
        request = request.header("x-fuzz", value);
    }
    let Ok(request) = request.uri(uri).body(body.to_vec()) else {
        return;
    };
    let _ = sluice_server::fuzzing::webhook_item(config(), &request, params);
});
