//! The Code node's Python (`language` `python` and `pythonNative`), run by the machine's
//! `python3` through `SLUICE_CODE_PYTHON`: n8n's variables both ways of reading, top-level
//! `return` and `await`, print as logs, errors with their line and item, and the time limit
//! killing the process with what it started.

mod common;

use common::{node_error, node_json, run_node};
use serde_json::{json, Value};
use sluice_engine::RunOutcome;
use std::sync::Once;

const CODE: &str = "n8n-nodes-base.code";

/// Every test of this file runs Python with `python3` and a 3 s limit (set once, before any
/// node is built).
fn python_on() {
    static SETTINGS: Once = Once::new();
    SETTINGS.call_once(|| {
        std::env::set_var("SLUICE_CODE_PYTHON", "python3");
        std::env::set_var("SLUICE_CODE_TIMEOUT_SECS", "3");
    });
}

fn python(language: &str, mode: &str, code: &str) -> Value {
    python_on();
    json!({"language": language, "mode": mode, "pythonCode": code})
}

fn orders() -> Value {
    json!([{"id": 1, "amount": 2}, {"id": 2, "amount": 5}, {"id": 3, "amount": 7}])
}

/// The Code node running `code` in `language` and `mode` on [`orders`].
async fn run_python(language: &str, mode: &str, code: &str) -> RunOutcome {
    run_node(CODE, 2.0, python(language, mode, code), orders()).await
}

/// The JSON of the node's items for `code`; the run must succeed.
async fn json_of(language: &str, mode: &str, code: &str) -> Vec<Value> {
    node_json(CODE, 2.0, python(language, mode, code), orders()).await
}

/// The node's error for `code` run in `mode` on [`orders`].
async fn error_of(mode: &str, code: &str) -> String {
    node_error(CODE, 2.0, python("python", mode, code), orders()).await
}

#[tokio::test]
async fn all_items_read_as_pyodide_and_native_return_dicts_with_or_without_json() {
    let code = "out = []\n\
                for item in _input.all():\n    \
                    out.append({'json': {'id': item.json.id, 'double': item['json']['amount'] * 2}})\n\
                total = sum(i.json.amount for i in _items)\n\
                out.append({'total': total, 'first': _input.first().json.to_py()['id'], 'last': _input.last()['json']['id']})\n\
                return out";
    let out = json_of("python", "runOnceForAllItems", code).await;
    assert_eq!(
        out,
        vec![
            json!({"id": 1, "double": 4}),
            json!({"id": 2, "double": 10}),
            json!({"id": 3, "double": 14}),
            json!({"total": 14, "first": 1, "last": 3}),
        ]
    );
}

#[tokio::test]
async fn each_item_runs_per_item_and_a_run_returning_none_gives_no_item() {
    let code = "_item['json']['seen'] = _itemIndex\n\
                if _json['id'] == 2:\n    return None\n\
                _input.item.json.amount += 100\n\
                return _item";
    let outcome = run_python("pythonNative", "runOnceForEachItem", code).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let runs = outcome.run_data.runs("Node");
    let items = runs[0].output(0);
    let json: Vec<Value> = items
        .iter()
        .map(|item| Value::from((*item.json).clone()))
        .collect();
    assert_eq!(
        json,
        vec![
            json!({"id": 1, "amount": 102, "seen": 0}),
            json!({"id": 3, "amount": 107, "seen": 2}),
        ]
    );
    let paired: Vec<usize> = items
        .iter()
        .map(|item| item.paired_item.iter().next().expect("paired").item)
        .collect();
    assert_eq!(
        paired,
        [0, 2],
        "each item pairs with the input item it came from"
    );
}

#[tokio::test]
async fn top_level_await_imports_other_nodes_and_prints() {
    let code = "import asyncio\n\
                await asyncio.sleep(0)\n\
                print('checked', len(_items), 'items in run', _runIndex, 'of', _workflow.name, _execution['mode'])\n\
                return {'json': {'from_input_node': _('Input').first().json.id, 'count': len(_('Input').all()), 'second': _('Input').itemMatching(1).json.id}}";
    let outcome = run_python("python", "runOnceForAllItems", code).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(
        common::output(&outcome, "Node"),
        vec![json!({"json": {"from_input_node": 1, "count": 3, "second": 2}})]
    );
    assert_eq!(
        outcome.logs,
        vec![(
            "Node".to_string(),
            "checked 3 items in run 0 of  test".to_string()
        )]
    );
}

#[tokio::test]
async fn values_json_cannot_hold_come_out_as_json_stringify_would_have_them() {
    let code = "import datetime\n\
                return {'nan': float('nan'), 'inf': float('inf'), 'set': {1}, 'tuple': (1, 2),\n\
                        'day': datetime.date(2026, 12, 8)}";
    let out = json_of("pythonNative", "runOnceForAllItems", code).await;
    assert_eq!(
        out,
        vec![json!({"nan": null, "inf": null, "set": [1], "tuple": [1, 2], "day": "2026-12-08"})]
    );
}

#[tokio::test]
async fn errors_name_the_exception_line_and_item() {
    let all = "runOnceForAllItems";
    let error = error_of(all, "x = 1\nraise ValueError('odd value %d' % x)").await;
    assert_eq!(error, "ValueError: odd value 1 [line 2]");
    let code = "if _json['id'] == 2:\n    return _json['missing']\nreturn _item";
    let error = error_of("runOnceForEachItem", code).await;
    assert_eq!(error, "KeyError: 'missing' [line 2, for item 1]");
    let error = error_of(all, "x = [1,\nreturn x").await;
    assert!(error.starts_with("SyntaxError: "), "{error}");
    let error = error_of(all, "return 'text'").await;
    assert!(
        error.contains("the code returned a str where items go"),
        "{error}"
    );
}

#[tokio::test]
async fn the_time_limit_kills_the_code_and_what_it_started() {
    let marker = format!("{}.25", 30 + std::process::id() % 1000);
    let code = format!(
        "import subprocess, time\n\
         subprocess.Popen(['sleep', '{marker}'])\n\
         time.sleep(30)\n\
         return []"
    );
    let started = std::time::Instant::now();
    let error = error_of("runOnceForAllItems", &code).await;
    assert_eq!(
        error,
        "Code ran longer than the limit of 3 s and was stopped"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let left = std::process::Command::new("pgrep")
        .args(["-f", &format!("sleep {marker}")])
        .output()
        .expect("pgrep");
    assert!(
        left.stdout.is_empty(),
        "the code's child process was left running: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}
