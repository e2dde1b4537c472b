//! Differential test: random expressions of the native fast-path subset, evaluated on random
//! items, give the same result natively as through QuickJS (real JavaScript semantics).

mod common;

use common::{same, TestScope};
use proptest::prelude::*;
use serde_json::{json, Value};
use sluice_expr::{Engine, Template};

/// Field values with the awkward JavaScript cases: numeric strings, empty strings, null,
/// booleans, negative and fractional numbers.
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-50i64..50).prop_map(Value::from),
        (-500i64..500).prop_map(|n| json!(n as f64 / 8.0)),
        prop_oneof![
            Just(""),
            Just("5"),
            Just("0"),
            Just("-2.5"),
            Just("abc"),
            Just("Abc"),
            Just(" 7 ")
        ]
        .prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn item() -> impl Strategy<Value = Value> {
    (field_value(), field_value(), field_value(), field_value())
        .prop_map(|(a, b, s, x)| json!({"a": a, "b": b, "s": s, "o": {"x": x}}))
}

fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        prop_oneof![
            Just("$json.a"),
            Just("$json.b"),
            Just("$json.s"),
            Just("$json.o.x"),
            Just("$json['a']"),
            Just("$json.missing"),
            Just("$json.o.missing"),
            Just("$itemIndex"),
            Just("$runIndex"),
            Just("true"),
            Just("false"),
            Just("null"),
            Just("'x'"),
            Just("'10'"),
            Just("''"),
        ]
        .prop_map(str::to_string),
        (-20i64..20).prop_map(|n| n.to_string()),
        (0i64..100).prop_map(|n| format!("{}", n as f64 / 4.0)),
    ]
}

fn expression() -> impl Strategy<Value = String> {
    let ops = [
        "+", "-", "*", "/", "%", "<", ">", "<=", ">=", "==", "!=", "===", "!==", "&&", "||",
    ];
    atom().prop_recursive(3, 24, 3, move |inner| {
        prop_oneof![
            (
                inner.clone(),
                proptest::sample::select(ops.to_vec()),
                inner.clone()
            )
                .prop_map(|(l, op, r)| format!("({l} {op} {r})")),
            inner.clone().prop_map(|e| format!("!{e}")),
            inner.clone().prop_map(|e| format!("-({e})")),
            (inner.clone(), inner.clone(), inner)
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
        ]
    })
}

/// A comparison of an item field with a literal, either way round: the form of IF and Filter
/// conditions that templates compile without the tree walker. The paths include a missing
/// parent (the chunk is `undefined`) and a property of a string (generic property rules).
fn field_comparison() -> impl Strategy<Value = String> {
    let paths = prop_oneof![
        Just("$json.a"),
        Just("$json.s"),
        Just("$json.o.x"),
        Just("$json['b']"),
        Just("$json.o"),
        Just("$json.missing"),
        Just("$json.missing.x"),
        Just("$json.s.length"),
    ];
    let literals = prop_oneof![
        Just("undefined".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("'5'".to_string()),
        Just("''".to_string()),
        Just("'abc'".to_string()),
        Just("'[object Object]'".to_string()),
        (-20i64..20).prop_map(|n| n.to_string()),
        (0i64..100).prop_map(|n| format!("{}", n as f64 / 4.0)),
    ];
    let ops = ["<", ">", "<=", ">=", "==", "!=", "===", "!=="];
    (
        paths,
        proptest::sample::select(ops.to_vec()),
        literals,
        any::<bool>(),
    )
        .prop_map(|(path, op, literal, literal_first)| match literal_first {
            true => format!("{literal} {op} {path}"),
            false => format!("{path} {op} {literal}"),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn field_comparisons_match_quickjs(expr in field_comparison(), json in item()) {
        let scope = TestScope::new(json);
        let source = format!("{{{{ {expr} }}}}");
        let native = Template::parse(&source).unwrap();
        let quickjs = Template::parse_with(&source, Engine::QuickJs).unwrap();
        let (n, q) = (native.evaluate(&scope).unwrap(), quickjs.evaluate(&scope).unwrap());
        prop_assert_eq!(n, q, "{}", expr);
        let (n, q) = (native.evaluate_truthy(&scope).unwrap(), quickjs.evaluate_truthy(&scope).unwrap());
        prop_assert_eq!(n, q, "{} as a condition", expr);
    }

    #[test]
    fn native_matches_quickjs(expr in expression(), json in item()) {
        let scope = TestScope::new(json);
        let source = format!("{{{{ {expr} }}}}");
        let native = Template::parse(&source).unwrap().evaluate(&scope);
        let quickjs = Template::parse_with(&source, Engine::QuickJs).unwrap().evaluate(&scope);
        match (&native, &quickjs) {
            (Ok(n), Ok(q)) => prop_assert!(same(n, q), "{expr}: native {n}, QuickJS {q}"),
            _ => prop_assert!(false, "{expr}: native {native:?}, QuickJS {quickjs:?}"),
        }
    }

    #[test]
    fn templates_with_text_match_quickjs(expr in expression(), json in item()) {
        let scope = TestScope::new(json);
        let source = format!("value: {{{{ {expr} }}}}!");
        let native = Template::parse(&source).unwrap().evaluate(&scope).unwrap();
        let quickjs = Template::parse_with(&source, Engine::QuickJs).unwrap().evaluate(&scope).unwrap();
        prop_assert_eq!(native, quickjs, "{}", expr);
    }
}

#[test]
fn unsupported_syntax_falls_back_to_quickjs() {
    let scope = TestScope::new(json!({"n": 4}));
    // A `while` loop inside an IIFE is outside the native subset.
    let t = Template::parse(
        "{{ (() => { let i = 0, s = 0; while (i < $json.n) { s += i; i++; } return s; })() }}",
    )
    .unwrap();
    assert_eq!(t.evaluate(&scope).unwrap(), json!(6));
    // Neither evaluator accepts this: the native syntax error is reported.
    assert!(Template::parse("{{ 1 + }}").is_err());
}
