//! Walking paired items backwards: `$('Node').item` and `$('Node').all()` lookups.

use crate::context::Shared;
use crate::run_data::RunData;
use sluice_expr::ExprError;
use sluice_model::{Item, NodeDef, SourceRef};

fn lookup_error(message: &str, description: String) -> ExprError {
    ExprError::Eval {
        message: message.to_string(),
        description: Some(description),
    }
}

impl Shared<'_> {
    /// The item of `target` that item `item_index` of the input fed by `source` derives from.
    pub(crate) fn paired_item(
        &self,
        target: &str,
        source: Option<&SourceRef>,
        item_index: usize,
        current: &NodeDef,
    ) -> Result<&Item, ExprError> {
        if self.workflow.node(target).is_none() {
            return Err(lookup_error(
                "Referenced node doesn't exist",
                format!("There is no node called '{target}' in this workflow"),
            ));
        }
        if self.run_data.run_count(target) == 0 {
            return Err(lookup_error(
                &format!("Node '{target}' hasn't been executed"),
                format!(
                    "'{}' references '{target}', which has not run in this execution",
                    current.name
                ),
            ));
        }
        let Some(source) = source else {
            return Err(lookup_error(
                "Can't get data for expression",
                format!(
                    "'{}' has no input to trace back to '{target}'",
                    current.name
                ),
            ));
        };
        let mut found: Vec<&Item> = Vec::new();
        self.run_data
            .walk_back(target, source, item_index, &mut found, 0)?;
        match found.as_slice() {
            [] => Err(lookup_error(
                "No path back to referenced node",
                format!(
                    "There is no connection back to the node '{target}', but it's used in an expression here"
                ),
            )),
            [one] => Ok(one),
            [first, rest @ ..] => {
                if rest.iter().all(|i| i.json == first.json) {
                    Ok(first)
                } else {
                    Err(lookup_error(
                        "Multiple matches",
                        format!(
                            "Multiple matching items for expression [item {item_index}]: '{target}' has several items this item derives from; use .first(), .last() or .all()"
                        ),
                    ))
                }
            }
        }
    }

    /// Output items of `node`: `output` defaults to the branch that connects to `current` (else
    /// 0), `run` to the node's last run.
    pub(crate) fn node_items(
        &self,
        node: &str,
        output: Option<usize>,
        run: Option<usize>,
        current: &str,
    ) -> Result<&[Item], ExprError> {
        if self.workflow.node(node).is_none() {
            return Err(lookup_error(
                "Referenced node doesn't exist",
                format!("There is no node called '{node}' in this workflow"),
            ));
        }
        let runs = self.run_data.runs(node);
        if runs.is_empty() {
            return Err(lookup_error(
                &format!("Node '{node}' hasn't been executed"),
                format!("'{current}' references '{node}', which has not run in this execution"),
            ));
        }
        let output = output.unwrap_or_else(|| {
            self.workflow
                .main_outputs(node)
                .iter()
                .position(|targets| targets.iter().flatten().any(|c| c.node == current))
                .unwrap_or(0)
        });
        let run = run.unwrap_or(runs.len() - 1);
        Ok(runs.get(run).map(|t| t.output(output)).unwrap_or(&[]))
    }
}

impl RunData {
    /// Collect the items of `target` that item `item_index` of the output `source` names
    /// derives from, following paired items (and their source overwrites) backwards.
    pub(crate) fn walk_back<'s>(
        &'s self,
        target: &str,
        source: &SourceRef,
        item_index: usize,
        found: &mut Vec<&'s Item>,
        depth: usize,
    ) -> Result<(), ExprError> {
        if depth > 10_000 {
            return Ok(());
        }
        let runs = self.runs(&source.previous_node);
        let Some(task) = runs.get(source.previous_node_run) else {
            return Ok(());
        };
        let Some(item) = task.output(source.previous_node_output).get(item_index) else {
            return Err(lookup_error(
                "Can't get data for expression",
                format!(
                    "Item {item_index} of node '{}' does not exist",
                    source.previous_node
                ),
            ));
        };
        if source.previous_node == target {
            found.push(item);
            return Ok(());
        }
        if item.paired_item.is_empty() {
            if task.source.iter().flatten().next().is_none() {
                return Ok(());
            }
            return Err(lookup_error(
                "Paired item data is unavailable",
                format!(
                    "'{}' did not record which input item its item {item_index} came from, so '{target}' can't be traced",
                    source.previous_node
                ),
            ));
        }
        for paired in &item.paired_item {
            if let Some(next) = task.paired_source(&paired) {
                self.walk_back(target, next, paired.item, found, depth + 1)?;
            }
        }
        Ok(())
    }
}
