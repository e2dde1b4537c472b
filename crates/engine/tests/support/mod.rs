//! Test-only nodes and a tiny workflow builder, so engine rules are tested without the real nodes.

#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use futures_util::StreamExt;
use serde_json::{json, Value};
use sluice_engine::{
    CompiledWorkflow, ExecuteContext, ExecutionOptions, ItemSource, ItemWise, Node, NodeError,
    NodeKind, NodeOutputs, NodeSpec, Param, Registry, RequiredInputs, RunOutcome,
};
use sluice_model::{Item, JsonObject, NodeDef, Workflow};
use sluice_runtime::Clock;
use std::sync::atomic::{AtomicU32, Ordering};

/// `test.start`: trigger passing its input through.
struct Start;
#[async_trait::async_trait]
impl Node for Start {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        Ok(vec![ctx.main_input().to_vec()])
    }
}

/// `test.emit`: emits its `items` parameter (array of objects), ignoring input.
struct Emit(Vec<Value>);
#[async_trait::async_trait]
impl Node for Emit {
    async fn execute(&self, _: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        Ok(vec![self.0.iter().cloned().map(Item::from_value).collect()])
    }
}

/// `test.pass`: passes input through (input 0), tagging each item with `via: <node name>`.
struct Pass;
#[async_trait::async_trait]
impl Node for Pass {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        Ok(with_field(ctx, "via", json!(ctx.node().name)))
    }
}

/// Each item of `ctx`'s main input with `field` set to `value`.
fn with_field(ctx: &ExecuteContext<'_>, field: &str, value: Value) -> NodeOutputs {
    vec![ctx
        .main_input()
        .iter()
        .map(|i| {
            let mut i = i.clone();
            i.json_mut().insert(field, value.clone());
            i
        })
        .collect()]
}

/// `test.through`: item-wise (it streams), passes its input through
/// ([`Node::passes_input_through`]); when its `execute` is called anyway each item gets
/// `executed: true`.
struct Through;
#[async_trait::async_trait]
impl Node for Through {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        Ok(with_field(ctx, "executed", json!(true)))
    }
    fn item_wise(&self) -> ItemWise {
        ItemWise::Yes
    }
    fn passes_input_through(&self) -> bool {
        true
    }
}

/// `test.route`: `outputs` outputs; an item goes to output `json.route` (default 0).
struct Route(usize);
#[async_trait::async_trait]
impl Node for Route {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let mut out = vec![Vec::new(); self.0];
        for item in ctx.main_input() {
            let k = item.json.get("route").and_then(Value::as_u64).unwrap_or(0) as usize;
            out[k].push(item.clone());
        }
        Ok(out)
    }
    fn outputs(&self) -> usize {
        self.0
    }
}

/// `test.failItems`: fails every item with `json.fail == true` (per item, honouring onError).
struct FailItems;
#[async_trait::async_trait]
impl Node for FailItems {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        Ok(vec![ctx.map_items(|i, item| {
            if item.json.get("fail") == Some(&json!(true)) {
                Err(NodeError::new(format!("item {i} failed on purpose")))
            } else {
                Ok(Some(item.clone()))
            }
        })?])
    }
}

/// `test.flaky`: fails its first `failures` executions (counted per built node), then passes.
struct Flaky {
    failures: u32,
    calls: AtomicU32,
}
#[async_trait::async_trait]
impl Node for Flaky {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if call < self.failures {
            return Err(NodeError::new(format!("flaky failure {}", call + 1)));
        }
        Ok(vec![ctx.main_input().to_vec()])
    }
}

/// `test.concat`: two inputs concatenated; runs with one input once the graph is idle.
struct Concat;
#[async_trait::async_trait]
impl Node for Concat {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let mut out = ctx.input(0).to_vec();
        out.extend_from_slice(ctx.input(1));
        Ok(vec![out])
    }
    fn inputs(&self) -> usize {
        2
    }
    fn required_inputs(&self) -> RequiredInputs {
        RequiredInputs::Count(1)
    }
}

/// `test.version` (versions 1 and 2): each input item plus `version`, the typeVersion it was
/// built as.
struct Version(f64);
#[async_trait::async_trait]
impl Node for Version {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        Ok(with_field(ctx, "version", json!(self.0)))
    }
}

/// `test.pad`: item-wise (it streams); each input item plus `pad`, a text of `bytes` bytes.
struct Pad(usize);
#[async_trait::async_trait]
impl Node for Pad {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        Ok(with_field(ctx, "pad", json!("x".repeat(self.0))))
    }
    fn item_wise(&self) -> ItemWise {
        ItemWise::Yes
    }
}

/// `test.useCredential`: one item `{user}` from its `testAuth` credential; counts 2 `requests`
/// per input item and 10 `bytesIn`.
struct UseCredential;
#[async_trait::async_trait]
impl Node for UseCredential {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        ctx.count("requests", 2 * ctx.main_input().len() as u64);
        ctx.count("bytesIn", 10);
        let data = ctx.node_credential("testAuth")?;
        Ok(vec![vec![Item::from_value(json!({"user": data["user"]}))]])
    }
    fn credential_types(&self) -> Vec<&str> {
        vec!["testAuth"]
    }
}

/// `test.evaluate`: a source; each input item becomes `{value}`, its `value` parameter resolved
/// with the node's own variable `$tenfold` (ten times the item's index), and counts `evaluated`.
/// As a source it resolves the items' values as they are pulled, in a detached context.
struct Evaluate;

/// `$tenfold` for input item `index`.
fn tenfold(index: usize) -> JsonObject {
    let mut variables = JsonObject::new();
    variables.insert("$tenfold".into(), json!(index * 10));
    variables
}

fn evaluated(value: Value, index: usize) -> Item {
    Item::from_value(json!({ "value": value })).paired_to(index)
}

#[async_trait::async_trait]
impl Node for Evaluate {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let param = ctx.params().at("value");
        let mut out = Vec::new();
        for index in 0..ctx.main_input().len() {
            ctx.count("evaluated", 1);
            out.push(evaluated(
                ctx.resolve_with(param, index, &tenfold(index))?,
                index,
            ));
        }
        Ok(vec![out])
    }
    fn item_wise(&self) -> ItemWise {
        ItemWise::Source
    }
    async fn item_source(&self, ctx: &ExecuteContext<'_>) -> Result<Option<ItemSource>, NodeError> {
        let detached = ctx.detach();
        let counters = ctx.counters();
        let param = ctx.params().at("value").clone();
        let items = futures_util::stream::iter(0..ctx.main_input().len()).map(move |index| {
            counters.add("evaluated", 1);
            let value = detached.resolve_with(&param, index, &tenfold(index))?;
            Ok(evaluated(value, index))
        });
        Ok(Some(items.boxed()))
    }
}

fn int_param(params: &Param, name: &str, default: u64) -> u64 {
    params
        .at(name)
        .literal()
        .and_then(Value::as_u64)
        .unwrap_or(default)
}

pub fn registry() -> Registry {
    let mut r = Registry::new();
    let spec = |node_type, kind, factory| NodeSpec {
        node_type,
        versions: &[1.0],
        kind,
        factory,
    };
    r.register(spec("test.start", NodeKind::Trigger, |_, _| {
        Ok(Box::new(Start))
    }));
    r.register(spec("test.emit", NodeKind::Regular, |_, p| {
        let items = p.at("items").literal().and_then(Value::as_array).cloned();
        Ok(Box::new(Emit(items.unwrap_or_default())))
    }));
    r.register(spec("test.pass", NodeKind::Regular, |_, _| {
        Ok(Box::new(Pass))
    }));
    r.register(spec("test.through", NodeKind::Regular, |_, _| {
        Ok(Box::new(Through))
    }));
    r.register(spec("test.route", NodeKind::Regular, |_, p| {
        Ok(Box::new(Route(int_param(p, "outputs", 2) as usize)))
    }));
    r.register(spec("test.failItems", NodeKind::Regular, |_, _| {
        Ok(Box::new(FailItems))
    }));
    r.register(spec("test.flaky", NodeKind::Regular, |_, p| {
        Ok(Box::new(Flaky {
            failures: int_param(p, "failures", 1) as u32,
            calls: AtomicU32::new(0),
        }))
    }));
    r.register(spec("test.concat", NodeKind::Regular, |_, _| {
        Ok(Box::new(Concat))
    }));
    r.register(NodeSpec {
        node_type: "test.version",
        versions: &[1.0, 2.0],
        kind: NodeKind::Regular,
        factory: |def, _| Ok(Box::new(Version(def.version()))),
    });
    r.register(spec("test.pad", NodeKind::Regular, |_, p| {
        Ok(Box::new(Pad(int_param(p, "bytes", 0) as usize)))
    }));
    r.register(spec("test.useCredential", NodeKind::Regular, |_, _| {
        Ok(Box::new(UseCredential))
    }));
    r.register(spec("test.evaluate", NodeKind::Regular, |_, _| {
        Ok(Box::new(Evaluate))
    }));
    r
}

/// A node: `(name, type, [x, y], parameters)`, plus extra node fields merged in.
pub fn node(name: &str, kind: &str, pos: [i32; 2], params: Value) -> Value {
    json!({"name": name, "type": format!("test.{kind}"), "typeVersion": 1,
           "position": pos, "parameters": params})
}

/// `edges`: (from, output, to, input).
pub fn workflow(
    order: Option<&str>,
    nodes: Vec<Value>,
    edges: &[(&str, usize, &str, usize)],
) -> Workflow {
    let mut connections = serde_json::Map::new();
    for (from, output, to, input) in edges {
        let outputs = connections
            .entry(from.to_string())
            .or_insert_with(|| json!({"main": []}))["main"]
            .as_array_mut()
            .unwrap();
        while outputs.len() <= *output {
            outputs.push(json!([]));
        }
        outputs[*output]
            .as_array_mut()
            .unwrap()
            .push(json!({"node": to, "type": "main", "index": input}));
    }
    let mut wf = json!({"name": "t", "nodes": nodes, "connections": connections});
    if let Some(order) = order {
        wf["settings"] = json!({"executionOrder": order});
    }
    Workflow::from_json_str(&wf.to_string()).expect("valid workflow")
}

pub async fn run(workflow: Workflow) -> RunOutcome {
    run_with(workflow, ExecutionOptions::default()).await
}

pub async fn run_with(workflow: Workflow, options: ExecutionOptions) -> RunOutcome {
    let options = ExecutionOptions {
        clock: Clock::virtual_at(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()),
        ..options
    };
    CompiledWorkflow::build(workflow, &registry())
        .expect("builds")
        .run(options)
        .await
        .expect("runs")
}

/// The JSON of output `output` of run `run` of `node`.
pub fn output(outcome: &RunOutcome, node: &str, run: usize, output: usize) -> Vec<Value> {
    outcome.run_data.runs(node)[run]
        .output(output)
        .iter()
        .map(|i| i.json.to_value())
        .collect()
}

pub fn node_def(workflow: &Workflow, name: &str) -> NodeDef {
    workflow.node(name).unwrap().clone()
}
