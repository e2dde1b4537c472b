//! Running code the way the Code node does, for the sandbox test files.

#![allow(dead_code)]

use serde_json::{json, Value};
use sluice_js::{run_code, CodeMode, CodeRequest, JsError, Limits};

pub fn payload(items: Value) -> String {
    json!({"items": items, "nodes": {}, "nodeNames": [], "workflow": {"id": "1", "name": "t", "active": false},
           "execution": {"id": "1", "mode": "test"}, "runIndex": 0, "prevNode": null, "vars": {},
           "now": "2025-01-01T00:00:00.000+00:00", "tz": "UTC", "params": {}}).to_string()
}

pub fn run(code: &str, mode: CodeMode, items: Value) -> Result<Vec<Value>, JsError> {
    run_with(code, mode, items, Limits::default())
}

pub fn run_with(
    code: &str,
    mode: CodeMode,
    items: Value,
    limits: Limits,
) -> Result<Vec<Value>, JsError> {
    run_code::<Value>(&CodeRequest {
        code,
        mode,
        payload: payload(items),
        limits,
        continue_on_fail: false,
    })
    .map(|o| o.items)
}
