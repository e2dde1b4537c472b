//! Node types by (type, typeVersion): what exists, and how to build it from its parameters.

use crate::{Node, NodeError, Param};
use sluice_model::NodeDef;
use std::collections::HashMap;
use std::sync::Arc;

/// How the engine treats a node type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// Starts executions (Manual Trigger, Webhook, Schedule...). Picked as the start node.
    Trigger,
    /// Transforms input items.
    Regular,
    /// Canvas decoration (sticky notes): accepted, never run.
    Note,
}

/// Builds a node from its definition and compiled parameters.
pub type Factory = fn(&NodeDef, &Param) -> Result<Box<dyn Node>, NodeError>;

/// One registered node type: all the typeVersions one factory handles.
#[derive(Clone, Copy)]
pub struct NodeSpec {
    pub node_type: &'static str,
    pub versions: &'static [f64],
    pub kind: NodeKind,
    pub factory: Factory,
}

/// All node types the engine can run. Cloning is cheap (the table is shared): every
/// [`crate::CompiledWorkflow`] keeps the registry it was built with, so the sub-workflows its
/// nodes build use the same node types.
#[derive(Default, Clone)]
pub struct Registry {
    specs: Arc<HashMap<&'static str, Vec<NodeSpec>>>,
    /// Types left out by the deployment's settings, with why (the setting, and how to change it).
    excluded: Arc<HashMap<&'static str, &'static str>>,
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    pub fn register(&mut self, spec: NodeSpec) {
        Arc::make_mut(&mut self.specs)
            .entry(spec.node_type)
            .or_default()
            .push(spec);
    }

    /// Leave `node_type` out: workflows using it fail to build, saying `why` (the setting that
    /// excluded it, and how to change it).
    pub fn exclude(&mut self, node_type: &str, why: &'static str) {
        if let Some((name, _)) = Arc::make_mut(&mut self.specs).remove_entry(node_type) {
            Arc::make_mut(&mut self.excluded).insert(name, why);
        }
    }

    /// Why `node_type` was left out, when it was.
    pub fn excluded_by(&self, node_type: &str) -> Option<&'static str> {
        self.excluded.get(node_type).copied()
    }

    /// The spec that handles `node_type` at `version`.
    pub fn get(&self, node_type: &str, version: f64) -> Option<&NodeSpec> {
        self.specs
            .get(node_type)?
            .iter()
            .find(|spec| spec.versions.contains(&version))
    }

    /// The version a node of `node_type` without a `typeVersion` runs as: the highest one.
    pub fn default_version(&self, node_type: &str) -> Option<f64> {
        self.specs
            .get(node_type)?
            .iter()
            .flat_map(|spec| spec.versions.iter().copied())
            .max_by(f64::total_cmp)
    }

    /// True when the type exists at some version.
    pub fn knows_type(&self, node_type: &str) -> bool {
        self.specs.contains_key(node_type)
    }

    /// Every supported (type, versions), sorted by type.
    pub fn supported(&self) -> Vec<(&'static str, Vec<f64>)> {
        let mut out: Vec<_> = self
            .specs
            .iter()
            .map(|(t, specs)| {
                let mut versions: Vec<f64> = specs
                    .iter()
                    .flat_map(|s| s.versions.iter().copied())
                    .collect();
                versions.sort_by(f64::total_cmp);
                (*t, versions)
            })
            .collect();
        out.sort_by_key(|(t, _)| *t);
        out
    }
}
