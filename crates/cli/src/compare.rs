//! Deep equality as n8n's harness judges it (Jest `toEqual`): key order ignored, numbers by
//! value; the first difference is reported as a JSON path.

use serde_json::Value;

/// `None` when equal, else `"<path>: expected X, got Y"`.
pub fn first_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    let differ = || {
        Some(format!(
            "{path}: expected {}, got {}",
            short(expected),
            short(actual)
        ))
    };
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => (a.as_f64() != b.as_f64()).then(differ).flatten(),
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                if let Some(d) = first_difference(x, y, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (a.len() != b.len())
                .then(|| format!("{path}: expected {} elements, got {}", a.len(), b.len()))
        }
        (Value::Object(a), Value::Object(b)) => {
            for (k, x) in a {
                let child = format!("{path}.{k}");
                match b.get(k) {
                    Some(y) => {
                        if let Some(d) = first_difference(x, y, &child) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{child}: expected {}, missing", short(x))),
                }
            }
            b.iter()
                .find(|(k, _)| !a.contains_key(*k))
                .map(|(k, y)| format!("{path}.{k}: unexpected {}", short(y)))
        }
        _ => (expected != actual).then(differ).flatten(),
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 80 {
        format!("{}...", text.chars().take(77).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_number_form_do_not_matter() {
        assert_eq!(
            first_difference(&json!({"a": 1, "b": 2.0}), &json!({"b": 2, "a": 1.0}), "$"),
            None
        );
    }

    #[test]
    fn reports_the_first_difference_as_a_path() {
        let d = first_difference(
            &json!({"a": [1, {"b": 2}]}),
            &json!({"a": [1, {"b": 3}]}),
            "$",
        );
        assert_eq!(d.unwrap(), "$.a[1].b: expected 2, got 3");
        let d = first_difference(&json!([1]), &json!([1, 2]), "$");
        assert_eq!(d.unwrap(), "$: expected 1 elements, got 2");
    }
}
