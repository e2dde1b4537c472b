//! The few JavaScript conversions n8n nodes apply to values: `String(x)`, `Number(x)` on a
//! string, `JSON.stringify`, and turning a computed number back into JSON (integral numbers as
//! integers, `NaN` as `null`).

use sluice_model::Value;

/// The text of a JSON number as JavaScript prints it.
pub(crate) fn number_text(n: &serde_json::Number) -> String {
    match n.as_i64() {
        Some(i) => i.to_string(),
        None => sluice_expr::js_number_to_string(n.as_f64().unwrap_or(f64::NAN)),
    }
}

/// `String(value)`: `[object Object]` for objects, comma-joined arrays, `null` for null.
pub(crate) fn to_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => number_text(n),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::Null => String::new(),
                v => to_string(v),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// `JSON.stringify(value)` (compact, numbers as JavaScript prints them).
pub(crate) fn stringify(value: &Value) -> String {
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

/// `Number(text)`: trimmed, empty is 0, hex/octal/binary prefixes, `Infinity`; `None` for NaN.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return Some(0.0);
    }
    let radix = match t.get(..2) {
        Some("0x" | "0X") => 16,
        Some("0o" | "0O") => 8,
        Some("0b" | "0B") => 2,
        _ => 10,
    };
    if radix != 10 {
        return u64::from_str_radix(&t[2..], radix).ok().map(|v| v as f64);
    }
    match t {
        "Infinity" | "+Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    let literal = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && t.chars().any(|c| c.is_ascii_digit());
    literal.then(|| t.parse::<f64>().ok()).flatten()
}

/// A computed number as JSON: integral values as integers, non-finite ones as `null`.
pub(crate) fn number_value(x: f64) -> Value {
    if x == x.trunc() && x.abs() < 9.007_199_254_740_992e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// JavaScript truthiness.
pub(crate) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0 && !x.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_like_javascript() {
        let text = |v: Value| number_text(v.as_number().unwrap());
        assert_eq!(text(json!(52472)), "52472");
        assert_eq!(text(json!(1.334535)), "1.334535");
        assert_eq!(text(json!(-1.0)), "-1");
        assert_eq!(text(json!(1e-7)), "1e-7");
    }

    #[test]
    fn parses_like_number() {
        assert_eq!(parse_number(" 2.5 "), Some(2.5));
        assert_eq!(parse_number(" "), Some(0.0));
        assert_eq!(parse_number("0x10"), Some(16.0));
        assert_eq!(parse_number("3,14"), None);
        assert_eq!(parse_number("hello"), None);
    }

    #[test]
    fn stringifies_and_converts() {
        assert_eq!(
            stringify(&json!({"a": [1, 2.5, "x"], "b": null})),
            r#"{"a":[1,2.5,"x"],"b":null}"#
        );
        assert_eq!(to_string(&json!([1, null, "a"])), "1,,a");
        assert_eq!(number_value(3.0), json!(3));
        assert_eq!(number_value(f64::NAN), Value::Null);
    }
}
