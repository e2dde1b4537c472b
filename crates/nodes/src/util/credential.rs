//! The credential a node references in its `credentials` field, fetched from the process that
//! runs the execution.

use sluice_engine::{ExecuteContext, NodeError};
use sluice_model::Value;

/// The decrypted `data` of the node's credential of type `kind` (`postgres`, `redis`, ...).
pub(crate) async fn node_credential(
    ctx: &ExecuteContext<'_>,
    kind: &str,
) -> Result<Value, NodeError> {
    let reference = ctx
        .node()
        .credentials
        .as_ref()
        .and_then(|c| c.get(kind))
        .ok_or_else(|| NodeError::new(format!("the node has no '{kind}' credential")))?;
    let id = reference
        .get("id")
        .and_then(Value::as_str)
        .or_else(|| reference.get("name").and_then(Value::as_str))
        .unwrap_or_default();
    ctx.credential(kind, id).await
}
