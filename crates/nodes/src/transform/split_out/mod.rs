//! Split Out (`splitOut` v1, and Item Lists' "splitOutItems" operation): turn a list (or the
//! values of an object) inside each item into one item per element.

mod config;

pub(crate) use config::Compat;

use crate::util::fields;
use crate::util::params::Parsed;
use config::{Config, Include};
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, ItemJson, NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.splitOut",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    node(def, params, Compat::for_item_lists(f64::INFINITY))
}

/// Builds the node with the behaviour of one Item Lists version.
pub(crate) fn node(
    def: &NodeDef,
    params: &Param,
    compat: Compat,
) -> Result<Box<dyn Node>, NodeError> {
    let config = Parsed::new(def, params, Box::new(move |v| Config::parse(v, compat)))?;
    Ok(Box::new(SplitOut { config }))
}

struct SplitOut {
    config: Parsed<Config>,
}

#[async_trait::async_trait]
impl Node for SplitOut {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let mut out = Vec::new();
        for (i, item) in ctx.main_input().iter().enumerate() {
            let config = self.config.for_item(ctx, i)?;
            split_item(&config, item, i, &mut out)?;
        }
        Ok(vec![out])
    }
}

/// The elements `field` holds in `json`.
fn elements(config: &Config, json: &ItemJson, field: &str) -> Result<Vec<Value>, NodeError> {
    let fail = |message: String| Err(NodeError::new(message).with_parameter("fieldToSplitOut"));
    match fields::get(json, field, config.dot) {
        None if config.compat.missing_is_error => fail(format!(
            "The field '{field}' wasn't found in the input item"
        )),
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(Value::Object(map)) => Ok(map.values().cloned().collect()),
        Some(other) if config.compat.multiple_fields => Ok(vec![other.clone()]),
        Some(_) => fail(format!(
            "The provided field '{field}' is not an array or an object"
        )),
    }
}

fn split_item(
    config: &Config,
    item: &Item,
    index: usize,
    out: &mut Vec<Item>,
) -> Result<(), NodeError> {
    if config.fields.is_empty() {
        return Err(
            NodeError::new("No field to split out is set").with_parameter("fieldToSplitOut")
        );
    }
    let lists = config
        .fields
        .iter()
        .map(|f| elements(config, &item.json, f).map_err(|e| e.with_item(index)))
        .collect::<Result<Vec<_>, _>>()?;
    let base = match &config.include {
        Include::NoOtherFields => ItemJson::new(),
        Include::AllOtherFields => fields::without(&item.json, &config.fields, config.dot),
        Include::Selected(names) => fields::pick(&item.json, names, config.dot),
    };
    // A lone list of objects with nothing else to keep: each object becomes the item itself.
    let flatten = lists.len() == 1
        && config.destinations.is_empty()
        && matches!(config.include, Include::NoOtherFields);
    let count = lists.iter().map(Vec::len).max().unwrap_or(0);
    for position in 0..count {
        let json = match &lists[0].get(position) {
            Some(Value::Object(element)) if flatten => element.clone().into(),
            _ => {
                let mut json = base.clone();
                for (k, list) in lists.iter().enumerate() {
                    if let Some(value) = list.get(position) {
                        fields::set(&mut json, config.destination(k), value.clone(), config.dot);
                    }
                }
                json
            }
        };
        let mut new_item = Item::new(json).paired_to(index);
        if config.include_binary {
            new_item.binary = item.binary.clone();
        }
        out.push(new_item);
    }
    Ok(())
}
