//! What a node's expressions read of its run, owned: an item source's stream (see
//! [`Node::item_source`](crate::Node::item_source)) outlives the [`ExecuteContext`] it was made
//! from, yet may have to evaluate the node's parameters item by item as the engine pulls it
//! (HTTP Request's pagination expressions, page after page). A [`DetachedContext`] holds the
//! node's input and what the run shows of the execution (`$workflow`, `$execution`, `$now`,
//! `$vars`, `$env`, `$runIndex`, `$prevNode`, `$parameter`). It cannot read other nodes' data
//! (`$('X')`, `$node["X"]`): a workflow whose expressions do never streams.

use crate::context::{now_in_zone, read_env, resolve_in, ExecuteContext};
use crate::params::Param;
use crate::NodeError;
use chrono::{DateTime, FixedOffset};
use sluice_expr::{ExecutionInfo, ExprError, PrevNode, Scope, WorkflowInfo};
use sluice_model::{Item, JsonObject, Value};
use sluice_runtime::Clock;

/// A node run's expression context, detached from its [`ExecuteContext`]
/// ([`ExecuteContext::detach`]).
pub struct DetachedContext {
    node: String,
    /// The node's parameters as written (`$parameter`).
    parameters: Value,
    /// The main input.
    input: Vec<Item>,
    run_index: usize,
    prev_node: Option<PrevNode>,
    /// The nodes that had run when the context was detached.
    executed: Vec<String>,
    workflow: WorkflowInfo,
    execution: ExecutionInfo,
    clock: Clock,
    timezone: String,
    vars: Option<JsonObject>,
    allow_env: bool,
}

impl ExecuteContext<'_> {
    /// This run's expression context, owned, for a stream that outlives `self`.
    pub fn detach(&self) -> DetachedContext {
        let shared = self.shared;
        DetachedContext {
            node: self.node.name.clone(),
            parameters: self.node.parameters.clone(),
            input: self.main_input().to_vec(),
            run_index: self.run_index,
            prev_node: self.source(self.main_input).map(|source| PrevNode {
                name: source.previous_node.clone(),
                output_index: source.previous_node_output,
                run_index: source.previous_node_run,
            }),
            executed: shared
                .workflow
                .nodes
                .iter()
                .filter(|n| shared.run_data.run_count(&n.name) > 0)
                .map(|n| n.name.clone())
                .collect(),
            workflow: shared.workflow_info(),
            execution: shared.execution_info(),
            clock: shared.options.clock.clone(),
            timezone: shared.timezone().to_string(),
            vars: shared.options.vars.clone(),
            allow_env: shared.options.allow_env_access,
        }
    }
}

impl DetachedContext {
    /// As [`ExecuteContext::resolve_with`] gives it: `param` resolved for input item
    /// `item_index`, with the node's own `variables`.
    pub fn resolve_with(
        &self,
        param: &Param,
        item_index: usize,
        variables: &JsonObject,
    ) -> Result<Value, NodeError> {
        let scope = DetachedScope {
            ctx: self,
            item_index,
            variables,
        };
        resolve_in(param, &scope, item_index)
    }
}

/// [`Scope`] for one item of a [`DetachedContext`].
struct DetachedScope<'d> {
    ctx: &'d DetachedContext,
    item_index: usize,
    variables: &'d JsonObject,
}

/// The error for what a detached context cannot read.
fn other_nodes(node: &str) -> ExprError {
    ExprError::eval(format!(
        "the data of node '{node}' cannot be read while this node streams its output"
    ))
}

impl Scope for DetachedScope<'_> {
    fn item(&self) -> Option<&Item> {
        self.ctx.input.get(self.item_index)
    }

    fn input_items(&self) -> &[Item] {
        &self.ctx.input
    }

    fn item_index(&self) -> usize {
        self.item_index
    }

    fn run_index(&self) -> usize {
        self.ctx.run_index
    }

    fn paired_item(&self, node: &str) -> Result<&Item, ExprError> {
        Err(other_nodes(node))
    }

    fn node_items(
        &self,
        node: &str,
        _output: Option<usize>,
        _run: Option<usize>,
    ) -> Result<&[Item], ExprError> {
        Err(other_nodes(node))
    }

    fn node_executed(&self, node: &str) -> bool {
        self.ctx.executed.iter().any(|name| name == node)
    }

    fn node_parameters(&self, node: &str) -> Option<&Value> {
        (node == self.ctx.node).then_some(&self.ctx.parameters)
    }

    fn current_node(&self) -> &str {
        &self.ctx.node
    }

    fn prev_node(&self) -> Option<PrevNode> {
        self.ctx.prev_node.clone()
    }

    fn workflow(&self) -> WorkflowInfo {
        self.ctx.workflow.clone()
    }

    fn execution(&self) -> ExecutionInfo {
        self.ctx.execution.clone()
    }

    fn now(&self) -> DateTime<FixedOffset> {
        now_in_zone(&self.ctx.clock, &self.ctx.timezone)
    }

    fn timezone(&self) -> &str {
        &self.ctx.timezone
    }

    fn vars(&self) -> Option<&JsonObject> {
        self.ctx.vars.as_ref()
    }

    fn node_variable(&self, name: &str) -> Option<&Value> {
        self.variables.get(name)
    }

    fn env(&self, name: &str) -> Result<Option<String>, ExprError> {
        read_env(self.ctx.allow_env, name)
    }
}
