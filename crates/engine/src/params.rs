//! A node's parameters compiled once at build time: literal subtrees stay JSON, every expression
//! string (`=...`) becomes a parsed [`Template`]. Nodes resolve them per item through
//! [`crate::ExecuteContext::resolve`].

use sluice_expr::{is_expression, ExprError, Template};
use sluice_model::Value;
use std::sync::Arc;

/// One compiled parameter (sub)tree.
#[derive(Clone, Debug)]
pub enum Param {
    /// A scalar (or `null`).
    Literal(Value),
    /// An expression string, with the dotted path of the parameter it sits at (for errors).
    Expr {
        template: Arc<Template>,
        path: Arc<str>,
    },
    /// An object; `literal` holds the whole subtree when it contains no expression.
    Object {
        fields: Vec<(String, Param)>,
        literal: Option<Value>,
    },
    /// An array; `literal` holds the whole subtree when it contains no expression.
    Array {
        items: Vec<Param>,
        literal: Option<Value>,
    },
}

static NULL: Param = Param::Literal(Value::Null);

impl Param {
    /// Compile a parameter tree. `path` is where it sits (empty for the root).
    pub fn compile(value: &Value, path: &str) -> Param {
        let literal = (!contains_expression(value)).then(|| without_expressions(value));
        match value {
            Value::String(s) if s == EMPTY_EXPRESSION => {
                Param::Literal(Value::String(String::new()))
            }
            // Code that does not parse fails when the node evaluates it, as in n8n, which saves
            // and runs such workflows (see `Param::syntax_errors`).
            Value::String(s) if is_expression(s) => Param::Expr {
                template: Arc::new(Template::parse_or_fail_later(&s[1..])),
                path: Arc::from(path),
            },
            Value::Array(items) => Param::Array {
                items: items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Param::compile(v, &format!("{path}[{i}]")))
                    .collect(),
                literal,
            },
            Value::Object(map) => Param::Object {
                fields: map
                    .iter()
                    .map(|(k, v)| {
                        let child = if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        };
                        (k.clone(), Param::compile(v, &child))
                    })
                    .collect(),
                literal,
            },
            scalar => Param::Literal(scalar.clone()),
        }
    }

    /// A field of an object parameter; `None` when absent (or not an object).
    pub fn get(&self, key: &str) -> Option<&Param> {
        match self {
            Param::Object { fields, .. } => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A nested field by dotted path, e.g. `options.caseSensitive`.
    pub fn path(&self, dotted: &str) -> Option<&Param> {
        dotted
            .split('.')
            .try_fold(self, |param, key| param.get(key))
    }

    /// Like [`Param::path`], but a missing parameter reads as `null`.
    pub fn at(&self, dotted: &str) -> &Param {
        self.path(dotted).unwrap_or(&NULL)
    }

    /// The elements of an array parameter (empty when absent or not an array).
    pub fn elements(&self) -> &[Param] {
        match self {
            Param::Array { items, .. } => items,
            _ => &[],
        }
    }

    /// The fields of an object parameter (empty when absent or not an object).
    pub fn fields(&self) -> &[(String, Param)] {
        match self {
            Param::Object { fields, .. } => fields,
            _ => &[],
        }
    }

    /// The value when this subtree holds no expression.
    pub fn literal(&self) -> Option<&Value> {
        match self {
            Param::Literal(v) => Some(v),
            Param::Object { literal, .. } | Param::Array { literal, .. } => literal.as_ref(),
            Param::Expr { .. } => None,
        }
    }

    /// A literal string value (`None` for expressions or other types).
    pub fn literal_str(&self) -> Option<&str> {
        self.literal().and_then(Value::as_str)
    }

    /// The expressions in this subtree that do not parse: (parameter path, why).
    pub fn syntax_errors(&self) -> Vec<(&str, &ExprError)> {
        match self {
            Param::Literal(_) => Vec::new(),
            Param::Expr { template, path } => template
                .syntax_error()
                .map(|e| (&**path, e))
                .into_iter()
                .collect(),
            Param::Object { fields, .. } => {
                fields.iter().flat_map(|(_, p)| p.syntax_errors()).collect()
            }
            Param::Array { items, .. } => items.iter().flat_map(Param::syntax_errors).collect(),
        }
    }

    /// True when this subtree contains an expression.
    pub fn is_expression(&self) -> bool {
        self.literal().is_none()
    }
}

/// A parameter of just `=`: an expression with nothing in it, which n8n resolves to `""` (a
/// switch set so is off). It is that literal here, so settings that cannot be expressions
/// accept it.
const EMPTY_EXPRESSION: &str = "=";

/// A parameter tree as it reads before any item is at hand: an empty expression is the text
/// it resolves to, any other expression is absent (`null`).
pub fn without_expressions(value: &Value) -> Value {
    replace_strings(value, &|s| {
        is_expression(s).then(|| match s {
            EMPTY_EXPRESSION => Value::String(String::new()),
            _ => Value::Null,
        })
    })
}

/// A copy of the parameter tree `value` in which each string `replace` answers for is its
/// answer.
fn replace_strings(value: &Value, replace: &impl Fn(&str) -> Option<Value>) -> Value {
    match value {
        Value::String(s) => replace(s).unwrap_or_else(|| value.clone()),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| replace_strings(item, replace))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), replace_strings(v, replace)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn contains_expression(value: &Value) -> bool {
    match value {
        Value::String(s) => is_expression(s) && s != EMPTY_EXPRESSION,
        Value::Array(items) => items.iter().any(contains_expression),
        Value::Object(map) => map.values().any(contains_expression),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expressions_read_as_absent_until_resolved_and_an_empty_one_as_empty_text() {
        let with = json!({"a": "={{ 1 }}", "b": ["x", "={{ 2 }}"], "c": 3, "d": "="});
        assert_eq!(
            without_expressions(&with),
            json!({"a": null, "b": ["x", null], "c": 3, "d": ""})
        );
        let compiled = Param::compile(&json!({"on": "=", "n": 1}), "");
        assert_eq!(compiled.literal(), Some(&json!({"on": "", "n": 1})));
    }
}
