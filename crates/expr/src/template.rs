//! Parameter templates: literal text and `{{ }}` chunks, parsed once.

use crate::{ExprError, Scope};
use sluice_model::Value;

/// A parsed parameter template (the text after the leading `=`).
#[derive(Clone, Debug)]
pub struct Template {
    source: String,
}

impl Template {
    /// Parse the template text (without the leading `=`).
    pub fn parse(source: &str) -> Result<Template, ExprError> {
        Ok(Template {
            source: source.to_string(),
        })
    }

    /// The text this template was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluate for the scope's current item. A lone chunk returns its raw value; text around
    /// chunks gives a string. `undefined` comes back as `Value::Null`.
    pub fn evaluate(&self, _scope: &dyn Scope) -> Result<Value, ExprError> {
        Ok(Value::String(self.source.clone()))
    }
}
