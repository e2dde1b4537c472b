//! Sticky Note: a canvas note. Accepted so workflows load, never run.

use sluice_engine::{Node, NodeError, NodeKind, NodeSpec, Param};
use sluice_model::NodeDef;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.stickyNote",
    versions: &[1.0],
    kind: NodeKind::Note,
    factory: build,
};

fn build(def: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    Err(NodeError::new(format!(
        "sticky note '{}' is never built",
        def.name
    )))
}
