//! Template splitting, raw vs. string results, and syntax errors.
mod common;
use common::*;
use serde_json::json;
use sluice_expr::{ExprError, Template};

#[test]
fn lone_chunk_returns_raw_value() {
    assert_eq!(eval("{{ $json.amount }}"), json!(150));
    assert_eq!(eval("{{ $json.tags }}"), json!(["a", "b", "c"]));
    assert_eq!(eval("{{ $json.nested }}"), json!({"deep": {"value": 1}}));
    assert_eq!(eval("{{ $json.amount > 100 }}"), json!(true));
    assert_eq!(eval("{{$json.name}}"), json!("Alice Smith"));
}

#[test]
fn text_around_chunks_makes_a_string() {
    assert_eq!(eval("Hi {{ $json.name }}!"), json!("Hi Alice Smith!"));
    assert_eq!(eval("{{ $json.amount }} "), json!("150 "));
    assert_eq!(eval("{{ 1 }}{{ 2 }}"), json!("12"));
    assert_eq!(eval("x{{ $json.missing }}y{{ null }}z"), json!("xyz"));
    assert_eq!(eval("o={{ $json.nested }}"), json!("o=[object Object]"));
    assert_eq!(eval("a={{ $json.tags }}"), json!("a=a,b,c"));
    assert_eq!(
        eval("n={{ [1,[2,[3,null]],undefined] }}"),
        json!("n=1,2,3,,")
    );
    assert_eq!(eval("t={{ 0.1 + 0.2 }}"), json!("t=0.30000000000000004"));
}

#[test]
fn no_chunks_is_literal_text() {
    assert_eq!(eval("3,14"), json!("3,14"));
    assert_eq!(
        eval("open {{ without close"),
        json!("open {{ without close")
    );
    assert!(Template::parse("plain").unwrap().is_static());
    assert!(!Template::parse("{{ 1 }}").unwrap().is_static());
}

#[test]
fn braces_inside_strings_and_objects() {
    assert_eq!(eval("{{ '}}' }}"), json!("}}"));
    assert_eq!(eval("{{ {a: {b: 1}} }}"), json!({"a": {"b": 1}}));
    assert_eq!(eval("{{ `${ {x: '}}'}.x }` }}"), json!("}}"));
    assert_eq!(eval("[{{ \"a}\" }}]"), json!("[a}]"));
}

#[test]
fn missing_paths_are_undefined() {
    assert_eq!(eval("{{ $json.missing.deep }}"), json!(null));
    assert_eq!(eval("{{ $json.contact.FirstName }}"), json!(null));
    assert_eq!(eval("{{ $json['contact']['FirstName'] }}"), json!(null));
    assert_eq!(eval("{{ $json.missing?.deep }}"), json!(null));
    assert_eq!(eval("{{ $json.missing.toUpperCase() }}"), json!(null));
}

#[test]
fn number_results() {
    assert_eq!(eval("{{ 10 / 4 }}"), json!(2.5));
    assert_eq!(eval("{{ 2 ** 53 }}"), json!(9007199254740992i64));
    assert_eq!(eval("{{ 1 / 0 }}"), json!(null));
    assert_eq!(eval("{{ undefined + 1 }}"), json!(null));
    assert_eq!(eval("{{ -0 }}"), json!(0));
    assert_eq!(eval("{{ String(1e21) }}"), json!("1e+21"));
    assert_eq!(eval("{{ String(-0) }}"), json!("0"));
    assert_eq!(eval("{{ 0x1F + 1e2 }}"), json!(131));
}

#[test]
fn syntax_errors_name_the_problem() {
    for src in [
        "{{ $json.a + }}",
        "{{ (1 + 2 }}",
        "{{ 'abc }}",
        "{{ a b }}",
        "{{ 1 = 2 }}",
    ] {
        match Template::parse(src) {
            Err(ExprError::Syntax(msg)) => assert!(!msg.is_empty(), "{src}"),
            other => panic!("{src}: {other:?}"),
        }
    }
    let Err(ExprError::Syntax(msg)) = Template::parse("{{ $json.a ) }}") else {
        panic!()
    };
    assert!(msg.contains("')'") && msg.contains("$json.a )"), "{msg}");
    // The code is quoted on one line, so the error stays one line.
    let Err(ExprError::Syntax(msg)) = Template::parse("{{\n  \"result\": false,\n  \"n\": 1\n}}")
    else {
        panic!()
    };
    assert_eq!(
        msg, "unexpected token ':' in `\"result\": false, \"n\": 1`",
        "{msg}"
    );
}

/// A template kept to fail later evaluates to its syntax error, every time.
#[test]
fn a_template_that_does_not_parse_can_fail_when_evaluated() {
    let broken = Template::parse_or_fail_later("{{ $json.a ) }}");
    let why = broken.syntax_error().cloned().expect("a syntax error");
    assert_eq!(Template::parse("{{ $json.a ) }}").unwrap_err(), why);
    let scope = TestScope::new(sample());
    for _ in 0..2 {
        assert_eq!(broken.evaluate(&scope).unwrap_err(), why);
    }
    assert!(Template::parse_or_fail_later("{{ $json.a }}")
        .syntax_error()
        .is_none());
}

#[test]
fn evaluation_errors() {
    let e = eval_err("{{ $json.name.xyz() }}");
    assert_eq!(e.to_string(), "xyz is not a function");
    let e = eval_err("{{ foo + 1 }}");
    assert_eq!(e.to_string(), "foo is not defined");
    assert_eq!(eval("{{ typeof foo }}"), json!("undefined"));
    let e = eval_err("{{ $('Nope').item.json }}");
    match e {
        ExprError::Eval {
            message,
            description,
        } => {
            assert_eq!(message, "Referenced node doesn't exist");
            assert!(description.unwrap().contains("Nope"));
        }
        other => panic!("{other:?}"),
    }
}
