//! Summarize (`summarize` v1, v1.1, and Item Lists' "summarize" operation): aggregate fields
//! (count, sum, append, ...) over all items, or per group of items that share the values of the
//! "split by" fields — like a pivot table.
//!
//! Groups nest in the order of the split-by fields and come out in JavaScript object key order
//! (integer-like keys first, ascending; then first appearance), as n8n builds them as objects.

mod config;

pub(crate) use config::Compat;

use crate::util::fields;
use crate::util::params::Parsed;
use crate::util::values::{as_number, canonical, compare, is_empty, js_string};
use config::{Aggregation, Config, Summary};
use sluice_engine::{ExecuteContext, Node, NodeError, NodeKind, NodeOutputs, NodeSpec, Param};
use sluice_expr::json_js::number_to_json;
use sluice_model::{Item, JsonObject, NodeDef, PairedItem, Value};
use std::collections::HashSet;

pub const SPEC: NodeSpec = NodeSpec {
    node_type: "n8n-nodes-base.summarize",
    versions: &[1.0, 1.1],
    kind: NodeKind::Regular,
    factory: build,
};

fn build(def: &NodeDef, params: &Param) -> Result<Box<dyn Node>, NodeError> {
    let compat = Compat {
        missing_is_error: false,
        typed_groups: def.version() >= 1.1,
    };
    node(def, params, compat)
}

/// Builds the node with the behaviour of one version.
pub(crate) fn node(
    def: &NodeDef,
    params: &Param,
    compat: Compat,
) -> Result<Box<dyn Node>, NodeError> {
    let config = Parsed::new(def, params, Box::new(move |v| Config::parse(v, compat)))?;
    Ok(Box::new(Summarize { config }))
}

struct Summarize {
    config: Parsed<Config>,
}

/// Items sharing the values of the split-by fields, nested one level per field.
#[derive(Default)]
struct Group {
    /// The split-by value this group stands for (absent at the root).
    value: Option<Value>,
    children: Vec<(String, Group)>,
    items: Vec<usize>,
}

impl Group {
    fn insert(&mut self, path: Vec<(String, Option<Value>)>, item: usize) {
        let mut group = self;
        for (key, value) in path {
            let at = match group.children.iter().position(|(k, _)| *k == key) {
                Some(at) => at,
                None => {
                    let child = Group {
                        value,
                        ..Group::default()
                    };
                    group.children.push((key, child));
                    group.children.len() - 1
                }
            };
            group = &mut group.children[at].1;
        }
        group.items.push(item);
    }

    /// Children in JavaScript object key order.
    fn ordered(&self) -> Vec<&(String, Group)> {
        let (mut indexed, named): (Vec<_>, Vec<_>) = self
            .children
            .iter()
            .partition(|(k, _)| array_index(k).is_some());
        indexed.sort_by_key(|(k, _)| array_index(k));
        indexed.into_iter().chain(named).collect()
    }
}

/// JavaScript treats canonical non-negative integer keys as array indices and orders them first.
fn array_index(key: &str) -> Option<u32> {
    key.parse::<u32>()
        .ok()
        .filter(|n| *n < u32::MAX && n.to_string() == key)
}

#[async_trait::async_trait]
impl Node for Summarize {
    async fn execute(&self, ctx: &ExecuteContext<'_>) -> Result<NodeOutputs, NodeError> {
        let config = self.config.for_item(ctx, 0)?;
        let items = ctx.main_input();
        check_missing(&config, items)?;
        let mut root = Group::default();
        for (i, item) in items.iter().enumerate() {
            let values: Vec<Option<&Value>> = config
                .split_by
                .iter()
                .map(|f| fields::get(&item.json, f, config.dot))
                .collect();
            if config.skip_empty_split_fields && values.iter().any(|v| is_empty(*v)) {
                continue;
            }
            let path = values
                .into_iter()
                .map(|v| (js_string(v), v.cloned()))
                .collect();
            root.insert(path, i);
        }
        let out = if config.single_item {
            let mut json = JsonObject::new();
            nest(&config, items, &root, &mut json);
            vec![fields::item_from_all(json, items.len())]
        } else {
            let mut out = Vec::new();
            leaves(&config, items, &root, &mut Vec::new(), &mut out);
            out
        };
        Ok(vec![out])
    }
}

fn check_missing(config: &Config, items: &[Item]) -> Result<(), NodeError> {
    if !config.compat.missing_is_error || config.continue_if_missing {
        return Ok(());
    }
    for summary in &config.summaries {
        if items
            .iter()
            .all(|item| fields::get(&item.json, &summary.field, config.dot).is_none())
        {
            return Err(NodeError::new(format!(
                "The field '{}' does not exist in any items",
                summary.field
            ))
            .with_parameter("fieldsToSummarize"));
        }
    }
    Ok(())
}

/// `singleItem`: `{red: {foo: {count_char: 2}}}`.
fn nest(config: &Config, items: &[Item], group: &Group, json: &mut JsonObject) {
    if group.children.is_empty() {
        json.extend(summarize(config, items, &group.items));
        return;
    }
    for (key, child) in group.ordered() {
        let mut inner = JsonObject::new();
        nest(config, items, child, &mut inner);
        json.insert(key.clone(), Value::Object(inner));
    }
}

/// `separateItems`: one item per innermost group, with its split-by values.
fn leaves<'g>(
    config: &Config,
    items: &[Item],
    group: &'g Group,
    path: &mut Vec<&'g Group>,
    out: &mut Vec<Item>,
) {
    if group.children.is_empty() && !path.is_empty() || config.split_by.is_empty() {
        let mut json = JsonObject::new();
        for (field, level) in config.split_by.iter().zip(path.iter()) {
            let value = match (&level.value, config.compat.typed_groups) {
                (Some(v), true) => v.clone(),
                (None, true) => Value::Null,
                (v, false) => Value::String(js_string(v.as_ref())),
            };
            fields::set(&mut json, field, value, config.dot);
        }
        json.extend(summarize(config, items, &group.items));
        let mut item = Item::new(json);
        item.paired_item = group.items.iter().map(|i| PairedItem::new(*i)).collect();
        out.push(item);
        return;
    }
    for (_, child) in group.ordered() {
        path.push(child);
        leaves(config, items, child, path, out);
        path.pop();
    }
}

/// The aggregated fields of one group.
fn summarize(config: &Config, items: &[Item], members: &[usize]) -> JsonObject {
    config
        .summaries
        .iter()
        .filter(|s| !s.field.is_empty())
        .map(|summary| {
            let values: Vec<Option<&Value>> = members
                .iter()
                .map(|i| fields::get(&items[*i].json, &summary.field, config.dot))
                .filter(|v| summary.include_empty || !is_empty(*v))
                .collect();
            (summary.output_name(), aggregate(summary, &values))
        })
        .collect()
}

fn aggregate(summary: &Summary, values: &[Option<&Value>]) -> Value {
    let numbers = || values.iter().filter_map(|v| v.and_then(as_number));
    match summary.aggregation {
        Aggregation::Append => Value::Array(
            values
                .iter()
                .map(|v| v.cloned().unwrap_or(Value::Null))
                .collect(),
        ),
        Aggregation::Count => Value::from(values.len()),
        Aggregation::CountUnique => Value::from(
            values
                .iter()
                .map(|v| canonical(*v))
                .collect::<HashSet<_>>()
                .len(),
        ),
        Aggregation::Concatenate => Value::String(
            values
                .iter()
                .map(|v| match v {
                    None => String::new(),
                    v => js_string(*v),
                })
                .collect::<Vec<_>>()
                .join(&summary.separator),
        ),
        Aggregation::Sum => number_to_json(numbers().sum()),
        Aggregation::Average => {
            let (sum, count) = numbers().fold((0.0, 0usize), |(s, c), x| (s + x, c + 1));
            if count == 0 {
                Value::Null
            } else {
                number_to_json(sum / count as f64)
            }
        }
        Aggregation::Max | Aggregation::Min => {
            let present = values.iter().filter_map(|v| *v);
            let pick = if summary.aggregation == Aggregation::Max {
                present.max_by(|a, b| compare(Some(a), Some(b)))
            } else {
                present.min_by(|a, b| compare(Some(a), Some(b)))
            };
            pick.cloned().unwrap_or(Value::Null)
        }
    }
}
