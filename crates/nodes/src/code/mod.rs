//! JavaScript nodes: Code (v1, v2) and the legacy Function / Function Item nodes. A script in the
//! native subset (`sluice_expr::CodeScript`: statements over `$input.all()`, `$json`, ...) runs on
//! the expression evaluator; any other script, or a run the native path cannot finish exactly as
//! JavaScript would, runs in Sluice's sandboxed QuickJS runtime (`sluice-js`) with the same
//! variables expressions see (the payload comes from `sluice_expr::js_payload`). Either way its
//! return value becomes the output items. `SLUICE_CODE_ENGINE=quickjs` sends every script to
//! QuickJS; runs that went native are counted in the profile (`nativeRuns`). The Code node's
//! Python runs in a CPython process instead (`python`), when the deployment allows it.

mod python;

use crate::util::params::Reader;
use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_expr::{CodeScript, PayloadItems};
use sluice_js::{run_code, CodeMode, CodeOutput, CodeRequest, JsError, Limits, OutputItem};
use sluice_model::{paired_items_from_value, Item, JsonObject, NodeDef};
use std::sync::Arc;
use std::time::Duration;

pub fn specs() -> Vec<NodeSpec> {
    vec![
        NodeSpec {
            node_type: "n8n-nodes-base.code",
            versions: &[1.0, 2.0],
            kind: NodeKind::Regular,
            factory: build_code,
        },
        NodeSpec {
            node_type: "n8n-nodes-base.function",
            versions: &[1.0],
            kind: NodeKind::Regular,
            factory: build_function,
        },
        NodeSpec {
            node_type: "n8n-nodes-base.functionItem",
            versions: &[1.0],
            kind: NodeKind::Regular,
            factory: build_function_item,
        },
    ]
}

/// A node that runs user JavaScript.
struct JsNode {
    code: String,
    mode: CodeMode,
    /// Legacy Function Item: `item` is the item's JSON rather than the item.
    item_is_json: bool,
    /// Node names the code references literally (`$('X')`, `$node["X"]`, ...).
    referenced: Vec<String>,
    /// The code calls `$getWorkflowStaticData`, so runs carry the workflow's static data.
    uses_static_data: bool,
    limits: Limits,
    /// The script parsed for the native evaluator; `None` when it is outside the native subset
    /// or `SLUICE_CODE_ENGINE=quickjs`.
    native: Option<CodeScript>,
}

fn js_node(code: String, mode: CodeMode, item_is_json: bool) -> Box<dyn Node> {
    let native = match std::env::var("SLUICE_CODE_ENGINE").as_deref() {
        Ok("quickjs") => None,
        _ => CodeScript::parse(&code, mode, item_is_json).ok(),
    };
    Box::new(JsNode {
        item_is_json,
        referenced: sluice_expr::referenced_nodes(&code),
        uses_static_data: code.contains("$getWorkflowStaticData"),
        code,
        mode,
        limits: limits_from_env(),
        native,
    })
}

fn build_code(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let r = Reader::fixed(params);
    let mode = r.choice("mode", "runOnceForAllItems", |mode| match mode {
        "runOnceForAllItems" => Some(CodeMode::AllItems),
        "runOnceForEachItem" => Some(CodeMode::EachItem),
        _ => None,
    })?;
    match r.str_or("language", "javaScript")? {
        "javaScript" => {
            let code = r.str_or("jsCode", "")?.to_string();
            Ok(js_node(code, mode, false))
        }
        "python" | "pythonNative" => {
            let code = r.str_or("pythonCode", "")?.to_string();
            python::build(code, mode, limits_from_env().cpu_time)
        }
        other => Err(NodeError::new(format!(
            "language '{other}' is not supported; JavaScript and Python run on Sluice"
        ))
        .with_parameter("language")),
    }
}

fn build_function(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let code = Reader::fixed(params)
        .str_or("functionCode", "")?
        .to_string();
    Ok(js_node(code, CodeMode::AllItems, false))
}

fn build_function_item(_: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let code = Reader::fixed(params)
        .str_or("functionCode", "")?
        .to_string();
    Ok(js_node(code, CodeMode::EachItem, true))
}

/// Limits per run: `SLUICE_CODE_MEMORY_MB` (default 128) and `SLUICE_CODE_TIMEOUT_SECS` (60).
fn limits_from_env() -> Limits {
    let setting = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let default = Limits::default();
    Limits {
        memory_bytes: setting("SLUICE_CODE_MEMORY_MB")
            .map_or(default.memory_bytes, |mb| (mb * 1024 * 1024) as usize),
        cpu_time: setting("SLUICE_CODE_TIMEOUT_SECS").map_or(default.cpu_time, Duration::from_secs),
    }
}

#[async_trait::async_trait]
impl Node for JsNode {
    fn item_wise(&self) -> ItemWise {
        item_wise(self.mode)
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        // A native run that cannot finish as JavaScript would has had no effect: QuickJS runs
        // the script instead.
        let native = self.native.as_ref().and_then(|script| {
            let output = script.run(|i| ctx.scope(i), self.limits.cpu_time).ok()?;
            ctx.count("nativeRuns", 1);
            Some(output)
        });
        let output = native.map_or_else(|| self.run_quickjs(ctx), Ok);
        finish(ctx, output)
    }
}

/// Per-item code runs on any chunk of items; code over all items needs them all.
fn item_wise(mode: CodeMode) -> ItemWise {
    match mode {
        CodeMode::EachItem => ItemWise::Yes,
        CodeMode::AllItems => ItemWise::Barrier,
    }
}

/// A Code run's outcome as the node's output: its items (or, with `continueOnFail`, an error
/// item), its logs written to the execution log, its static data changes kept.
fn finish(
    ctx: &ExecuteContext<'_>,
    output: Result<CodeOutput, JsError>,
) -> Result<NodeOutputs, NodeError> {
    let output = output.and_then(|output| {
        let mut items = output
            .items
            .into_iter()
            .enumerate()
            .map(into_item)
            .collect::<Result<Vec<_>, _>>()?;
        // Made in place in the code's list, which is wider: the items go on to the next node
        // in a list of their own size.
        items.shrink_to_fit();
        Ok((items, output.logs, output.static_data))
    });
    let (items, logs, static_data) = match output {
        Ok(output) => output,
        Err(e) if ctx.continue_on_fail() => {
            return Ok(vec![vec![
                ctx.error_item(&to_node_error(e, ctx.first_item()), 0)
            ]]);
        }
        Err(e) => return Err(to_node_error(e, ctx.first_item())),
    };
    for line in logs {
        ctx.log(line);
    }
    if let Some(changed) = static_data {
        static_data_out(ctx, changed);
    }
    Ok(vec![items])
}

impl JsNode {
    fn run_quickjs(&self, ctx: &ExecuteContext<'_>) -> Result<CodeOutput, JsError> {
        let static_data = self.uses_static_data.then(|| static_data_in(ctx));
        run_code(CodeRequest {
            code: &self.code,
            mode: self.mode,
            payload: sluice_expr::js_payload(
                &ctx.scope(0),
                &self.referenced,
                PayloadItems::All,
                self.item_is_json,
                static_data,
            ),
            limits: self.limits,
            continue_on_fail: ctx.continue_on_fail(),
        })
    }
}

/// Item `index` of the code's output.
fn into_item((index, output): (usize, OutputItem)) -> Result<Item, JsError> {
    let paired_item = match output.paired_item {
        Some(value) => paired_items_from_value(*value).map_err(|e| JsError::Thrown {
            message: format!("the pairedItem of item {index} is not valid: {e}"),
            line: None,
            item: None,
        })?,
        None => Default::default(),
    };
    Ok(Item {
        json: output.json,
        binary: output.binary.map(|binary| Arc::new(*binary)),
        paired_item,
    })
}

/// What `$getWorkflowStaticData` reads: `{global, node}` from the engine's `global` and
/// `node:<this node>` entries.
fn static_data_in(ctx: &ExecuteContext<'_>) -> JsonObject {
    let data = ctx.static_data();
    ["global", "node"]
        .into_iter()
        .filter_map(|kind| {
            let value = data.get(&ctx.static_data_key(kind)?)?;
            Some((kind.to_string(), value.clone()))
        })
        .collect()
}

/// Write the code's `{global?, node?}` back into the engine's static data. An object the code
/// only asked for (still empty, not stored before) is not stored, so reads alone change nothing.
fn static_data_out(ctx: &ExecuteContext<'_>, changed: JsonObject) {
    let mut data = ctx.static_data();
    for (kind, value) in changed {
        let Some(key) = ctx.static_data_key(&kind) else {
            continue;
        };
        let only_asked_for =
            value.as_object().is_some_and(|m| m.is_empty()) && !data.contains_key(&key);
        if !only_asked_for && data.get(&key) != Some(&value) {
            data.insert(key, value);
        }
    }
}

/// `e` as the node's error: its item index counted within this run, its message naming the
/// item over the node's whole input (a streamed chunk's items start at `first_item`).
fn to_node_error(mut e: JsError, first_item: usize) -> NodeError {
    let item = match &mut e {
        JsError::Thrown {
            item: Some(item), ..
        } => {
            let in_run = *item;
            *item += first_item;
            Some(in_run)
        }
        _ => None,
    };
    let mut error = NodeError::new(e.to_string());
    error.item_index = item;
    error
}
