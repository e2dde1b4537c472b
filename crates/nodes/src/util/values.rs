//! Value helpers the nodes share on top of JavaScript's conversions ([`sluice_expr::json_js`]):
//! text for messages and markup, "empty" checks, numbers for arithmetic (and for numbers typed as
//! text in parameters), a hashable deep-equality key, and one total ordering used by Sort and by
//! Summarize's min/max.

use sluice_expr::json_js;
use sluice_model::Value;
use std::cmp::Ordering;

/// `String(value)` as JavaScript computes it (`None` is `undefined`).
pub(crate) fn js_string(value: Option<&Value>) -> String {
    value.map_or_else(|| "undefined".into(), json_js::to_js_string)
}

/// The value as text the way the data nodes write it into messages, XML and HTML: strings as
/// they are, `null` as empty text, anything else as its JSON text.
pub(crate) fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Missing, `null` or `""`: what Summarize leaves out unless "Include Empty Values" is on.
pub(crate) fn is_empty(value: Option<&Value>) -> bool {
    matches!(value, None | Some(Value::Null)) || value.and_then(Value::as_str) == Some("")
}

/// A number for arithmetic: numbers, booleans and numeric (non-blank) strings.
pub(crate) fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) if !s.trim().is_empty() => json_js::parse_number(s),
        _ => None,
    }
}

/// A text key that is equal for deeply equal values, whatever their object key order
/// (lodash `isEqual` semantics, for hashing).
pub(crate) fn canonical(value: Option<&Value>) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: Option<&Value>, out: &mut String) {
    match value {
        None => out.push('~'),
        Some(Value::Object(map)) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for key in keys {
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(map.get(key), out);
                out.push(',');
            }
            out.push('}');
        }
        Some(Value::Array(items)) => {
            out.push('[');
            for item in items {
                write_canonical(Some(item), out);
                out.push(',');
            }
            out.push(']');
        }
        Some(Value::Number(n)) => out.push_str(&json_js::number_text(n)),
        Some(scalar) => out.push_str(&scalar.to_string()),
    }
}

fn rank(value: Option<&Value>) -> u8 {
    match value {
        Some(Value::Number(_) | Value::Bool(_)) => 0,
        Some(Value::String(_)) => 1,
        Some(Value::Array(_)) => 2,
        Some(Value::Object(_)) => 3,
        Some(Value::Null) => 4,
        None => 5,
    }
}

/// A total order for sorting: numbers (and booleans) numerically, then strings by UTF-16 code
/// units as JavaScript compares them, then arrays and objects, then `null`, then missing values.
pub(crate) fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
        (Some(Value::String(x)), Some(Value::String(y))) => json_js::compare_strings(x, y),
        (Some(x @ (Value::Number(_) | Value::Bool(_))), Some(y)) => {
            let (x, y) = (as_number(x).unwrap_or(0.0), as_number(y).unwrap_or(0.0));
            x.total_cmp(&y)
        }
        (Some(x), Some(y)) => json_js::stringify(x).cmp(&json_js::stringify(y)),
        _ => Ordering::Equal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ordering_puts_null_then_missing_last() {
        let mut values = vec![
            Some(json!(null)),
            None,
            Some(json!("b")),
            Some(json!(2)),
            Some(json!("a")),
        ];
        values.sort_by(|a, b| compare(a.as_ref(), b.as_ref()));
        let expected = vec![
            Some(json!(2)),
            Some(json!("a")),
            Some(json!("b")),
            Some(json!(null)),
            None,
        ];
        assert_eq!(values, expected);
    }

    #[test]
    fn canonical_ignores_key_order_but_not_types() {
        assert_eq!(
            canonical(Some(&json!({"a": 1, "b": [2.0]}))),
            canonical(Some(&json!({"b": [2], "a": 1})))
        );
        assert_ne!(canonical(Some(&json!("1"))), canonical(Some(&json!(1))));
        assert_ne!(canonical(Some(&json!(null))), canonical(None));
    }

    #[test]
    fn empties_and_numbers() {
        assert!(is_empty(None) && is_empty(Some(&json!(""))) && is_empty(Some(&json!(null))));
        assert!(!is_empty(Some(&json!(0))));
        assert_eq!(as_number(&json!(" 2.5")), Some(2.5));
        assert_eq!(as_number(&json!("")), None);
    }
}
