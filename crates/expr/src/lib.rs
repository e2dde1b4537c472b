//! n8n expressions: parameter templates (`={{ ... }}`) parsed once, evaluated per item.
//!
//! A template is split into literal text and `{{ }}` chunks at build time. Each chunk is parsed into
//! an expression tree and evaluated natively against a [`Scope`] (the engine's view of the running
//! execution: current item, other nodes' outputs, workflow and execution metadata).

mod scope;
mod template;

pub use scope::{ExecutionInfo, PrevNode, Scope, WorkflowInfo};
pub use template::Template;

/// Why an expression could not be parsed or evaluated. The engine adds node, parameter and item.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExprError {
    #[error("invalid expression syntax: {0}")]
    Syntax(String),
    #[error("{message}")]
    Eval {
        message: String,
        description: Option<String>,
    },
}

impl ExprError {
    pub fn eval(message: impl Into<String>) -> Self {
        ExprError::Eval {
            message: message.into(),
            description: None,
        }
    }
}

/// True when a parameter string is an n8n expression (starts with `=`).
pub fn is_expression(text: &str) -> bool {
    text.starts_with('=')
}
