//! Stop and Error v1 (`n8n-nodes-base.stopAndError`): fails the node (and so the workflow, unless
//! its error settings say otherwise) with a message, or with an error object given as JSON.

use crate::util::params::Reader;
use crate::util::values::as_text;
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.stopAndError",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

struct StopAndError {
    /// `errorObject` mode; otherwise `errorMessage`.
    object: bool,
}

fn build(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let r = Reader::fixed(params);
    let object = r.choice("errorType", "errorMessage", |t| match t {
        "errorMessage" => Some(false),
        "errorObject" => Some(true),
        _ => None,
    })?;
    Ok(Box::new(StopAndError { object }))
}

#[async_trait::async_trait]
impl Node for StopAndError {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        if !self.object {
            let message = ctx.param_str("errorMessage", 0)?.unwrap_or_default();
            return Err(NodeError::new(message));
        }
        let value = match ctx.param("errorObject", 0)? {
            Value::String(text) => serde_json::from_str(&text).map_err(|e| {
                NodeError::new(format!("the error object is not valid JSON: {e}"))
                    .with_parameter("errorObject")
            })?,
            other => other,
        };
        Err(error_from_object(&value))
    }
}

/// The error an object describes: its `message` (with `description`), else its `description`,
/// `error` or `error.message`, else the object as JSON.
fn error_from_object(value: &Value) -> NodeError {
    let text = |key: &str| value.get(key).filter(|v| !v.is_null()).map(as_text);
    if let Some(message) = text("message") {
        let error = NodeError::new(message);
        return match text("description") {
            Some(d) => error.with_description(d),
            None => error,
        };
    }
    let nested = value
        .get("error")
        .and_then(|e| e.get("message"))
        .map(as_text);
    let message = text("description")
        .or(nested)
        .or_else(|| text("error"))
        .unwrap_or_else(|| value.to_string());
    NodeError::new(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn object_messages() {
        let e = error_from_object(&json!({"message": "boom", "description": "why"}));
        assert_eq!(
            (e.message.as_str(), e.description.as_deref()),
            ("boom", Some("why"))
        );
        assert_eq!(
            error_from_object(&json!({"error": {"message": "inner"}})).message,
            "inner"
        );
        assert_eq!(
            error_from_object(&json!({"code": 7})).message,
            r#"{"code":7}"#
        );
    }
}
