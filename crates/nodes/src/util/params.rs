//! The one way nodes read their parameters: a [`Reader`] with typed getters whose errors name
//! the parameter, over either the compiled parameters at build time or plain values, and
//! [`Parsed`] for a typed configuration that may hold expressions.
//!
//! A node parses its configuration once in its factory. Settings that shape the node (modes,
//! switches, counts) are read with [`Reader::fixed`], which refuses expressions. A configuration
//! that n8n lets users write as expressions is a [`Parsed`]: parsed at build time with the
//! expressions left out (so literal operations, modes and field lists are validated up front and
//! unknown values fail the build), and parsed again from resolved values only for the items
//! that need it.

use crate::util::fields::field_list;
use crate::util::values::as_number;
use sluice_engine::{without_expressions, ExecuteContext, NodeError, Param};
use sluice_model::{NodeDef, Value};
use std::borrow::Cow;

/// Typed readers over a node's parameters, with errors that name the parameter.
#[derive(Clone, Copy)]
pub(crate) enum Reader<'a> {
    /// Compiled parameters read at build time: an expression is an error.
    Fixed(&'a Param),
    /// Plain values: literal parameters, or parameters resolved for an item.
    Values(&'a Value),
}

impl<'a> Reader<'a> {
    /// Build-time settings from the compiled parameters; expressions are refused.
    pub(crate) fn fixed(params: &'a Param) -> Self {
        Reader::Fixed(params)
    }

    /// Parameters as plain JSON: resolved for an item, an entry of a literal list, or a node's
    /// own parameters read outside a build (the Webhook's config, which `sluice serve` reads).
    pub(crate) fn new(values: &'a Value) -> Self {
        Reader::Values(values)
    }

    /// The value at a dotted path (`options.reset`); `None` when absent or `null`.
    pub(crate) fn get(&self, path: &str) -> Result<Option<&'a Value>, NodeError> {
        let value = match *self {
            Reader::Fixed(params) => match params.path(path) {
                None => None,
                Some(param) => Some(param.literal().ok_or_else(|| {
                    NodeError::new("this setting cannot be an expression").with_parameter(path)
                })?),
            },
            Reader::Values(values) => path.split('.').try_fold(values, |v, key| v.get(key)),
        };
        Ok(value.filter(|v| !v.is_null()))
    }

    /// A text option without a default (`options.responseContentType`); `None` when absent.
    pub(crate) fn text(&self, path: &str) -> Result<Option<&'a str>, NodeError> {
        match self.get(path)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(path, "text", other)),
        }
    }

    /// A text option (`mode`, `joinMode`, ...).
    pub(crate) fn str_or(&self, path: &str, default: &'a str) -> Result<&'a str, NodeError> {
        Ok(self.text(path)?.unwrap_or(default))
    }

    /// A text option mapped through `parse`; values it does not know are errors.
    pub(crate) fn choice<T>(
        &self,
        path: &str,
        default: &'a str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, NodeError> {
        let text = self.str_or(path, default)?;
        parse(text).ok_or_else(|| unsupported(path, text))
    }

    /// A switch (`options.dotNotation`, ...): `true`/`false` or their text.
    pub(crate) fn bool_or(&self, path: &str, default: bool) -> Result<bool, NodeError> {
        match self.get(path)? {
            None => Ok(default),
            Some(v) => as_bool(v).ok_or_else(|| wrong_type(path, "true or false", v)),
        }
    }

    /// A number option (`maxItems`, `numberInputs`, ...): a number or numeric text.
    pub(crate) fn number_or(&self, path: &str, default: f64) -> Result<f64, NodeError> {
        match self.get(path)? {
            None => Ok(default),
            Some(v) => as_number(v).ok_or_else(|| wrong_type(path, "a number", v)),
        }
    }

    /// A field list in any of n8n's shapes (see [`field_list`]).
    pub(crate) fn fields(&self, path: &str) -> Result<Vec<String>, NodeError> {
        field_list(self.get(path)?, path)
    }

    /// The elements of an array parameter (`fieldsToSummarize.values`); empty when absent.
    pub(crate) fn list(&self, path: &str) -> Result<&'a [Value], NodeError> {
        Ok(self
            .get(path)?
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]))
    }
}

/// The error for an option value this node does not know.
/// A text parameter resolved for item `i`; `default` when absent or empty.
pub(crate) fn text_param(
    ctx: &ExecuteContext<'_>,
    path: &str,
    i: usize,
    default: &str,
) -> Result<String, NodeError> {
    Ok(ctx
        .param_str(path, i)?
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| default.to_string()))
}

pub(crate) fn unsupported(path: &str, value: &str) -> NodeError {
    NodeError::new(format!("unsupported value '{value}'")).with_parameter(path)
}

fn wrong_type(path: &str, expected: &str, got: &Value) -> NodeError {
    NodeError::new(format!("expected {expected}, got {got}")).with_parameter(path)
}

/// A boolean parameter value: `true`/`false` or their text.
pub(crate) fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        // What an empty expression resolves to: off, as JavaScript's truthiness has it.
        Value::String(s) if s == "false" || s.is_empty() => Some(false),
        _ => None,
    }
}

/// Parses a node's parameters into its configuration.
pub(crate) type Parser<T> = Box<dyn Fn(&Reader<'_>) -> Result<T, NodeError> + Send + Sync>;

/// A configuration parsed at build time, and again per item when its parameters hold
/// expressions.
pub(crate) struct Parsed<T> {
    fixed: T,
    /// The compiled parameters when they hold expressions.
    dynamic: Option<Param>,
    parse: Parser<T>,
}

impl<T: Clone> Parsed<T> {
    pub(crate) fn new(def: &NodeDef, params: &Param, parse: Parser<T>) -> Result<Self, NodeError> {
        Ok(Parsed {
            fixed: parse(&Reader::new(&without_expressions(&def.parameters)))?,
            dynamic: params.is_expression().then(|| params.clone()),
            parse,
        })
    }

    /// The configuration when its parameters hold no expression (the same for every item).
    pub(crate) fn constant(&self) -> Option<&T> {
        self.dynamic.is_none().then_some(&self.fixed)
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
                (self.parse)(&Reader::new(&values))
                    .map(Cow::Owned)
                    .map_err(|e| e.with_item(item_index))
            }
        }
    }
}

/// The text of a resource locator (`{__rl, mode, value}`) or plain string parameter.
pub(crate) fn locator_text(value: Value) -> String {
    match value {
        Value::Object(mut map) => match map.remove("value") {
            Some(Value::String(s)) => s,
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        },
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compiled(value: Value) -> Param {
        Param::compile(&value, "")
    }

    #[test]
    fn fixed_settings_refuse_expressions_and_name_the_parameter() {
        let params = compiled(json!({"mode": "={{ 'a' }}", "options": {"on": "true"}}));
        let r = Reader::fixed(&params);
        let error = r.str_or("mode", "x").unwrap_err().to_string();
        assert_eq!(
            error,
            "this setting cannot be an expression [parameter 'mode']"
        );
        assert!(r.bool_or("options.on", false).unwrap());
        assert_eq!(r.str_or("absent", "dflt").unwrap(), "dflt");
    }

    #[test]
    fn wrong_types_and_unknown_choices_are_errors_naming_the_parameter() {
        let values = json!({"n": "ten", "on": 3, "mode": "magic", "count": " 4 "});
        let r = Reader::new(&values);
        let text = |e: NodeError| e.to_string();
        assert_eq!(
            text(r.number_or("n", 1.0).unwrap_err()),
            "expected a number, got \"ten\" [parameter 'n']"
        );
        assert_eq!(
            text(r.bool_or("on", false).unwrap_err()),
            "expected true or false, got 3 [parameter 'on']"
        );
        let mode = r.choice("mode", "a", |m| (m == "a").then_some(()));
        assert_eq!(
            text(mode.unwrap_err()),
            "unsupported value 'magic' [parameter 'mode']"
        );
        assert_eq!(r.number_or("count", 1.0).unwrap(), 4.0);
    }
}
