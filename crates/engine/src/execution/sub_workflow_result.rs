//! A sub-workflow's result as Execute Workflow hands it on: its last node's items, each paired
//! to the caller's items it derives from (traced back through the sub-workflow's run data).

use super::outcome::{RunOutcome, RunStatus};
use crate::NodeError;
use sluice_model::{Item, PairedItem, PairedItems};
use std::collections::HashSet;

impl RunOutcome {
    /// What a sub-workflow hands back to the Execute Workflow node that called it: its error
    /// when it failed, else its last node's output, each item paired to the items it was called
    /// with that it derives from (traced back through the run to the start node's items). An
    /// item that cannot be traced gets no paired item, so the caller's engine pairs it by count.
    pub fn into_sub_workflow_result(self) -> Result<Vec<Item>, NodeError> {
        if let (RunStatus::Error, Some(e)) = (self.status, &self.error) {
            return Err(NodeError::new(e.to_string()));
        }
        let (Some(start), Some(last)) = (self.node_order.first(), self.last_node.as_deref()) else {
            return Ok(Vec::new());
        };
        let Some(task) = self.run_data.runs(last).last() else {
            return Ok(Vec::new());
        };
        // The indexes of the items the sub-workflow was called with that `item` derives from.
        let origins = |item: &Item| -> Vec<usize> {
            if last == start.as_str() {
                return item.paired_item.iter().map(|p| p.item).collect();
            }
            let mut found = Vec::new();
            for paired in &item.paired_item {
                if let Some(source) = task.paired_source(&paired) {
                    // An untraceable item keeps no origin rather than failing the caller.
                    let _ = self
                        .run_data
                        .walk_back(start, source, paired.item, &mut found, 0);
                }
            }
            found
                .iter()
                .flat_map(|f| f.paired_item.iter().map(|p| p.item))
                .collect()
        };
        let traced = |item: &Item| -> PairedItems {
            let mut seen = HashSet::new();
            origins(item)
                .into_iter()
                .filter(|o| seen.insert(*o))
                .map(PairedItem::new)
                .collect()
        };
        Ok(task
            .output(0)
            .iter()
            .map(|item| Item {
                paired_item: traced(item),
                ..item.clone()
            })
            .collect())
    }
}
