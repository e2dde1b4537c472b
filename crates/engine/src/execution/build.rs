//! Building a workflow once: every node looked up in the registry and built from its compiled
//! parameters, and the graph indexed (incoming connections, connected inputs per node).

use crate::registry::NodeKind;
use crate::{EngineError, Node, Param, Registry};
use sluice_model::{OnError, Value, Workflow};
use std::collections::HashMap;

pub(super) struct BuiltNode {
    pub(super) node: Option<Box<dyn Node>>,
    pub(super) params: Param,
    pub(super) outputs: usize,
    pub(super) kind: NodeKind,
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
}

impl CompiledWorkflow {
    /// Validate node types against the registry and build every node from its parameters.
    pub fn build(workflow: Workflow, registry: &Registry) -> Result<Self, EngineError> {
        let index: HashMap<String, usize> = workflow
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        let mut nodes = Vec::with_capacity(workflow.nodes.len());
        for def in &workflow.nodes {
            let spec = registry
                .get(&def.node_type, def.type_version)
                .ok_or_else(|| EngineError::UnsupportedNode {
                    node: def.name.clone(),
                    node_type: def.node_type.clone(),
                    version: def.type_version,
                })?;
            if spec.kind == NodeKind::Note {
                nodes.push(BuiltNode {
                    node: None,
                    params: Param::Literal(Value::Null),
                    outputs: 0,
                    kind: NodeKind::Note,
                });
                continue;
            }
            let params = Param::compile(&def.parameters, "")
                .map_err(|e| EngineError::Build(e.with_node(&def.name)))?;
            let node = (spec.factory)(def, &params)
                .map_err(|e| EngineError::Build(e.with_node(&def.name)))?;
            let error_output = usize::from(def.error_policy() == OnError::ContinueErrorOutput);
            nodes.push(BuiltNode {
                outputs: node.outputs() + error_output,
                node: Some(node),
                params,
                kind: spec.kind,
            });
        }
        let mut incoming = vec![Vec::new(); nodes.len()];
        let mut connected_inputs = vec![0usize; nodes.len()];
        for (source, source_idx) in &index {
            for (output, targets) in workflow.main_outputs(source).iter().enumerate() {
                for conn in targets.iter().flatten() {
                    let target = index[&conn.node];
                    incoming[target].push((*source_idx, output, conn.index));
                    connected_inputs[target] = connected_inputs[target].max(conn.index + 1);
                }
            }
        }
        Ok(CompiledWorkflow {
            workflow,
            nodes,
            index,
            incoming,
            connected_inputs,
            registry: registry.clone(),
        })
    }

    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    /// n8n's start node: the first enabled trigger, else the first enabled node without inputs.
    pub fn start_node(&self) -> Option<&str> {
        let enabled = |i: &usize| !self.workflow.nodes[*i].disabled;
        (0..self.nodes.len())
            .filter(enabled)
            .find(|i| self.nodes[*i].kind == NodeKind::Trigger)
            .or_else(|| {
                (0..self.nodes.len()).filter(enabled).find(|i| {
                    self.nodes[*i].kind == NodeKind::Regular && self.incoming[*i].is_empty()
                })
            })
            .map(|i| self.workflow.nodes[i].name.as_str())
    }
}
