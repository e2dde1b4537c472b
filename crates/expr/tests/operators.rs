//! JavaScript operator semantics and coercions.
mod common;
use common::*;
use serde_json::json;

#[test]
fn arithmetic_coercions() {
    check(&[
        ("'5' * 2", json!(10)),
        ("'5' + 2", json!("52")),
        ("2 + '5'", json!("25")),
        ("null + 1", json!(1)),
        ("true + 1", json!(2)),
        ("[1,2] + ''", json!("1,2")),
        ("({}) + ''", json!("[object Object]")),
        ("[] + []", json!("")),
        ("'10' - '4'", json!(6)),
        ("'a' - 1", json!(null)),
        ("7 % 3", json!(1)),
        ("-7 % 3", json!(-1)),
        ("7 % -3", json!(1)),
        ("'' + 1 / (-4 % 2)", json!("-Infinity")),
        ("'' + 1 / (4 % -2)", json!("Infinity")),
        ("5.5 % 2", json!(1.5)),
        ("-5.5 % 2", json!(-1.5)),
        ("7 % 0", json!(null)),
        ("9007199254740993 % 10", json!(2)),
        ("1e300 % 7", json!(1)),
        ("2 ** 10", json!(1024)),
        ("2 ** 3 ** 2", json!(512)),
        ("-'3'", json!(-3)),
        ("+'  12  '", json!(12)),
        ("+''", json!(0)),
        ("+[]", json!(0)),
        ("+[5]", json!(5)),
        ("$json.price * 2", json!(39.98)),
        ("1 + 2 * 3", json!(7)),
        ("(1 + 2) * 3", json!(9)),
        ("5 & 3 | 8", json!(9)),
        ("1 << 4", json!(16)),
        ("-16 >> 2", json!(-4)),
        ("-1 >>> 28", json!(15)),
        ("~5", json!(-6)),
    ]);
}

#[test]
fn comparisons_and_equality() {
    check(&[
        ("'b' > 'a'", json!(true)),
        ("'B' > 'a'", json!(false)),
        ("'10' < '9'", json!(true)),
        ("'10' < 9", json!(false)),
        ("null >= 0", json!(true)),
        ("undefined > 0", json!(false)),
        ("1 == '1'", json!(true)),
        ("1 === '1'", json!(false)),
        ("null == undefined", json!(true)),
        ("null === undefined", json!(false)),
        ("null == 0", json!(false)),
        ("0 == ''", json!(true)),
        ("'1' == true", json!(true)),
        ("[1] == 1", json!(true)),
        ("NaN == NaN", json!(false)),
        ("'abc' !== 'abc'", json!(false)),
        ("$json.nested === $json.nested", json!(true)),
        ("({}) === ({})", json!(false)),
        ("'a' in {a: 1}", json!(true)),
        ("'amount' in $json", json!(true)),
        ("1 in [5, 6]", json!(true)),
        ("[] instanceof Array", json!(true)),
    ]);
}

#[test]
fn logical_and_conditional() {
    check(&[
        ("0 || 'x'", json!("x")),
        ("'a' && 'b'", json!("b")),
        ("'' && 'b'", json!("")),
        ("null ?? 'd'", json!("d")),
        ("0 ?? 'd'", json!(0)),
        ("$json.missing ?? $json.zero ?? 5", json!(0)),
        ("!0", json!(true)),
        ("!!'x'", json!(true)),
        ("$json.amount > 100 ? 'big' : 'small'", json!("big")),
        ("$json.zero ? 1 : $json.empty ? 2 : 3", json!(3)),
        ("typeof 1", json!("number")),
        ("typeof 's'", json!("string")),
        ("typeof null", json!("object")),
        ("typeof $json.missing", json!("undefined")),
        ("typeof (x => x)", json!("function")),
        ("typeof parseInt", json!("function")),
        ("void 0", json!(null)),
        ("(1, 2, 3)", json!(3)),
    ]);
}

#[test]
fn literals() {
    check(&[
        ("'it\\'s'", json!("it's")),
        ("\"tab\\there\"", json!("tab\there")),
        ("'\\u00e9\\x41'", json!("éA")),
        (
            "`sum ${1 + 2} and ${$json.name}`",
            json!("sum 3 and Alice Smith"),
        ),
        ("`obj ${ {a:1} }`", json!("obj [object Object]")),
        ("[1, ...[2, 3], 4]", json!([1, 2, 3, 4])),
        ("[...'ab']", json!(["a", "b"])),
        (
            "{a: 1, 'b c': 2, [`k${1}`]: 3}",
            json!({"a": 1, "b c": 2, "k1": 3}),
        ),
        (
            "{...$json.nested, x: 1}",
            json!({"deep": {"value": 1}, "x": 1}),
        ),
        ("1_000", json!(1000)),
        (".5 + 1e-1", json!(0.6)),
        ("[,1]", json!([null, 1])),
    ]);
}

#[test]
fn shorthand_of_unknown_is_reference_error() {
    let e = eval_err("{{ { name } }}");
    assert_eq!(e.to_string(), "name is not defined");
}

#[test]
fn arrow_functions_and_blocks() {
    check(&[
        ("[1, 2, 3].map(x => x * 2)", json!([2, 4, 6])),
        ("[1, 2, 3].map((x, i) => x + i)", json!([1, 3, 5])),
        (
            "[1, 2, 3].map(function (x) { return x * 3; })",
            json!([3, 6, 9]),
        ),
        ("[1, 2].map(x => ({v: x}))", json!([{"v": 1}, {"v": 2}])),
        ("((a, b = 10) => a + b)(1)", json!(11)),
        ("((...r) => r.length)(1, 2, 3)", json!(3)),
        ("(({a, b: {c}}) => a + c)({a: 1, b: {c: 2}})", json!(3)),
        (
            "Object.entries({x: 1, y: 2}).map(([k, v]) => k + v)",
            json!(["x1", "y2"]),
        ),
        (
            "(() => { const a = 2; let b = a * 3; return a + b; })()",
            json!(8),
        ),
        (
            "(() => { let s = 0; for (const x of [1, 2, 3]) { s += x; } return s; })()",
            json!(6),
        ),
        (
            "(() => { let s = 0; [1, 2, 3].forEach(x => { s += x; }); return s; })()",
            json!(6),
        ),
        (
            "(() => { if ($json.amount > 100) { return 'hi'; } else { return 'lo'; } })()",
            json!("hi"),
        ),
        (
            "$json.people.reduce((acc, p) => { acc[p.name] = p.age; return acc; }, {})",
            json!({"Zed": 30, "Amy": 25}),
        ),
        (
            "$json.people.reduce((acc, p) => { acc.push(p.age); return acc; }, [])",
            json!([30, 25]),
        ),
        (
            "(() => { const o = $json.nested; o.added = 1; return o; })()",
            json!({"deep": {"value": 1}, "added": 1}),
        ),
        ("(() => { let i = 0; i++; ++i; return i; })()", json!(2)),
        ("(x => y => x + y)(1)(2)", json!(3)),
    ]);
    // A write through a local is seen through `$json` within the evaluation, as in JavaScript,
    // but the item itself is never changed by an expression.
    let scope = TestScope::new(sample());
    assert_eq!(
        eval_in(
            &scope,
            "{{ (() => { const o = $json.nested; o.added = 1; return $json.nested; })() }}"
        ),
        json!({"deep": {"value": 1}, "added": 1})
    );
    assert_eq!(
        eval_in(&scope, "{{ $json.nested }}"),
        json!({"deep": {"value": 1}})
    );
}
