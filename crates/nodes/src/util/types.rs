//! n8n's field types (string, number, boolean, array, object) and how it converts a value to
//! one of them. Edit Fields v3+ and the sub-workflow inputs of Execute Workflow check and
//! convert values with these same rules.

use sluice_expr::json_js;
use sluice_model::Value;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum FieldType {
    String,
    Number,
    Boolean,
    Array,
    Object,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Array => "array",
            FieldType::Object => "object",
        }
    }

    /// The type called `name`; `None` for any other name (`any`, `dateTime`, ...).
    pub fn from_name(name: &str) -> Option<FieldType> {
        Some(match name {
            "string" => FieldType::String,
            "number" => FieldType::Number,
            "boolean" => FieldType::Boolean,
            "array" => FieldType::Array,
            "object" => FieldType::Object,
            _ => return None,
        })
    }

    /// Whether `value` already has this type (`null` has every type).
    pub fn holds(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (_, Value::Null)
                | (FieldType::String, Value::String(_))
                | (FieldType::Number, Value::Number(_))
                | (FieldType::Boolean, Value::Bool(_))
                | (FieldType::Array, Value::Array(_))
                | (FieldType::Object, Value::Object(_))
        )
    }

    /// Convert `value` to this type as n8n validates field types; `Err` gives the value back
    /// unchanged. `null` passes as `null` for every type.
    pub fn convert(self, value: Value) -> Result<Value, Value> {
        match (self, value) {
            (_, Value::Null) => Ok(Value::Null),
            (FieldType::String, Value::String(s)) => Ok(Value::String(s)),
            (FieldType::String, v @ (Value::Array(_) | Value::Object(_))) => {
                Ok(Value::String(json_js::stringify(&v)))
            }
            (FieldType::String, v) => Ok(Value::String(json_js::to_js_string(&v))),
            (FieldType::Number, Value::Number(n)) => Ok(Value::Number(n)),
            (FieldType::Number, Value::Bool(b)) => Ok(Value::from(u8::from(b))),
            (FieldType::Number, Value::String(s)) => match json_js::parse_number(&s) {
                Some(x) => Ok(json_js::number_to_json(x)),
                None => Err(Value::String(s)),
            },
            (FieldType::Boolean, Value::Bool(b)) => Ok(Value::Bool(b)),
            (FieldType::Boolean, Value::String(s)) => {
                match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" => Ok(Value::Bool(true)),
                    "false" | "0" => Ok(Value::Bool(false)),
                    _ => Err(Value::String(s)),
                }
            }
            (FieldType::Boolean, Value::Number(n)) => match n.as_f64() {
                Some(0.0) => Ok(Value::Bool(false)),
                Some(1.0) => Ok(Value::Bool(true)),
                _ => Err(Value::Number(n)),
            },
            (FieldType::Array, v @ Value::Array(_)) | (FieldType::Object, v @ Value::Object(_)) => {
                Ok(v)
            }
            (kind @ (FieldType::Array | FieldType::Object), Value::String(s)) => {
                match serde_json::from_str::<Value>(&s) {
                    Ok(v) if kind.holds(&v) && !v.is_null() => Ok(v),
                    _ => Err(Value::String(s)),
                }
            }
            (_, v) => Err(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_as_n8n_field_validation() {
        assert_eq!(FieldType::Number.convert(json!("12.5")), Ok(json!(12.5)));
        assert_eq!(FieldType::Number.convert(json!("x")), Err(json!("x")));
        assert_eq!(FieldType::Boolean.convert(json!(" TRUE ")), Ok(json!(true)));
        assert_eq!(
            FieldType::String.convert(json!({"a": 1})),
            Ok(json!("{\"a\":1}"))
        );
        assert_eq!(FieldType::Array.convert(json!("[1]")), Ok(json!([1])));
        assert_eq!(FieldType::Object.convert(json!("[1]")), Err(json!("[1]")));
        assert_eq!(FieldType::Object.convert(json!("null")), Err(json!("null")));
        assert_eq!(FieldType::Object.convert(Value::Null), Ok(Value::Null));
    }

    #[test]
    fn holds_checks_without_converting() {
        assert!(FieldType::Number.holds(&json!(1)));
        assert!(!FieldType::Number.holds(&json!("1")));
        assert!(FieldType::String.holds(&Value::Null));
        assert_eq!(FieldType::from_name("any"), None);
    }
}
