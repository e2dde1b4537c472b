//! Running code the way the Code node does, for the sandbox test files.

#![allow(dead_code)]

use serde_json::{json, Value};
use sluice_js::{run_code, CodeMode, CodeRequest, JsError, Limits, Payload, PayloadItem};
use std::sync::Arc;

/// A payload over `items` (a JSON array of `{json, binary?}`).
pub fn payload(items: Value) -> Payload {
    let items = items
        .as_array()
        .expect("items are an array")
        .iter()
        .map(|item| PayloadItem {
            json: Arc::new(item["json"].as_object().cloned().unwrap_or_default().into()),
            binary: item
                .get("binary")
                .and_then(Value::as_object)
                .cloned()
                .map(Arc::new),
        })
        .collect();
    let metadata = json!({"workflow": {"id": "1", "name": "t", "active": false},
        "execution": {"id": "1", "mode": "test"}, "runIndex": 0, "prevNode": null, "vars": {},
        "now": "2025-01-01T00:00:00.000+00:00", "tz": "UTC", "params": {}, "itemIsJson": false});
    Payload {
        items,
        metadata: metadata.as_object().cloned().expect("an object"),
        ..Payload::default()
    }
}

pub fn run(code: &str, mode: CodeMode, items: Value) -> Result<Vec<Value>, JsError> {
    run_with(code, mode, items, Limits::default())
}

/// The items `code` returns, as JSON (`{json, binary?, pairedItem?}`).
pub fn run_with(
    code: &str,
    mode: CodeMode,
    items: Value,
    limits: Limits,
) -> Result<Vec<Value>, JsError> {
    run_code(CodeRequest {
        code,
        mode,
        payload: payload(items),
        limits,
        continue_on_fail: false,
    })
    .map(|o| {
        o.items
            .iter()
            .map(|item| serde_json::to_value(item).expect("items serialise"))
            .collect()
    })
}
