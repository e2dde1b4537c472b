//! Type validation of filter condition values: under `strict` a value must already have the
//! operator's type, under `loose` it is converted where that makes sense. The error texts are
//! n8n's (`Wrong type: '12' is a string but was expecting a number`).

use super::js;
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};
use sluice_expr::json_js;

/// The value types a filter operator works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Any,
    String,
    Number,
    DateTime,
    Boolean,
    Array,
    Object,
}

impl ValueType {
    pub fn parse(name: &str) -> Option<ValueType> {
        Some(match name {
            "any" => ValueType::Any,
            "string" => ValueType::String,
            "number" => ValueType::Number,
            "dateTime" => ValueType::DateTime,
            "boolean" => ValueType::Boolean,
            "array" => ValueType::Array,
            "object" => ValueType::Object,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            ValueType::Any => "any",
            ValueType::String => "string",
            ValueType::Number => "number",
            ValueType::DateTime => "dateTime",
            ValueType::Boolean => "boolean",
            ValueType::Array => "array",
            ValueType::Object => "object",
        }
    }
}

/// How values are checked (filter `options.typeValidation` + `options.version`).
#[derive(Clone, Copy, Debug)]
pub struct Validation {
    pub loose: bool,
    /// Filter parameter version (1–3): changes loose boolean and empty-number conversion.
    pub version: u8,
    pub tz: Tz,
}

/// A condition value after validation.
#[derive(Clone, Debug, PartialEq)]
pub enum Typed {
    /// `null` or `undefined`: never validated, it fails every comparison but `notExists`/`empty`.
    Missing,
    Any(Value),
    String(String),
    Number(f64),
    DateTime(DateTime<FixedOffset>),
    Boolean(bool),
    Array(Vec<Value>),
    Object(Map<String, Value>),
}

/// Validate (and under loose validation convert) `value` to `ty`; the error is n8n's message
/// without the `[condition i, item j]` suffix.
pub fn coerce(value: Value, ty: ValueType, v: Validation) -> Result<Typed, String> {
    if value.is_null() {
        return Ok(Typed::Missing);
    }
    let wrong = |value: &Value| Err(wrong_type(value, ty));
    match ty {
        ValueType::Any => Ok(Typed::Any(value)),
        ValueType::String => match value {
            Value::String(s) => Ok(Typed::String(s)),
            Value::Array(_) | Value::Object(_) if v.loose => Ok(Typed::String(value.to_string())),
            other if v.loose => Ok(Typed::String(json_js::to_js_string(&other))),
            other => wrong(&other),
        },
        ValueType::Number => match value {
            Value::Number(n) => Ok(n.as_f64().map_or(Typed::Missing, Typed::Number)),
            other if !v.loose => wrong(&other),
            Value::String(s) if s.trim().is_empty() && v.version >= 3 => Ok(Typed::Missing),
            Value::Array(items) if items.is_empty() && v.version >= 3 => Ok(Typed::Missing),
            Value::String(s) => json_js::parse_number(&s)
                .map(Typed::Number)
                .ok_or_else(|| conversion_error(&s, ty)),
            other => match json_js::to_number(&other) {
                n if n.is_nan() => wrong(&other),
                n => Ok(Typed::Number(n)),
            },
        },
        ValueType::Boolean => match value {
            Value::Bool(b) => Ok(Typed::Boolean(b)),
            other if !v.loose => wrong(&other),
            other if v.version < 2 => Ok(Typed::Boolean(json_js::truthy(&other))),
            other => Ok(Typed::Boolean(
                loose_boolean(&other).unwrap_or_else(|| json_js::truthy(&other)),
            )),
        },
        ValueType::DateTime => match value {
            Value::String(s) => js::parse_datetime(&s, v.tz)
                .map(Typed::DateTime)
                .ok_or_else(|| conversion_error(&s, ty)),
            Value::Number(n) if v.loose => n
                .as_f64()
                .and_then(|ms| Utc.timestamp_millis_opt(ms as i64).single())
                .map(|d| Typed::DateTime(d.fixed_offset()))
                .ok_or_else(|| wrong_type(&Value::Number(n.clone()), ty)),
            other => wrong(&other),
        },
        ValueType::Array => match value {
            Value::Array(items) => Ok(Typed::Array(items)),
            Value::String(s) if v.loose => match serde_json::from_str(&s) {
                Ok(Value::Array(items)) => Ok(Typed::Array(items)),
                _ => Err(conversion_error(&s, ty)),
            },
            other => wrong(&other),
        },
        ValueType::Object => match value {
            Value::Object(map) => Ok(Typed::Object(map)),
            Value::String(s) if v.loose => match serde_json::from_str(&s) {
                Ok(Value::Object(map)) => Ok(Typed::Object(map)),
                _ => Err(conversion_error(&s, ty)),
            },
            other => wrong(&other),
        },
    }
}

/// Words and numbers n8n's loose validation reads as booleans.
fn loose_boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "t" | "y" | "on" => Some(true),
            "false" | "0" | "no" | "f" | "n" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn with_article(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

fn wrong_type(value: &Value, expected: ValueType) -> String {
    format!(
        "Wrong type: '{}' is {} but was expecting {}",
        json_js::to_js_string(value),
        with_article(json_js::type_of(value)),
        with_article(expected.name())
    )
}

fn conversion_error(text: &str, expected: ValueType) -> String {
    format!(
        "Conversion error: the string '{text}' can't be converted to {}",
        with_article(expected.name())
    )
}
