//! Sort (`sort` v1, and Item Lists' "sort" operation): order items by fields, or shuffle them.
//!
//! Values compare as in [`crate::util::values::compare`]: numbers, then strings, then
//! other values, with `null` and missing fields last when ascending (first when descending).
//! The "code" type runs a JavaScript comparator and needs the Code node's runtime.
//!
//! Sorting by fields takes its input a chunk at a time in a streamed chain
//! ([`ItemWise::Reorder`]), spilling sorted runs to disk past `SLUICE_SORT_MEMORY_MB` (see
//! [`spill`]); shuffling needs all of its input at once.

mod spill;

use crate::util::fields;
use crate::util::params::{unsupported, Parsed, Reader};
use crate::util::values::compare;
use rand::seq::SliceRandom;
use sluice_engine::{
    ExecuteContext, ItemSink, ItemWise, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param,
};
use sluice_model::{ItemJson, NodeDef};
use std::cmp::Ordering;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.sort",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: node,
};

#[derive(Clone, Debug)]
struct SortField {
    name: String,
    descending: bool,
}

/// The fields items are ordered by, the first one first.
#[derive(Clone, Debug)]
struct SortKeys {
    fields: Vec<SortField>,
    dot: bool,
}

impl SortKeys {
    /// How an item with `a` orders against one with `b`: by the first field they differ in.
    fn order(&self, a: &ItemJson, b: &ItemJson) -> Ordering {
        self.fields
            .iter()
            .map(|f| {
                let order = compare(
                    fields::get(a, &f.name, self.dot),
                    fields::get(b, &f.name, self.dot),
                );
                if f.descending {
                    order.reverse()
                } else {
                    order
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

#[derive(Clone, Debug)]
enum Config {
    Simple(SortKeys),
    Random,
}

fn parse(r: &Reader<'_>) -> Result<Config, NodeError> {
    match r.str_or("type", "simple")? {
        "simple" => {
            let fields = r
                .list("sortFieldsUi.sortField")?
                .iter()
                .map(|entry| {
                    let field = Reader::new(entry);
                    let descending = match field.str_or("order", "ascending")? {
                        "ascending" => false,
                        "descending" => true,
                        other => return Err(unsupported("sortFieldsUi.sortField.order", other)),
                    };
                    Ok(SortField {
                        name: field.str_or("fieldName", "")?.trim().to_string(),
                        descending,
                    })
                })
                .collect::<Result<Vec<_>, NodeError>>()?;
            Ok(Config::Simple(SortKeys {
                fields,
                dot: !r.bool_or("options.disableDotNotation", false)?,
            }))
        }
        "random" => Ok(Config::Random),
        "code" => Err(NodeError::new(
            "sorting with a JavaScript comparator (type 'code') needs the Code node, which is not available yet",
        )
        .with_parameter("type")),
        other => Err(unsupported("type", other)),
    }
}

struct Sort {
    config: Parsed<Config>,
}

/// Builds the node; Item Lists uses it for its "sort" operation.
pub(crate) fn node(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    Ok(Box::new(Sort {
        config: Parsed::new(def, params, Box::new(parse))?,
    }))
}

#[async_trait::async_trait]
impl Node for Sort {
    fn item_wise(&self) -> ItemWise {
        match self.config.constant() {
            Some(Config::Simple(_)) => ItemWise::Reorder,
            _ => ItemWise::Barrier,
        }
    }

    async fn sink(&self, ctx: &ExecuteContext<'_>) -> Result<Box<dyn ItemSink>, NodeError> {
        match &*self.config.for_item(ctx, 0)? {
            Config::Simple(keys) => Ok(Box::new(spill::SpillingSort::new(
                keys.clone(),
                ctx.streaming().sort_memory_bytes,
            ))),
            Config::Random => unreachable!("only a sort by fields is asked for a sink"),
        }
    }

    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let config = self.config.for_item(ctx, 0)?;
        let mut items = ctx.main_input().to_vec();
        match &*config {
            Config::Random => items.shuffle(&mut rand::thread_rng()),
            Config::Simple(keys) => items.sort_by(|a, b| keys.order(&a.json, &b.json)),
        }
        Ok(vec![items])
    }
}
