//! Typed errors: a node's own failure, and a failure of the whole execution.

use std::fmt;

/// A node failed. The engine fills in `node` when it records the error.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeError {
    pub node: Option<String>,
    pub message: String,
    pub description: Option<String>,
    pub parameter: Option<String>,
    pub item_index: Option<usize>,
}

impl NodeError {
    pub fn new(message: impl Into<String>) -> Self {
        NodeError {
            message: message.into(),
            ..Default::default()
        }
    }

    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    pub fn with_parameter(mut self, parameter: impl Into<String>) -> Self {
        self.parameter.get_or_insert(parameter.into());
        self
    }

    pub fn with_item(mut self, item_index: usize) -> Self {
        self.item_index.get_or_insert(item_index);
        self
    }

    pub fn with_node(mut self, node: &str) -> Self {
        self.node.get_or_insert_with(|| node.to_string());
        self
    }
}

impl fmt::Display for NodeError {
    /// One line: `node 'IF': Wrong type ... [parameter 'conditions', item 1]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(node) = &self.node {
            write!(f, "node '{node}': ")?;
        }
        f.write_str(&self.message)?;
        let mut context = Vec::new();
        if let Some(p) = &self.parameter {
            context.push(format!("parameter '{p}'"));
        }
        if let Some(i) = self.item_index {
            if !self.message.contains(&format!("item {i}")) {
                context.push(format!("item {i}"));
            }
        }
        if !context.is_empty() {
            write!(f, " [{}]", context.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for NodeError {}

/// Why a workflow could not be built or run to completion.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("node '{node}': unsupported node type '{node_type}' version {version}")]
    UnsupportedNode {
        node: String,
        node_type: String,
        version: f64,
    },
    #[error("node '{node}': node type '{node_type}' is disabled on this deployment: {why}")]
    ExcludedNode {
        node: String,
        node_type: String,
        why: &'static str,
    },
    #[error("{0}")]
    Build(NodeError),
    #[error(
        "No node to start the workflow from could be found (no enabled trigger, and no node \
         without inputs in a workflow without triggers)"
    )]
    NoStartNode,
    #[error("{0}")]
    Node(NodeError),
}
