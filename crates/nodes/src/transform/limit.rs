//! Limit (`limit` v1, and Item Lists' "limit" operation): keep only the first or the last
//! `maxItems` items.

use crate::util::params::{Parsed, Reader};
use sluice_engine::{
    ExecuteContext, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::NodeDef;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.limit",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: node,
};

#[derive(Clone)]
struct Config {
    max_items: usize,
    keep_last: bool,
}

fn parse(r: &Reader<'_>) -> Result<Config, NodeError> {
    let keep_last = r.choice("keep", "firstItems", |keep| match keep {
        "firstItems" => Some(false),
        "lastItems" => Some(true),
        _ => None,
    })?;
    Ok(Config {
        max_items: r.number_or("maxItems", 1.0)?.max(0.0) as usize,
        keep_last,
    })
}

struct Limit {
    config: Parsed<Config>,
}

/// Builds the node; Item Lists uses it for its "limit" operation.
pub(crate) fn node(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Limit {
        config: Parsed::new(def, params, Box::new(parse))?,
    }))
}

#[async_trait::async_trait]
impl Node for Limit {
    /// Keeping the first items is item-wise when `maxItems` is no expression; keeping the last
    /// ones needs them all.
    fn item_wise(&self) -> ItemWise {
        match self.config.constant() {
            Some(config) if !config.keep_last => ItemWise::FirstItems(config.max_items),
            _ => ItemWise::Barrier,
        }
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let config = self.config.for_item(ctx, 0)?;
        let items = ctx.main_input();
        let n = config.max_items.min(items.len());
        let kept = if config.keep_last {
            &items[items.len() - n..]
        } else {
            &items[..n]
        };
        Ok(vec![kept.to_vec()])
    }
}
