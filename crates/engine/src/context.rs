//! What a running node sees: its inputs, its parameters resolved per item, the clock, its own
//! state across runs, the workflow's static data, its credentials, counters for its profile, and
//! (through expressions) the rest of the execution.

use crate::credentials::NodeCredentials;
use crate::host::ExecutionHost;
use crate::options::ExecutionOptions;
use crate::params::Param;
use crate::registry::Registry;
use crate::run_data::RunData;
use crate::{Credentials, NodeError};
use chrono::{DateTime, FixedOffset, Utc};
use sluice_expr::{ExecutionInfo, ExprError, PrevNode, Scope, WorkflowInfo};
use sluice_model::{Item, JsonObject, NodeDef, SourceRef, Value, Workflow};
use sluice_runtime::{BinaryData, Clock, Files};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// What nodes can see of the execution while one of them runs.
pub(crate) struct Shared<'a> {
    pub(crate) workflow: &'a Workflow,
    pub(crate) run_data: &'a RunData,
    pub(crate) options: &'a ExecutionOptions,
    /// Per-node state of the other nodes (`$node["X"].context`), by node index.
    pub(crate) states: &'a HashMap<usize, NodeState>,
    pub(crate) index: &'a HashMap<String, usize>,
    /// The workflow's static data (`getWorkflowStaticData`), shared by all nodes of the run.
    pub(crate) static_data: &'a Mutex<JsonObject>,
    /// The execution's custom data (n8n's `customData`).
    pub(crate) custom_data: &'a Mutex<JsonObject>,
    /// The node types the workflow was built with.
    pub(crate) registry: &'a Registry,
}

impl Shared<'_> {
    pub(crate) fn timezone(&self) -> &str {
        self.workflow
            .settings
            .timezone
            .as_deref()
            .filter(|tz| !tz.is_empty() && *tz != "DEFAULT")
            .unwrap_or(&self.options.default_timezone)
    }

    pub(crate) fn now_in_zone(&self) -> DateTime<FixedOffset> {
        now_in_zone(&self.options.clock, self.timezone())
    }

    /// `$workflow`.
    pub(crate) fn workflow_info(&self) -> WorkflowInfo {
        WorkflowInfo {
            id: self.workflow.id_string(),
            name: self.workflow.name.clone(),
            active: self.workflow.active(),
        }
    }

    /// `$execution`.
    pub(crate) fn execution_info(&self) -> ExecutionInfo {
        let o = self.options;
        ExecutionInfo {
            id: o.execution_id.clone(),
            mode: if o.mode == "manual" {
                "test"
            } else {
                "production"
            }
            .into(),
            resume_url: String::new(),
        }
    }
}

/// The time on `clock` in the IANA time zone `timezone` (UTC when it is not one).
pub(crate) fn now_in_zone(clock: &Clock, timezone: &str) -> DateTime<FixedOffset> {
    let now = clock.now();
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(tz) => now.with_timezone(&tz).fixed_offset(),
        Err(_) => now.fixed_offset(),
    }
}

/// `$env.NAME`, when the execution allows reading the environment.
pub(crate) fn read_env(allowed: bool, name: &str) -> Result<Option<String>, ExprError> {
    if allowed {
        Ok(std::env::var(name).ok())
    } else {
        Err(ExprError::Eval {
            message: "access to env vars denied".into(),
            description: Some(
                "Set SLUICE_ALLOW_ENV_ACCESS=true (or N8N_BLOCK_ENV_ACCESS_IN_NODE=false) to allow $env".into(),
            ),
        })
    }
}

/// A node run's named counters for its profile (`requests`, `bytesIn`, ...), in first-use
/// order. A handle: work that outlives the [`ExecuteContext`] (an item source's stream, see
/// [`ExecuteContext::counters`]) counts into the same run.
#[derive(Clone, Debug, Default)]
pub struct Counters(Arc<Mutex<Vec<(&'static str, u64)>>>);

impl Counters {
    /// Add `n` to counter `counter`.
    pub fn add(&self, counter: &'static str, n: u64) {
        let mut counters = self.0.lock().expect("counters lock");
        match counters.iter_mut().find(|(name, _)| *name == counter) {
            Some((_, total)) => *total += n,
            None => counters.push((counter, n)),
        }
    }

    /// The counts so far, leaving none.
    pub(crate) fn take(&self) -> Vec<(&'static str, u64)> {
        std::mem::take(&mut *self.0.lock().expect("counters lock"))
    }
}

/// n8n's limits on an execution's custom data.
const CUSTOM_DATA_MAX_KEYS: usize = 10;
const CUSTOM_DATA_KEY_MAX: usize = 50;
const CUSTOM_DATA_VALUE_MAX: usize = 255;

/// The context of one node run.
/// What a node keeps across its runs in one execution.
#[derive(Default)]
pub struct NodeState {
    /// n8n's node context, which expressions read (`$node["X"].context`).
    pub context: JsonObject,
    /// Items the node holds between its runs (Loop Over Items' input and what its loop sent
    /// back), by name. Kept as items: as JSON in the context they cost a serialised copy of
    /// every item and a parse per batch.
    pub items: HashMap<&'static str, Vec<Item>>,
}

pub struct ExecuteContext<'a> {
    pub(crate) shared: &'a Shared<'a>,
    pub(crate) node: &'a NodeDef,
    pub(crate) params: &'a Param,
    pub(crate) inputs: &'a [Vec<Item>],
    pub(crate) sources: Vec<Option<SourceRef>>,
    /// The input `$json` reads from: the first non-empty one in v1, input 0 in v0.
    pub(crate) main_input: usize,
    pub(crate) run_index: usize,
    /// Where this run's input starts in the node's whole input: 0, except for a chunk of a
    /// streamed chain (see [`ExecuteContext::first_item`]).
    pub(crate) first_item: usize,
    pub(crate) continue_on_fail: bool,
    pub(crate) state: Mutex<NodeState>,
    pub(crate) logs: Mutex<Vec<String>>,
    pub(crate) credentials: Arc<NodeCredentials>,
    /// Named counters for this node run's profile.
    pub(crate) counters: Counters,
    /// Hints for this node run's profile.
    pub(crate) hints: Mutex<Vec<String>>,
}

impl<'a> ExecuteContext<'a> {
    pub fn node(&self) -> &NodeDef {
        self.node
    }

    /// The workflow being executed.
    pub fn workflow(&self) -> &Workflow {
        self.shared.workflow
    }

    /// The node's compiled parameters (the same tree the factory got).
    pub fn params(&self) -> &Param {
        self.params
    }

    /// The index, in the node's whole input, of this run's first input item: 0, except when the
    /// run is a chunk of a streamed chain. Item indexes in a [`NodeError`] count within the run
    /// (the engine adds this); a message that names an item itself adds it to count over the
    /// whole input, as a run on all items would.
    pub fn first_item(&self) -> usize {
        self.first_item
    }

    /// Items of input `index` (empty when that input got nothing).
    pub fn input(&self, index: usize) -> &[Item] {
        self.inputs.get(index).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The items most nodes work on: input 0 in v0, the first non-empty input in v1.
    pub fn main_input(&self) -> &[Item] {
        self.input(self.main_input)
    }

    pub fn run_index(&self) -> usize {
        self.run_index
    }

    /// n8n's execution mode: `manual` for editor / `sluice run` / `sluice test` runs, else
    /// `trigger`, `webhook`, ...
    pub fn mode(&self) -> &str {
        &self.shared.options.mode
    }

    /// Index of the input `$json` reads from (see [`ExecuteContext::main_input`]).
    pub fn main_input_index(&self) -> usize {
        self.main_input
    }

    /// Which node, output and run fed input `input` (`None` for the start node).
    pub fn source(&self, input: usize) -> Option<&SourceRef> {
        self.sources.get(input)?.as_ref()
    }

    /// The state node `node` keeps across its runs (`$node["X"].context`); this node's own
    /// state while it runs. `None` when the node has none.
    pub fn node_context(&self, node: &str) -> Option<JsonObject> {
        if node == self.node.name {
            let state = self.state();
            return (!state.context.is_empty()).then(|| state.context.clone());
        }
        let index = self.shared.index.get(node)?;
        self.shared.states.get(index).map(|s| s.context.clone())
    }

    /// True when the node's `onError` lets the workflow go on after a failure.
    pub fn continue_on_fail(&self) -> bool {
        self.continue_on_fail
    }

    /// The node types the running workflow was built with: a node that builds a workflow of its
    /// own (Execute Workflow running a sub-workflow in-process) builds it with these.
    pub fn registry(&self) -> &Registry {
        self.shared.registry
    }

    /// The process that started the execution (`None` under `sluice run`).
    pub fn host(&self) -> Option<&dyn ExecutionHost> {
        self.shared.options.host.as_ref().map(|h| h.0.as_ref())
    }

    /// The `data` object of the credential of type `kind` this node references in its
    /// `credentials` field (found by id, else by name). The error names the node and the
    /// credential, never its data.
    pub fn node_credential(&self, kind: &str) -> Result<Value, NodeError> {
        self.credentials.get(&self.node.name, kind)
    }

    /// The credential source of this execution (for sub-workflows run in-process).
    pub fn credential_source(&self) -> Option<&Credentials> {
        self.shared.options.credentials.as_ref()
    }

    /// This execution's streaming settings (a reordering sink's memory before it spills, see
    /// [`crate::Streaming::sort_memory_bytes`]; sub-workflows run in-process take the same).
    pub fn streaming(&self) -> crate::Streaming {
        self.shared.options.streaming
    }

    /// This execution's memory budget in megabytes (for sub-workflows run in-process, which
    /// get one of the same size).
    pub fn memory_budget_mb(&self) -> Option<u64> {
        self.shared.options.memory_budget_mb
    }

    /// Add `n` to this node run's counter `counter` (`requests`, `bytesIn`, `rateLimitWaitMs`,
    /// ...), recorded in the run's profile and shown by `sluice run --profile`.
    pub fn count(&self, counter: &'static str, n: u64) {
        self.counters.add(counter, n);
    }

    /// This node run's counters (see [`ExecuteContext::count`]), for an item source's stream to
    /// count what it does as the engine pulls it.
    pub fn counters(&self) -> Counters {
        self.counters.clone()
    }

    /// Note in this node run's profile something that makes it slow and what would help (a
    /// sequential scan of a large table, say); shown by `sluice run --profile`.
    pub fn profile_hint(&self, hint: impl Into<String>) {
        let hint = hint.into();
        let mut hints = self.hints.lock().expect("hints lock");
        if !hints.contains(&hint) {
            hints.push(hint);
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.shared.options.clock
    }

    pub fn files(&self) -> &Files {
        &self.shared.options.files
    }

    pub fn binary_data(&self) -> &BinaryData {
        &self.shared.options.binary_data
    }

    /// The id of the running execution (binary data is kept per execution).
    pub fn execution_id(&self) -> &str {
        &self.shared.options.execution_id
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.shared.options.clock.now()
    }

    /// The workflow's time zone (`settings.timezone`, default UTC).
    pub fn timezone(&self) -> &str {
        self.shared.timezone()
    }

    /// Write a line to the execution's log (shown by `sluice run`).
    pub fn log(&self, line: impl Into<String>) {
        self.logs.lock().expect("log lock").push(line.into());
    }

    /// State this node keeps across its runs in one execution (Loop Over Items' queue).
    pub fn state(&self) -> MutexGuard<'_, NodeState> {
        self.state.lock().expect("node state lock")
    }

    /// The workflow's static data (n8n's `getWorkflowStaticData`), kept across executions:
    /// `global` holds the workflow-wide object, `node:<name>` each node's own (see
    /// [`ExecuteContext::static_data_key`]). Changes are returned in the run's outcome.
    pub fn static_data(&self) -> MutexGuard<'_, JsonObject> {
        self.shared.static_data.lock().expect("static data lock")
    }

    /// Save `key` = `value` in the execution's custom data (n8n's `customData`, what the
    /// Execution Data node sets), with n8n's limits: the key only of `A-Za-z0-9_` and cut to 50
    /// characters, the value cut to 255, at most 10 keys (a new key beyond them is ignored).
    pub fn set_custom_data(&self, key: &str, value: &str) -> Result<(), NodeError> {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(NodeError::new(format!(
                "Custom data key can only contain characters \"A-Za-z0-9_\" (key \"{key}\")"
            )));
        }
        let key: String = key.chars().take(CUSTOM_DATA_KEY_MAX).collect();
        let mut data = self.shared.custom_data.lock().expect("custom data lock");
        if !data.contains_key(&key) && data.len() >= CUSTOM_DATA_MAX_KEYS {
            return Ok(());
        }
        let value: String = value.chars().take(CUSTOM_DATA_VALUE_MAX).collect();
        data.insert(key, Value::String(value));
        Ok(())
    }

    /// The key of `getWorkflowStaticData(kind)` in the static data: `global`, or `node:<name>`
    /// for this node (`kind` = `node`). `None` for any other kind.
    pub fn static_data_key(&self, kind: &str) -> Option<String> {
        match kind {
            "global" => Some("global".into()),
            "node" => Some(format!("node:{}", self.node.name)),
            _ => None,
        }
    }

    /// Resolve a parameter subtree for item `item_index`: expressions evaluated, literals as-is.
    pub fn resolve(&self, param: &Param, item_index: usize) -> Result<Value, NodeError> {
        resolve_in(param, &self.scope(item_index), item_index)
    }

    /// Like [`ExecuteContext::resolve`], with extra variables for the node's own expressions
    /// (`{"$response": ..., "$pageCount": 2}`: HTTP Request's pagination).
    pub fn resolve_with(
        &self,
        param: &Param,
        item_index: usize,
        variables: &JsonObject,
    ) -> Result<Value, NodeError> {
        let scope = ItemScope {
            ctx: self,
            item_index,
            variables: Some(variables),
        };
        resolve_in(param, &scope, item_index)
    }

    /// Resolve the parameter at dotted `path` of the node's parameters (`null` when absent).
    pub fn param(&self, path: &str, item_index: usize) -> Result<Value, NodeError> {
        self.resolve(self.params.at(path), item_index)
    }

    /// Resolve a parameter expected to be a string; `None` when absent or null.
    pub fn param_str(&self, path: &str, item_index: usize) -> Result<Option<String>, NodeError> {
        Ok(match self.param(path, item_index)? {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        })
    }

    /// An error item for `continueOnFail`: `{error: message}` paired to input item `item_index`.
    pub fn error_item(&self, error: &NodeError, item_index: usize) -> Item {
        let mut json = JsonObject::new();
        json.insert("error".into(), Value::String(error.message.clone()));
        Item::new(json).paired_to(item_index)
    }

    /// Run `f` on every item of the main input. When `f` fails for an item: with
    /// `continueOnFail` the item becomes an error item in place, otherwise the node fails with
    /// that item's index. `f` returns `None` to drop an item.
    pub fn map_items(
        &self,
        mut f: impl FnMut(usize, &Item) -> Result<Option<Item>, NodeError>,
    ) -> Result<Vec<Item>, NodeError> {
        let items = self.main_input();
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match f(i, item) {
                Ok(Some(item)) => out.push(item),
                Ok(None) => {}
                Err(e) if self.continue_on_fail => out.push(self.error_item(&e, i)),
                Err(e) => return Err(e.with_item(i)),
            }
        }
        Ok(out)
    }

    /// The expression scope for item `item_index` of the main input.
    pub fn scope(&self, item_index: usize) -> ItemScope<'_, 'a> {
        ItemScope {
            ctx: self,
            item_index,
            variables: None,
        }
    }
}

/// Resolve a parameter subtree in `scope`, the scope of item `item_index`.
pub(crate) fn resolve_in(
    param: &Param,
    scope: &dyn Scope,
    item_index: usize,
) -> Result<Value, NodeError> {
    match param {
        Param::Literal(v) => Ok(v.clone()),
        Param::Object {
            literal: Some(v), ..
        }
        | Param::Array {
            literal: Some(v), ..
        } => Ok(v.clone()),
        Param::Expr { template, path } => template
            .evaluate(scope)
            .map_err(|e| expr_error(e, path, item_index)),
        Param::Object { fields, .. } => fields
            .iter()
            .map(|(k, p)| Ok((k.clone(), resolve_in(p, scope, item_index)?)))
            .collect::<Result<JsonObject, NodeError>>()
            .map(Value::Object),
        Param::Array { items, .. } => items
            .iter()
            .map(|p| resolve_in(p, scope, item_index))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
    }
}

fn expr_error(e: ExprError, path: &str, item_index: usize) -> NodeError {
    let (message, description) = match e {
        ExprError::Syntax(m) => (format!("invalid expression syntax: {m}"), None),
        ExprError::Eval {
            message,
            description,
        } => (message, description),
    };
    NodeError {
        message,
        description,
        parameter: Some(path.to_string()),
        item_index: Some(item_index),
        node: None,
    }
}

/// [`Scope`] for one item of a running node.
pub struct ItemScope<'c, 'a> {
    ctx: &'c ExecuteContext<'a>,
    item_index: usize,
    /// The node's own variables (see [`ExecuteContext::resolve_with`]).
    variables: Option<&'c JsonObject>,
}

impl Scope for ItemScope<'_, '_> {
    fn item(&self) -> Option<&Item> {
        self.ctx.main_input().get(self.item_index)
    }

    fn input_items(&self) -> &[Item] {
        self.ctx.main_input()
    }

    fn item_index(&self) -> usize {
        self.item_index
    }

    fn run_index(&self) -> usize {
        self.ctx.run_index
    }

    fn paired_item(&self, node: &str) -> Result<&Item, ExprError> {
        let source = self.ctx.sources.get(self.ctx.main_input).cloned().flatten();
        self.ctx
            .shared
            .paired_item(node, source.as_ref(), self.item_index, self.ctx.node)
    }

    fn node_items(
        &self,
        node: &str,
        output: Option<usize>,
        run: Option<usize>,
    ) -> Result<&[Item], ExprError> {
        self.ctx
            .shared
            .node_items(node, output, run, &self.ctx.node.name)
    }

    fn node_context(&self, node: &str) -> Option<JsonObject> {
        self.ctx.node_context(node)
    }

    fn paired_item_at(&self, node: &str, index: usize) -> Result<&Item, ExprError> {
        let source = self.ctx.sources.get(self.ctx.main_input).cloned().flatten();
        self.ctx
            .shared
            .paired_item(node, source.as_ref(), index, self.ctx.node)
    }

    fn node_executed(&self, node: &str) -> bool {
        self.ctx.shared.run_data.run_count(node) > 0
    }

    fn node_parameters(&self, node: &str) -> Option<&Value> {
        self.ctx.shared.workflow.node(node).map(|n| &n.parameters)
    }

    fn current_node(&self) -> &str {
        &self.ctx.node.name
    }

    fn prev_node(&self) -> Option<PrevNode> {
        let source = self.ctx.sources.get(self.ctx.main_input)?.as_ref()?;
        Some(PrevNode {
            name: source.previous_node.clone(),
            output_index: source.previous_node_output,
            run_index: source.previous_node_run,
        })
    }

    fn workflow(&self) -> WorkflowInfo {
        self.ctx.shared.workflow_info()
    }

    fn execution(&self) -> ExecutionInfo {
        self.ctx.shared.execution_info()
    }

    fn now(&self) -> DateTime<FixedOffset> {
        self.ctx.shared.now_in_zone()
    }

    fn timezone(&self) -> &str {
        self.ctx.shared.timezone()
    }

    fn vars(&self) -> Option<&JsonObject> {
        self.ctx.shared.options.vars.as_ref()
    }

    fn node_variable(&self, name: &str) -> Option<&Value> {
        self.variables?.get(name)
    }

    fn env(&self, name: &str) -> Result<Option<String>, ExprError> {
        read_env(self.ctx.shared.options.allow_env_access, name)
    }
}
