//! Hostile Code-node code: escapes (prototype pollution, replaced built-ins, hijacked prelude
//! functions, `constructor.constructor`, `import()`, `require`) and exhaustion (recursion, endless
//! loops and promise chains, huge strings and arrays, catastrophic regexes, timers). Each attempt
//! is a clear error or harmless, and the next run on the same thread (the same QuickJS runtime,
//! which serves every execution on it) runs normally and sees nothing of it.

mod common;

use common::{run, run_with};
use serde_json::{json, Value};
use sluice_js::{CodeMode, JsError, Limits};
use std::time::Duration;

fn quick() -> Limits {
    Limits {
        memory_bytes: 64 * 1024 * 1024,
        cpu_time: Duration::from_millis(500),
    }
}

/// The error `code` stops with (under [`quick`] limits).
fn error_of(code: &str) -> JsError {
    match run_with(code, CodeMode::AllItems, json!([]), quick()) {
        Ok(items) => panic!("`{code}` was not stopped: {items:?}"),
        Err(e) => e,
    }
}

fn output_of(code: &str) -> Value {
    let items = run(
        code,
        CodeMode::AllItems,
        json!([{"json": {"a": 1}}, {"json": {"a": 2}}]),
    )
    .unwrap_or_else(|e| panic!("`{code}`: {e}"));
    items[0]["json"].clone()
}

/// What an innocent run sees of the built-ins and globals.
const PROBE: &str = r#"return {json: {
    polluted: ({}).polluted === undefined && [].polluted === undefined && ''.polluted === undefined,
    push: [1].push(2), trim: ' a '.trim(), text: String({}), json: JSON.stringify({b: 1}),
    parse: JSON.parse('{"c":2}').c, keys: Object.keys({d: 1}).length, max: Math.max(1, 3),
    leak: typeof leak, leak2: typeof globalThis.leak2, items: $input.all().length,
    date: DateTime.fromISO('2024-01-02').toISODate()}};"#;

fn assert_innocent() {
    assert_eq!(
        output_of(PROBE),
        json!({"polluted": true, "push": 2, "trim": "a", "text": "[object Object]",
               "json": "{\"b\":1}", "parse": 2, "keys": 1, "max": 3, "leak": "undefined",
               "leak2": "undefined", "items": 2, "date": "2024-01-02"})
    );
}

#[test]
fn prototype_pollution_and_replaced_builtins_do_not_reach_the_next_run() {
    assert_innocent();
    // Sloppy code: the writes are ignored, even within the run itself.
    let own = output_of(
        r#"Object.prototype.polluted = 1; Array.prototype.polluted = 1; String.prototype.polluted = 1;
        Array.prototype.push = function () { return -1; }; String.prototype.trim = () => 'x';
        Function.prototype.call = null; JSON.stringify = () => '{}';
        JSON.parse = () => ({c: 'forged'}); Object.keys = () => []; Math.max = () => -1;
        $input.all()[0].json.__proto__.polluted = 1; items[0].constructor.prototype.polluted = 1;
        Object.getPrototypeOf(async function () {}).polluted = 1;
        DateTime.prototype.toISODate = () => 'forged'; DateTime = null; JSON = null;
        leak = 'secret'; globalThis.leak2 = 'secret';
        return {json: {polluted: ({}).polluted === undefined, push: [1].push(2), leak: leak}};"#,
    );
    assert_eq!(own, json!({"polluted": true, "push": 2, "leak": "secret"}));
    assert_innocent();
    // The names objects may override on themselves are accessors that refuse the prototype.
    let err = error_of("Object.prototype.toString = () => 'hacked'; return [];");
    assert!(
        err.to_string()
            .contains("Cannot assign to read only property 'toString'"),
        "{err}"
    );
    assert_innocent();
    // Strict code is told.
    let err =
        error_of("(function () { 'use strict'; Object.prototype.polluted = 1; })(); return [];");
    assert!(matches!(err, JsError::Thrown { .. }), "{err}");
    assert!(err.to_string().contains("not extensible"), "{err}");
    assert_innocent();
    // Globals made unremovable, or the prelude's entry points replaced.
    let _ = run(
        "Object.defineProperty(globalThis, 'leak', {value: 'secret', configurable: false}); return [];",
        CodeMode::AllItems,
        json!([]),
    );
    run(
        r#"globalThis.__sluiceRun = async () => '{"items":[{"json":{"hijacked":true}}],"logs":[]}';
        globalThis.__sluiceEval = () => '"hijacked"'; globalThis.__sluiceReset = () => true;
        return [];"#,
        CodeMode::AllItems,
        json!([]),
    )
    .unwrap();
    assert_innocent();
}

#[test]
fn pollution_through_one_item_does_not_reach_the_next_item() {
    let out = run(
        "if ($itemIndex === 0) { $json.constructor.prototype.flag = 'set'; shared = 'item 0'; }
         return {json: {flag: ({}).flag === undefined, shared: typeof shared}};",
        CodeMode::EachItem,
        json!([{"json": {}}, {"json": {}}]),
    )
    .unwrap();
    assert_eq!(out[0]["json"], json!({"flag": true, "shared": "string"}));
    // Globals live for the run (n8n's sloppy code relies on them), not for the next.
    assert_eq!(out[1]["json"], json!({"flag": true, "shared": "string"}));
    assert_innocent();
}

#[test]
fn objects_of_the_code_still_override_inherited_names() {
    let out = output_of(
        r#"class Failure extends Error { constructor(m) { super(m); this.name = 'Failure'; } }
        const o = {}; o.toString = () => 'mine'; o.constructor = 'c'; o.valueOf = () => 41;
        function Old() {} Old.prototype.constructor = Old; const e = new Error('x'); e.message = 'y';
        return {json: {name: new Failure('m').name, text: String(o), c: o.constructor,
                       n: o + 1, old: new Old().constructor === Old, message: e.message,
                       copy: Object.assign({}, {toString: 1, constructor: 2})}};"#,
    );
    assert_eq!(
        out,
        json!({"name": "Failure", "text": "mine", "c": "c", "n": 42, "old": true,
               "message": "y", "copy": {"toString": 1, "constructor": 2}})
    );
}

#[test]
fn the_function_constructor_reaches_no_process() {
    let out = output_of(
        r#"const F = (() => {}).constructor;
        return {json: {
            process: F('return typeof process')(), require: typeof F('return this')().require,
            viaThis: this === undefined ? 'undefined' : this.constructor.constructor('return typeof process')(),
            std: F('return typeof std')(), os: F('return typeof os')()}};"#,
    );
    assert_eq!(
        out,
        json!({"process": "undefined", "require": "undefined", "viaThis": "undefined",
               "std": "undefined", "os": "undefined"})
    );
    let err = error_of("return constructor.constructor('return process')();");
    assert!(err.to_string().contains("process is not defined"), "{err}");
    assert_innocent();
}

#[test]
fn modules_and_timers_are_clear_errors() {
    for (code, message) in [
        ("require('fs');", "Module 'fs' is disallowed"),
        (
            "require('child_process');",
            "Module 'child_process' is disallowed",
        ),
        ("await import('fs');", "fs"),
        ("setTimeout(() => {}, 10);", "setTimeout is not defined"),
        ("setInterval(() => {}, 10);", "setInterval is not defined"),
    ] {
        let err = error_of(code);
        assert!(matches!(err, JsError::Thrown { .. }), "{code}: {err}");
        assert!(err.to_string().contains(message), "{code}: {err}");
    }
    assert_innocent();
}

#[test]
fn exhaustion_is_stopped_by_the_limits() {
    for code in [
        "function f() { return f() + 1; } return f();",
        "const f = (n) => [f(n + 1)]; f(0);",
        "let o = {}; for (let i = 0; i < 1e6; i++) o = {o}; return [{json: o}];",
        "let a = []; for (let i = 0; i < 1e6; i++) a = [a]; return [{json: {a}}];",
        "while (true) {}",
        "for (;;) { try { while (true) {} } catch (e) {} }",
        "await new Promise(() => {});",
        "(async () => { for (;;) await null; })(); return [];",
        "Promise.resolve().then(function again() { return Promise.resolve().then(again); }); return [];",
        "return [{json: {s: 'x'.repeat(2 ** 29)}}];",
        "let s = 'x'; while (true) s += s; ",
        "return new Array(1e9).fill(0);",
        "const a = []; while (true) a.push({x: [1, 2, 3]});",
        "return /^(a+)+$/.test('a'.repeat(40) + 'b');",
        "return 'a'.repeat(40).replace(/(a|aa)+$/, '') + /(x+x+)+y/.exec('x'.repeat(50));",
    ] {
        let err = error_of(code);
        let text = err.to_string();
        assert!(
            !text.is_empty() && !text.contains("internal JavaScript error: ") || text.contains("recursion"),
            "`{code}`: unclear error {text}"
        );
        assert_innocent();
    }
}
