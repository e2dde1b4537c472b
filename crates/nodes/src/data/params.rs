//! Reading node parameters the way the data and flow nodes need them: enum-like choices fixed at
//! build time (unknown values are build errors naming the parameter), and numbers or booleans
//! that n8n lets users type as text.

use sluice_engine::{NodeError, Param};
use sluice_model::Value;

/// A literal string choice at `path` (or `default` when absent), mapped through `parse`.
/// Expressions and unknown values are build errors naming the parameter.
pub fn choice<T>(
    params: &Param,
    path: &str,
    default: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, NodeError> {
    let text = match params.path(path) {
        None | Some(Param::Literal(Value::Null)) => default,
        Some(param) => param.literal_str().ok_or_else(|| {
            NodeError::new(format!("'{path}' must be a fixed value, not an expression"))
                .with_parameter(path)
        })?,
    };
    parse(text).ok_or_else(|| {
        NodeError::new(format!("unsupported value '{text}' for '{path}'")).with_parameter(path)
    })
}

/// A literal boolean at `path` (`default` when absent). Expressions are build errors.
pub fn flag(params: &Param, path: &str, default: bool) -> Result<bool, NodeError> {
    match params.path(path) {
        None | Some(Param::Literal(Value::Null)) => Ok(default),
        Some(param) => param.literal().and_then(as_bool).ok_or_else(|| {
            NodeError::new(format!("'{path}' must be true or false")).with_parameter(path)
        }),
    }
}

/// A boolean from JSON: `true`/`false` or their text.
pub fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// A number from JSON: a number or numeric text.
pub fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The value as text, the way JavaScript's `String()` renders scalars.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
