//! Loading and validating workflow files, with errors a user can act on.

use crate::workflow::Workflow;
use std::collections::HashSet;

/// Why a workflow file could not be accepted. Each message says what and where.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LoadError {
    #[error("invalid JSON at line {line}:{column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("not an n8n workflow: {0}")]
    NotAWorkflow(String),
    #[error("invalid workflow: {0}")]
    Invalid(String),
}

impl Workflow {
    /// Parse workflow JSON text and check its structure (unique names, valid connections).
    pub fn from_json_str(text: &str) -> Result<Workflow, LoadError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| LoadError::Syntax {
                line: e.line(),
                column: e.column(),
                message: strip_position(&e.to_string()),
            })?;
        let Some(obj) = value.as_object() else {
            return Err(LoadError::NotAWorkflow(
                "the top level is not a JSON object".into(),
            ));
        };
        if !obj.get("nodes").is_some_and(|n| n.is_array()) {
            return Err(LoadError::NotAWorkflow("it has no `nodes` array".into()));
        }
        let workflow: Workflow =
            serde_json::from_value(value).map_err(|e| LoadError::NotAWorkflow(e.to_string()))?;
        workflow.validate()?;
        Ok(workflow)
    }

    /// Structural checks that need no node registry.
    pub fn validate(&self) -> Result<(), LoadError> {
        let mut names = HashSet::new();
        for node in &self.nodes {
            if node.name.is_empty() {
                return Err(LoadError::Invalid(format!(
                    "a node of type '{}' has an empty name",
                    node.node_type
                )));
            }
            if !names.insert(node.name.as_str()) {
                return Err(LoadError::Invalid(format!(
                    "two nodes are named '{}'; node names must be unique",
                    node.name
                )));
            }
        }
        for (source, by_type) in &self.connections {
            if !names.contains(source.as_str()) {
                return Err(LoadError::Invalid(format!(
                    "connections start at node '{source}', which does not exist"
                )));
            }
            for (kind, outputs) in by_type {
                for (output, targets) in outputs.iter().enumerate() {
                    for target in targets.iter().flatten() {
                        if !names.contains(target.node.as_str()) {
                            return Err(LoadError::Invalid(format!(
                                "node '{source}' output {output} ({kind}) connects to '{}', which does not exist",
                                target.node
                            )));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_has_line_and_column() {
        let err = Workflow::from_json_str("{\n  \"nodes\": [,]\n}").unwrap_err();
        assert!(matches!(err, LoadError::Syntax { line: 2, .. }), "{err}");
    }

    #[test]
    fn missing_nodes_is_not_a_workflow() {
        let err = Workflow::from_json_str("{\"a\":1}").unwrap_err();
        assert!(err.to_string().contains("no `nodes` array"));
    }

    #[test]
    fn duplicate_names_and_dangling_connections_are_rejected() {
        let dup = r#"{"nodes":[{"name":"A","type":"x"},{"name":"A","type":"y"}]}"#;
        assert!(Workflow::from_json_str(dup)
            .unwrap_err()
            .to_string()
            .contains("'A'"));
        let dangling = r#"{"nodes":[{"name":"A","type":"x"}],
            "connections":{"A":{"main":[[{"node":"B","type":"main","index":0}]]}}}"#;
        assert!(Workflow::from_json_str(dangling)
            .unwrap_err()
            .to_string()
            .contains("'B'"));
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let text = r#"{"nodes":[{"name":"A","type":"x","notes":"hi"}],"meta":{"k":1}}"#;
        let wf = Workflow::from_json_str(text).unwrap();
        let back = serde_json::to_value(&wf).unwrap();
        assert_eq!(back["meta"]["k"], 1);
        assert_eq!(back["nodes"][0]["notes"], "hi");
    }
}
