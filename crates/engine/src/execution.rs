//! Building a workflow once and running it: n8n's scheduler (v1 and legacy v0 order), error
//! routing, retries, pinned data, paired items and run data.

use crate::context::ExecuteContext;
use crate::credentials::{has_references, NodeCredentials};
use crate::host::Host;
use crate::registry::NodeKind;
use crate::run_data::{NodeProfile, RunData, TaskData, TaskError};
use crate::Credentials;
use crate::{EngineError, Node, NodeError, Param, Registry, RequiredInputs};
use chrono::{DateTime, FixedOffset, Utc};
use indexmap::IndexMap;
use serde::Serialize;
use sluice_model::{
    ExecutionOrder, Item, JsonObject, OnError, PairedItem, PairedItems, SourceRef, Value, Workflow,
};
use sluice_runtime::{Clock, Files};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How one execution runs.
#[derive(Clone, Debug)]
pub struct ExecutionOptions {
    pub clock: Clock,
    /// File access for nodes that read files.
    pub files: Files,
    pub execution_id: String,
    /// n8n's execution mode: `manual`, `trigger`, `webhook`, ...
    pub mode: String,
    /// `$env` is blocked unless this is set (SLUICE_ALLOW_ENV_ACCESS / N8N_BLOCK_ENV_ACCESS_IN_NODE=false).
    pub allow_env_access: bool,
    pub vars: Option<JsonObject>,
    /// Items the start node emits (default: one empty item).
    pub trigger_items: Option<Vec<Item>>,
    /// Pinned nodes output their pinned items instead of running (true for `sluice run`).
    pub use_pin_data: bool,
    /// Time zone when the workflow sets none.
    pub default_timezone: String,
    /// Guard against endless loops: the most node runs one execution may make.
    pub max_node_runs: usize,
    /// The trigger node the execution starts from (default: [`CompiledWorkflow::start_node`]).
    pub start_node: Option<String>,
    /// The process that started the execution, for nodes that talk back to it (see [`Host`]).
    pub host: Option<Host>,
    /// Where nodes' credentials come from (a file under `sluice run`, the store under `serve`).
    pub credentials: Option<Credentials>,
    /// The workflow's static data (n8n's `staticData`: `global` and `node:<name>` keys) as the
    /// execution starts; `None` = the workflow file's `staticData` field.
    pub static_data: Option<JsonObject>,
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        ExecutionOptions {
            clock: Clock::system(),
            files: Files::default(),
            execution_id: "1".into(),
            mode: "manual".into(),
            allow_env_access: false,
            vars: None,
            trigger_items: None,
            use_pin_data: true,
            default_timezone: "UTC".into(),
            max_node_runs: 1_000_000,
            start_node: None,
            host: None,
            credentials: None,
            static_data: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Success,
    Error,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Success => "success",
            RunStatus::Error => "error",
        }
    }
}

/// Everything one execution produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub run_data: RunData,
    pub status: RunStatus,
    pub error: Option<NodeError>,
    pub last_node: Option<String>,
    /// Node names in the order their runs finished.
    pub node_order: Vec<String>,
    /// `(node, line)` log lines written by nodes (e.g. `console.log`).
    pub logs: Vec<(String, String)>,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    /// The workflow's static data after the execution (save it when it changed).
    pub static_data: JsonObject,
    /// True when nodes changed the static data the execution started with.
    pub static_data_changed: bool,
}

impl RunOutcome {
    /// Output 0 of the last run of the last node that ran.
    pub fn last_output(&self) -> &[Item] {
        self.last_node
            .as_deref()
            .and_then(|n| self.run_data.runs(n).last())
            .map(|t| t.output(0))
            .unwrap_or(&[])
    }

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
                if let Some(source) = task.paired_source(paired) {
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

    /// The run in n8n's shape: `{resultData: {runData, lastNodeExecuted, error?}, status}`.
    pub fn to_n8n_json(&self) -> Value {
        serde_json::to_value(self.n8n_document()).unwrap_or_default()
    }

    /// The same document as JSON text, written straight from the run data (no intermediate
    /// `Value` tree: this is what `sluice serve` stores for every execution).
    pub fn to_n8n_json_text(&self) -> String {
        serde_json::to_string(&self.n8n_document()).unwrap_or_default()
    }

    fn n8n_document(&self) -> N8nRunDocument<'_> {
        N8nRunDocument {
            result_data: N8nResultData {
                run_data: &self.run_data,
                last_node_executed: self.last_node.as_deref(),
                error: self.error.as_ref().map(|e| N8nRunError {
                    message: &e.message,
                    description: e.description.as_deref(),
                    node: e.node.as_deref(),
                    parameter: e.parameter.as_deref(),
                    item_index: e.item_index,
                }),
            },
            status: self.status.as_str(),
        }
    }
}

/// n8n's execution document, borrowed from a [`RunOutcome`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct N8nRunDocument<'a> {
    result_data: N8nResultData<'a>,
    status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct N8nResultData<'a> {
    run_data: &'a RunData,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_node_executed: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<N8nRunError<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct N8nRunError<'a> {
    message: &'a str,
    description: Option<&'a str>,
    node: Option<&'a str>,
    parameter: Option<&'a str>,
    item_index: Option<usize>,
}

struct BuiltNode {
    node: Option<Box<dyn Node>>,
    params: Param,
    outputs: usize,
    kind: NodeKind,
}

/// A workflow whose nodes are built and whose graph is indexed; run it any number of times.
pub struct CompiledWorkflow {
    workflow: Workflow,
    nodes: Vec<BuiltNode>,
    index: HashMap<String, usize>,
    /// Per node: (parent, parent output, input index) of each incoming main connection.
    incoming: Vec<Vec<(usize, usize, usize)>>,
    /// Per node: number of connected input slots (highest connected input index + 1).
    connected_inputs: Vec<usize>,
}

/// One pending node run.
struct Entry {
    node: usize,
    inputs: Vec<Vec<Item>>,
    sources: Vec<Option<SourceRef>>,
}

/// Partial inputs of a multi-input node waiting for its other inputs.
#[derive(Default)]
struct Slot {
    inputs: Vec<Option<Vec<Item>>>,
    sources: Vec<Option<SourceRef>>,
}

/// What nodes can see of the execution while one of them runs.
pub(crate) struct Shared<'a> {
    pub(crate) workflow: &'a Workflow,
    pub(crate) run_data: &'a RunData,
    pub(crate) options: &'a ExecutionOptions,
    /// Per-node state of the other nodes (`$node["X"].context`), by node index.
    pub(crate) states: &'a HashMap<usize, JsonObject>,
    pub(crate) index: &'a HashMap<String, usize>,
    /// The workflow's static data (`getWorkflowStaticData`), shared by all nodes of the run.
    pub(crate) static_data: &'a Mutex<JsonObject>,
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
        let now = self.options.clock.now();
        match self.timezone().parse::<chrono_tz::Tz>() {
            Ok(tz) => now.with_timezone(&tz).fixed_offset(),
            Err(_) => now.fixed_offset(),
        }
    }
}

impl CompiledWorkflow {
    /// Validate node types against the registry and build every node from its parameters.
    pub fn build(workflow: Workflow, registry: &Registry) -> Result<Self, EngineError> {
        let index: HashMap<String, usize> = workflow
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        let mut nodes = Vec::with_capacity(workflow.nodes.len());
        for def in &workflow.nodes {
            let spec = registry
                .get(&def.node_type, def.type_version)
                .ok_or_else(|| EngineError::UnsupportedNode {
                    node: def.name.clone(),
                    node_type: def.node_type.clone(),
                    version: def.type_version,
                })?;
            if spec.kind == NodeKind::Note {
                nodes.push(BuiltNode {
                    node: None,
                    params: Param::Literal(Value::Null),
                    outputs: 0,
                    kind: NodeKind::Note,
                });
                continue;
            }
            let params = Param::compile(&def.parameters, "")
                .map_err(|e| EngineError::Build(e.with_node(&def.name)))?;
            let node = (spec.factory)(def, &params)
                .map_err(|e| EngineError::Build(e.with_node(&def.name)))?;
            let error_output = usize::from(def.error_policy() == OnError::ContinueErrorOutput);
            nodes.push(BuiltNode {
                outputs: node.outputs() + error_output,
                node: Some(node),
                params,
                kind: spec.kind,
            });
        }
        let mut incoming = vec![Vec::new(); nodes.len()];
        let mut connected_inputs = vec![0usize; nodes.len()];
        for (source, source_idx) in &index {
            for (output, targets) in workflow.main_outputs(source).iter().enumerate() {
                for conn in targets.iter().flatten() {
                    let target = index[&conn.node];
                    incoming[target].push((*source_idx, output, conn.index));
                    connected_inputs[target] = connected_inputs[target].max(conn.index + 1);
                }
            }
        }
        Ok(CompiledWorkflow {
            workflow,
            nodes,
            index,
            incoming,
            connected_inputs,
        })
    }

    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    /// Check, before running, that every credential the nodes will ask for (see
    /// [`Node::credential_types`]) can be found in `credentials`; the error names the node and
    /// the credential.
    pub async fn check_credentials(
        &self,
        credentials: Option<&Credentials>,
    ) -> Result<(), EngineError> {
        for (def, built) in self.workflow.nodes.iter().zip(&self.nodes) {
            let Some(node) = built.node.as_deref() else {
                continue;
            };
            let kinds = node.credential_types();
            if def.disabled || kinds.is_empty() {
                continue;
            }
            let resolved = NodeCredentials::resolve(def, credentials).await;
            for kind in kinds {
                resolved.get(&def.name, kind).map_err(EngineError::Build)?;
            }
        }
        Ok(())
    }

    /// n8n's start node: the first enabled trigger, else the first enabled node without inputs.
    pub fn start_node(&self) -> Option<&str> {
        let enabled = |i: &usize| !self.workflow.nodes[*i].disabled;
        (0..self.nodes.len())
            .filter(enabled)
            .find(|i| self.nodes[*i].kind == NodeKind::Trigger)
            .or_else(|| {
                (0..self.nodes.len()).filter(enabled).find(|i| {
                    self.nodes[*i].kind == NodeKind::Regular && self.incoming[*i].is_empty()
                })
            })
            .map(|i| self.workflow.nodes[i].name.as_str())
    }

    /// Run the workflow from its start node to the end.
    pub async fn run(&self, options: ExecutionOptions) -> Result<RunOutcome, EngineError> {
        let start = options
            .start_node
            .as_deref()
            .or_else(|| self.start_node())
            .and_then(|n| self.index.get(n).copied())
            .ok_or(EngineError::NoStartNode)?;
        let trigger_items = options
            .trigger_items
            .clone()
            .unwrap_or_else(|| vec![Item::default()]);
        let initial_static_data = options
            .static_data
            .clone()
            .unwrap_or_else(|| self.workflow.static_data_object());
        let mut run = Run {
            wf: self,
            options: &options,
            order: self.workflow.execution_order(),
            run_data: RunData::default(),
            stack: VecDeque::new(),
            waiting: IndexMap::new(),
            states: HashMap::new(),
            node_order: Vec::new(),
            logs: Vec::new(),
            execution_index: 0,
            static_data: Mutex::new(initial_static_data.clone()),
            credentials: HashMap::new(),
        };
        run.stack.push_back(Entry {
            node: start,
            inputs: vec![trigger_items],
            sources: vec![None],
        });
        let started_at = options.clock.now();
        let wall = Instant::now();
        let error = run.run_to_end().await.err();
        let last_node = run.node_order.last().cloned();
        let static_data = run.static_data.into_inner().expect("static data");
        Ok(RunOutcome {
            static_data_changed: static_data != initial_static_data,
            static_data,
            status: if error.is_some() {
                RunStatus::Error
            } else {
                RunStatus::Success
            },
            error,
            last_node,
            node_order: run.node_order,
            logs: run.logs,
            run_data: run.run_data,
            started_at,
            duration: wall.elapsed(),
        })
    }
}

/// The mutable state of one execution.
struct Run<'w> {
    wf: &'w CompiledWorkflow,
    options: &'w ExecutionOptions,
    order: ExecutionOrder,
    run_data: RunData,
    stack: VecDeque<Entry>,
    waiting: IndexMap<usize, BTreeMap<usize, Slot>>,
    states: HashMap<usize, JsonObject>,
    node_order: Vec<String>,
    logs: Vec<(String, String)>,
    execution_index: usize,
    static_data: Mutex<JsonObject>,
    /// Each node's credentials, resolved on its first run.
    credentials: HashMap<usize, Arc<NodeCredentials>>,
}

impl Run<'_> {
    async fn run_to_end(&mut self) -> Result<(), NodeError> {
        let mut last_run: Option<(usize, usize)> = None;
        let mut node_runs = 0usize;
        loop {
            let entry = match self.stack.pop_front() {
                Some(entry) => entry,
                None if self.order == ExecutionOrder::V1 => match self.release_waiting() {
                    Some(entry) => entry,
                    None => return Ok(()),
                },
                None => return Ok(()),
            };
            let name = &self.wf.workflow.nodes[entry.node].name;
            let run_index = self.run_data.run_count(name);
            if last_run == Some((entry.node, run_index)) {
                return Err(NodeError::new(
                    "Stopped execution because it seems to be in an endless loop",
                )
                .with_node(name));
            }
            last_run = Some((entry.node, run_index));
            node_runs += 1;
            if node_runs > self.options.max_node_runs {
                return Err(NodeError::new(format!(
                    "Stopped execution because it seems to be in an endless loop: more than {} node runs",
                    self.options.max_node_runs
                ))
                .with_node(name));
            }
            self.execute(entry, run_index).await?;
        }
    }

    async fn execute(&mut self, entry: Entry, run_index: usize) -> Result<(), NodeError> {
        let wf = self.wf;
        let def = &wf.workflow.nodes[entry.node];
        let built = &wf.nodes[entry.node];
        let Some(node) = built.node.as_deref() else {
            return Ok(());
        };
        let mut inputs = entry.inputs;
        for (input_index, items) in inputs.iter_mut().enumerate() {
            if def.execute_once {
                items.truncate(1);
            }
            for (i, item) in items.iter_mut().enumerate() {
                item.paired_item = smallvec::smallvec![PairedItem::with_input(i, input_index)];
            }
        }
        let main_input = match self.order {
            ExecutionOrder::V1 => inputs.iter().position(|i| !i.is_empty()).unwrap_or(0),
            ExecutionOrder::V0 => 0,
        };
        let items_in: usize = inputs.iter().map(Vec::len).sum();
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
        let result: Result<Option<Vec<Vec<Item>>>, NodeError> = if let Some(pinned) = pinned {
            Ok(Some(vec![pinned.clone()]))
        } else if def.disabled {
            Ok(Some(vec![inputs.first().cloned().unwrap_or_default()]))
        } else if items_in == 0 {
            Ok(None)
        } else {
            let state = self.states.remove(&entry.node).unwrap_or_default();
            let shared = Shared {
                workflow: &wf.workflow,
                run_data: &self.run_data,
                options: self.options,
                states: &self.states,
                index: &wf.index,
                static_data: &self.static_data,
            };
            let ctx = ExecuteContext {
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
                counters: Mutex::new(Vec::new()),
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
            counters.extend(ctx.counters.into_inner().expect("node counters"));
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

        let profile = |items_out: usize| NodeProfile {
            items_in,
            items_out,
            duration_ns: wall.elapsed().as_nanos() as u64,
            retries,
            counters: counters.clone(),
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
                task.error = Some(TaskError {
                    message: e.message.clone(),
                    description: e.description.clone(),
                    parameter: e.parameter.clone(),
                    item_index: e.item_index,
                    node: def.name.clone(),
                });
                self.run_data.push(&def.name, task);
                self.node_order.push(def.name.clone());
                return Err(e);
            }
            Ok(None) => None,
            Ok(Some(mut outputs)) => {
                outputs.resize_with(built.outputs.max(1), Vec::new);
                if policy == OnError::ContinueErrorOutput && pinned.is_none() {
                    route_error_items(&mut outputs, &inputs);
                }
                let main_len = inputs.get(main_input).map_or(0, Vec::len);
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
        task.data = outputs;
        self.run_data.push(&def.name, task);
        self.node_order.push(def.name.clone());
        self.schedule_children(entry.node, run_index);
        Ok(())
    }

    /// The credentials node `node` references, resolved on its first run in this execution.
    async fn node_credentials(&mut self, node: usize) -> Arc<NodeCredentials> {
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

    /// Queue the children of `node` after its run `run_index` (v1: depth-first, top-most child
    /// first; v0: breadth-first in connection order).
    fn schedule_children(&mut self, node: usize, run_index: usize) {
        let wf = self.wf;
        let name = &wf.workflow.nodes[node].name;
        let Some(task) = self.run_data.runs(name).last() else {
            return;
        };
        if task.data.is_none() {
            return;
        }
        let mut children: Vec<(usize, usize, usize)> = Vec::new();
        for (output, targets) in wf.workflow.main_outputs(name).iter().enumerate() {
            for conn in targets.iter().flatten() {
                children.push((output, wf.index[&conn.node], conn.index));
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
        let mut to_add = Vec::new();
        for (output, child, input) in children {
            let items = task.output(output);
            let has_output = task.data.as_ref().is_some_and(|d| output < d.len());
            if !items.is_empty() || (!v1 && input > 0 && has_output) {
                to_add.push((output, child, input, items.to_vec()));
            }
        }
        for (output, child, input, items) in to_add {
            let source = SourceRef {
                previous_node: name.clone(),
                previous_node_output: output,
                previous_node_run: run_index,
            };
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

    /// v0 ("force input node execution"): when a multi-input node waits on an input whose
    /// parent has not run and is not queued, run that parent with one empty item (or, when its
    /// own ancestors never ran either, the top-most of them) so the node gets all its inputs.
    /// A parent downstream of the node that just ran is left alone when that node's output
    /// here was empty: it was meant not to run.
    fn force_input_parents(&mut self, parent: usize, child: usize, output_was_empty: bool) {
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
            .map(|c| wf.index[&c.node])
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

    /// v1: when nothing else can run, release a waiting multi-input node with partial data.
    fn release_waiting(&mut self) -> Option<Entry> {
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

/// `continueErrorOutput`: items that only carry an error move to the extra last output, with
/// the input item they came from underneath.
fn route_error_items(outputs: &mut [Vec<Item>], inputs: &[Vec<Item>]) {
    let Some((error_output, regular)) = outputs.split_last_mut() else {
        return;
    };
    for output in regular {
        let (errors, kept): (Vec<Item>, Vec<Item>) =
            std::mem::take(output).into_iter().partition(is_error_item);
        *output = kept;
        for mut item in errors {
            let origin = item
                .paired_item
                .first()
                .and_then(|p| inputs.get(p.input_index())?.get(p.item));
            if let Some(origin) = origin {
                let mut json = (*origin.json).clone();
                for (k, v) in item.json.iter() {
                    json.insert(k.clone(), v.clone());
                }
                item.json = json.into();
            }
            error_output.push(item);
        }
    }
}

fn is_error_item(item: &Item) -> bool {
    let json = &item.json;
    json.contains_key("error")
        && (json.len() == 1 || (json.len() == 2 && json.contains_key("message")))
}

/// Fill in missing paired items the way n8n does when it can tell: one input item, equal counts,
/// or a single output item.
fn assign_paired_items(output: &mut [Item], input_len: usize, input: usize) {
    let n = output.len();
    for (i, item) in output.iter_mut().enumerate() {
        if !item.paired_item.is_empty() {
            continue;
        }
        let paired = if input_len == 1 || n == 1 {
            Some(0)
        } else if n == input_len {
            Some(i)
        } else {
            None
        };
        if let Some(p) = paired {
            item.paired_item = smallvec::smallvec![PairedItem::with_input(p, input)];
        }
    }
}
