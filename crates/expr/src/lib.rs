//! n8n expressions: parameter templates (`={{ ... }}`) parsed once, evaluated per item.
//!
//! A template is split into literal text and `{{ }}` chunks at build time. Each chunk is parsed into
//! an expression tree and evaluated natively against a [`Scope`] (the engine's view of the running
//! execution: current item, other nodes' outputs, workflow and execution metadata). Chunks outside
//! the native subset run in the sandboxed QuickJS runtime instead (see `fallback`).
//!
//! ```
//! use sluice_expr::Template;
//! let t = Template::parse("{{ 1 + 2 }} items").unwrap();
//! assert_eq!(t.source(), "{{ 1 + 2 }} items");
//! ```

mod ast;
pub mod calendar;
mod code;
mod comparison;
mod eval;
mod fallback;
mod globals;
mod jmespath;
pub mod json_js;
mod jsregex;
mod lexer;
mod luxon;
mod methods;
mod numfmt;
mod parser;
mod scope;
mod template;
mod value;
mod vars;

pub use code::CodeScript;
pub use fallback::{payload as js_payload, reads_unnamed_node, referenced_nodes, PayloadItems};
pub use numfmt::js_number_to_string;
pub use scope::{ExecutionInfo, PrevNode, Scope, WorkflowInfo};
pub use template::{Engine, Template};

/// Deepest nesting an expression may have: brackets, operators (a chain `1+1+...` nests one
/// level per operator), member accesses and calls, template literals, statements and patterns.
/// The parser rejects deeper code, so the evaluator and the expression tree's destructor, which
/// recurse over it, stay far from the end of a thread's stack (2 MiB for worker threads).
pub const MAX_NESTING: usize = 256;

/// The error for code nested deeper than [`MAX_NESTING`].
pub(crate) fn nests_too_deep() -> ExprError {
    ExprError::Syntax(format!("expression nests deeper than {MAX_NESTING} levels"))
}

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
