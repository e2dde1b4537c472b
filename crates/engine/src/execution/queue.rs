//! Queueing a finished node's children: v1 pushes them to the front sorted by canvas position, v0
//! appends them in connection order (and feeds empty data to inputs > 0); multi-input nodes wait
//! in slots until every connected input has data.

use super::run_loop::{Entry, Run, Slot};
use crate::NodeError;
use sluice_model::{ExecutionOrder, Item, PairedItems, SourceRef};

/// A child to queue: (child, input, items, source).
pub(super) type Queued = (usize, usize, Vec<Item>, SourceRef);

impl Run<'_> {
    /// The children of `node` to queue after its run `run_index` gave `outputs` (v1:
    /// depth-first, top-most child first; v0: breadth-first in connection order). A connection
    /// to a node that does not exist, on any output, fails the run before any child is queued
    /// (n8n's "Destination node not found"). With `take`, the last child reading an output gets
    /// its items themselves, leaving it empty, and the others copies.
    pub(super) fn children_to_queue(
        &self,
        node: usize,
        run_index: usize,
        outputs: Option<&mut [Vec<Item>]>,
        take: bool,
    ) -> Result<Vec<Queued>, NodeError> {
        let wf = self.wf;
        let name = &wf.workflow.nodes[node].name;
        let Some(outputs) = outputs else {
            return Ok(Vec::new());
        };
        let mut children: Vec<(usize, usize, usize)> = Vec::new();
        for (output, targets) in wf.workflow.main_outputs(name).iter().enumerate() {
            for conn in targets.iter().flatten() {
                let Some(&child) = wf.index.get(&conn.node) else {
                    return Err(NodeError::new(format!(
                        "Destination node not found: output {output} connects to '{}', which \
                         does not exist",
                        conn.node
                    ))
                    .with_node(name));
                };
                children.push((output, child, conn.index));
            }
        }
        let v1 = self.order == ExecutionOrder::V1;
        if v1 {
            // Bottom-right first, each pushed to the front: the top-most, left-most runs first.
            children.sort_by(|a, b| {
                let pa = wf.workflow.nodes[a.1].position;
                let pb = wf.workflow.nodes[b.1].position;
                pb[1].total_cmp(&pa[1]).then(pb[0].total_cmp(&pa[0]))
            });
        }
        let last_reader = |output: usize| children.iter().rposition(|c| c.0 == output);
        let mut to_add = Vec::new();
        for (position, &(output, child, input)) in children.iter().enumerate() {
            let items = outputs.get(output).map(Vec::as_slice).unwrap_or(&[]);
            let has_output = output < outputs.len();
            if !items.is_empty() || (!v1 && input > 0 && has_output) {
                let source = SourceRef {
                    previous_node: name.clone(),
                    previous_node_output: output,
                    previous_node_run: run_index,
                };
                // The child's run pairs its input items afresh, so their paired items (one per
                // input row for a file made of all rows) are not copied.
                let items = if take && has_output && last_reader(output) == Some(position) {
                    let mut items = std::mem::take(&mut outputs[output]);
                    for item in &mut items {
                        item.paired_item = PairedItems::new();
                    }
                    items
                } else {
                    items
                        .iter()
                        .map(|item| Item {
                            json: item.json.clone(),
                            binary: item.binary.clone(),
                            paired_item: PairedItems::new(),
                        })
                        .collect()
                };
                to_add.push((child, input, items, source));
            }
        }
        Ok(to_add)
    }

    /// Queue what [`Run::children_to_queue`] found for `node`.
    pub(super) fn queue_children(&mut self, node: usize, children: Vec<Queued>) {
        for (child, input, items, source) in children {
            self.add_to_execute(node, child, input, items, source);
        }
    }

    /// Queue `child` with `items` on input `input`; multi-input nodes wait until every input
    /// of a slot has data.
    fn add_to_execute(
        &mut self,
        parent: usize,
        child: usize,
        input: usize,
        items: Vec<Item>,
        source: SourceRef,
    ) {
        let inputs_needed = self.wf.connected_inputs[child];
        if inputs_needed <= 1 {
            self.push(Entry {
                node: child,
                inputs: vec![items],
                sources: vec![Some(source)],
            });
            return;
        }
        let slots = self.waiting.entry(child).or_default();
        let key = slots
            .iter()
            .find(|(_, slot)| slot.inputs[input].is_none())
            .map(|(k, _)| *k)
            .unwrap_or_else(|| slots.keys().last().map_or(0, |k| k + 1));
        let slot = slots.entry(key).or_insert_with(|| Slot {
            inputs: vec![None; inputs_needed],
            sources: vec![None; inputs_needed],
        });
        let was_empty = items.is_empty();
        slot.inputs[input] = Some(items);
        slot.sources[input] = Some(source);
        if slot.inputs.iter().all(Option::is_some) {
            let slot = slots.remove(&key).expect("slot exists");
            if slots.is_empty() {
                self.waiting.shift_remove(&child);
            }
            self.push(Entry {
                node: child,
                inputs: slot
                    .inputs
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect(),
                sources: slot.sources,
            });
        } else if self.order == ExecutionOrder::V0 {
            self.force_input_parents(parent, child, was_empty);
        }
    }

    fn push(&mut self, entry: Entry) {
        match self.order {
            ExecutionOrder::V1 => self.stack.push_front(entry),
            ExecutionOrder::V0 => self.stack.push_back(entry),
        }
    }
}
