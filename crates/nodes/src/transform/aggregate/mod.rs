//! Aggregate (`aggregate` v1, and Item Lists' "aggregateItems"/"concatenateItems" operation):
//! combine all items into one, either as one list per chosen field or as a list of the items.

mod config;

use crate::util::fields;
use crate::util::params::Parsed;
use config::{Config, Include, Mode};
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, ItemJson, JsonObject, NodeDef, Value};

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.aggregate",
    versions: &[1.0],
    kind: NodeKind::Regular,
    factory: build,
};

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    node(def, params, false)
}

/// Builds the node; `missing_is_error` gives the behaviour of Item Lists before 2.1.
pub(crate) fn node(
    def: &NodeDef,
    params: &Param,
    missing_is_error: bool,
) -> Result<Box<dyn Node>, NodeError> {
    let config = Parsed::new(
        def,
        params,
        Box::new(move |v| Config::parse(v, missing_is_error)),
    )?;
    Ok(Box::new(Aggregate { config }))
}

struct Aggregate {
    config: Parsed<Config>,
}

#[async_trait::async_trait]
impl Node for Aggregate {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let config = self.config.for_item(ctx, 0)?;
        let items = ctx.main_input();
        let json = match &config.mode {
            Mode::IndividualFields(list) => individual_fields(&config, list, items)?,
            Mode::AllItemData {
                destination,
                include,
            } => {
                let data = items
                    .iter()
                    .map(|item| Value::from(pick(&config, include, &item.json)))
                    .collect();
                let mut json = JsonObject::new();
                json.insert(destination.clone(), Value::Array(data));
                json
            }
        };
        Ok(vec![vec![fields::item_from_all(json, items.len())]])
    }
}

fn individual_fields(
    config: &Config,
    list: &[config::Field],
    items: &[Item],
) -> Result<JsonObject, NodeError> {
    let mut json = JsonObject::new();
    for field in list {
        let mut values = Vec::new();
        let mut found = false;
        for item in items {
            match fields::get(&item.json, &field.input, config.dot) {
                Some(Value::Array(list)) if config.merge_lists => {
                    found = true;
                    values.extend(list.iter().cloned());
                }
                Some(value) => {
                    found = true;
                    values.push(value.clone());
                }
                None if config.keep_missing => values.push(Value::Null),
                None => {}
            }
        }
        if !found && config.missing_is_error {
            return Err(NodeError::new(format!(
                "The field '{}' wasn't found in any input item",
                field.input
            ))
            .with_parameter("fieldsToAggregate"));
        }
        fields::set(&mut json, &field.output, Value::Array(values), config.dot);
    }
    Ok(json)
}

/// The fields of one item that go into the aggregated list.
fn pick(config: &Config, include: &Include, json: &ItemJson) -> ItemJson {
    match include {
        Include::All => json.clone(),
        Include::Only(names) => fields::pick(json, names, config.dot),
        Include::Except(names) => fields::without(json, names, config.dot),
    }
}
