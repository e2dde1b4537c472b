//! Code runs, returns items in n8n's accepted shapes, reports errors with lines, and is sandboxed.

mod common;

use common::{payload, run, run_with};
use serde_json::{json, Value};
use sluice_js::{run_code, CodeMode, CodeRequest, ExpressionValue, JsError, Limits, Rendering};
use std::time::Duration;

#[test]
fn all_items_mode_accepts_n8n_return_shapes() {
    let items = json!([{"json": {"a": 1}}, {"json": {"a": 2}}]);
    let wrapped = run(
        "return $input.all().map(i => ({json: {b: i.json.a * 2}}));",
        CodeMode::AllItems,
        items.clone(),
    )
    .unwrap();
    assert_eq!(
        wrapped,
        vec![json!({"json": {"b": 2}}), json!({"json": {"b": 4}})]
    );
    let plain = run(
        "return items.map(i => ({b: i.json.a}));",
        CodeMode::AllItems,
        items.clone(),
    )
    .unwrap();
    assert_eq!(plain[1], json!({"json": {"b": 2}}));
    let single = run(
        "return {count: $input.all().length};",
        CodeMode::AllItems,
        items,
    )
    .unwrap();
    assert_eq!(single, vec![json!({"json": {"count": 2}})]);
}

#[test]
fn each_item_mode_sees_json_and_pairs_items() {
    let items = json!([{"json": {"a": 1}}, {"json": {"a": 2}}]);
    let out = run(
        "$json.b = $json.a + $itemIndex; return $json;",
        CodeMode::EachItem,
        items,
    )
    .unwrap();
    assert_eq!(
        out[1],
        json!({"json": {"a": 2, "b": 3}, "pairedItem": {"item": 1}})
    );
}

#[test]
fn await_and_luxon_work() {
    let out = run(
        "const { DateTime } = require('luxon');\nconst d = await Promise.resolve(DateTime.fromISO('2024-03-01T10:00:00Z', {zone: 'utc'}));\nreturn {iso: d.plus({days: 1}).toISODate(), now: $now.toISO()};",
        CodeMode::AllItems,
        json!([{"json": {}}]),
    )
    .unwrap();
    assert_eq!(out[0]["json"]["iso"], "2024-03-02");
    assert_eq!(out[0]["json"]["now"], "2025-01-01T00:00:00.000Z");
}

#[test]
fn errors_carry_the_user_line_and_item() {
    let err = run(
        "const x = 1;\nthrow new Error('odd value ' + x);",
        CodeMode::AllItems,
        json!([{"json": {}}]),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "odd value 1 [line 2]");
    let err = run(
        "if ($itemIndex === 1) {\n  throw new Error('bad');\n}\nreturn $json;",
        CodeMode::EachItem,
        json!([{"json": {}}, {"json": {}}]),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "bad [line 2, for item 1]");
    let err = run("return [1, 2];", CodeMode::AllItems, json!([])).unwrap_err();
    assert!(
        err.to_string()
            .contains("Code doesn't return items properly"),
        "{err}"
    );
    let err = run("return {{", CodeMode::AllItems, json!([])).unwrap_err();
    assert!(matches!(err, JsError::Thrown { .. }), "{err}");
}

#[test]
fn an_endless_loop_is_stopped_by_the_cpu_limit() {
    let limits = Limits {
        cpu_time: Duration::from_millis(200),
        ..Limits::default()
    };
    let err = run_with("while (true) {}", CodeMode::AllItems, json!([]), limits).unwrap_err();
    assert!(matches!(err, JsError::Timeout(_)), "{err}");
    // The next run on this thread gets a fresh runtime.
    assert_eq!(
        run("return {ok: true};", CodeMode::AllItems, json!([]))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_huge_allocation_is_stopped_by_the_memory_limit() {
    let limits = Limits {
        memory_bytes: 32 * 1024 * 1024,
        ..Limits::default()
    };
    let err = run_with(
        "const a = []; while (true) { a.push('x'.repeat(1000)); }",
        CodeMode::AllItems,
        json!([]),
        limits,
    )
    .unwrap_err();
    assert!(matches!(err, JsError::OutOfMemory(32)), "{err}");
}

#[test]
fn no_file_system_network_or_process() {
    let err = run("require('fs');", CodeMode::AllItems, json!([])).unwrap_err();
    assert!(
        err.to_string().contains("Module 'fs' is disallowed"),
        "{err}"
    );
    let out = run(
        "return {p: typeof process, f: typeof fetch, s: typeof std, o: typeof os};",
        CodeMode::AllItems,
        json!([]),
    )
    .unwrap();
    assert_eq!(
        out[0]["json"],
        json!({"p": "undefined", "f": "undefined", "s": "undefined", "o": "undefined"})
    );
}

#[test]
fn console_log_is_captured() {
    let out = run_code(CodeRequest {
        code: "console.log('hello', {a: 1}); return [];",
        mode: CodeMode::AllItems,
        payload: payload(json!([])),
        limits: Limits::default(),
        continue_on_fail: false,
    })
    .unwrap();
    assert_eq!(out.logs, vec!["hello {\"a\":1}"]);
}

#[test]
fn per_item_errors_become_error_items_when_continuing() {
    let out = run_code(CodeRequest {
        code: "if ($json.bad) {\n  throw new Error('no');\n}\nreturn $json;",
        mode: CodeMode::EachItem,
        payload: payload(json!([{"json": {"bad": false}}, {"json": {"bad": true}}])),
        limits: Limits::default(),
        continue_on_fail: true,
    })
    .unwrap();
    assert_eq!(
        serde_json::to_value(&out.items[1]).unwrap(),
        json!({"json": {"error": "no [line 2]"}, "pairedItem": {"item": 1}})
    );
}

#[test]
fn expressions_evaluate_per_item_with_n8n_type_error_rule() {
    let items = json!([{"json": {"amount": 150, "tags": ["a", "b"]}}, {"json": {"amount": 5}}]);
    let eval = |src: &str, i: usize| {
        sluice_js::eval_expression(
            src,
            payload(items.clone()),
            i,
            Rendering::Value,
            Limits::default(),
        )
        .unwrap()
    };
    let json = |v: Value| ExpressionValue::Json(v);
    assert_eq!(eval("$json.amount > 100", 0), json(json!(true)));
    assert_eq!(eval("$json.amount > 100", 1), json(json!(false)));
    assert_eq!(eval("$input.all().length + $itemIndex", 1), json(json!(3)));
    assert_eq!(
        eval("$json.tags.map(t => t.toUpperCase())", 0),
        json(json!(["A", "B"]))
    );
    assert_eq!(eval("1 / 0", 0), ExpressionValue::NonFinite(f64::INFINITY));
    assert_eq!(eval("[1 / 0, undefined]", 0), json(json!([null, null])));
    // A TypeError in member access is undefined, not an error.
    assert_eq!(eval("$json.missing.deep", 0), ExpressionValue::Undefined);
    let err = sluice_js::eval_expression(
        "(() => { throw new Error('x') })()",
        payload(items),
        0,
        Rendering::Value,
        Limits::default(),
    );
    assert!(err.is_err());
}

#[test]
fn chunks_in_text_render_as_javascript_string_does() {
    let items = json!([{"json": {"tags": ["a", "b"]}}]);
    let text = |src: &str| {
        sluice_js::eval_expression(
            src,
            payload(items.clone()),
            0,
            Rendering::Text,
            Limits::default(),
        )
        .unwrap()
    };
    let string = |s: &str| ExpressionValue::Json(json!(s));
    assert_eq!(text("/ 0 =}} /"), string("/ 0 =}} /"));
    assert_eq!(text("$json.tags"), string("a,b"));
    assert_eq!(text("({})"), string("[object Object]"));
    assert_eq!(text("({ toString: () => 'own' })"), string("own"));
    assert_eq!(text("new Map()"), string("[object Map]"));
    assert_eq!(text("0 / 0"), string("NaN"));
    for nothing in ["null", "undefined", "$json.missing.deep", "() => 1"] {
        assert_eq!(text(nothing), ExpressionValue::Undefined, "{nothing}");
    }
}

#[test]
fn returned_values_follow_json_stringify() {
    let out = run(
        "return [{json: {gone: undefined, f() {}, nan: NaN, at: new Date(0), \
          when: DateTime.fromISO('2024-01-02T03:04:05Z', {zone: 'utc'}), list: [undefined], \
          big: 2 ** 53, '日本': 1}}];",
        CodeMode::AllItems,
        json!([]),
    )
    .unwrap();
    assert_eq!(
        out[0]["json"],
        json!({"nan": null, "at": "1970-01-01T00:00:00.000Z", "when": "2024-01-02T03:04:05.000Z",
               "list": [null], "big": 9_007_199_254_740_992_i64, "日本": 1})
    );
}

#[test]
fn circular_and_too_deep_outputs_are_clear_errors() {
    let err = run(
        "const o = {}; o.self = o; return [{json: o}];",
        CodeMode::AllItems,
        json!([]),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("circular structure to JSON: property 'self'"),
        "{err}"
    );
    let err = run(
        "let o = {}; for (let i = 0; i < 1000; i++) o = {o}; return [{json: o}];",
        CodeMode::AllItems,
        json!([]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("nests deeper than"), "{err}");
}

#[test]
fn input_items_are_converted_only_when_read() {
    // An input item too deep to reach JavaScript fails only the code that reads it.
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!({ "d": deep });
    }
    let items = json!([{"json": {"a": 1}}, {"json": deep}]);
    let out = run(
        "return [{json: {n: 1}}];",
        CodeMode::AllItems,
        items.clone(),
    )
    .unwrap();
    assert_eq!(out[0]["json"], json!({"n": 1}));
    let out = run(
        "return [{json: $input.first().json}];",
        CodeMode::AllItems,
        items.clone(),
    )
    .unwrap();
    assert_eq!(out[0]["json"], json!({"a": 1}));
    let err = run("return $input.all();", CodeMode::AllItems, items).unwrap_err();
    assert!(err.to_string().contains("nests deeper than"), "{err}");
}

#[test]
fn input_items_keep_their_identity_within_a_run() {
    let out = run(
        "$input.first().json.seen = true; \
         return [{json: {same: $input.all()[0] === items[0] && $input.last() === items[1], \
                         seen: $input.all()[0].json.seen}}];",
        CodeMode::AllItems,
        json!([{"json": {"a": 1}}, {"json": {"a": 2}}]),
    )
    .unwrap();
    assert_eq!(out[0]["json"], json!({"same": true, "seen": true}));
}

#[test]
fn a_thread_keeps_its_runtime_across_runs_until_one_leaves_a_global_behind() {
    // Each test runs on its own thread: the first run builds this thread's runtime.
    run("return [];", CodeMode::AllItems, json!([])).unwrap();
    let built = sluice_js::engines_built();
    for i in 0..20 {
        let mode = if i % 2 == 0 {
            CodeMode::AllItems
        } else {
            CodeMode::EachItem
        };
        let out = run(
            "globalThis.scratch = 1; return {json: {n: $input.first().json.n + 1}};",
            mode,
            json!([{"json": {"n": i}}]),
        )
        .unwrap();
        assert_eq!(out[0]["json"]["n"], json!(i + 1));
    }
    assert_eq!(
        sluice_js::engines_built(),
        built,
        "runs that leave only removable globals reuse the runtime"
    );
    run(
        "Object.defineProperty(globalThis, 'stuck', {value: 1, configurable: false}); return [];",
        CodeMode::AllItems,
        json!([]),
    )
    .unwrap();
    let out = run(
        "return [{json: {stuck: typeof stuck}}];",
        CodeMode::AllItems,
        json!([]),
    )
    .unwrap();
    assert_eq!(out[0]["json"]["stuck"], "undefined", "a fresh runtime");
    assert_eq!(sluice_js::engines_built(), built + 1);
}
