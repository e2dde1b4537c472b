//! Loop Over Items / Split In Batches (`splitInBatches` v1, v2, v3): hand the input out in
//! batches, one batch per run, while the loop body wires its results back into this node.
//!
//! The first run (or any run with `options.reset` true) stores the input; every later run emits
//! the next batch. v2/v3 collect what the body sends back and emit it all on `done` once the
//! batches run out (v1 just stops). The counters live in the node's execution context under
//! n8n's names, so expressions can read `$node["Loop"].context["noItemsLeft"]`,
//! `currentRunIndex`, `maxRunIndex` and (v2/v3) `done`; the items are held as items beside it. Items of later batches carry a `sourceOverwrite` back to the
//! node that fed the first run, so `$('Loop Over Items').item` and lookups further up work inside
//! the loop body.

mod config;

use config::Version;
use sluice_engine::{
    ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, NodeState, Param,
};
use sluice_expr::Scope;
use sluice_model::{Item, JsonObject, NodeDef, PairedItem, PairedItems, SourceRef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.splitInBatches",
    versions: &[1.0, 2.0, 3.0],
    kind: NodeKind::Regular,
    factory: build,
};

/// Held items: the input of the first run, and what the loop sent back.
const ALL_ITEMS: &str = "sourceItems";
const PROCESSED: &str = "processedItems";
/// Context keys (n8n's names where expressions read them).
const NEXT_ITEM: &str = "nextItem";
const SOURCE: &str = "sourceData";
const CURRENT_RUN: &str = "currentRunIndex";
const MAX_RUN: &str = "maxRunIndex";
const NO_ITEMS_LEFT: &str = "noItemsLeft";
const DONE: &str = "done";

struct SplitInBatches {
    version: Version,
}

fn build(def: &NodeDef, _: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(SplitInBatches {
        version: Version::of(def.version())?,
    }))
}

/// Where the items of this run came from, as a paired-item source.
fn current_source(ctx: &ExecuteContext<'_>) -> Option<SourceRef> {
    ctx.scope(0).prev_node().map(|p| SourceRef {
        previous_node: p.name,
        previous_node_output: p.output_index,
        previous_node_run: p.run_index,
    })
}

/// `item` paired to item `index` of the run described by `source`.
fn paired_across_runs(mut item: Item, index: usize, source: Option<&SourceRef>) -> Item {
    item.paired_item = PairedItems::one(PairedItem {
        item: index,
        input: None,
        source_overwrite: source.cloned().map(Box::new),
    });
    item
}

fn usize_at(state: &JsonObject, key: &str) -> usize {
    state.get(key).and_then(Value::as_u64).unwrap_or(0) as usize
}

#[async_trait::async_trait]
impl Node for SplitInBatches {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        // Parameters first: `reset` often reads this node's own context.
        let reset = sluice_expr::json_js::truthy(&ctx.param("options.reset", 0)?);
        let batch_size = match ctx.param("batchSize", 0)? {
            Value::Null => self.version.default_batch_size(),
            v => crate::util::values::as_number(&v).ok_or_else(|| {
                NodeError::new(format!("'batchSize' must be a number, got {v}"))
                    .with_parameter("batchSize")
            })?,
        }
        .max(1.0) as usize;
        let input = ctx.main_input();
        let source = current_source(ctx);
        let mut guard = ctx.state();
        let NodeState { context, items } = &mut *guard;

        let first_run = reset || !items.contains_key(ALL_ITEMS);
        let mut batch = Vec::new();
        if first_run {
            let count = input.len();
            batch.extend_from_slice(&input[..batch_size.min(count)]);
            items.insert(ALL_ITEMS, input.to_vec());
            items.insert(PROCESSED, Vec::new());
            context.insert(NEXT_ITEM.into(), Value::from(batch.len()));
            context.insert(
                SOURCE.into(),
                serde_json::to_value(&source).unwrap_or_default(),
            );
            context.insert(CURRENT_RUN.into(), Value::from(0));
            context.insert(MAX_RUN.into(), Value::from(count.div_ceil(batch_size)));
        } else {
            let run = usize_at(context, CURRENT_RUN) + 1;
            context.insert(CURRENT_RUN.into(), Value::from(run));
            if self.version != Version::V1 {
                let processed = items.entry(PROCESSED).or_default();
                processed.extend(
                    input
                        .iter()
                        .enumerate()
                        .map(|(i, item)| paired_across_runs(item.clone(), i, source.as_ref())),
                );
            }
            let first_source: Option<SourceRef> = context
                .get(SOURCE)
                .and_then(|v| serde_json::from_value(v.clone()).ok());
            let start = usize_at(context, NEXT_ITEM);
            let all = items.get(ALL_ITEMS).map_or(&[][..], Vec::as_slice);
            let end = (start + batch_size).min(all.len());
            batch.extend(
                all.get(start..end.max(start))
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        paired_across_runs(item.clone(), start + i, first_source.as_ref())
                    }),
            );
            context.insert(NEXT_ITEM.into(), Value::from(start + batch.len()));
        }
        let total = items.get(ALL_ITEMS).map_or(0, Vec::len);
        let no_items_left = usize_at(context, NEXT_ITEM) >= total;
        context.insert(NO_ITEMS_LEFT.into(), Value::Bool(no_items_left));

        if self.version == Version::V1 {
            return Ok(self.version.outputs_of(batch, Vec::new()));
        }
        let finished = batch.is_empty();
        context.insert(DONE.into(), Value::Bool(finished));
        let done = if finished {
            items.get(PROCESSED).cloned().unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(self.version.outputs_of(batch, done))
    }

    fn outputs(&self) -> usize {
        self.version.outputs()
    }
}
