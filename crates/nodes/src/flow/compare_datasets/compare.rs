//! Value equality for Compare Datasets, exact or fuzzy.
//!
//! Fuzzy compare tolerates type differences: numbers and numeric text are equal (`3` = `"3"`),
//! booleans equal `1`/`0` and `"true"`/`"false"` in any case, text holding JSON equals the
//! parsed value (`"[1,2]"` = `[1, 2]`), and `null`, missing, `""`, `[]` and `{}` are all empty
//! and equal to each other. Dates are not parsed.

use crate::util::values::{as_number, canonical};
use sluice_expr::json_js::number_to_json;
use sluice_model::Value;

/// The fuzzy normal form of a value; `Null` stands for every kind of empty.
fn normalize(value: Option<&Value>) -> Value {
    match value {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Bool(b)) => Value::from(u8::from(*b)),
        Some(Value::Number(_)) => value
            .and_then(as_number)
            .map_or(Value::Null, number_to_json),
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.is_empty() {
                return Value::Null;
            }
            match t.to_ascii_lowercase().as_str() {
                "true" => return Value::from(1),
                "false" => return Value::from(0),
                _ => {}
            }
            if let Some(n) = as_number(&Value::String(t.to_string())) {
                return number_to_json(n);
            }
            if t.starts_with(['[', '{']) {
                if let Ok(parsed) = serde_json::from_str::<Value>(t) {
                    return normalize(Some(&parsed));
                }
            }
            Value::String(s.clone())
        }
        Some(Value::Array(items)) if items.is_empty() => Value::Null,
        Some(Value::Array(items)) => {
            Value::Array(items.iter().map(|v| normalize(Some(v))).collect())
        }
        Some(Value::Object(map)) if map.is_empty() => Value::Null,
        Some(Value::Object(map)) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalize(Some(v))))
                .collect(),
        ),
    }
}

/// A hashable key: equal keys mean equal values under the chosen comparison.
pub(super) fn key(value: Option<&Value>, fuzzy: bool) -> String {
    if fuzzy {
        canonical(Some(&normalize(value)))
    } else {
        canonical(value)
    }
}

pub(super) fn equal(a: Option<&Value>, b: Option<&Value>, fuzzy: bool) -> bool {
    key(a, fuzzy) == key(b, fuzzy)
}

#[cfg(test)]
mod tests {
    use super::equal;
    use serde_json::json;

    #[test]
    fn fuzzy_equalities() {
        let same = [
            (json!(25), json!("25")),
            (json!(true), json!("tRuE")),
            (json!(false), json!(0)),
            (json!(true), json!("1")),
            (json!(null), json!([])),
            (json!(""), json!({})),
            (json!([1, 2, 3]), json!("[1,2,3]")),
            (json!({"a": "b"}), json!("{\"a\": \"b\"}")),
        ];
        for (a, b) in same {
            assert!(equal(Some(&a), Some(&b), true), "{a} ~ {b}");
            assert!(!equal(Some(&a), Some(&b), false), "{a} != {b}");
        }
        assert!(equal(None, Some(&json!([])), true));
        assert!(!equal(Some(&json!(42)), Some(&json!("forty two")), true));
        assert!(equal(
            Some(&json!({"a": 1, "b": 2})),
            Some(&json!({"b": 2, "a": 1})),
            false
        ));
    }
}
