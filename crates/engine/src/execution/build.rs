//! Building a workflow once: every node looked up in the registry and built from its compiled
//! parameters, and the graph indexed (incoming connections, connected inputs per node), with
//! warnings for what is odd about it (inputs a node lacks, defaulted versions, disabled triggers).

use super::stream::StreamPlan;
use crate::credentials::NodeCredentials;
use crate::node::ItemWise;
use crate::registry::NodeKind;
use crate::Credentials;
use crate::{EngineError, Node, Param, Registry};
use sluice_model::{LoadWarning, OnError, Value, Workflow};
use std::collections::HashMap;

/// Per node: whether a later node may read its output by name, so the run data must keep all
/// of it. A reader needs the named node's output (`$('X').all()`, `.first()`), and for
/// `$('X').item` the paired items of every node between it and X: so every node upstream of a
/// reader is kept too. When a name is not written out (`$(name)`), every node is kept.
fn read_by_name(
    workflow: &Workflow,
    index: &HashMap<String, usize>,
    incoming: &[Vec<(usize, usize, usize)>],
) -> Vec<bool> {
    let mut marked: Vec<usize> = Vec::new();
    for (reader, def) in workflow.nodes.iter().enumerate() {
        let mut named = Vec::new();
        let unnamed = any_text(&def.parameters, &mut |text| {
            named.extend(sluice_expr::referenced_nodes(text));
            sluice_expr::reads_unnamed_node(text)
        });
        if unnamed {
            return vec![true; workflow.nodes.len()];
        }
        if !named.is_empty() {
            marked.extend(named.iter().filter_map(|name| index.get(name).copied()));
            marked.extend(incoming[reader].iter().map(|(parent, _, _)| *parent));
        }
    }
    let mut whole = vec![false; workflow.nodes.len()];
    while let Some(node) = marked.pop() {
        if !std::mem::replace(&mut whole[node], true) {
            marked.extend(incoming[node].iter().map(|(parent, _, _)| *parent));
        }
    }
    whole
}

/// Whether any text in `value` (a node's parameters) satisfies `test` (which sees each text
/// until one does).
pub(super) fn any_text(value: &Value, test: &mut impl FnMut(&str) -> bool) -> bool {
    match value {
        Value::String(s) => test(s),
        Value::Array(items) => items.iter().any(|v| any_text(v, test)),
        Value::Object(map) => map.values().any(|v| any_text(v, test)),
        _ => false,
    }
}

pub(super) struct BuiltNode {
    pub(super) node: Option<Box<dyn Node>>,
    pub(super) params: Param,
    /// Main inputs the node has; data on other inputs is dropped before it runs.
    pub(super) inputs: usize,
    pub(super) outputs: usize,
    pub(super) kind: NodeKind,
    pub(super) item_wise: ItemWise,
    /// See [`Node::stream_chunk_items`].
    pub(super) stream_chunk_items: usize,
}

/// A workflow whose nodes are built and whose graph is indexed; run it any number of times.
pub struct CompiledWorkflow {
    pub(super) workflow: Workflow,
    pub(super) nodes: Vec<BuiltNode>,
    pub(super) index: HashMap<String, usize>,
    /// Per node: (parent, parent output, input index) of each incoming main connection.
    pub(super) incoming: Vec<Vec<(usize, usize, usize)>>,
    /// Per node: number of connected input slots (highest connected input index + 1).
    pub(super) connected_inputs: Vec<usize>,
    /// The node types it was built with, for the sub-workflows its nodes build.
    pub(super) registry: Registry,
    /// Which nodes may run as streamed chains.
    pub(super) stream_plan: StreamPlan,
    /// Per node: the run data keeps all of its output items, whatever
    /// [`ExecutionOptions::run_data_max_items`](crate::ExecutionOptions::run_data_max_items)
    /// says, because a later node may read them by name (see [`read_by_name`]).
    pub(super) whole_outputs: Vec<bool>,
    warnings: Vec<LoadWarning>,
}

impl CompiledWorkflow {
    /// Validate node types against the registry and build every node from its parameters. A
    /// node without `typeVersion` is built as its type's default version; what is odd about the
    /// graph for the nodes it has is in [`CompiledWorkflow::warnings`].
    pub fn build(mut workflow: Workflow, registry: &Registry) -> Result<Self, EngineError> {
        let mut warnings = Vec::new();
        for def in &mut workflow.nodes {
            if def.type_version.is_none() {
                if let Some(version) = registry.default_version(&def.node_type) {
                    def.type_version = Some(version);
                    warnings.push(LoadWarning::DefaultTypeVersion {
                        node: def.name.clone(),
                        version,
                    });
                }
            }
        }
        let index: HashMap<String, usize> = workflow
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        let mut nodes = Vec::with_capacity(workflow.nodes.len());
        for def in &workflow.nodes {
            let spec = registry
                .get(&def.node_type, def.version())
                .ok_or_else(|| match registry.excluded_by(&def.node_type) {
                    Some(why) => EngineError::ExcludedNode {
                        node: def.name.clone(),
                        node_type: def.node_type.clone(),
                        why,
                    },
                    None => EngineError::UnsupportedNode {
                        node: def.name.clone(),
                        node_type: def.node_type.clone(),
                        version: def.version(),
                    },
                })?;
            if spec.kind == NodeKind::Note {
                nodes.push(BuiltNode {
                    node: None,
                    params: Param::Literal(Value::Null),
                    inputs: 0,
                    outputs: 0,
                    kind: NodeKind::Note,
                    item_wise: ItemWise::Barrier,
                    stream_chunk_items: 0,
                });
                continue;
            }
            if spec.kind == NodeKind::Trigger && def.disabled {
                warnings.push(LoadWarning::DisabledTrigger {
                    node: def.name.clone(),
                });
            }
            let params = Param::compile(&def.parameters, "");
            warnings.extend(
                params
                    .syntax_errors()
                    .into_iter()
                    .map(|(parameter, error)| LoadWarning::InvalidExpression {
                        node: def.name.clone(),
                        parameter: parameter.to_string(),
                        message: error.to_string(),
                    }),
            );
            let node = (spec.factory)(def, &params)
                .map_err(|e| EngineError::Build(e.with_node(&def.name)))?;
            warnings.extend(
                node.ignored_settings()
                    .into_iter()
                    .map(|(parameter, effect)| LoadWarning::IgnoredSetting {
                        node: def.name.clone(),
                        parameter: parameter.to_string(),
                        effect,
                    }),
            );
            let error_output = usize::from(def.error_policy() == OnError::ContinueErrorOutput);
            nodes.push(BuiltNode {
                inputs: node.inputs(),
                outputs: node.outputs() + error_output,
                item_wise: node.item_wise(),
                stream_chunk_items: node.stream_chunk_items(),
                node: Some(node),
                params,
                kind: spec.kind,
            });
        }
        let mut incoming = vec![Vec::new(); nodes.len()];
        let mut connected_inputs = vec![0usize; nodes.len()];
        // In node order, so that each node's incoming connections (and the walk upwards that v0
        // forcing makes) come in the same order on every run.
        for (source_idx, source) in workflow.nodes.iter().map(|n| &n.name).enumerate() {
            for (output, targets) in workflow.main_outputs(source).iter().enumerate() {
                for conn in targets.iter().flatten() {
                    // A missing target fails the run once `source` has run (see `queue`).
                    let Some(&target) = index.get(&conn.node) else {
                        continue;
                    };
                    let inputs = nodes[target].inputs;
                    if conn.index >= inputs && nodes[target].kind != NodeKind::Note {
                        warnings.push(LoadWarning::MissingInput {
                            source: source.clone(),
                            output,
                            target: conn.node.clone(),
                            input: conn.index,
                            inputs,
                        });
                    }
                    incoming[target].push((source_idx, output, conn.index));
                    connected_inputs[target] = connected_inputs[target].max(conn.index + 1);
                }
            }
        }
        let stream_plan = StreamPlan::build(&workflow, &nodes, &index, &incoming);
        let whole_outputs = read_by_name(&workflow, &index, &incoming);
        Ok(CompiledWorkflow {
            stream_plan,
            whole_outputs,
            workflow,
            nodes,
            index,
            incoming,
            connected_inputs,
            registry: registry.clone(),
            warnings,
        })
    }

    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    /// What is odd about the workflow for the nodes it has (the loader's
    /// [`sluice_model::Loaded::warnings`] cover the file itself).
    pub fn warnings(&self) -> &[LoadWarning] {
        &self.warnings
    }

    /// Check, before running, that every credential the nodes will ask for (see
    /// [`Node::credential_types`]) can be found in `credentials`; the error names the node and
    /// the credential.
    pub async fn check_credentials(
        &self,
        credentials: Option<&Credentials>,
    ) -> Result<(), EngineError> {
        for (def, built) in self.workflow.nodes.iter().zip(&self.nodes) {
            let Some(node) = built.node.as_deref() else {
                continue;
            };
            let kinds = node.credential_types();
            if def.disabled || kinds.is_empty() {
                continue;
            }
            let resolved = NodeCredentials::resolve(def, credentials).await;
            for kind in kinds {
                resolved.get(&def.name, kind).map_err(EngineError::Build)?;
            }
        }
        Ok(())
    }

    /// n8n's start node: the first enabled trigger, else (in a workflow without triggers) the
    /// first enabled node without inputs. When every trigger is disabled there is none.
    pub fn start_node(&self) -> Option<&str> {
        let enabled = |i: &usize| !self.workflow.nodes[*i].disabled;
        let is_trigger = |i: &usize| self.nodes[*i].kind == NodeKind::Trigger;
        let start = match (0..self.nodes.len()).filter(is_trigger).find(enabled) {
            Some(trigger) => Some(trigger),
            None if (0..self.nodes.len()).any(|i| is_trigger(&i)) => None,
            None => (0..self.nodes.len())
                .filter(enabled)
                .find(|i| self.nodes[*i].kind == NodeKind::Regular && self.incoming[*i].is_empty()),
        };
        start.map(|i| self.workflow.nodes[i].name.as_str())
    }
}
