//! A node's parameters compiled once at build time: literal subtrees stay JSON, every expression
//! string (`=...`) becomes a parsed [`Template`]. Nodes resolve them per item through
//! [`crate::ExecuteContext::resolve`].

use crate::NodeError;
use sluice_expr::{is_expression, Template};
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
    pub fn compile(value: &Value, path: &str) -> Result<Param, NodeError> {
        let literal = (!contains_expression(value)).then(|| value.clone());
        Ok(match value {
            Value::String(s) if is_expression(s) => Param::Expr {
                template: Arc::new(
                    Template::parse(&s[1..])
                        .map_err(|e| NodeError::new(e.to_string()).with_parameter(path))?,
                ),
                path: Arc::from(path),
            },
            Value::Array(items) => Param::Array {
                items: items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Param::compile(v, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
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
                        Ok((k.clone(), Param::compile(v, &child)?))
                    })
                    .collect::<Result<_, NodeError>>()?,
                literal,
            },
            scalar => Param::Literal(scalar.clone()),
        })
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

    /// True when this subtree contains an expression.
    pub fn is_expression(&self) -> bool {
        self.literal().is_none()
    }
}

fn contains_expression(value: &Value) -> bool {
    match value {
        Value::String(s) => is_expression(s),
        Value::Array(items) => items.iter().any(contains_expression),
        Value::Object(map) => map.values().any(contains_expression),
        _ => false,
    }
}
