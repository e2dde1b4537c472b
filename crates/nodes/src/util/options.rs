//! Reading options that are fixed at build time (modes, switches, counts) from compiled
//! parameters, with n8n's defaults for absent ones and a clear error when they are expressions
//! or the wrong type. Used by Edit Fields, Merge, the item-list transforms and the test nodes.

use sluice_engine::{NodeError, Param};
use sluice_model::Value;

fn literal<'p>(params: &'p Param, path: &str) -> Result<Option<&'p Value>, NodeError> {
    match params.path(path) {
        None => Ok(None),
        Some(param) => match param.literal() {
            Some(Value::Null) => Ok(None),
            Some(value) => Ok(Some(value)),
            None => Err(NodeError::new("an expression is not supported here").with_parameter(path)),
        },
    }
}

/// A text option (`mode`, `joinMode`, ...).
pub(crate) fn str_or<'p>(
    params: &'p Param,
    path: &str,
    default: &'p str,
) -> Result<&'p str, NodeError> {
    match literal(params, path)? {
        None => Ok(default),
        Some(Value::String(s)) => Ok(s),
        Some(other) => {
            Err(NodeError::new(format!("expected text, got {other}")).with_parameter(path))
        }
    }
}

/// A switch (`options.dotNotation`, ...).
pub(crate) fn bool_or(params: &Param, path: &str, default: bool) -> Result<bool, NodeError> {
    match literal(params, path)? {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
        Some(other) => {
            Err(NodeError::new(format!("expected true or false, got {other}")).with_parameter(path))
        }
    }
}

/// A number option (`numberInputs`, `duplicateCount`, ...).
pub(crate) fn number_or(params: &Param, path: &str, default: f64) -> Result<f64, NodeError> {
    match literal(params, path)? {
        None => Ok(default),
        Some(Value::Number(n)) => Ok(n.as_f64().unwrap_or(default)),
        Some(Value::String(s)) if s.trim().parse::<f64>().is_ok() => {
            Ok(s.trim().parse().unwrap_or(default))
        }
        Some(other) => {
            Err(NodeError::new(format!("expected a number, got {other}")).with_parameter(path))
        }
    }
}

/// The error for an option value this node does not know.
pub(crate) fn unknown(path: &str, value: &str) -> NodeError {
    NodeError::new(format!("unsupported value '{value}'")).with_parameter(path)
}
