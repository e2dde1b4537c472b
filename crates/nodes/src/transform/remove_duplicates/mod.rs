//! Remove Duplicates (`removeDuplicates` v1, v1.1, v2, and Item Lists' "removeDuplicates"
//! operation): keep the first of the items that are equal on the compared fields.
//!
//! Values compare deeply and by type (`"1"` differs from `1`; object key order does not matter).
//! Comparing all fields needs every item to have the same fields, as n8n checks.

mod config;

use crate::util::fields;
use crate::util::params::Parsed;
use crate::util::values::canonical;
use config::{Compare, Config};
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_model::{Item, ItemJson, NodeDef, Value};
use std::collections::HashSet;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.removeDuplicates",
    versions: &[1.0, 1.1, 2.0],
    kind: NodeKind::Regular,
    factory: build,
};

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    node(def, params, true)
}

/// Builds the node; Item Lists uses it (not `standalone`) for its "removeDuplicates" operation.
pub(crate) fn node(
    def: &NodeDef,
    params: &Param,
    standalone: bool,
) -> Result<Box<dyn Node>, NodeError> {
    let config = Parsed::new(def, params, Box::new(move |v| Config::parse(v, standalone)))?;
    Ok(Box::new(RemoveDuplicates { config }))
}

struct RemoveDuplicates {
    config: Parsed<Config>,
}

#[async_trait::async_trait]
impl Node for RemoveDuplicates {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let config = self.config.for_item(ctx, 0)?;
        let items = ctx.main_input();
        // The part of each item that is compared (and kept with "remove other fields").
        let compared: Vec<ItemJson> = items
            .iter()
            .map(|item| match &config.compare {
                Compare::AllFields => (*item.json).clone(),
                Compare::AllFieldsExcept(names) => fields::without(&item.json, names, config.dot),
                Compare::Selected(names) => fields::pick(&item.json, names, config.dot),
            })
            .collect();
        check_fields(&config, &compared)?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (i, (item, part)) in items.iter().zip(compared).enumerate() {
            let part = Value::from(part);
            if !seen.insert(canonical(Some(&part))) {
                continue;
            }
            match (config.remove_other_fields, part) {
                (true, Value::Object(json)) => out.push(Item::new(json).paired_to(i)),
                _ => out.push(item.clone()),
            }
        }
        Ok(vec![out])
    }
}

/// Every compared field must be present in every item.
fn check_fields(config: &Config, compared: &[ItemJson]) -> Result<(), NodeError> {
    let names: Vec<String> = match &config.compare {
        Compare::Selected(names) => names.clone(),
        _ => {
            let mut names: Vec<String> = Vec::new();
            for part in compared {
                names.extend(
                    part.keys()
                        .filter(|k| !names.contains(k))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
            }
            names
        }
    };
    let dot = config.dot && matches!(config.compare, Compare::Selected(_));
    for name in names {
        if compared
            .iter()
            .any(|part| fields::get(part, &name, dot).is_none())
        {
            return Err(NodeError::new(format!(
                "'{name}' field is missing from some input items"
            )));
        }
    }
    Ok(())
}
