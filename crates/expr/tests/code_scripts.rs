//! Differential test of Code-node scripts: each script of the table runs natively
//! ([`CodeScript`]) and in QuickJS (the Code node's JavaScript), and both must give the same
//! items and logs. The table holds the course's Function-node snippets that are in the native
//! subset, n8n's Code-node fixtures and the statements people write in Code nodes; scripts
//! outside the subset must be refused when parsed, and runs the native path cannot finish as
//! JavaScript would must stop with an error (the Code node then runs them in QuickJS).

mod common;

use common::{item, TestScope};
use proptest::prelude::*;
use serde_json::{json, Value};
use sluice_expr::{js_payload, referenced_nodes, CodeScript, PayloadItems};
use sluice_js::{run_code, CodeMode, CodeOutput, CodeRequest, Limits};
use std::time::Duration;

fn scope(input: &Value, index: usize) -> TestScope {
    let mut scope = TestScope::new(json!({}));
    scope.input = input
        .as_array()
        .expect("input items")
        .iter()
        .cloned()
        .map(item)
        .collect();
    scope.index = index;
    scope
}

fn quickjs(code: &str, mode: CodeMode, item_is_json: bool, input: &Value) -> CodeOutput {
    let payload = js_payload(
        &scope(input, 0),
        &referenced_nodes(code),
        PayloadItems::All,
        item_is_json,
        None,
    );
    run_code(CodeRequest {
        code,
        mode,
        payload,
        continue_on_fail: false,
        limits: Limits::default(),
    })
    .unwrap_or_else(|e| panic!("QuickJS: {e}\n{code}"))
}

fn native(script: &CodeScript, input: &Value) -> Result<CodeOutput, sluice_expr::ExprError> {
    script.run(|i| scope(input, i), Duration::from_secs(10))
}

/// Items as comparable JSON (numbers by value: 2 and 2.0 are the same item).
fn items(output: &CodeOutput) -> Value {
    let text = serde_json::to_string(&output.items).unwrap();
    normalise(serde_json::from_str(&text).unwrap())
}

fn normalise(v: Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.into_iter().map(normalise).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, normalise(v))).collect()),
        other => other,
    }
}

/// Runs `code` on both engines and compares; panics naming the script when they differ or the
/// script does not run natively.
fn same_on_both(code: &str, mode: CodeMode, item_is_json: bool, input: &Value) {
    let script = CodeScript::parse(code, mode, item_is_json)
        .unwrap_or_else(|e| panic!("refused natively: {e}\n{code}"));
    let native = native(&script, input).unwrap_or_else(|e| panic!("native run: {e}\n{code}"));
    let quickjs = quickjs(code, mode, item_is_json, input);
    assert_eq!(items(&native), items(&quickjs), "items differ for\n{code}");
    assert_eq!(native.logs, quickjs.logs, "logs differ for\n{code}");
    // Key order too: JavaScript's order is what n8n prints.
    assert_eq!(
        serde_json::to_string(&native.items)
            .unwrap()
            .replace(".0", ""),
        serde_json::to_string(&quickjs.items)
            .unwrap()
            .replace(".0", ""),
        "key order differs for\n{code}"
    );
}

fn orders() -> Value {
    json!([
        {"id": 1, "amount": 150, "status": "paid", "customer": {"name": "Ann", "tier": "gold"}, "tags": ["a", "b"]},
        {"id": 2, "amount": 40, "status": "new", "customer": {"name": "Bob", "tier": "basic"}, "tags": []},
        {"id": 3, "amount": 99.5, "status": "paid", "customer": {"name": "Cy", "tier": "gold"}, "tags": ["c"]},
        {"id": 4, "amount": "12", "status": "failed", "customer": null, "tags": ["a"]}
    ])
}

const ALL: CodeMode = CodeMode::AllItems;
const EACH: CodeMode = CodeMode::EachItem;

/// Scripts run once for all items, on [`orders`].
const ALL_ITEMS: &[&str] = &[
    // n8n's Code fixtures ("Run Once for All Items", current and legacy syntax; "Sample Data").
    "// Loop over input items and add a new field\n// called 'myNewField' to the JSON of each one\nlet sum = 0;\nfor (const item of $input.all()) {\n  sum += item.json.id;\n}\n\nreturn [ {sum} ];",
    "let sum = 0;\nfor (const item of items) {\n  sum += item.json.id;\n}\n\nreturn [ {sum} ];",
    "return[\n  { value: 1 },\n  { value: 2 },\n]",
    // The course's "Calculate Rate Limit Batches" / "Batch parallel requests" snippets.
    "// Node 1: Function - Calculate Rate Limit Batches\nconst items = $input.all();\nconst rateLimit = 3; // 100 requests per minute\nconst timePeriod = 60; // seconds\n\nconst batches = [];\nfor (let i = 0; i < items.length; i += rateLimit) {\n  batches.push({\n    json: {\n      batchNumber: batches.length + 1,\n      items: items.slice(i, i + rateLimit),\n      itemCount: Math.min(rateLimit, items.length - i),\n      totalItems: items.length,\n      waitAfter: i + rateLimit < items.length // Wait after batch if more exist\n    }\n  });\n}\n\nreturn batches;",
    "const items = $input.all();\nconst concurrencyLimit = 2;\nconst batches = [];\nfor (let i = 0; i < items.length; i += concurrencyLimit) {\n  batches.push({\n    json: {\n      batchNumber: batches.length + 1,\n      items: items.slice(i, i + concurrencyLimit)\n    }\n  });\n}\nreturn batches;",
    // The course's "Prepare Bulk Insert" snippet.
    "// Function: Prepare Bulk Insert\nconst items = $input.all();\n\n// Create values array for bulk insert\nconst values = items.map((item, index) => {\n  const data = item.json;\n  const paramOffset = index * 4; // 4 columns\n  return `($${paramOffset + 1}, $${paramOffset + 2}, $${paramOffset + 3}, $${paramOffset + 4})`;\n}).join(',\\n');\n\n// Flatten all parameters\nconst params = items.flatMap(item => [\n  item.json.customer_id,\n  item.json.order_number,\n  item.json.total,\n  item.json.status\n]);\n\nconst query = `\n  INSERT INTO orders (customer_id, order_number, total, status)\n  VALUES ${values}\n  ON CONFLICT (order_number) DO UPDATE\n  SET total = EXCLUDED.total,\n      status = EXCLUDED.status\n`;\n\nreturn {\n  json: {\n    query,\n    params,\n    itemCount: items.length\n  }\n};",
    // The course's "Final Results" snippet (on the first item).
    "return {\n  json: {\n    totalItems: $json.tags.length,\n    items: $json.tags\n  }\n};",
    // Writes to item data are seen through every way to the item.
    "for (const item of $input.all()) {\n  item.json.total = item.json.amount * 2;\n}\nreturn $input.all();",
    "const j = $input.first().json;\nj.first = true;\nreturn items;",
    "const all = $input.all();\nall[1].json.x = 1;\n$input.all()[2].json.y = all.length;\nreturn $input.all().map(i => ({json: {...i.json, same: i === items[all.indexOf(i)]}}));",
    "$json.marked = 'yes';\nreturn [$input.first(), {json: {seen: $input.first().json.marked}}];",
    "let x = 1\nx\n++\nx\nreturn [{json: {x}}]",
    "return\n[{json: {never: true}}]",
    // Locals, blocks and loops.
    "let total = 0;\nlet count = 0;\nfor (let i = 0; i < items.length; i++) {\n  const a = Number(items[i].json.amount);\n  if (a > 50) {\n    total += a;\n    count++;\n  } else if (a > 20) {\n    total += 1;\n  } else {\n    continue;\n  }\n}\nreturn [{json: {total, count, avg: total / count}}];",
    "const out = [];\nlet i = 0;\nwhile (i < 10) {\n  i += 3;\n  if (i === 6) continue;\n  out.push({json: {i}});\n  if (i > 8) break;\n}\nreturn out;",
    "const N = 5;\nconst statuses = ['new', 'paid'];\nconst out = new Array(N);\nfor (let i = 0; i < N; i++) {\n  out[i] = { json: { id: i, amount: (i * 37) % 200, status: statuses[i % 2] } };\n}\nreturn out;",
    "const fns = [];\nfor (let i = 0; i < 3; i++) { fns.push(() => i); }\nreturn fns.map(f => ({json: {v: f()}}));",
    "const fns = [];\nfor (let i = 0; i < 3 && fns.push(() => i); i++) {}\nreturn fns.map(f => ({json: {v: f()}}));",
    "let x = 1;\n{\n  let x = 2;\n  x++;\n}\nreturn [{json: {x}}];",
    "const byStatus = {};\nfor (const { json } of $input.all()) {\n  byStatus[json.status] = (byStatus[json.status] || 0) + 1;\n}\nreturn Object.entries(byStatus).map(([status, n]) => ({json: {status, n}}));",
    "function double(n) {\n  return n * 2;\n}\nreturn items.map(i => ({json: {d: double(i.json.id)}}));",
    // Array methods with block-bodied arrows.
    "return $input.all()\n  .filter(item => {\n    const a = item.json.amount;\n    return typeof a === 'number' && a > 50;\n  })\n  .map(item => {\n    const c = item.json.customer;\n    return {json: {id: item.json.id, name: c ? c.name.toUpperCase() : null}};\n  });",
    "const rows = [];\n$input.all().forEach((item, index) => {\n  if (item.json.tags.length === 0) return;\n  rows.push({json: {index, tags: item.json.tags.join('|')}});\n});\nreturn rows;",
    "return Array.from({length: 3}, (_, i) => ({json: {i, sq: i * i}}));",
    "return Array.from(items, i => i.json.id).map(id => ({json: {id}}));",
    "const sorted = items.map(i => i.json).sort((a, b) => b.id - a.id);\nreturn sorted.map(j => ({json: {id: j.id}}));",
    "const sum = items.reduce((acc, i) => acc + (Number(i.json.amount) || 0), 0);\nreturn {json: {sum: Math.round(sum * 100) / 100, fixed: sum.toFixed(2)}};",
    // Values and shapes: undefined fields, nested arrays, pairedItem, binary.
    "return items.map((i, n) => ({json: {id: i.json.id, gone: undefined, nan: NaN, list: [1, undefined]}, pairedItem: n}));",
    "return {json: {s: JSON.stringify(items[0].json), p: JSON.parse('{\"a\":[1,2]}')}};",
    "console.log('count', items.length, {a: 1}, [1, 'x']);\nconsole.log(`first ${$json.id}`);\nreturn [];",
    "return null;",
    "const d = new Date(Date.UTC(2024, 1, 29, 12));\nreturn [{json: {iso: d.toISOString(), ms: d.getTime(), y: d.getUTCFullYear(), day: $now.startOf('day').toISO() === $today.toISO()}}];",
    "const out = [];\nfor (const { json: { id, status, customer = {}, tags: [first = 'none', ...rest] } } of items) {\n  out.push({json: {id, status, tier: customer && customer.tier, first, rest}});\n}\nreturn out;",
    "return items.map(i => ({json: {\n  s: String(i.json.amount).padStart(6, '0'),\n  up: i.json.status.toUpperCase().slice(0, 3),\n  has: i.json.status.includes('ai'),\n  re: /^p/.test(i.json.status),\n  rep: i.json.status.replace(/a/g, 'A'),\n  parts: `${i.json.id}-${i.json.status}`.split('-'),\n  fixed: (Number(i.json.amount) / 3).toFixed(3),\n  str: (i.json.amount / 7).toString(),\n  big: 1e21 + i.json.id,\n  loose: i.json.amount == '12',\n  strict: i.json.amount === 12,\n  inn: 'customer' in i.json,\n  type: typeof i.json.customer,\n}}));",
    "const merged = Object.assign({}, items[0].json, {extra: 1});\nconst keys = Object.keys(merged);\nconst copy = {...items[1].json, id: 99};\nreturn [{json: {keys, copy, values: Object.values(items[2].json).length, fromEntries: Object.fromEntries([['a', 1], ['b', [2]]])}}];",
    "const names = items.map(i => i.json.customer).filter(Boolean).map(c => c.name);\nreturn [{json: {names: names.sort(), rev: [...names].reverse(), joined: names.join(', '), idx: names.indexOf('Bob'), some: names.some(n => n.length > 2), every: names.every(n => n.length > 1), found: names.find(n => n.startsWith('C')) ?? null}}];",
    "const nums = [10, 1, 5, 100, 25];\nreturn [{json: {def: [...nums].sort(), num: [...nums].sort((a, b) => a - b), max: Math.max(...nums), min: Math.min(...nums), sum: nums.reduce((a, b) => a + b), avg: nums.reduce((a, b) => a + b) / nums.length, round: Math.round(2.5), neg: Math.round(-2.5), floor: Math.floor(-1.5), parsed: parseInt('42px'), pf: parseFloat('3.14abc'), nan: isNaN('x')}}];",
    "const grouped = {};\nitems.forEach(({ json }) => {\n  const key = json.customer ? json.customer.tier : 'none';\n  if (!grouped[key]) grouped[key] = [];\n  grouped[key].push(json.id);\n});\nreturn Object.keys(grouped).map(tier => ({json: {tier, ids: grouped[tier], count: grouped[tier].length}}));",
    "const a = [];\nconst n = a.push(1, 2, 3);\nconst p = a.pop();\nconst e = [].pop();\na.push(a.length);\nconst b = a;\nb.push('shared');\nreturn {json: {n, p, empty: e === undefined, a, len: a.length}};",
    "let i = 0;\nconst seen = [];\nfor (;;) {\n  if (++i > 3) break;\n  seen.push(i);\n}\nlet s = '';\nfor (const ch of 'abc') s += ch.toUpperCase();\nreturn {json: {seen, s, json: JSON.stringify({a: [1, {b: null}], c: undefined, d: 'x'}), pretty: JSON.stringify({a: 1}, null, 2)}};",
    "const counter = { n: 0 };\nconst inc = () => { counter.n += 1; return counter.n; };\nitems.forEach(inc);\nconst obj = { f() { return 7; } };\nreturn [{json: {n: counter.n, f: obj.f(), arr: Array.isArray(items), of: Array.of(1, 2), len: [1, 2, 3].length, at: [1, 2, 3].at(-1), flat: [[1], [2, [3]]].flat(), fm: [1, 2].flatMap(x => [x, x * 10]), incl: [NaN].includes(NaN), idx: [NaN].indexOf(NaN)}}];",
    "return items.map(i => ({json: {name: i.json.customer?.name ?? 'none', deep: i.json.missing?.deep.deeper, first: i.json.tags?.[0] ?? null, call: i.json.fn?.(), len: i.json.customer?.name.length}}));",
    "if ($json.id === 1)\n  return [{json: {one: true}}]\nreturn [{json: {one: false}}]",
];

/// Scripts run once for each item, on [`orders`].
const EACH_ITEM: &[&str] = &[
    // n8n's Code fixtures ("Run Once for Each Item", current and legacy syntax).
    "// Add a new field called 'myNewField' to the\n// JSON of the item\n$input.item.json.myNewField = $input.item.json.id;\n\nreturn $input.item;",
    "// Add a new field called 'myNewField' to the\n// JSON of the item\nitem.json.myNewField = item.json.id;\n\nreturn item;",
    "const json = $input.item.json\njson.doubled = json.id * 2\nreturn $input.item",
    "return {doubled: $json.id * 2, i: $itemIndex};",
    "if ($json.status !== 'paid') return;\nreturn {json: {id: $json.id}, pairedItem: {item: $itemIndex}};",
    "$json.seenBy = $itemIndex;\nreturn {json: {all: $input.all().map(i => i.json.seenBy ?? null)}};",
    "const out = {json: {i: $itemIndex, n: $input.all().length, first: $input.first().json.id, last: $input.last().json.id, same: item === $input.item, j: $json === item.json, b: $binary === undefined, r: $runIndex}};\nreturn out;",
    "if ($itemIndex === 0) { $input.all()[3].json.touched = true; }\nreturn $input.item;",
    "return {json: $json, pairedItem: 0};",
    "return {json: {wf: $workflow.name, v: $vars}};",
    "return {json: {a: $if($json.id > 2, 'big', 'small'), e: $ifEmpty($json.tags, 'empty')}};",
    "const t = $json.tags;\nreturn {json: {n: t.length, first: t[0] ?? 'none', up: t.map(x => x.toUpperCase())}};",
];

#[test]
fn scripts_run_natively_as_in_quickjs() {
    let input = orders();
    for code in ALL_ITEMS {
        same_on_both(code, ALL, false, &input);
    }
    for code in EACH_ITEM {
        same_on_both(code, EACH, false, &input);
    }
    // The legacy Function Item node: `item` is the item's JSON.
    same_on_both(
        "item.extra = item.id + 1;\nreturn item;",
        EACH,
        true,
        &input,
    );
    // No input items.
    same_on_both("return items.map(i => i);", ALL, false, &json!([]));
    same_on_both("return {json: {x: 1}};", EACH, false, &json!([]));
}

#[test]
fn scripts_outside_the_subset_are_refused() {
    for code in [
        "const { DateTime } = require('luxon');\nreturn [];",
        "const data = $getWorkflowStaticData('global');\nreturn [];",
        "try { JSON.parse('x') } catch (e) { return [] }\nreturn [];",
        "switch ($json.id) { case 1: return []; }\nreturn [];",
        "const x = await Promise.resolve(1);\nreturn [{json: {x}}];",
        "class A {}\nreturn [];",
        "const a = 1;\na = 2;\nreturn [];",
        "let a = 1;\nlet a = 2;\nreturn [];",
        "const f = () => later;\nconst later = 1;\nreturn [];",
        "for (const k in $json) {}\nreturn [];",
        "for (let i = 0; i < 3; i++) { var x = i; }\nreturn [];",
        "return [{json: {env: $env.HOME}}];",
        "return $items();",
        "return [{json: {e: $execution.id}}];",
        "return [{json: {t: DateTime.now().toISO()}}];",
        "return this;",
        "const total = 1;\nfor (const item of items) { item: total; }\nreturn [];",
    ] {
        assert!(
            CodeScript::parse(code, ALL, false).is_err(),
            "parsed natively:\n{code}"
        );
    }
}

#[test]
fn runs_the_native_path_cannot_finish_stop_without_effect() {
    let input = orders();
    for code in [
        // Writes into nested item data.
        "for (const item of items) { item.json.customer.seen = true; }\nreturn items;",
        "items[0].json.tags.push('z');\nreturn items;",
        // n8n's extension methods are not JavaScript's.
        "return [{json: {s: 'abc'.toTitleCase()}}];",
        "return [{json: {s: [1, 2].sum()}}];",
        // n8n's `plus(1, 'day')` is luxon's `plus(1)` (a millisecond) in JavaScript.
        "return [{json: {d: $now.plus(1, 'day').toISO()}}];",
        // A TypeError in JavaScript.
        "return [{json: {n: items[3].json.customer.name}}];",
        // Throwing.
        "if (items.length > 2) throw new Error('too many');\nreturn [];",
        // Keys JavaScript orders first.
        "return [{json: {b: 1, 2: 'two'}}];",
        "const o = {b: 1};\no[2] = 'x';\nreturn [{json: {k: Object.keys(o)}}];",
        // Methods read as values.
        "return [{json: {m: 'x'.localeCompare ? 1 : 0}}];",
        "return [{json: {m: typeof items[0].json.hasOwnProperty}}];",
        // Arrays changed while a loop or a callback walks them (JavaScript sees the change).
        "const arr = [1, 2, 3];\nconst out = [];\narr.forEach((x, i) => { if (i === 0) arr[1] = 99; out.push(x); });\nreturn [{json: {out}}];",
        "const arr = [1, 2];\nfor (const x of arr) { if (arr.length < 4) arr.push(x); }\nreturn [{json: {arr}}];",
        // Values past what a native run makes (QuickJS has the memory limit).
        "const a = new Array(1e9);\nreturn [];",
        "const a = [];\na[1e9] = 1;\nreturn [];",
        "return [{json: {s: 'ab'.repeat(1e9)}}];",
        "return Array.from({length: 1e9}, (_, i) => ({json: {i}}));",
        // Dates in the process's local time zone.
        "return [{json: {d: new Date('2024-01-01T10:00').getTime()}}];",
        "return [{json: {d: new Date(2024, 0, 1).getTime()}}];",
        // An array per item.
        "return [];",
    ] {
        let mode = if code == "return [];" { EACH } else { ALL };
        let script =
            CodeScript::parse(code, mode, false).unwrap_or_else(|e| panic!("refused: {e}\n{code}"));
        assert!(native(&script, &input).is_err(), "ran natively:\n{code}");
    }
    // The input is untouched.
    assert_eq!(orders(), input);
}

#[test]
fn input_items_returned_unchanged_share_their_json() {
    let input = json!([{"a": 1, "b": "x", "c": [1]}, {"a": 2.5, "b": "y", "c": {"d": 1}}]);
    let items = scope(&input, 0).input;
    let other = scope(&json!([{"x": 1}, {"y": {"z": [2]}}]), 0).input;
    let run_with = |other: &[sluice_model::Item], code: &str, mode: CodeMode| {
        let script = CodeScript::parse(code, mode, false).expect("native");
        script.run(
            |index| {
                let mut scope = TestScope::new(json!({}));
                scope.input = items.clone();
                scope.index = index;
                scope.nodes.insert("Other".into(), other.to_vec());
                scope.params.insert("Other".into(), json!({}));
                scope
            },
            Duration::from_secs(10),
        )
    };
    let run = |code: &str, mode: CodeMode| run_with(&other, code, mode).expect("runs natively");
    let shared = |output: &CodeOutput| -> Vec<bool> {
        let inputs = items.iter().map(|item| &item.json);
        output
            .items
            .iter()
            .zip(inputs)
            .map(|(o, i)| std::sync::Arc::ptr_eq(&o.json, i))
            .collect()
    };
    let all = CodeMode::AllItems;
    assert_eq!(shared(&run("return $input.all();", all)), [true, true]);
    assert_eq!(
        shared(&run("return items.filter(i => i.json.a > 0);", all)),
        [true, true]
    );
    let changed = run(
        "const all = $input.all(); all[1].json.b = 'z'; return all;",
        all,
    );
    assert_eq!(shared(&changed), [true, false]);
    assert_eq!(changed.items[1].json["b"], "z");
    let each = run("return $input.item;", CodeMode::EachItem);
    assert_eq!(shared(&each), [true, true]);
    let rebuilt = run("return items.map(i => ({json: {...i.json}}));", all);
    assert_eq!(shared(&rebuilt), [false, false]);
    assert_eq!(items_json(&rebuilt), input);
    let others = run("return $('Other').all();", all);
    let shared_with_other: Vec<bool> = (others.items.iter().zip(&other))
        .map(|(o, i)| std::sync::Arc::ptr_eq(&o.json, &i.json))
        .collect();
    assert_eq!(shared_with_other, [true, true]);
    // Keys JavaScript lists first: QuickJS's business, as for the script's own objects.
    let index_key = scope(&json!([{"b": 1, "1": "one"}]), 0).input;
    assert!(run_with(&index_key, "return $('Other').all();", all).is_err());
}

fn items_json(output: &CodeOutput) -> Value {
    output
        .items
        .iter()
        .map(|item| item.json.to_value())
        .collect()
}

#[test]
fn endless_loops_stop_at_the_time_limit() {
    let script =
        CodeScript::parse("let i = 0;\nwhile (true) { i++; }\nreturn [];", ALL, false).unwrap();
    let started = std::time::Instant::now();
    let result = script.run(|i| scope(&orders(), i), Duration::from_millis(200));
    assert!(result.is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Field values with JavaScript's awkward cases.
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-50i64..50).prop_map(Value::from),
        (-500i64..500).prop_map(|n| json!(n as f64 / 8.0)),
        prop_oneof![Just(""), Just("5"), Just("abc"), Just(" 7 ")].prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn input_items() -> impl Strategy<Value = Value> {
    proptest::collection::vec(
        (field_value(), field_value()).prop_map(|(a, b)| json!({"a": a, "b": b})),
        0..5,
    )
    .prop_map(Value::Array)
}

/// An expression over `item.json` (a local bound by the script's loop or callback).
fn expression() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("item.json.a".to_string()),
        Just("item.json.b".to_string()),
        Just("acc".to_string()),
        (-5i64..20).prop_map(|n| n.to_string()),
        Just("'x'".to_string()),
        Just("null".to_string()),
    ];
    let ops = ["+", "-", "*", "<", ">=", "===", "==", "&&", "||", "??", "%"];
    atom.prop_recursive(2, 12, 2, move |inner| {
        prop_oneof![
            (
                inner.clone(),
                proptest::sample::select(ops.to_vec()),
                inner.clone()
            )
                .prop_map(|(l, op, r)| format!("({l} {op} {r})")),
            inner.clone().prop_map(|e| format!("!{e}")),
            (inner.clone(), inner.clone(), inner)
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
        ]
    })
}

/// A script shape with the statements people write, around generated expressions.
fn script() -> impl Strategy<Value = (String, CodeMode)> {
    (expression(), expression(), 0..5usize).prop_map(|(e1, e2, shape)| match shape {
        0 => (
            format!("let acc = 0;\nfor (const item of $input.all()) {{\n  item.json.c = {e1};\n  acc = {e2};\n}}\nreturn $input.all();"),
            ALL,
        ),
        1 => (
            format!("let acc = 1;\nreturn items.filter(item => {{\n  const keep = {e1};\n  return keep;\n}}).map(item => ({{json: {{v: {e2}}}}}));"),
            ALL,
        ),
        2 => (
            format!("let acc = 0;\nconst out = [];\nfor (let i = 0; i < items.length; i++) {{\n  const item = items[i];\n  if ({e1}) {{ acc++; }} else {{ out.push({{json: {{v: {e2}}}}}); }}\n}}\nreturn [...out, {{json: {{acc}}}}];"),
            ALL,
        ),
        3 => (
            format!("const acc = $itemIndex;\nconst item = $input.item;\nitem.json.v = {e1};\nreturn item;"),
            EACH,
        ),
        _ => (
            format!("let acc = 0;\nconst item = {{json: $json}};\n$json.w = {e1};\nacc = {e2};\nreturn {{json: {{acc, w: $json.w}}}};"),
            EACH,
        ),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn generated_scripts_match_quickjs((code, mode) in script(), input in input_items()) {
        let script = CodeScript::parse(&code, mode, false).expect("in the native subset");
        if let Ok(native) = native(&script, &input) {
            let quickjs = quickjs(&code, mode, false, &input);
            prop_assert_eq!(items(&native), items(&quickjs), "{}", code);
        }
    }
}

#[test]
fn most_generated_scripts_run_natively() {
    use proptest::strategy::ValueTree;
    // The generator's scripts are plain code: the native path must finish most of them, or
    // the comparison above would test little.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut native_runs = 0;
    for _ in 0..100 {
        let (code, mode) = script().new_tree(&mut runner).unwrap().current();
        let input = input_items().new_tree(&mut runner).unwrap().current();
        let script = CodeScript::parse(&code, mode, false).expect("in the native subset");
        native_runs += usize::from(native(&script, &input).is_ok());
    }
    assert!(native_runs >= 80, "{native_runs} of 100 ran natively");
}
