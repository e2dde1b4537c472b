//! Loading workflow files the way n8n 2.8.4 takes them: what n8n runs is accepted, and every
//! oddity in the file comes back as a typed [`LoadWarning`] for the caller to show; what n8n can
//! never run (it fails every run with an internal error) is refused with an error naming the node
//! and the connection.

use crate::workflow::Workflow;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fmt;

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

/// A workflow as loaded, with what was odd about its file.
#[derive(Debug)]
pub struct Loaded {
    pub workflow: Workflow,
    pub warnings: Vec<LoadWarning>,
}

/// A field a node may lack; n8n runs such a node anyway. (A node without `id` is not worth a
/// warning: nothing at run time reads it, and n8n's import makes one up.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeField {
    Position,
    Parameters,
}

/// Something odd in a workflow file that n8n accepts, and what it means for a run.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadWarning {
    /// A `connections` key that is no node's name (often a node's id): n8n keys connections by
    /// name only, so these never run.
    UnknownSource {
        key: String,
        /// The node whose id the key is, if any.
        id_of: Option<String>,
    },
    /// A main connection to a node that does not exist: a run that reaches `source` fails right
    /// after it ran ("Destination node not found").
    MissingTarget {
        source: String,
        output: usize,
        target: String,
    },
    /// Connections of another type than `main` (AI sub-nodes): not followed.
    OtherConnectionType {
        source: String,
        kind: String,
    },
    /// The same connection listed several times in one output: the target runs once for each.
    DuplicateConnection {
        source: String,
        output: usize,
        target: String,
        input: usize,
        times: usize,
    },
    /// A connection into an input the target does not have: the target waits for it, then runs
    /// without data and outputs nothing.
    MissingInput {
        source: String,
        output: usize,
        target: String,
        input: usize,
        inputs: usize,
    },
    MissingNodeField {
        node: String,
        field: NodeField,
    },
    /// A node without `typeVersion` runs as its type's default version.
    DefaultTypeVersion {
        node: String,
        version: f64,
    },
    /// A disabled trigger never starts a run.
    DisabledTrigger {
        node: String,
    },
    /// An expression that does not parse: the node fails when it evaluates it, as in n8n.
    InvalidExpression {
        node: String,
        parameter: String,
        /// Why it does not parse.
        message: String,
    },
    /// A setting whose value is none of its parameter's options: n8n runs the node as if it
    /// were not set.
    IgnoredSetting {
        node: String,
        parameter: String,
        /// What the node does instead.
        effect: String,
    },
    /// `settings.executionOrder` other than `"v1"` or `"v0"` (given as JSON text).
    UnknownExecutionOrder {
        value: String,
    },
    /// No `connections` (or `null`): nothing is connected; n8n's import refuses such a file.
    NoConnections,
}

impl fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadWarning::UnknownSource { key, id_of } => {
                write!(
                    f,
                    "connections under '{key}' never run: no node has that name"
                )?;
                if let Some(node) = id_of {
                    write!(
                        f,
                        " (it is the id of node '{node}'; connections are keyed by name)"
                    )?;
                }
                Ok(())
            }
            LoadWarning::MissingTarget {
                source,
                output,
                target,
            } => write!(
                f,
                "node '{source}' output {output} connects to '{target}', which does not exist: \
                 a run that reaches '{source}' fails after it (Destination node not found)"
            ),
            LoadWarning::OtherConnectionType { source, kind } => write!(
                f,
                "node '{source}' has '{kind}' connections: only main connections are followed"
            ),
            LoadWarning::DuplicateConnection {
                source,
                output,
                target,
                input,
                times,
            } => write!(
                f,
                "node '{source}' output {output} lists its connection to '{target}' input \
                 {input} {times} times: '{target}' runs once for each"
            ),
            LoadWarning::MissingInput {
                source,
                output,
                target,
                input,
                inputs,
            } => write!(
                f,
                "node '{source}' output {output} connects to input {input} of '{target}', which \
                 has {inputs} input{}: '{target}' never sees that data and outputs nothing for it",
                if *inputs == 1 { "" } else { "s" }
            ),
            LoadWarning::MissingNodeField { node, field } => match field {
                NodeField::Position => write!(
                    f,
                    "node '{node}' has no position: it counts as [0, 0] where v1 orders siblings"
                ),
                NodeField::Parameters => write!(
                    f,
                    "node '{node}' has no parameters: it runs with its parameters' defaults \
                     (n8n fills in none and fails on the first parameter the node reads)"
                ),
            },
            LoadWarning::DefaultTypeVersion { node, version } => write!(
                f,
                "node '{node}' has no typeVersion: it runs as version {version}, its type's default"
            ),
            LoadWarning::DisabledTrigger { node } => {
                write!(f, "trigger '{node}' is disabled: it never starts a run")
            }
            LoadWarning::InvalidExpression {
                node,
                parameter,
                message,
            } => write!(
                f,
                "node '{node}': {message} [parameter '{parameter}']: the node fails when it \
                 evaluates it"
            ),
            LoadWarning::IgnoredSetting {
                node,
                parameter,
                effect,
            } => write!(f, "node '{node}': {effect} [parameter '{parameter}']"),
            LoadWarning::UnknownExecutionOrder { value } => write!(
                f,
                "settings.executionOrder {value} is not \"v1\": the workflow runs in the legacy \
                 v0 order"
            ),
            LoadWarning::NoConnections => f.write_str(
                "the file has no connections object: no node is connected (n8n's import \
                 refuses such a file)",
            ),
        }
    }
}

impl Workflow {
    /// Parse workflow JSON text and check its structure; see [`Workflow::load_value`].
    pub fn load_str(text: &str) -> Result<Loaded, LoadError> {
        let value: Value = serde_json::from_str(text).map_err(|e| LoadError::Syntax {
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
        Workflow::load_value(value)
    }

    /// Check a workflow's JSON the way n8n would take it: refuse what n8n can never run, accept
    /// the rest and say what is odd about it.
    pub fn load_value(mut value: Value) -> Result<Loaded, LoadError> {
        let Some(obj) = value.as_object_mut() else {
            return Err(LoadError::NotAWorkflow(
                "the top level is not a JSON object".into(),
            ));
        };
        let Some(nodes) = obj.get("nodes").and_then(Value::as_array) else {
            return Err(LoadError::NotAWorkflow("it has no `nodes` array".into()));
        };
        let mut warnings = node_field_warnings(nodes);
        let names: HashSet<String> = nodes
            .iter()
            .filter_map(|n| n.get("name")?.as_str().map(str::to_string))
            .collect();
        match obj.get_mut("connections") {
            None | Some(Value::Null) => warnings.push(LoadWarning::NoConnections),
            Some(Value::Object(connections)) => check_raw_connections(connections, &names)?,
            Some(_) => return Err(LoadError::Invalid("`connections` is not an object".into())),
        }
        let order = obj.get("settings").and_then(|s| s.get("executionOrder"));
        if let Some(order) = order.filter(|o| *o != "v1" && *o != "v0") {
            warnings.push(LoadWarning::UnknownExecutionOrder {
                value: order.to_string(),
            });
        }
        let workflow: Workflow =
            serde_json::from_value(value).map_err(|e| LoadError::NotAWorkflow(e.to_string()))?;
        warnings.extend(workflow.validate()?);
        Ok(Loaded { workflow, warnings })
    }

    /// Parse workflow JSON text, for callers that show no warnings.
    pub fn from_json_str(text: &str) -> Result<Workflow, LoadError> {
        Workflow::load_str(text).map(|loaded| loaded.workflow)
    }

    /// Structural checks that need no node registry: node names, and where connections lead.
    pub fn validate(&self) -> Result<Vec<LoadWarning>, LoadError> {
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
        let ids: HashMap<&str, &str> = self
            .nodes
            .iter()
            .filter(|n| !n.id.is_empty())
            .map(|n| (n.id.as_str(), n.name.as_str()))
            .collect();
        let mut warnings = Vec::new();
        for (source, by_type) in &self.connections {
            if !names.contains(source.as_str()) {
                warnings.push(LoadWarning::UnknownSource {
                    key: source.clone(),
                    id_of: ids.get(source.as_str()).map(|n| n.to_string()),
                });
                continue;
            }
            for (kind, outputs) in by_type {
                let mut targets = outputs.iter().flatten().flatten().peekable();
                if kind != "main" {
                    if targets.peek().is_some() {
                        warnings.push(LoadWarning::OtherConnectionType {
                            source: source.clone(),
                            kind: kind.clone(),
                        });
                    }
                    continue;
                }
                for (output, targets) in outputs.iter().enumerate() {
                    let mut seen: Vec<(&str, usize, usize)> = Vec::new();
                    for target in targets.iter().flatten() {
                        let node = target.node.as_str();
                        if !names.contains(node) {
                            warnings.push(LoadWarning::MissingTarget {
                                source: source.clone(),
                                output,
                                target: target.node.clone(),
                            });
                        }
                        match seen.iter_mut().find(|s| (s.0, s.1) == (node, target.index)) {
                            Some(entry) => entry.2 += 1,
                            None => seen.push((node, target.index, 1)),
                        }
                    }
                    for (target, input, times) in seen.into_iter().filter(|s| s.2 > 1) {
                        warnings.push(LoadWarning::DuplicateConnection {
                            source: source.clone(),
                            output,
                            target: target.to_string(),
                            input,
                            times,
                        });
                    }
                }
            }
        }
        Ok(warnings)
    }
}

/// Nodes without `position` or `parameters` (missing or null).
fn node_field_warnings(nodes: &[Value]) -> Vec<LoadWarning> {
    let mut warnings = Vec::new();
    for node in nodes {
        let name = node.get("name").and_then(Value::as_str).unwrap_or_default();
        for (key, field) in [
            ("position", NodeField::Position),
            ("parameters", NodeField::Parameters),
        ] {
            if node.get(key).is_none_or(Value::is_null) {
                warnings.push(LoadWarning::MissingNodeField {
                    node: name.to_string(),
                    field,
                });
            }
        }
    }
    warnings
}

/// Refuse the connection shapes on which every n8n run fails with an internal error (a `null`
/// entry, a `null` inside an output list, `"main": null` on a real node, a connection without a
/// node name), and drop the `null` lists n8n never reads, so the rest deserializes.
fn check_raw_connections(
    connections: &mut Map<String, Value>,
    names: &HashSet<String>,
) -> Result<(), LoadError> {
    for (source, by_type) in connections.iter_mut() {
        let by_type = match by_type {
            Value::Object(by_type) => by_type,
            Value::Null => {
                return Err(LoadError::Invalid(format!(
                    "the connections of '{source}' are null (n8n fails every run of such a file)"
                )))
            }
            _ => {
                return Err(LoadError::Invalid(format!(
                    "the connections of '{source}' are not an object"
                )))
            }
        };
        let mut null_kinds = Vec::new();
        for (kind, outputs) in by_type.iter() {
            let outputs = match outputs {
                Value::Array(outputs) => outputs,
                Value::Null if kind == "main" && names.contains(source) => {
                    return Err(LoadError::Invalid(format!(
                        "node '{source}': its main connections are null (n8n fails every run \
                         that reaches it)"
                    )))
                }
                Value::Null => {
                    null_kinds.push(kind.clone());
                    continue;
                }
                _ => {
                    return Err(LoadError::Invalid(format!(
                        "node '{source}': its {kind} connections are not a list of outputs"
                    )))
                }
            };
            for (output, targets) in outputs.iter().enumerate() {
                let targets = match targets {
                    Value::Null => continue,
                    Value::Array(targets) => targets,
                    _ => {
                        return Err(LoadError::Invalid(format!(
                            "node '{source}' output {output} ({kind}): not a list of connections"
                        )))
                    }
                };
                for (k, target) in targets.iter().enumerate() {
                    let at = format!("node '{source}' output {output} ({kind}) connection {k}");
                    match target.get("node") {
                        _ if target.is_null() => {
                            return Err(LoadError::Invalid(format!(
                                "{at} is null (n8n fails every run of such a file)"
                            )))
                        }
                        Some(Value::String(_)) => {}
                        _ => {
                            return Err(LoadError::Invalid(format!("{at} has no target node name")))
                        }
                    }
                    if target.get("index").is_some_and(|i| !i.is_u64()) {
                        return Err(LoadError::Invalid(format!(
                            "{at}: its input index is not a whole number"
                        )));
                    }
                }
            }
        }
        for kind in null_kinds {
            by_type.remove(&kind);
        }
    }
    Ok(())
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
    fn duplicate_names_are_rejected() {
        let dup = r#"{"nodes":[{"name":"A","type":"x"},{"name":"A","type":"y"}]}"#;
        assert!(Workflow::from_json_str(dup)
            .unwrap_err()
            .to_string()
            .contains("'A'"));
    }

    #[test]
    fn a_file_without_connections_loads_with_a_warning() {
        for text in [
            r#"{"nodes":[{"name":"A","type":"x","position":[0,0],"parameters":{}}]}"#,
            r#"{"nodes":[{"name":"A","type":"x","position":[0,0],"parameters":{}}],
                "connections":null,"settings":null}"#,
        ] {
            let loaded = Workflow::load_str(text).unwrap();
            assert_eq!(loaded.warnings, [LoadWarning::NoConnections]);
        }
    }

    #[test]
    fn warnings_read_as_one_line_naming_node_and_connection() {
        let text = LoadWarning::MissingTarget {
            source: "Set".into(),
            output: 1,
            target: "Gone".into(),
        }
        .to_string();
        assert_eq!(
            text,
            "node 'Set' output 1 connects to 'Gone', which does not exist: a run that reaches \
             'Set' fails after it (Destination node not found)"
        );
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
