//! v1's partial release: when nothing else can run, a waiting multi-input node runs with the
//! inputs it has, if its `required_inputs` allow it.

use super::run_loop::{Entry, Run};
use crate::RequiredInputs;
use sluice_model::Item;

impl Run<'_> {
    /// v1: when nothing else can run, release a waiting multi-input node with partial data.
    pub(super) fn release_waiting(&mut self) -> Option<Entry> {
        let wf = self.wf;
        let waiting_nodes: Vec<usize> = self.waiting.keys().copied().collect();
        for node in waiting_nodes {
            let parent_waiting = wf.incoming[node]
                .iter()
                .any(|(p, _, _)| *p != node && self.waiting.contains_key(p));
            if parent_waiting {
                continue;
            }
            let slots = self.waiting.get_mut(&node)?;
            let (&key, slot) = slots.iter().next()?;
            let required = wf.nodes[node]
                .node
                .as_ref()
                .map_or(RequiredInputs::Any, |n| n.required_inputs());
            let present = |i: usize| slot.inputs.get(i).is_some_and(Option::is_some);
            let ok = match required {
                RequiredInputs::Any => true,
                RequiredInputs::Count(n) => slot.inputs.iter().flatten().count() >= n,
                RequiredInputs::These(list) => list.iter().all(|i| present(*i)),
            };
            if !ok {
                continue;
            }
            let slot = slots.remove(&key).expect("slot exists");
            if slots.is_empty() {
                self.waiting.shift_remove(&node);
            }
            let inputs: Vec<Vec<Item>> = slot
                .inputs
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect();
            if inputs.iter().all(Vec::is_empty) {
                continue;
            }
            return Some(Entry {
                node,
                inputs,
                sources: slot.sources,
            });
        }
        None
    }
}
