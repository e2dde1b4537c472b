//! The run loop: one execution's mutable state, seeded with the start node, popping pending node
//! runs until none is left (v1 then releases waiting multi-input nodes), with the endless-loop
//! guards.

use super::build::CompiledWorkflow;
use super::memory::MemoryLedger;
use super::outcome::{RunOutcome, RunStatus};
use crate::context::{NodeState, Shared};
use crate::credentials::NodeCredentials;
use crate::options::ExecutionOptions;
use crate::run_data::RunData;
use crate::{EngineError, NodeError};
use indexmap::IndexMap;
use sluice_model::{ExecutionOrder, Item, JsonObject, SourceRef};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One pending node run.
pub(super) struct Entry {
    pub(super) node: usize,
    pub(super) inputs: Vec<Vec<Item>>,
    pub(super) sources: Vec<Option<SourceRef>>,
}

/// Partial inputs of a multi-input node waiting for its other inputs.
#[derive(Default)]
pub(super) struct Slot {
    pub(super) inputs: Vec<Option<Vec<Item>>>,
    pub(super) sources: Vec<Option<SourceRef>>,
}

impl CompiledWorkflow {
    /// Run the workflow from its start node to the end.
    pub async fn run(&self, options: ExecutionOptions) -> Result<RunOutcome, EngineError> {
        let start = options
            .start_node
            .as_deref()
            .or_else(|| self.start_node())
            .and_then(|n| self.index.get(n).copied())
            .ok_or(EngineError::NoStartNode)?;
        let trigger_items = options
            .trigger_items
            .clone()
            .unwrap_or_else(|| vec![Item::default()]);
        let initial_static_data = options
            .static_data
            .clone()
            .unwrap_or_else(|| self.workflow.static_data_object());
        let mut run = Run {
            wf: self,
            options: &options,
            order: self.workflow.execution_order(),
            run_data: RunData::default(),
            stack: VecDeque::new(),
            waiting: IndexMap::new(),
            states: HashMap::new(),
            node_order: Vec::new(),
            logs: Vec::new(),
            execution_index: 0,
            static_data: Mutex::new(initial_static_data.clone()),
            credentials: HashMap::new(),
            custom_data: Mutex::new(JsonObject::new()),
            memory: options.memory_budget_mb.map(MemoryLedger::new),
        };
        run.stack.push_back(Entry {
            node: start,
            inputs: vec![trigger_items],
            sources: vec![None],
        });
        let started_at = options.clock.now();
        let wall = Instant::now();
        let error = run.run_to_end().await.err();
        let last_node = run.node_order.last().cloned();
        let static_data = run.static_data.into_inner().expect("static data");
        Ok(RunOutcome {
            custom_data: run.custom_data.into_inner().expect("custom data"),
            static_data_changed: static_data != initial_static_data,
            static_data,
            status: if error.is_some() {
                RunStatus::Error
            } else {
                RunStatus::Success
            },
            error,
            last_node,
            node_order: run.node_order,
            logs: run.logs,
            run_data: run.run_data,
            started_at,
            duration: wall.elapsed(),
        })
    }
}

/// The mutable state of one execution.
pub(super) struct Run<'w> {
    pub(super) wf: &'w CompiledWorkflow,
    pub(super) options: &'w ExecutionOptions,
    pub(super) order: ExecutionOrder,
    pub(super) run_data: RunData,
    pub(super) stack: VecDeque<Entry>,
    pub(super) waiting: IndexMap<usize, BTreeMap<usize, Slot>>,
    pub(super) states: HashMap<usize, NodeState>,
    pub(super) node_order: Vec<String>,
    pub(super) logs: Vec<(String, String)>,
    pub(super) execution_index: usize,
    pub(super) static_data: Mutex<JsonObject>,
    /// Each node's credentials, resolved on its first run.
    pub(super) credentials: HashMap<usize, Arc<NodeCredentials>>,
    pub(super) custom_data: Mutex<JsonObject>,
    /// What the execution holds against its memory budget, when it has one.
    pub(super) memory: Option<MemoryLedger>,
}

impl Run<'_> {
    /// What the context of every node run shares: the workflow and this execution's state.
    pub(super) fn shared(&self) -> Shared<'_> {
        Shared {
            workflow: &self.wf.workflow,
            run_data: &self.run_data,
            options: self.options,
            states: &self.states,
            index: &self.wf.index,
            static_data: &self.static_data,
            custom_data: &self.custom_data,
            registry: &self.wf.registry,
        }
    }
}

impl Run<'_> {
    async fn run_to_end(&mut self) -> Result<(), NodeError> {
        let mut last_run: Option<(usize, usize)> = None;
        let mut node_runs = 0usize;
        loop {
            let entry = match self.stack.pop_front() {
                Some(entry) => entry,
                None if self.order == ExecutionOrder::V1 => match self.release_waiting() {
                    Some(entry) => entry,
                    None => return Ok(()),
                },
                None => return Ok(()),
            };
            let name = &self.wf.workflow.nodes[entry.node].name;
            let run_index = self.run_data.run_count(name);
            if last_run == Some((entry.node, run_index)) {
                return Err(NodeError::new(
                    "Stopped execution because it seems to be in an endless loop",
                )
                .with_node(name));
            }
            last_run = Some((entry.node, run_index));
            node_runs += 1;
            if node_runs > self.options.max_node_runs {
                return Err(NodeError::new(format!(
                    "Stopped execution because it seems to be in an endless loop: more than {} node runs",
                    self.options.max_node_runs
                ))
                .with_node(name));
            }
            match self.stream_chain(&entry) {
                Some(chain) => self.run_chain(entry, chain).await?,
                None => self.execute(entry, run_index).await?,
            }
        }
    }
}
