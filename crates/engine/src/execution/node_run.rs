//! One node run: input items stamped with their paired items, pinned data or a disabled node's
//! pass-through, the node executed with retries, its error policy applied, and its task data
//! recorded (and reported to the progress observer) before its children are queued.

use super::error_output::route_error_items;
use super::paired_items::assign_paired_items;
use super::run_loop::{Entry, Run};
use crate::context::{Counters, ExecuteContext};
use crate::credentials::{has_references, NodeCredentials};
use crate::run_data::{NodeProfile, TaskData, TaskError};
use crate::{NodeError, NodeProgress};
use indexmap::IndexMap;
use sluice_model::{ExecutionOrder, Item, OnError, PairedItem, PairedItems};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

impl Run<'_> {
    pub(super) async fn execute(
        &mut self,
        entry: Entry,
        run_index: usize,
    ) -> Result<(), NodeError> {
        let wf = self.wf;
        let def = &wf.workflow.nodes[entry.node];
        let built = &wf.nodes[entry.node];
        let Some(node) = built.node.as_deref() else {
            return Ok(());
        };
        self.report(NodeProgress::Started { node: &def.name });
        let mut inputs = entry.inputs;
        // Data sent to an input the node does not have never reaches it; the node then runs
        // with what is left (maybe nothing) and outputs nothing for it, as in n8n.
        let dropped_input = inputs
            .drain(built.inputs.min(inputs.len())..)
            .any(|items| !items.is_empty());
        for (input_index, items) in inputs.iter_mut().enumerate() {
            if def.execute_once {
                items.truncate(1);
            }
            for (i, item) in items.iter_mut().enumerate() {
                item.paired_item = PairedItems::one(PairedItem::with_input(i, input_index));
            }
        }
        let main_input = match self.order {
            ExecutionOrder::V1 => inputs.iter().position(|i| !i.is_empty()).unwrap_or(0),
            ExecutionOrder::V0 => 0,
        };
        let items_in: usize = inputs.iter().map(Vec::len).sum();
        let main_len = inputs.get(main_input).map_or(0, Vec::len);
        let start_time = self.options.clock.now().timestamp_millis();
        let wall = Instant::now();
        let pinned = self
            .options
            .use_pin_data
            .then(|| self.wf.workflow.pin_data.as_ref()?.get(&def.name))
            .flatten();
        let policy = def.error_policy();

        let runs = pinned.is_none() && !def.disabled && items_in > 0;
        let credentials = if runs {
            self.node_credentials(entry.node).await
        } else {
            Arc::default()
        };
        let mut retries = 0u32;
        let mut counters = IndexMap::new();
        let mut hints = Vec::new();
        let result: Result<Option<Vec<Vec<Item>>>, NodeError> = if let Some(pinned) = pinned {
            Ok(Some(vec![pinned.clone()]))
        } else if def.disabled {
            Ok(Some(vec![inputs.first().cloned().unwrap_or_default()]))
        } else if items_in == 0 && dropped_input {
            Ok(Some(Vec::new()))
        } else if items_in == 0 {
            Ok(None)
        } else if node.passes_input_through() {
            let input = inputs.get_mut(main_input).map(std::mem::take);
            Ok(Some(vec![input.unwrap_or_default()]))
        } else {
            let state = self.states.remove(&entry.node).unwrap_or_default();
            let shared = self.shared();
            let ctx = ExecuteContext {
                first_item: 0,
                shared: &shared,
                node: def,
                params: &built.params,
                inputs: &inputs,
                sources: entry.sources.clone(),
                main_input,
                run_index,
                continue_on_fail: policy != OnError::StopWorkflow,
                state: Mutex::new(state),
                logs: Mutex::new(Vec::new()),
                credentials,
                counters: Counters::default(),
                hints: Mutex::new(Vec::new()),
            };
            let tries = def.tries();
            let mut result = node.execute(&ctx).await;
            while result.is_err() && retries + 1 < tries {
                retries += 1;
                ctx.clock()
                    .sleep(Duration::from_millis(def.wait_between_tries_ms()))
                    .await;
                result = node.execute(&ctx).await;
            }
            let state = ctx.state.into_inner().expect("node state");
            let logs = ctx.logs.into_inner().expect("node logs");
            counters.extend(ctx.counters.take());
            hints = ctx.hints.into_inner().expect("node hints");
            self.states.insert(entry.node, state);
            self.logs
                .extend(logs.into_iter().map(|l| (def.name.clone(), l)));
            match result {
                Ok(outputs) => Ok(Some(outputs)),
                Err(e) if policy == OnError::StopWorkflow => Err(e),
                // The node failed as a whole but may continue: input 0 passes through.
                Err(_) => Ok(Some(vec![inputs.first().cloned().unwrap_or_default()])),
            }
        };

        let result = match result {
            Ok(Some(outputs)) => self.charge(&outputs).map(|()| Some(outputs)),
            other => other,
        };
        let profile = |items_out: usize| NodeProfile {
            items_in,
            items_out,
            duration_ns: wall.elapsed().as_nanos() as u64,
            retries,
            counters: counters.clone(),
            hints: hints.clone(),
            ..NodeProfile::default()
        };
        let execution_index = self.execution_index;
        self.execution_index += 1;
        // Clock time, so waits on a virtual clock show up as they would in real time.
        let elapsed_ms = (self.options.clock.now().timestamp_millis() - start_time).max(0) as u64;
        let mut task = TaskData {
            start_time,
            execution_time: elapsed_ms,
            execution_index,
            success: true,
            source: entry.sources,
            data: None,
            error: None,
            profile: profile(0),
        };
        let outputs = match result {
            Err(e) => {
                let e = e.with_node(&def.name);
                task.success = false;
                task.error = Some(TaskError::new(&e, def.name.clone()));
                self.record(entry.node, task);
                return Err(e);
            }
            Ok(None) => None,
            Ok(Some(mut outputs)) => {
                outputs.resize_with(built.outputs.max(1), Vec::new);
                if policy == OnError::ContinueErrorOutput && pinned.is_none() {
                    route_error_items(&mut outputs, &inputs);
                }
                for output in &mut outputs {
                    assign_paired_items(output, main_len, main_input);
                }
                if def.always_output_data && outputs[0].is_empty() {
                    let all: PairedItems = (0..main_len)
                        .map(|i| PairedItem::with_input(i, main_input))
                        .collect();
                    outputs[0].push(Item {
                        paired_item: all,
                        ..Item::default()
                    });
                }
                Some(outputs)
            }
        };
        let items_out = outputs.as_ref().map_or(0, |o| o.iter().map(Vec::len).sum());
        task.profile = profile(items_out);
        self.finish(entry.node, run_index, task, outputs)
    }

    /// Record `task` with `outputs` as the run data keeps them (see
    /// [`crate::ExecutionOptions::run_data_max_items`]), then queue the node's children with all
    /// of `outputs`.
    pub(super) fn finish(
        &mut self,
        node: usize,
        run_index: usize,
        mut task: TaskData,
        mut outputs: Option<Vec<Vec<Item>>>,
    ) -> Result<(), NodeError> {
        // A sample for the run data is copied and the outputs themselves go to the children;
        // outputs the run data keeps whole stay there and the children get copies.
        let sample = outputs
            .as_deref()
            .and_then(|outputs| self.run_data_sample(node, outputs));
        let children =
            self.children_to_queue(node, run_index, outputs.as_deref_mut(), sample.is_some());
        let (data, sampled) = match (sample, outputs) {
            (Some((data, sampled)), _) => (Some(data), sampled),
            (None, outputs) => (outputs, false),
        };
        task.data = data;
        task.profile.sampled = sampled;
        self.record(node, task);
        self.queue_children(node, children?);
        Ok(())
    }

    /// `node`'s `outputs` as the run data keeps them, and whether items were left out.
    pub(super) fn run_data_outputs(
        &self,
        node: usize,
        outputs: Vec<Vec<Item>>,
    ) -> (Vec<Vec<Item>>, bool) {
        self.run_data_sample(node, &outputs)
            .unwrap_or((outputs, false))
    }

    /// The first items of each of `node`'s `outputs` that the run data keeps, and whether items
    /// were left out; `None` when it keeps them whole.
    fn run_data_sample(
        &self,
        node: usize,
        outputs: &[Vec<Item>],
    ) -> Option<(Vec<Vec<Item>>, bool)> {
        let max = self.options.run_data_max_items?;
        if self.wf.whole_outputs[node] {
            return None;
        }
        let sampled = outputs.iter().any(|items| items.len() > max);
        let kept = outputs
            .iter()
            .map(|items| items[..items.len().min(max)].to_vec())
            .collect();
        Some((kept, sampled))
    }

    /// Add a finished node run to the run data and the node order.
    pub(super) fn record(&mut self, node: usize, task: TaskData) {
        let name = &self.wf.workflow.nodes[node].name;
        self.report(NodeProgress::Finished {
            node: name,
            items_in: task.profile.items_in,
            items_out: task.profile.items_out,
            success: task.success,
        });
        self.run_data.push(name, task);
        self.node_order.push(name.clone());
    }

    /// Tell the execution's progress observer, if it has one.
    pub(super) fn report(&self, progress: NodeProgress<'_>) {
        if let Some(observer) = &self.options.progress {
            observer.report(progress);
        }
    }

    /// A chunk of `items_in` items of a streamed run went through `node` and gave `outputs`:
    /// report it, and count the outputs against the execution's memory budget.
    pub(super) fn chunk_done(
        &mut self,
        node: usize,
        items_in: usize,
        outputs: &[Vec<Item>],
    ) -> Result<(), NodeError> {
        let items_out = outputs.iter().map(Vec::len).sum();
        if items_in + items_out > 0 {
            let node = &self.wf.workflow.nodes[node].name;
            self.report(NodeProgress::Chunk {
                node,
                items_in,
                items_out,
            });
        }
        self.charge(outputs)
    }

    /// The credentials node `node` references, resolved on its first run in this execution.
    pub(super) async fn node_credentials(&mut self, node: usize) -> Arc<NodeCredentials> {
        if let Some(resolved) = self.credentials.get(&node) {
            return resolved.clone();
        }
        let def = &self.wf.workflow.nodes[node];
        let resolved = if has_references(def) {
            Arc::new(NodeCredentials::resolve(def, self.options.credentials.as_ref()).await)
        } else {
            Arc::default()
        };
        self.credentials.insert(node, resolved.clone());
        resolved
    }
}
