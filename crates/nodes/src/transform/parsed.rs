//! Typed node configuration parsed from parameters once at build time, and again from resolved
//! values only when the parameters hold expressions.
//!
//! At build time expression strings read as absent, so literal values (operations, modes, field
//! lists) are validated up front and unknown values fail the build naming their parameter. When
//! an expression is present the whole tree is resolved for the item that needs it and parsed
//! again.

use sluice_engine::{ExecuteContext, NodeError, Param};
use sluice_model::{NodeDef, Value};
use std::borrow::Cow;

pub(crate) use crate::util::options::unknown;
use crate::util::values::as_number;

/// Parses a node's whole parameter object into its configuration.
pub(crate) type Parser<T> = Box<dyn Fn(&Value) -> Result<T, NodeError> + Send + Sync>;

pub(crate) struct Parsed<T> {
    fixed: T,
    /// The compiled parameters when they hold expressions.
    dynamic: Option<Param>,
    parse: Parser<T>,
}

impl<T: Clone> Parsed<T> {
    pub(crate) fn new(def: &NodeDef, params: &Param, parse: Parser<T>) -> Result<Self, NodeError> {
        Ok(Parsed {
            fixed: parse(&without_expressions(&def.parameters))?,
            dynamic: params.is_expression().then(|| params.clone()),
            parse,
        })
    }

    /// The configuration as seen by item `item_index` of the main input.
    pub(crate) fn for_item(
        &self,
        ctx: &ExecuteContext<'_>,
        item_index: usize,
    ) -> Result<Cow<'_, T>, NodeError> {
        match &self.dynamic {
            None => Ok(Cow::Borrowed(&self.fixed)),
            Some(params) => {
                let values = ctx.resolve(params, item_index)?;
                (self.parse)(&values)
                    .map(Cow::Owned)
                    .map_err(|e| e.with_item(item_index))
            }
        }
    }
}

fn without_expressions(value: &Value) -> Value {
    match value {
        Value::String(s) if sluice_expr::is_expression(s) => Value::Null,
        Value::Array(items) => Value::Array(items.iter().map(without_expressions).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), without_expressions(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Typed readers for a parameter object, with errors that name the parameter.
pub(crate) struct Reader<'a> {
    params: &'a Value,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(params: &'a Value) -> Self {
        Reader { params }
    }

    /// The value at a dotted path (`options.reset`); `None` when absent or `null`.
    pub(crate) fn get(&self, path: &str) -> Option<&'a Value> {
        path.split('.')
            .try_fold(self.params, |v, key| v.get(key))
            .filter(|v| !v.is_null())
    }

    pub(crate) fn str_or(&self, path: &str, default: &'a str) -> Result<&'a str, NodeError> {
        match self.get(path) {
            None => Ok(default),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(wrong_type(path, "text", other)),
        }
    }

    pub(crate) fn bool_or(&self, path: &str, default: bool) -> Result<bool, NodeError> {
        match self.get(path) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
            Some(other) => Err(wrong_type(path, "a boolean", other)),
        }
    }

    pub(crate) fn number_or(&self, path: &str, default: f64) -> Result<f64, NodeError> {
        match self.get(path) {
            None => Ok(default),
            Some(v) => as_number(v).ok_or_else(|| wrong_type(path, "a number", v)),
        }
    }

    /// A field list in any of n8n's shapes (see [`crate::util::fields::field_list`]).
    pub(crate) fn fields(&self, path: &str) -> Result<Vec<String>, NodeError> {
        crate::util::fields::field_list(self.get(path), path)
    }

    /// The elements of an array parameter (`fieldsToSummarize.values`); empty when absent.
    pub(crate) fn list(&self, path: &str) -> &'a [Value] {
        self.get(path)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

fn wrong_type(path: &str, expected: &str, got: &Value) -> NodeError {
    NodeError::new(format!("'{path}' must be {expected}, got {got}")).with_parameter(path)
}
