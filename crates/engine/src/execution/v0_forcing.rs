//! Legacy v0 order's "force input node execution": a multi-input node waiting on an input whose
//! parent has not run gets that parent (or its top-most unrun ancestor) queued.

use super::run_loop::{Entry, Run};
use sluice_model::Item;
use std::collections::{HashSet, VecDeque};

impl Run<'_> {
    /// v0 ("force input node execution"): when a multi-input node waits on an input whose
    /// parent has not run and is not queued, run that parent with one empty item (or, when its
    /// own ancestors never ran either, the top-most of them) so the node gets all its inputs.
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
                let queued = |n: usize| self.stack.iter().any(|e| e.node == n);
                if children_of_parent.contains(&input_parent) || queued(input_parent) {
                    continue;
                }
                let ancestors = self.ancestors(input_parent);
                let mut candidate = None;
                for node in std::iter::once(input_parent).chain(ancestors.iter().rev().copied()) {
                    if node != input_parent && children_of_parent.contains(&node) || queued(node) {
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
                if output_was_empty && self.ancestors(node).contains(&parent) {
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

    /// All ancestors of `node`, nearest first.
    fn ancestors(&self, node: usize) -> Vec<usize> {
        let mut seen = HashSet::from([node]);
        let mut order = Vec::new();
        let mut queue = VecDeque::from([node]);
        while let Some(n) = queue.pop_front() {
            for &(p, _, _) in &self.wf.incoming[n] {
                if seen.insert(p) {
                    order.push(p);
                    queue.push_back(p);
                }
            }
        }
        order
    }
}
