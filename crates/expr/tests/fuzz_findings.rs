//! Inputs the `expression` fuzz target in `fuzz/` found, kept as regression tests: each is
//! answered (a value or an error) quickly, without a panic.
mod common;
use common::*;
use serde_json::json;
use sluice_expr::{Engine, Template};
use std::time::{Duration, Instant};

fn answered_quickly(source: &str) {
    let started = Instant::now();
    if let Ok(template) = Template::parse(source) {
        let _ = template.evaluate(&TestScope::new(sample()));
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "{source:?} took {took:?}");
}

/// The template's value on the native evaluator and on QuickJS, for the sample item.
fn on_both_engines(source: &str) -> (serde_json::Value, serde_json::Value) {
    let scope = TestScope::new(sample());
    let native = Template::parse(source).unwrap().evaluate(&scope).unwrap();
    let quickjs = Template::parse_with(source, Engine::QuickJs)
        .unwrap()
        .evaluate(&scope)
        .unwrap();
    (native, quickjs)
}

/// Asserts that both engines give `expected` for `source`.
fn both_give(source: &str, expected: serde_json::Value) {
    let (native, quickjs) = on_both_engines(source);
    assert_eq!(native, expected, "native, {source:?}");
    assert_eq!(quickjs, expected, "QuickJS, {source:?}");
}

#[test]
fn a_garbled_template_with_nested_braces_is_answered_quickly() {
    answered_quickly("{{ IS $toda.{{{{ {a\\: 5{b: 1}}1ytoISO }\0}( }}z)");
}

#[test]
fn a_number_followed_by_a_non_ascii_letter_is_a_syntax_error() {
    answered_quickly("{{n={{ [[,21,[3\u{51b}ll]],undul $to\0\u{14}O()l]],] } }}");
    let error = Template::parse("{{ 3\u{51b} }}").unwrap_err().to_string();
    assert!(error.contains("invalid number '3\u{51b}'"), "{error}");
}

/// Found by `expression_differential`: a write through a local that holds item data must be seen
/// through `$json` as in JavaScript. Such chunks run in QuickJS; a chunk that only writes to
/// objects and arrays it created stays native.
#[test]
fn writes_to_item_data_are_seen_through_json_as_in_javascript() {
    for (source, expected) in [
        (
            "{{ (() => { const o = $json.nested; o.added = 1; return $json.nested; })() }}",
            json!({"deep": {"value": 1}, "added": 1}),
        ),
        (
            "{{ (() => { $json.nums.sort(); return $json.nums; })() }}",
            json!([1, 2, 3]),
        ),
        ("{{ $json.tags.push('d') && $json.tags.length }}", json!(4)),
        (
            "{{ Object.assign($json.nested, {x: 2}) && $json.nested.x }}",
            json!(2),
        ),
        (
            "{{ (() => { const a = [3, 1]; a.sort(); a.push(0); return a; })() }}",
            json!([1, 3, 0]),
        ),
    ] {
        both_give(source, expected);
    }
}

/// `expression_differential`: `{{ $json={{ $json.tags.missing.langeErrora> 1 }}`. Reading a
/// property of `undefined` is a TypeError, which n8n's sandbox turns into `undefined` for the
/// whole chunk; the native evaluator read it as `undefined` and went on (`undefined > 1` is
/// `false`).
#[test]
fn a_read_from_undefined_makes_the_whole_chunk_undefined_as_in_n8n() {
    for (source, expected) in [
        ("x={{ $json.tags.missing.x > 1 }}", json!("x=")),
        ("{{ $json.missing.x ?? 'default' }}", json!(null)),
        ("{{ $json.nested.missing.x || 1 }}", json!(null)),
        ("{{ [1, 2].map(n => $json.missing.x).length }}", json!(null)),
        ("{{ $json.missing?.x ?? 'default' }}", json!("default")),
        ("{{ $json.nested.missing }}", json!(null)),
        ("{{ $json.tags.missing }}", json!(null)),
    ] {
        both_give(source, expected);
    }
}

/// `expression_differential`: `{{ $node['Webhook'] }}`. The native evaluator reads a node
/// proxy's properties but gave `{}` for the proxy itself; a chunk whose value is the proxy now
/// runs in QuickJS.
#[test]
fn a_node_proxy_as_the_whole_value_is_the_object_quickjs_gives() {
    let source = "{{ $node['Webhook'] }}";
    let (native, quickjs) = on_both_engines(source);
    assert_eq!(native, quickjs);
    assert_eq!(native["json"]["body"]["id"], json!(7));
}

/// `expression_differential`: `...}{{ String}}`. A function in text around chunks rendered as
/// its source natively and as nothing in QuickJS (functions cross as `undefined`).
#[test]
fn a_function_in_text_renders_as_nothing_on_both_engines() {
    for source in ["a{{ String }}b", "a{{ (x) => x }}b"] {
        both_give(source, json!("ab"));
    }
}

/// `expression_differential`: `{{ decodeURI}}`. A built-in function as the whole value was `{}`
/// natively and `null` from QuickJS.
#[test]
fn a_function_as_the_value_is_null_on_both_engines() {
    for (source, expected) in [
        ("{{ decodeURI }}", json!(null)),
        ("{{ [String, 1] }}", json!([null, 1])),
        ("{{ ({f: String, a: 1}) }}", json!({"a": 1})),
    ] {
        both_give(source, expected);
    }
}

/// `expression_differential`: `t1:{S ({e21) {{/ 0 =}} /}}}}`. A regex in text rendered as its
/// source natively and as `[object Object]` from QuickJS, whose values crossed as JSON before
/// being rendered; QuickJS now renders chunks in text itself, as `String()` does.
#[test]
fn a_regex_in_text_renders_as_its_source_on_both_engines() {
    for (source, expected) in [
        ("t1:{S ({e21) {{/ 0 =}} /}}}}", "t1:{S ({e21) / 0 =}} /}}"),
        ("a{{ /x+/gi }}b", "a/x+/gib"),
        ("a{{ [/x/, 1, null] }}b", "a/x/,1,b"),
    ] {
        both_give(source, json!(expected));
    }
}

/// `expression_differential`: `{{ 12+    $input}}`. n8n's variables (`$input`, `$workflow`, ...)
/// rendered natively as `[object $input]`; in JavaScript they are plain objects,
/// `[object Object]`. `Math` and `JSON` keep their own tags.
#[test]
fn n8n_variables_render_as_plain_objects_in_text() {
    for (source, expected) in [
        ("{{ 12+    $input}}", "12[object Object]"),
        ("a{{ $workflow }}", "a[object Object]"),
        ("{{ '' + Math }}", "[object Math]"),
        ("{{ '' + JSON }}", "[object JSON]"),
    ] {
        both_give(source, json!(expected));
    }
}

/// `expression_differential`: `{{040 }}`. A legacy octal literal (sloppy-mode JavaScript, which
/// n8n's expressions are) was read as decimal 40 natively; it is 32. With an 8 or 9 among the
/// digits it stays decimal.
#[test]
fn legacy_octal_literals_are_octal_as_in_sloppy_javascript() {
    for (source, expected) in [
        ("{{040 }}", json!(32)),
        ("{{ 0777 + 1 }}", json!(512)),
        ("{{ 089 }}", json!(89)),
        ("{{ 08.5 }}", json!(8.5)),
        ("{{ 010.toString() }}", json!("8")),
        ("{{ 0 }}", json!(0)),
        ("{{ 0.25 }}", json!(0.25)),
    ] {
        both_give(source, expected);
    }
}

/// `expression_differential`: a template literal holding a carriage return. JavaScript reads a
/// template's line ends (`\r\n`, `\r`) as `\n`; the native lexer kept the `\r`.
#[test]
fn line_ends_in_template_literals_read_as_newlines() {
    for (source, expected) in [
        ("{{ `$~\r{ {x<< '}}'}.x }` }}", "$~\n{ {x<< '}}'}.x }"),
        ("{{ `a\r\nb\rc\nd` }}", "a\nb\nc\nd"),
        ("{{ `a\\r` }}", "a\r"),
    ] {
        both_give(source, json!(expected));
    }
}

/// `expression_differential`: `{{ $node-['Webhook'] }} node[`. `$node` is a proxy over every
/// node; converting it to a number is a TypeError in QuickJS (so the chunk is `undefined`), but
/// natively it was `NaN`. `$node` used as a value of its own now runs in QuickJS; its members
/// stay native.
#[test]
fn node_proxy_as_a_value_runs_as_in_quickjs() {
    for source in [
        "{{ $node-['Webhook'] }} node[",
        "{{ $node['Webhook'].json.body.id }}",
    ] {
        let (native, quickjs) = on_both_engines(source);
        assert_eq!(native, quickjs, "{source}");
    }
    assert_eq!(
        on_both_engines("{{ $node-['Webhook'] }} node[").0,
        json!(" node[")
    );
}

/// `expression_differential`: `{{  $input}}`. n8n's variable objects as values (alone or inside
/// arrays and objects the expression makes) were `{}` natively; such chunks now run in QuickJS,
/// which has the objects themselves.
#[test]
fn n8n_variable_objects_as_values_are_the_objects_quickjs_gives() {
    for source in [
        "{{  $input}}",
        "{{ [$workflow, 1] }}",
        "{{ ({i: $input}) }}",
    ] {
        let (native, quickjs) = on_both_engines(source);
        assert_eq!(native, quickjs, "{source}");
        assert_ne!(native, json!({}), "{source}");
    }
    assert_eq!(on_both_engines("{{ [Math, 1] }}").0, json!([{}, 1]));
}

/// `expression_differential`: a regex written `/n/mi` rendered as written natively; JavaScript
/// prints (and reports in `flags`) its flags in its own order, `/n/im`.
#[test]
fn regex_flags_come_in_javascript_order() {
    for (source, expected) in [
        ("a{{ /n/mi }}", json!("a/n/im")),
        ("{{ /x/yigs.flags }}", json!("gisy")),
    ] {
        both_give(source, expected);
    }
    let error = Template::parse("{{ /a/gg }}").unwrap_err().to_string();
    assert!(
        error.contains("duplicate regular expression flag 'g'"),
        "{error}"
    );
}
