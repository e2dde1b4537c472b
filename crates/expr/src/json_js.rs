//! JavaScript value semantics on plain JSON (`serde_json::Value`), for code outside the
//! expression evaluator (the built-in nodes) that must convert, compare and print item data the
//! way n8n's JavaScript does: `String(v)`, `Number(v)`, number printing, truthiness, `typeof`,
//! `===`, `JSON.stringify` and string ordering.
//!
//! These are the same rules the evaluator applies to its own values (see `value.rs` and
//! `numfmt.rs`), so a node and an expression never disagree on how `1e-7` prints or whether
//! `" 0x1F "` is a number. JSON has no `undefined`; callers that need it model it as `None`.
//!
//! ```
//! use serde_json::json;
//! use sluice_expr::json_js;
//! assert_eq!(json_js::to_js_string(&json!([1, null, 1e-7])), "1,,1e-7");
//! assert_eq!(json_js::parse_number(" 0x1F "), Some(31.0));
//! assert!(!json_js::truthy(&json!("")));
//! ```

use serde_json::{Number, Value};

pub use crate::numfmt::{js_number_to_string as number_to_string, string_to_number};
pub use crate::value::compare_utf16 as compare_strings;

/// The text of a JSON number as JavaScript prints it. Integers stored as integers print exactly
/// (`u64`/`i64`); other numbers go through [`number_to_string`] (`1e-7`, `1e+21`, `0`).
pub fn number_text(n: &Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() => number_to_string(f),
        _ => n.to_string(),
    }
}

/// `String(value)`: numbers as JavaScript prints them, arrays joined by `,` (with `null`
/// elements empty), objects as `[object Object]`, `null` as `"null"`.
pub fn to_js_string(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::Null => String::new(),
                other => to_js_string(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// `Number(text)` with `NaN` as `None`: trimmed, empty is 0, `0x`/`0o`/`0b` prefixes,
/// `Infinity`, otherwise the whole text must be a decimal literal.
pub fn parse_number(text: &str) -> Option<f64> {
    let n = string_to_number(text);
    (!n.is_nan()).then_some(n)
}

/// `Number(value)`; `NaN` for objects and for text that is not a number. An array converts
/// through its string form (`[]` is 0, `[5]` is 5, `[1, 2]` is NaN), as in JavaScript.
pub fn to_number(value: &Value) -> f64 {
    match value {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => string_to_number(s),
        Value::Array(_) => string_to_number(&to_js_string(value)),
        Value::Object(_) => f64::NAN,
    }
}

/// A computed number as JSON: integral values within ±2^53 as integers, `NaN` and ±∞ as
/// `null` (what `JSON.stringify` writes for them).
pub fn number_to_json(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0 {
        Value::from(n as i64)
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// `Boolean(value)`: `null`, `false`, `0`, `NaN` and `""` are false; everything else is true.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `typeof value` (arrays and `null` are `"object"`, as in JavaScript).
pub fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Null | Value::Array(_) | Value::Object(_) => "object",
    }
}

/// `a === b`: same type and value for primitives. Arrays and objects are never identical
/// (JavaScript compares them by reference, and two JSON values are two objects).
pub fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::String(y)) => x == y,
        _ => false,
    }
}

/// `JSON.stringify(value)`: compact, with numbers printed as JavaScript prints them.
pub fn stringify(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Number(n) => out.push_str(&number_text(n)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::cmp::Ordering;

    #[test]
    fn strings_like_javascript() {
        assert_eq!(to_js_string(&json!(1.0)), "1");
        assert_eq!(to_js_string(&json!(1.5)), "1.5");
        assert_eq!(to_js_string(&json!(52472)), "52472");
        assert_eq!(to_js_string(&json!(-1.0)), "-1");
        assert_eq!(to_js_string(&json!(1e-7)), "1e-7");
        assert_eq!(to_js_string(&json!(1e21)), "1e+21");
        assert_eq!(to_js_string(&json!(-0.0)), "0");
        assert_eq!(to_js_string(&json!(u64::MAX)), "18446744073709551615");
        assert_eq!(to_js_string(&json!([1, null, "a", [2, 3]])), "1,,a,2,3");
        assert_eq!(to_js_string(&json!({"a": 1})), "[object Object]");
        assert_eq!(to_js_string(&json!(null)), "null");
    }

    #[test]
    fn numbers_like_javascript() {
        assert_eq!(parse_number(" 2.5 "), Some(2.5));
        assert_eq!(parse_number(" "), Some(0.0));
        assert_eq!(parse_number(" 0x1F "), Some(31.0));
        assert_eq!(parse_number("0b101"), Some(5.0));
        assert_eq!(parse_number("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_number("3,14"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("hello"), None);
        assert_eq!(to_number(&json!([])), 0.0);
        assert_eq!(to_number(&json!([" 5 "])), 5.0);
        assert!(to_number(&json!([1, 2])).is_nan());
        assert!(to_number(&json!({})).is_nan());
        assert_eq!(to_number(&json!(true)), 1.0);
        assert_eq!(number_to_json(3.0), json!(3));
        assert_eq!(number_to_json(2.5), json!(2.5));
        assert_eq!(number_to_json(f64::NAN), Value::Null);
        assert_eq!(number_to_json(f64::INFINITY), Value::Null);
    }

    #[test]
    fn truthiness_equality_and_json() {
        assert!(!truthy(&json!(0)) && !truthy(&json!("")) && !truthy(&json!(null)));
        assert!(truthy(&json!([])) && truthy(&json!("0")));
        assert_eq!(type_of(&json!([])), "object");
        assert!(strict_eq(&json!(1), &json!(1.0)));
        assert!(!strict_eq(&json!("1"), &json!(1)));
        assert!(!strict_eq(&json!([]), &json!([])));
        assert_eq!(
            stringify(&json!({"a": [1, 2.5, "x", 1e-7], "b": null})),
            r#"{"a":[1,2.5,"x",1e-7],"b":null}"#
        );
        assert_eq!(compare_strings("\u{ff61}", "\u{1f600}"), Ordering::Greater);
    }
}
