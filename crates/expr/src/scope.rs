//! What an expression can see while it runs. The engine implements [`Scope`] over its run state.

use crate::ExprError;
use chrono::{DateTime, FixedOffset};
use sluice_model::{Item, JsonObject, Value};

/// `$workflow`.
#[derive(Clone, Debug, Default)]
pub struct WorkflowInfo {
    pub id: String,
    pub name: String,
    pub active: bool,
}

/// `$execution`.
#[derive(Clone, Debug, Default)]
pub struct ExecutionInfo {
    pub id: String,
    /// `test` for manual runs, `production` otherwise.
    pub mode: String,
    pub resume_url: String,
}

/// `$prevNode`.
#[derive(Clone, Debug, Default)]
pub struct PrevNode {
    pub name: String,
    pub output_index: usize,
    pub run_index: usize,
}

/// The data an expression reads. All lookups borrow from the engine's run state.
pub trait Scope {
    /// The current input item (`$json`, `$binary`, `$input.item`); `None` when the node has no input.
    fn item(&self) -> Option<&Item>;
    /// All items of the current node's input 0 (`$input.all()`, `$input.first()`, `$items()`).
    fn input_items(&self) -> &[Item];
    /// `$itemIndex`.
    fn item_index(&self) -> usize;
    /// `$runIndex`.
    fn run_index(&self) -> usize;
    /// `$('Node').item`: the item of `node` that the current item derives from (paired items).
    fn paired_item(&self, node: &str) -> Result<&Item, ExprError>;
    /// `$('Node').itemMatching(index)`: like [`Scope::paired_item`], for input item `index`
    /// instead of the current one. The default resolves only the current item.
    fn paired_item_at(&self, node: &str, index: usize) -> Result<&Item, ExprError> {
        if index == self.item_index() {
            self.paired_item(node)
        } else {
            Err(ExprError::eval(format!(
                "itemMatching({index}) is not supported by this engine for node '{node}'"
            )))
        }
    }
    /// `$node["Node"].context` / `$('Node').context`: state the node keeps across its runs
    /// (Loop Over Items' `noItemsLeft`, `currentRunIndex`, ...). `None` when it has none.
    fn node_context(&self, _node: &str) -> Option<JsonObject> {
        None
    }
    /// `$('Node').all(output, run)`: output `output` (default: the branch connected to us, else 0)
    /// of run `run` (default: the last run) of `node`. Error if the node does not exist.
    fn node_items(
        &self,
        node: &str,
        output: Option<usize>,
        run: Option<usize>,
    ) -> Result<&[Item], ExprError>;
    /// `$('Node').isExecuted`.
    fn node_executed(&self, node: &str) -> bool;
    /// `$node["Node"].parameter` / `$parameter` (for the current node use its own name).
    fn node_parameters(&self, node: &str) -> Option<&Value>;
    /// Name of the node being executed (`$node` defaults, `$nodeId` lookups).
    fn current_node(&self) -> &str;
    fn prev_node(&self) -> Option<PrevNode>;
    fn workflow(&self) -> WorkflowInfo;
    fn execution(&self) -> ExecutionInfo;
    /// Current time in the workflow's time zone (`$now`; `$today` is its midnight).
    fn now(&self) -> DateTime<FixedOffset>;
    /// Workflow time zone name (IANA), e.g. `UTC`.
    fn timezone(&self) -> &str;
    /// `$vars`.
    fn vars(&self) -> Option<&JsonObject>;
    /// `$env.NAME`; `Err` when environment access is blocked.
    fn env(&self, name: &str) -> Result<Option<String>, ExprError>;

    /// A variable the running node adds for its own expressions (HTTP Request's `$response`,
    /// `$pageCount` and `$request` while it paginates); `None` for any other name.
    fn node_variable(&self, _name: &str) -> Option<&Value> {
        None
    }
}
