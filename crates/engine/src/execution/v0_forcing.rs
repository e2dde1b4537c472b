//! Legacy v0 order's "force input node execution": a multi-input node waiting on an input whose
//! parent has not run gets that parent (or its top-most unrun ancestor) queued.

use super::run_loop::{Entry, Run};
use sluice_model::Item;
use std::collections::HashSet;

impl Run<'_> {
    /// v0 ("force input node execution"): when a multi-input node waits on an input whose
    /// parent has not run and no data is on its way to it, run that parent with one empty item
    /// (or, when its own ancestors never ran either, the top-most of them) so the node gets all
    /// its inputs.
    /// A parent downstream of the node that just ran is left alone when that node's output
    /// here was empty: it was meant not to run.
    pub(super) fn force_input_parents(
        &mut self,
        parent: usize,
        child: usize,
        output_was_empty: bool,
    ) {
        let wf = self.wf;
        let Some(slot) = self.waiting.get(&child).and_then(|s| s.values().next()) else {
            return;
        };
        let missing: Vec<usize> = (0..slot.inputs.len())
            .filter(|i| slot.inputs[*i].is_none())
            .collect();
        let children_of_parent: HashSet<usize> = wf
            .workflow
            .main_outputs(&wf.workflow.nodes[parent].name)
            .iter()
            .flatten()
            .flatten()
            .filter_map(|c| wf.index.get(&c.node).copied())
            .collect();
        for input in missing {
            let feeding: Vec<usize> = wf.incoming[child]
                .iter()
                .filter(|c| c.2 == input && c.0 != parent)
                .map(|c| c.0)
                .collect();
            for input_parent in feeding {
                if children_of_parent.contains(&input_parent) {
                    continue;
                }
                // Walk up from the input's parent, nearest first: while data is still on its
                // way (a node on the path is queued or waits for its other inputs) nothing is
                // forced; else the top-most node that has not run, below the first that ran.
                let mut candidate = None;
                for node in self.upstream(input_parent) {
                    if node != input_parent && children_of_parent.contains(&node)
                        || self.pending(node)
                    {
                        candidate = None;
                        break;
                    }
                    if self.run_data.run_count(&wf.workflow.nodes[node].name) > 0 {
                        break;
                    }
                    candidate = Some(node);
                }
                let Some(node) = candidate else {
                    continue;
                };
                if output_was_empty && self.upstream(node).contains(&parent) {
                    continue;
                }
                self.stack.push_back(Entry {
                    node,
                    inputs: vec![vec![Item::default()]],
                    sources: vec![None],
                });
            }
        }
    }

    /// True when `node` will run without being forced: it is queued, or it waits in a slot for
    /// its other inputs.
    fn pending(&self, node: usize) -> bool {
        self.stack.iter().any(|e| e.node == node) || self.waiting.contains_key(&node)
    }

    /// `node`, then its ancestors depth-first: each parent (in connection order) followed by
    /// its own ancestors, so every path upwards is listed nearest first.
    fn upstream(&self, node: usize) -> Vec<usize> {
        let mut seen = HashSet::new();
        let mut order = Vec::new();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            order.push(n);
            stack.extend(self.wf.incoming[n].iter().rev().map(|&(p, _, _)| p));
        }
        order
    }
}
